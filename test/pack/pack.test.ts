// The package works outside the repository: `npm pack` the committed tree, install the tarball into a scratch project,
// write a builder there that imports `metabuilder`, and run `npx mb` on it.
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
    expect(files.filter((f) => !f.startsWith("dist/") && f !== "package.json" && f !== "README.md" && f !== "LICENSE")).toEqual([]);
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
  }, 240_000);
});
