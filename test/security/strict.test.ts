// Attacks on spec strictness and output paths (issue 9, items 1 and 6), each through the real `mb`: before the fix each
// one succeeded (a file written outside $out, a misspelt key dropped so `mb check` said "skipped", a broken image
// spec validated "ok"); now each is refused with its spec path and exit code, and nothing is written outside $out.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as lib from "../../src/index.js";
import { mb } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

const { tempDir, removeAll } = tempDirs("mb-sec-strict");
afterAll(removeAll);

const bash = { _con: "MetaBuilderTool", name: "bash", package: { _con: "hostPackage", name: "bash" } };
const coreutils = { _con: "MetaBuilderTool", name: "coreutils", package: { _con: "hostPackage", name: "coreutils" } };
const output = (name: string, path: string, format = "path") => ({ _con: "MetaBuilderOutput", name, path, format });

/** A buildable spec (bash and coreutils declared, a `done` file written by a run step), with extra operations and fields. */
function spec(ops: unknown[], over: Record<string, unknown> = {}, derivation = "attack"): Record<string, unknown> {
  return {
    _con: "MetaBuilderSpec",
    name: "attack",
    parameters: [],
    inputs: [],
    dependencies: [],
    tools: [bash, coreutils],
    operations: [
      { _con: "declareTool", tool: bash },
      { _con: "declareTool", tool: coreutils },
      { _con: "runTool", name: "make-done", tool: bash, args: ["-c", 'echo ok > "$out/done"'], env: {} },
      ...ops,
      { _con: "materializeDerivation", name: derivation },
    ],
    outputs: [],
    evidence: [],
    ...over,
  };
}

