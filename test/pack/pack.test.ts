// The package works outside the repository: `npm pack` the committed tree, install the tarball into a scratch project,
// write a builder there that imports `metabuilder`, and run `npx mb` on it; a script there uses the build API, and the
// shipped example builds from node_modules.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { mbEnv } from "../support/mb.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(join(tmpdir(), "mb-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  // npm and `npx mb` run under the harness's environment policy (no MB_* or SOURCE_DATE_EPOCH from outside).
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: mbEnv({ env: { npm_config_update_notifier: "false" } }) });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BUILDER = `// A builder outside the metabuilder repository.
import { declareTool, evidence, hostPackage, materializeDerivation, output, runTool, tool, transformOutput, type BuilderSpecInput } from "metabuilder";

const bash = tool({ name: "bash", package: hostPackage("bash") });
const report = output({ name: "report", path: "$out/report.txt", format: "text" });

const spec: BuilderSpecInput = {
  name: "scratch",
  parameters: [],
  inputs: [],
  dependencies: [],
  tools: [bash],
  operations: [
    declareTool({ tool: bash }),
    runTool({ name: "write-report", tool: bash, args: ["-c", 'echo ok > "$out/report.txt"'] }),
    transformOutput({ output: report }),
    materializeDerivation({ name: "scratch-report" }),
  ],
  outputs: [report],
  evidence: [evidence({ name: "says-ok", payload: { command: "cat report.txt", expectedOutput: "ok" } })],
};
export default spec;
`;

// A script of the scratch project using the build API; prints what it saw as one JSON object.
const API_SCRIPT = `import { build, check, path, gc, verify } from "metabuilder";
import spec from "./spec.mjs";
const store = process.argv[2];
const kinds = async (run) => { const seen = []; for await (const e of run.events) seen.push(e.event); return seen; };
const failure = async (p) => p.then(() => null, (e) => ({ name: e.constructor.name, code: e.code, exitCode: e.exitCode, message: e.message }));
const out = {};
out.path = await path("builder.ts", { store });
const run = build("builder.ts", { store });
out.events = await kinds(run);
out.built = await run.result;
const again = build("builder.ts", { store });
out.again = await kinds(again);
await again.result;
const c = check("builder.ts", { store });
out.checkEvents = await kinds(c);
out.checkError = await failure(c.result);
out.inline = await path(spec, { store });
out.missing = await failure(build("nope.ts", { store }).result);
out.invalid = await failure(path({ name: "x", operations: 3 }, { store }));
const ac = new AbortController();
ac.abort();
out.aborted = await failure(build("builder.ts", { store, signal: ac.signal, sourceDateEpoch: 2 }).result);
out.verify = await verify({ store });
out.gc = await gc({ store, dryRun: true });
process.stdout.write(JSON.stringify(out));
`;

