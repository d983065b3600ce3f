// The evaluation cache: a cache hit of a TypeScript builder loads neither the builder nor the library, and editing any
// module the builder imports (or a local input) invalidates it.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { witnessCode } from "../../src/engine/eval-cache.js";
import { startWitnessing, stopWitnessing, witnessesHold, type Witness } from "../../src/engine/identity.js";
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

describe("the witnesses of a tree of code (mb's own dist, a builder's metabuilder package)", () => {
  /** A small dist: nested directories, modules, declarations and a source map. */
  function dist(): string {
    const root = join(tempDir("dist"), "dist");
    mkdirSync(join(root, "cli"), { recursive: true });
    writeFileSync(join(root, "index.js"), "export const a = 1;\n");
    writeFileSync(join(root, "index.d.ts"), "export declare const a = 1;\n");
    writeFileSync(join(root, "cli", "main.js"), "export const b = 2;\n");
    writeFileSync(join(root, "cli", "main.js.map"), "{}\n");
    return root;
  }

  function witnessed(root: string): Witness[] {
    startWitnessing();
    witnessCode(root);
    return stopWitnessing().witnesses;
  }

  it("are one stamp per directory and per file that runs (declarations and source maps left out)", () => {
    const root = dist();
    expect(witnessed(root).map((w) => `${w.kind} ${w.path.slice(root.length)}`).sort()).toEqual(["dir ", "dir /cli", "file /cli/main.js", "file /index.js"]);
  });

  it("break when a module is rewritten in place, added, removed or renamed; not for a declaration", () => {
    const root = dist();
    // Every stamp an hour old first: a change made within the clock's granularity of the witness must still show.
    const hourAgo = new Date(Date.now() - 3600_000);
    const age = (p: string): void => {
      for (const e of readdirSync(p, { withFileTypes: true })) {
        if (e.isDirectory()) age(join(p, e.name));
        else utimesSync(join(p, e.name), hourAgo, hourAgo);
      }
      utimesSync(p, hourAgo, hourAgo);
    };
    const check = (change: () => void): boolean => {
      age(root);
      const ws = witnessed(root);
      change();
      return witnessesHold(ws);
    };
    expect(check(() => writeFileSync(join(root, "index.d.ts"), "export declare const a = 2;\n"))).toBe(true);
    expect(check(() => writeFileSync(join(root, "cli", "main.js"), "export const b = 3;\n"))).toBe(false);
    expect(check(() => writeFileSync(join(root, "cli", "extra.js"), "export {};\n"))).toBe(false);
    expect(check(() => rmSync(join(root, "cli", "extra.js")))).toBe(false);
    expect(check(() => renameSync(join(root, "index.js"), join(root, "other.js")))).toBe(false);
    expect(check(() => mkdirSync(join(root, "cli", "more")))).toBe(false);
    expect(check(() => {})).toBe(true);
  });
});
