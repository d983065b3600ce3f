// Attacks on builder loading (issue 9, item 7; and invalid UTF-8 in a JSON spec, item 6). Each builder below made the
// seed's `mb` hang forever, exit 0 with nothing loaded, print a stack trace or "internal error", accept a broken spec,
// or leave `.mb-builder-*.mjs` files beside the builder. Now each is exit 2 naming the file and what happened, and the
// builder's directory holds exactly what it held before.
import { readdirSync, symlinkSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb, mbAsync, mbStart, ROOT, type Ran } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

const temps = tempDirs("mb-sec-loader");
afterAll(() => temps.removeAll());

/** A fresh directory holding `files` (path -> text or bytes). */
function builderDir(label: string, files: Record<string, string | Uint8Array>): string {
  const dir = temps.tempDir(label);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Every path under `dir`, sorted. */
const listing = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).sort();

/** A minimal valid spec as TypeScript source (no imports), with `extra` spliced into the object. */
const spec = (name: string, extra = "") =>
  `{ _con: "MetaBuilderSpec", name: ${JSON.stringify(name)}, parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: []${extra} }`;

const noStack = (r: Ran) => expect(r.stderr).not.toMatch(/\n\s+at |node:internal|internal error/);

/** Runs `mb validate` on `file` in `dir` and checks the directory is unchanged afterwards. */
async function validateIn(dir: string, file: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<Ran & { ms: number }> {
  const before = listing(dir);
  const t0 = Date.now();
  const r = await mbAsync(["validate", ...extra, join(dir, file)], { env });
  const ms = Date.now() - t0;
  expect(listing(dir)).toEqual(before);
  return { ...r, ms };
}

describe.concurrent("builder loading attacks", () => {
  it("SIGKILL while a builder loads leaves nothing beside it", async () => {
    const marks = temps.tempDir("marks");
    const mark = join(marks, "running");
    const dir = builderDir("killed", {
      "builder.ts": `import { writeFileSync } from "node:fs";\nimport { part } from "./part.js";\nwriteFileSync(${JSON.stringify(mark)}, part);\nwhile (true) {}\nexport default {};\n`,
      "part.ts": `export const part = "x";\n`,
    });
    const before = listing(dir);
    const run = mbStart(["validate", join(dir, "builder.ts")]);
    const deadline = Date.now() + 60_000;
    while (!existsSync(mark) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(mark)).toBe(true); // the builder is running: a temporary file would exist now
    expect(listing(dir)).toEqual(before);
    run.child.kill("SIGKILL");
    await run.done;
    expect(listing(dir)).toEqual(before);
  });

  it("a top-level await that never settles: exit 2 naming the file, not exit 0", async () => {
    const dir = builderDir("tla", { "builder.ts": `await new Promise(() => {});\nexport default ${spec("unsettled")};\n` });
    const r = await validateIn(dir, "builder.ts");
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toBe(`mb: error: ${join(dir, "builder.ts")}: never finished loading: a top-level await is waiting for something that never happens\n`);
  });

  it("process.exit(0) at import: exit 2 naming the file, not exit 0", async () => {
    const dir = builderDir("exit", { "builder.ts": `process.exit(0);\nexport default ${spec("exits")};\n` });
    const r = await validateIn(dir, "builder.ts");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${join(dir, "builder.ts")}: stopped while loading (exit status 0)`);
  });

  it("an unhandled rejection: exit 2 naming the file and the message, a stack only with --debug", async () => {
    const dir = builderDir("reject", { "builder.ts": `Promise.reject(new Error("boom in the builder"));\nexport default ${spec("rejects")};\n` });
    const r = await validateIn(dir, "builder.ts");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`mb: error: ${join(dir, "builder.ts")}: an unhandled promise rejection while loading: boom in the builder\n`);
    const d = await validateIn(dir, "builder.ts", {}, ["--debug"]);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/boom in the builder\n\s+at .*builder\.ts/);
  });

  it("an error thrown later from a timer while loading: exit 2 naming the file", async () => {
    const dir = builderDir("timer", { "builder.ts": `setTimeout(() => { throw new Error("late"); }, 0);\nawait new Promise((r) => setTimeout(r, 200));\nexport default ${spec("late")};\n` });
    const r = await validateIn(dir, "builder.ts");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`mb: error: ${join(dir, "builder.ts")}: an uncaught exception while loading: late\n`);
  });

  it("builders that import each other: exit 2 naming the file and the cycle", async () => {
    const dir = builderDir("cycle", {
      "a.ts": `import { b } from "./b.js";\nexport const a = ${spec("a", ", dependencies: [b]")};\nexport default a;\n`,
      "b.ts": `import { a } from "./a.js";\nexport const b = { name: a.name, package: "bash" };\n`,
      "a.mjs": `import { b } from "./b.mjs";\nexport const a = ${spec("a", ", dependencies: [b]")};\nexport default a;\n`,
      "b.mjs": `import { a } from "./a.mjs";\nexport const b = { name: a.name, package: "bash" };\n`,
    });
    for (const [file, cycle] of [["a.ts", "a.ts -> b.ts -> a.ts"], ["a.mjs", "a.mjs -> b.mjs -> a.mjs"]]) {
      const r = await validateIn(dir, file!);
      expect(r.status, file).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^mb: error: ${join(dir, file!)}: cannot be loaded: .*\\(the builder's files import each other: ${cycle}\\)\n$`));
      noStack(r);
    }
  });

  it("a builder that depends on itself: exit 2 naming the file and the path, not ok", async () => {
    const dir = builderDir("self", {
      "builder.ts": `const a: any = ${spec("a")};\nconst b: any = ${spec("b")};\nb.dependencies.push({ name: "a", package: { _con: "builderPackage", spec: a } });\na.dependencies.push({ name: "b", package: { _con: "builderPackage", spec: b } });\nexport default a;\n`,
    });
    for (const command of ["validate", "path"]) {
      const before = listing(dir);
      const r = mb([command, join(dir, "builder.ts")], { store: join(temps.tempDir("store"), "s") });
      expect(listing(dir)).toEqual(before);
      expect(r.status, command).toBe(2);
      expect(r.stderr).toBe(
        `mb: error: ${join(dir, "builder.ts")}: its export is not data: dependencies[0].package.spec.dependencies[0].package.spec contains itself: it is the value at (root) (a builder cannot depend on itself)\n`,
      );
    }
  });

  it("a throwing getter on the exported spec: exit 2 naming the file, the path and the message, not internal error", async () => {
    const dir = builderDir("getter", {
      "builder.ts": `export default ${spec("g", `, get outputs(): never[] { throw new Error("getter exploded"); }`)};\n`,
      "named.ts": `export const x = { _con: "MetaBuilderSpec", get name(): string { throw new TypeError("no name"); } };\n`,
      "proxy.ts": `export default new Proxy({}, { ownKeys() { throw new Error("no keys"); } });\n`,
    });
    const r = await validateIn(dir, "builder.ts");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`mb: error: ${join(dir, "builder.ts")}: its export is not data: reading outputs threw: getter exploded\n`);
    const n = await validateIn(dir, "named.ts#x");
    expect(n.status).toBe(2);
    expect(n.stderr).toBe(`mb: error: ${join(dir, "named.ts")}#x: its export is not data: reading name threw: no name\n`);
    const p = await validateIn(dir, "proxy.ts");
    expect(p.status).toBe(2);
    expect(p.stderr).toBe(`mb: error: ${join(dir, "proxy.ts")}: its export is not data: listing the keys of (root) threw: no keys\n`);
  });

  it("invalid UTF-8 in a JSON spec: exit 2 with the byte offset, not a silent U+FFFD", async () => {
    const head = Buffer.from(`{"_con":"MetaBuilderSpec","name":"caf`);
    const tail = Buffer.from(`","parameters":[],"inputs":[],"dependencies":[],"tools":[],"operations":[],"outputs":[],"evidence":[]}`);
    for (const [label, bad] of [["lone-ff", [0xff]], ["overlong", [0xc0, 0xaf]], ["surrogate", [0xed, 0xa0, 0x80]], ["truncated", [0xe2, 0x82]]] as const) {
      const dir = builderDir(label, { "spec.json": Buffer.concat([head, Buffer.from(bad), tail]) });
      const r = await validateIn(dir, "spec.json");
      expect(r.status, label).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^mb: error: ${join(dir, "spec.json")}: not valid UTF-8 at byte offset ${head.length} \\(line 1, column ${head.length + 1}\\): bytes 0x${bad[0]!.toString(16)}`));
    }
    const ok = builderDir("valid-utf8", { "spec.json": Buffer.concat([head, Buffer.from("é €𝄞"), tail]) });
    expect((await validateIn(ok, "spec.json")).status).toBe(0);
  });

  it("an invalid MB_LOAD_TIMEOUT is a usage error", async () => {
    const dir = builderDir("timeout-env", { "builder.ts": `export default ${spec("fine")};\n` });
    for (const value of ["abc", "0", "-1", "1e3", "2s"]) {
      const r = await validateIn(dir, "builder.ts", { MB_LOAD_TIMEOUT: value });
      expect(r.status, value).toBe(2);
      expect(r.stderr).toContain(`MB_LOAD_TIMEOUT must be a number of seconds above 0 (at most 86400), got '${value}'`);
    }
    expect((await validateIn(dir, "builder.ts", { MB_LOAD_TIMEOUT: "5" })).stdout).toBe("ok\n");
  });

  it("a builder still imports `metabuilder` by name and its relative files, with its own import.meta", async () => {
    const dir = builderDir("imports", {
      "builder.ts": [
        `import { declareTool, hostPackage, materializeDerivation, runTool, tool } from "metabuilder";`,
        `import { sub } from "./lib/sub.js";`,
        `const bash = tool({ name: "bash", package: hostPackage("bash") });`,
        `const env = { HERE: new URL(".", import.meta.url).pathname, SUB: sub, DIR: import.meta.dirname };`,
        `export default { ...${spec("imports")}, tools: [bash], operations: [declareTool({ tool: bash }), runTool({ name: "say", tool: bash, args: ["-c", "true"], env }), materializeDerivation({ name: "imports-out" })] };`,
      ].join("\n"),
      "lib/sub.ts": `export const sub = new URL("./x", import.meta.url).pathname;\n`,
    });
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "metabuilder"));
    const before = listing(dir);
    const r = await mbAsync(["plan", join(dir, "builder.ts")]);
    expect(listing(dir)).toEqual(before);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`HERE=${dir}/`);
    expect(r.stdout).toContain(`SUB=${dir}/lib/x`);
    expect(r.stdout).toContain(`DIR=${dir}`);
  });
});

// One at a time: the time limits are measured.
describe("builder loading attacks: endless loops", () => {
  it("an endless loop at import: exit 2 naming the file after MB_LOAD_TIMEOUT, not a hang", async () => {
    const dir = builderDir("loop", { "builder.ts": `while (true) {}\nexport default ${spec("never")};\n` });
    const r = await validateIn(dir, "builder.ts", { MB_LOAD_TIMEOUT: "2" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`mb: error: ${join(dir, "builder.ts")}: did not finish loading within 2 s`);
    expect(r.stderr).toContain("MB_LOAD_TIMEOUT");
    expect(r.ms).toBeGreaterThanOrEqual(2000);
    expect(r.ms).toBeLessThan(30_000);
    noStack(r);
  });

  it("an endless loop in a directory builder, a .js builder, and an async loop: each bounded", async () => {
    const dir = builderDir("loops", {
      "d/builder.ts": `for (;;) {}\nexport default {};\n`,
      "plain.mjs": `while (true) {}\nexport default {};\n`,
      "async.ts": `while (true) await null;\nexport default {};\n`,
    });
    for (const [arg, file] of [["d", "d/builder.ts"], ["plain.mjs", "plain.mjs"], ["async.ts", "async.ts"]] as const) {
      const r = await validateIn(dir, arg, { MB_LOAD_TIMEOUT: "1.5" });
      expect(r.status, arg).toBe(2);
      expect(r.stderr).toContain(`${join(dir, file)}: did not finish loading within 1.5 s`);
      expect(r.ms).toBeLessThan(30_000);
    }
  });
});