describe("npm pack, install into a scratch project, npx mb", () => {
  it("introspects a builder that imports metabuilder", () => {
    // 1. The committed tree, built by the package's own `prepare` (node_modules borrowed from the repository).
    const pkg = join(work, "pkg");
    mkdirSync(pkg);
    execFileSync("sh", ["-c", `git -C "${ROOT}" archive --format=tar HEAD | tar -x -C "${pkg}"`]);
    symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
    const packed = run("npm", ["pack", "--json", "--pack-destination", work], pkg);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("package.json");
    expect(files).toContain("examples/oci-image/builder.ts");
    expect(files).toContain("examples/oci-image/setup.sh");
    expect(files.filter((f) => !f.startsWith("dist/") && !f.startsWith("examples/") && f !== "package.json" && f !== "README.md" && f !== "LICENSE")).toEqual([]);
    const tarball = join(work, info!.filename);
    expect(readdirSync(work)).toContain(info!.filename);

    // 2. A scratch project that installs the tarball.
    const project = join(work, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2));
    const installed = run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], project);
    expect(installed.code, installed.stderr).toBe(0);
    writeFileSync(join(project, "builder.ts"), BUILDER);

    // 3. npx mb on the builder.
    const validate = run("npx", ["--no-install", "mb", "validate", "builder.ts"], project);
    expect(validate).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    const introspect = run("npx", ["--no-install", "mb", "introspect", "builder.ts"], project);
    expect(introspect.stderr).toBe("");
    expect(introspect.code).toBe(0);
    const md = introspect.stdout;
    expect(md.split("\n")[0]).toBe("The same internalized program is interpreted several ways.");
    expect(md).toContain("### Validation\n\n- result: `ok`\n");
    expect(md).toContain("- nodes: `2`\n- edges: `1`\n- services: `0`\n");
    expect(md).toContain("- node `operation:write-report` (operation) via `bash`\n- edge `tool:bash` -> `operation:write-report` (uses-tool)\n");
    expect(md).toContain("### Dry Run - Builder\n\n- tool `bash`\n- run `write-report` with `bash`\n- transform `report` (text)\n- materialize `scratch-report` with `runCommand`\n- evidence `says-ok`\n");
    expect(md).toContain("### Materialized Outputs\n\n- report -> report.txt (text)\n");
    expect(md).toContain("### Materialization\n\n- derivation: `scratch-report`\n- outputs: `1`\n- runtime artifacts: `0`\n");
    expect(md.endsWith("### Substrates\n\n- dockerfile: `supported`\n- shell: `supported`\n")).toBe(true);

    // 4. The build API from a script of the project (its own store), and the CLI's version and per-command help.
    writeFileSync(join(project, "api.mjs"), API_SCRIPT);
    writeFileSync(join(project, "spec.mjs"), BUILDER.replace(", type BuilderSpecInput", "").replace("const spec: BuilderSpecInput =", "const spec ="));
    const api = run("node", ["api.mjs", join(work, "api-store")], project);
    expect(api.stderr).toBe("");
    expect(api.code).toBe(0);
    const got = JSON.parse(api.stdout) as Record<string, unknown>;
    const storePath = /^.*\/api-store\/[0-9a-z]{32}-scratch-report$/;
    expect(got.path).toMatch(storePath);
    expect(got.built).toEqual({ name: "scratch-report", storePath: got.path });
    expect(got.events).toEqual(["plan", "build-start", "step-start", "step-done", "build-done", "result"]);
    expect(got.again).toEqual(["cached", "result"]);
    // The evidence runs `cat`, which is no declared tool: check fails with the CLI's error, after its evidence event.
    expect(got.checkEvents).toEqual(["plan", "cached", "evidence"]);
    const checkError = got.checkError as { name: string; code: string; exitCode: number; message: string };
    expect(checkError).toMatchObject({ name: "MbError", code: "check.failed", exitCode: 1 });
    expect(checkError.message).toMatch(/^evidence failed for 'scratch-report': 'says-ok' \(exit status 127: .*cat: command not found\)$/);
    const cliCheck = run(join(project, "node_modules/.bin/mb"), ["check", "--store", join(work, "api-store"), "builder.ts"], project);
    expect(cliCheck.code).toBe(1);
    const tmp = (t: string) => t.replace(/\/tmp\/mb-build-[^/]+\//g, "<tmp>/");
    expect(tmp(cliCheck.stderr).split("\n").filter((l) => l.startsWith("mb: error:"))).toEqual([tmp(`mb: error: ${checkError.message}`)]);
    expect(got.inline).toEqual(got.path); // the same spec as a value has the same store path
    expect(got.missing).toEqual({ name: "MbError", code: "builder.not-found", exitCode: 2, message: "builder 'nope.ts' not found: no such file or directory" });
    expect(got.invalid).toMatchObject({ name: "MbError", exitCode: 2 });
    expect(got.aborted).toMatchObject({ code: "build.interrupted", exitCode: 130 });
    expect(got.verify).toEqual({ store: join(work, "api-store"), checked: 1, ok: true, problems: [], repairs: [] });
    expect(got.gc).toMatchObject({ existed: true, dryRun: true, removed: [got.path], kept: 0 });
    const version = run(join(project, "node_modules/.bin/mb"), ["--version"], project);
    expect(version).toEqual({ code: 0, stdout: "mb 0.1.0\n", stderr: "" });
    const help = run(join(project, "node_modules/.bin/mb"), ["gc", "--help"], project);
    expect(help.code).toBe(0);
    expect(help.stdout.split("\n")[0]).toBe("Usage: mb gc [--dry-run] [--json] [--store DIR]");

    // 5. The shipped example, built and checked from node_modules (busybox-static is a host package: setup.sh installs it).
    const store = join(work, "example-store");
    const example = "node_modules/metabuilder/examples/oci-image";
    const built = run(join(project, "node_modules/.bin/mb"), ["build", "--store", store, "--no-out-link", example], project);
    expect(built.stderr).not.toContain("error");
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/\/example-store\/[0-9a-z]{32}-busybox-shell-oci-image\n$/);
    const checked = run(join(project, "node_modules/.bin/mb"), ["check", "--store", store, example], project);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain("1/1 evidence passed");
  }, 480_000);
});
