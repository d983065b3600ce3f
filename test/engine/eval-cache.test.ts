// The evaluation cache: a cache hit of a TypeScript builder loads neither the builder nor the library, and editing any
// module the builder imports (or a local input) invalidates it.
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, events, lastLine, mb, ROOT, tempDir } from "./helpers.js";

afterAll(cleanup);

const settle = () => new Promise((r) => setTimeout(r, 1100)); // past the one-second racy window

describe("the evaluation cache", () => {
  it("serves a hit without loading the builder, and a changed imported module gives a new path", async () => {
    const dir = tempDir("ts-builder");
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "metabuilder"));
    writeFileSync(join(dir, "part.ts"), 'export const message = "one";\n');
    writeFileSync(
      join(dir, "builder.ts"),
      `import { declareTool, hostPackage, materializeDerivation, runTool, tool } from "metabuilder";
import { message } from "./part.js";
const bash = tool({ name: "bash", package: hostPackage("bash") });
export default {
  _con: "MetaBuilderSpec", name: "ts-builder", parameters: [], inputs: [], dependencies: [], tools: [bash], outputs: [], evidence: [],
  operations: [declareTool({ tool: bash }), runTool({ name: "say", tool: bash, args: ["-c", \`echo \${message} > "$out/message"\`, "say"] }), materializeDerivation({ name: "ts-builder" })],
};
`,
    );
    await settle();
    const store = tempDir("store");
    const first = mb(["build", join(dir, "builder.ts"), "--store", store, "--no-out-link"]);
    expect(first.status, first.stderr).toBe(0);
    const p1 = lastLine(first.stdout);
    expect(readdirSync(join(store, ".cache", "eval"))).toHaveLength(1);

    // The hit: no plan event (the builder was not loaded nor resolved), no temporary bundle written beside it.
    const hit = mb(["build", join(dir, "builder.ts"), "--store", store, "--no-out-link", "--json"]);
    expect(events(hit.stdout)).toEqual([
      { event: "cached", name: "ts-builder", storePath: p1 },
      { event: "result", storePath: p1 },
    ]);
    expect(mb(["path", join(dir, "builder.ts"), "--store", store]).stdout).toBe(`${p1}\n`);

    writeFileSync(join(dir, "part.ts"), 'export const message = "two";\n');
    const second = mb(["build", join(dir, "builder.ts"), "--store", store, "--no-out-link", "--json"]);
    expect(second.status, second.stderr).toBe(0);
    const evs = events(second.stdout);
    expect(evs[0]).toMatchObject({ event: "plan" }); // resolved afresh
    const p2 = (evs.at(-1) as { storePath: string }).storePath;
    expect(p2).not.toBe(p1);
    expect(existsSync(join(p2, "message"))).toBe(true);
  });

  it("is not used with MB_EVAL_CACHE=0", async () => {
    const store = tempDir("store");
    const builder = join(ROOT, "test/fixtures/engine/deterministic.json");
    expect(mb(["build", builder, "--store", store, "--no-out-link"]).status).toBe(0);
    const r = mb(["build", builder, "--store", store, "--no-out-link", "--json"], { env: { MB_EVAL_CACHE: "0" } });
    expect(events(r.stdout)[0]).toEqual({ event: "plan", builds: [] });
  });
});