/** Writes `value` as a JSON spec in a fresh directory; returns its path. */
function jsonSpec(label: string, value: unknown): string {
  const file = join(tempDir(label), "spec.json");
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

/** An oci-image spec as JSON (the constructor's output), with `over` laid on top. */
function ociSpec(over: Record<string, unknown>): Record<string, unknown> {
  const image = lib.ociImage({ name: "img", layers: [{ name: "root", source: lib.hostPackage("bash") }] });
  return { ...JSON.parse(JSON.stringify(image)), ...over };
}

/** `mb build` of a spec file into a fresh store, no out-link. */
const build = (file: string) => mb(["build", file, "--no-out-link"], { store: tempDir("store") });

/** A directory outside any store, to be written to only by an attack that succeeds. */
function victim(): string {
  const v = tempDir("victim");
  mkdirSync(join(v, "d"));
  return join(v, "d");
}
/** `..` enough to climb from any $out to `/`, then down to `dir`. */
const climbTo = (dir: string) => `${"../".repeat(40)}${dir.slice(1)}`;

describe("output paths never leave $out", () => {
  it("writeFile at ../../<host dir>/pwned is a validation error naming the spec path; nothing is written", () => {
    const v = victim();
    const file = jsonSpec("write-dotdot", spec([{ _con: "writeFile", output: output("w", `${climbTo(v)}/pwned`), text: "owned\n" }]));
    const validated = mb(["validate", file]);
    expect(validated.status).toBe(2);
    expect(validated.stderr).toContain("operations[3].output.path: an output path never leaves $out");
    const r = build(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("operations[3].output.path: an output path never leaves $out");
    expect(readdirSync(v)).toEqual([]);
  });

  it("copyPath to $out/../<host dir>/copied is a validation error; nothing is copied", () => {
    const v = victim();
    const src = join(tempDir("copy-src"), "payload");
    writeFileSync(src, "payload\n");
    const source = { _con: "localSource", name: "payload", path: src };
    const file = jsonSpec("copy-dotdot", spec([{ _con: "copyPath", source, output: output("c", `$out/${climbTo(v)}/copied`) }]));
    const r = build(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("operations[3].output.path: an output path never leaves $out");
    expect(readdirSync(v)).toEqual([]);
  });

  it("an output declared at /etc/passwd or a//b is a validation error", () => {
    const file = jsonSpec("decl", spec([{ _con: "transformOutput", output: output("o", "/etc/passwd", "text") }], { outputs: [output("p", "a//b")] }));
    const r = mb(["validate", file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("operations[3].output.path: an output path lies inside $out: '/etc/passwd' is absolute");
    expect(r.stderr).toContain("outputs[0].path: an output path has no empty segment");
  });

  it("a write through a symbolic link a step made ($out/sub -> host dir) is refused at run time", () => {
    const v = victim();
    const link = { _con: "runTool", name: "plant-link", tool: bash, args: ["-c", 'ln -s "$1" "$out/sub"', "plant", v], env: {} };
    const file = jsonSpec("symlink", spec([link, { _con: "writeFile", output: output("w", "sub/pwned"), text: "owned\n" }]));
    expect(mb(["validate", file]).status).toBe(0); // the path itself is fine: only the engine can see where it leads
    const r = build(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("write:sub/pwned");
    expect(r.stderr).toMatch(/mb: refusing to write '.*\/sub\/pwned': .*sub is a symbolic link/);
    expect(readdirSync(v)).toEqual([]);
  });
});

describe("unknown keys are errors, with the path and a near name", () => {
  it.each([
    ["entryPoint in an oci-image JSON spec", ociSpec({ entryPoint: ["/bin/sh"] }), "entryPoint: unknown key `entryPoint` (did you mean `entrypoint`?)"],
    ["lables in an oci-image JSON spec", ociSpec({ lables: { a: "b" } }), "lables: unknown key `lables` (did you mean `labels`?)"],
    ["oprations in a JSON spec", spec([], { oprations: [{ _con: "materializeDerivation", name: "x" }] }), "oprations: unknown key `oprations` (did you mean `operations`?)"],
    ["arg in a runTool", spec([{ _con: "runTool", name: "r", tool: bash, arg: ["-c", "rm -rf /"] }]), "operations[3].arg: unknown key `arg` (did you mean `args`?)"],
  ])("%s: mb validate exits 2 naming it", (_label, value, message) => {
    const r = mb(["validate", jsonSpec("keys", value)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("in a TypeScript spec: entryPoint beside the image fields, oprations beside the base fields", () => {
    const dir = tempDir("ts");
    writeFileSync(join(dir, "image.ts"), `export default ${JSON.stringify(ociSpec({ entryPoint: ["/bin/sh"] }))} as const;\n`);
    writeFileSync(join(dir, "base.ts"), `const spec = ${JSON.stringify(spec([], { oprations: [] }))};\nexport default spec;\n`);
    const image = mb(["validate", join(dir, "image.ts")]);
    expect(image.status).toBe(2);
    expect(image.stderr).toContain("entryPoint: unknown key `entryPoint` (did you mean `entrypoint`?)");
    const base = mb(["validate", join(dir, "base.ts")]);
    expect(base.status).toBe(2);
    expect(base.stderr).toContain("oprations: unknown key `oprations` (did you mean `operations`?)");
  });

  it("comand in an evidence payload: mb check no longer says 'skipped' and exits 0", () => {
    const evidence = [{ _con: "MetaBuilderEvidence", name: "must-fail", payload: { comand: "exit 1", expectedOutput: "never" } }];
    const file = jsonSpec("comand", spec([], { evidence }));
    const r = mb(["check", file], { store: tempDir("store") });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("evidence[0].payload.comand: unknown key `comand` (did you mean `command`?)");
    expect(r.stdout + r.stderr).not.toContain("skipped");
  });
});

describe("OCI image specs that validated ok and built a wrong image", () => {
  const layer = (name: string) => ({ _con: "MetaBuilderOciLayer", name, source: { _con: "hostPackage", name: "bash" } });
  it.each([
    ["duplicate layer names", { layers: [layer("root"), layer("root")] }, "layers[1].name: duplicate layer name 'root' (first at [0])"],
    ["an env entry without '='", { env: ["PATH"] }, "env[0]: env entries are 'KEY=value'"],
    ["an env entry with an empty key", { env: ["=x"] }, "env[0]: env entries are 'KEY=value'"],
    ["an architecture that is no GOARCH value", { architecture: "x86_64" }, 'architecture: Invalid option: expected one of "386"|"amd64"'],
    ["an os that is no GOOS value", { os: "Linux" }, 'os: Invalid option: expected one of "aix"'],
  ])("%s: mb validate exits 2 naming it", (_label, over, message) => {
    const r = mb(["validate", jsonSpec("oci", ociSpec(over))]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe("closed sets and store limits", () => {
  it("duplicate tool and output names in a spec", () => {
    const r = mb(["validate", jsonSpec("dups", spec([], { tools: [bash, coreutils, { ...bash, package: "dash" }], outputs: [output("o", "a"), output("o", "b")] }))]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("tools[2].name: duplicate tool name 'bash' (first at [0])");
    expect(r.stderr).toContain("outputs[1].name: duplicate output name 'o' (first at [0])");
  });

  it("a misspelt output format key (the promise silently became 'path'), and an unknown format", () => {
    const misspelt = { _con: "MetaBuilderOutput", name: "o", path: "done", fromat: "json" };
    const r = mb(["validate", jsonSpec("format", spec([{ _con: "transformOutput", output: misspelt }]))]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("operations[3].output.fromat: unknown key `fromat` (did you mean `format`?)");
    const unknown = mb(["validate", jsonSpec("format", spec([{ _con: "transformOutput", output: output("o", "done", "jsno") }]))]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('operations[3].output.format: Invalid option: expected one of "path"|"tree"');
  });

  it("a name longer than a store entry can carry is a validation error, not ENAMETOOLONG at build time", () => {
    const file = jsonSpec("long", spec([], { name: "n".repeat(240) }, "n".repeat(240)));
    const r = mb(["validate", file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("name: a store entry name is at most 198 characters");
    expect(r.stderr).toContain("operations[3].name: a store entry name is at most 198 characters");
    const store = tempDir("store");
    expect(mb(["build", file, "--no-out-link"], { store }).status).toBe(2);
    expect(existsSync(join(store, ".meta")) ? readdirSync(join(store, ".meta")) : []).toEqual([]);
  });
});
