// End-to-end: spawn `node dist/cli/main.js` and compare exact output and exit codes (run `npm run build` first).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mbAsync, mbCommand, mbEnv, ROOT } from "../support/mb.js";
import { ociStepNames } from "../support/oci-steps.js";
import { ORNAMENTS } from "../../src/ornaments/registry.js";

// What the standalone script sets as the engine does: once for the whole script, then in each build's subshell.
const SCRIPT_ENVIRONMENT = ['export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1}"', "export LC_ALL=C", "export HOME=/homeless-shelter"];
const BUILD_ENVIRONMENT = ['  out="$1"', "  export out", '  mb_top="$(mktemp -d)"', "  trap mb_report EXIT", '  mkdir "$mb_top/tmp" "$mb_top/build"', '  TMPDIR="$mb_top/tmp"', "  export TMPDIR", '  cd "$mb_top/build"'];

const FIX = "test/fixtures/cli";
const abs = (p: string) => join(ROOT, p);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mb` from the repository root (the harness's environment policy). */
async function mb(...args: string[]): Promise<Result> {
  const r = await mbAsync(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = <T = Record<string, unknown>>(r: Result): T => JSON.parse(r.stdout) as T;
const noStackTrace = (r: Result) => expect(r.stderr).not.toMatch(/\n\s+at |node:internal|Error: /);

describe.concurrent("mb over examples/oci-image", () => {
  it("validate: ok", async () => {
    const r = await mb("validate", "examples/oci-image");
    expect(r).toMatchObject({ code: 0, stdout: "ok\n" });
    noStackTrace(r);
    expect(json(await mb("validate", "--json", "examples/oci-image"))).toEqual({ ok: true, diagnostics: [] });
  });

  it("deps: 11 nodes, 8 edges", async () => {
    const r = await mb("deps", "--json", "examples/oci-image");
    expect(r.code).toBe(0);
    const g = json<{ nodes: { id: string; role: string }[]; edges: { from: string; to: string; kind: string }[]; services: object }>(r);
    expect(g.nodes).toHaveLength(11);
    expect(g.edges).toHaveLength(8);
    expect(g.services).toEqual({});
    expect(g.nodes.map((n) => n.id)).toEqual([
      "tool:bash",
      "tool:tar",
      "tool:coreutils",
      ...["assemble-rootfs-busybox", "tar-layer-busybox", "write-config", "write-manifest", "write-index", "verify-blobs", "clean-scratch", "archive-layout"].map((n) => `operation:${n}`),
    ]);
    expect(new Set(g.edges.map((e) => `${e.from} ${e.kind}`))).toEqual(new Set(["tool:bash uses-tool"]));
    const text = await mb("deps", "examples/oci-image");
    expect(text.stdout.split("\n").slice(-2)).toEqual(["11 nodes, 8 edges, 0 services", ""]);
  });

  it("deps --format dot", async () => {
    const r = await mb("deps", "--format", "dot", "examples/oci-image");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual(["digraph deps {", "  rankdir=LR;"]);
    expect(lines.find((l) => l.startsWith('  "tool:bash" '))).toMatch(/^ {2}"tool:bash" \[label="tool:bash\\n\(tool\)", fillcolor="#[0-9a-f]{6}", tooltip="tool:bash package [^"]+"\];$/);
    expect(lines.filter((l) => l.includes(" -> "))).toHaveLength(8);
    expect(lines.filter((l) => / \[label="[^"]*\\n\([a-z]+\)", /.test(l))).toHaveLength(11);
    expect(lines.slice(-2)).toEqual(["}", ""]);
  });

  it("deps --format mermaid", async () => {
    const r = await mb("deps", "--format", "mermaid", "examples/oci-image");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("flowchart LR");
    expect(lines[1]).toBe('  n0["tool:bash (tool)"]');
    expect(lines.filter((l) => l.includes("-->|uses-tool|"))).toHaveLength(8);
    expect(lines.at(-1)).toBe("  n0 -->|uses-tool| n10");
  });

  it("dry-run: 8 run, 1 write, 1 evidence", async () => {
    const r = await mb("dry-run", "--json", "examples/oci-image");
    const kinds = json<{ steps: { kind: string }[] }>(r).steps.map((s) => s.kind);
    const count = (k: string) => kinds.filter((x) => x === k).length;
    expect([count("run"), count("write"), count("evidence")]).toEqual([8, 1, 1]);
    expect(kinds).toHaveLength(19);
    const text = await mb("dry-run", "examples/oci-image");
    expect(text.stdout).toBe(
      [
        "tool bash",
        "tool tar",
        "tool coreutils",
        "write oci-layout",
        ...["assemble-rootfs-busybox", "tar-layer-busybox", "write-config", "write-manifest", "write-index", "verify-blobs", "clean-scratch", "archive-layout"].map((n) => `run ${n} with bash`),
        "descriptor busybox-shell-oci-image",
        "transform oci-layout (json)",
        "transform index (json)",
        "transform blobs (tree)",
        "transform oci-archive (tar)",
        "materialize busybox-shell-oci-image with runCommand",
        "evidence smoke-test",
        "",
      ].join("\n"),
    );
  });

  it("plan: the 9 step names, name busybox-shell-oci-image, the --json shape", async () => {
    const r = await mb("plan", "--json", "examples/oci-image");
    expect(r.code).toBe(0);
    const p = json<{ name: string; builder: string; steps: { con: string; name: string; shell: string }[]; shell: string; runtimeArtifacts: unknown[] }>(r);
    expect(Object.keys(p)).toEqual(["name", "builder", "tools", "outputs", "pathMap", "nativePaths", "steps", "runtimeArtifacts", "shell"]);
    expect(p.name).toBe("busybox-shell-oci-image");
    expect(p.builder).toBe("runCommand");
    expect(p.steps.map((s) => s.name)).toEqual(ociStepNames("busybox"));
    expect(p.steps.map((s) => Object.keys(s))).toEqual(p.steps.map(() => ["con", "name", "shell"]));
    expect(p.steps.map((s) => s.con)).toEqual(["writeStep", ...Array(8).fill("runStep")]);
    expect(p.shell).toBe(p.steps.map((s) => s.shell).join("\n"));
    expect(p.runtimeArtifacts).toEqual([]);
    const text = await mb("plan", "examples/oci-image");
    expect(text.stdout.split("\n").slice(0, 3)).toEqual([
      "# plan busybox-shell-oci-image (builder runCommand), 9 step(s)",
      "# tools: bash, tar, coreutils",
      "# outputs: oci-layout -> oci-layout (json), index -> index.json (json), blobs -> blobs (tree), oci-archive -> image.oci.tar (tar)",
    ]);
  });

  it("describe: 19 operations with the reference's counts", async () => {
    const r = await mb("describe", "examples/oci-image");
    expect(r.code).toBe(0);
    const ops = r.stdout.split("\n").filter((l) => l.startsWith("- `builder.") || l.startsWith("- `runtime."));
    expect(ops).toHaveLength(19);
    const counts: Record<string, number> = {};
    for (const l of ops) {
      const con = /^- `builder\.(\w+)`/.exec(l)![1]!;
      counts[con] = (counts[con] ?? 0) + 1;
    }
    expect(counts).toEqual({ declareTool: 3, writeFile: 1, runTool: 8, emitDescriptor: 1, transformOutput: 4, materializeDerivation: 1, declareEvidence: 1 });
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["# busybox-shell-oci-image", "", "Builder: `runCommand`"]);
    const j = json<{ model: { operations: unknown[] }; markdown: string }>(await mb("describe", "--json", "examples/oci-image"));
    expect(Object.keys(j)).toEqual(["model", "markdown"]);
    expect(j.model.operations).toHaveLength(19);
    expect(j.markdown).toBe(r.stdout);
  });

  it("introspect --json: the whole view plus markdown", async () => {
    const r = await mb("introspect", "--json", "examples/oci-image");
    expect(r.code).toBe(0);
    const v = json<{ markdown: string; dependencies: { nodeCount: number; edgeCount: number }; documentation: { operationCount: number } }>(r);
    expect(Object.keys(v)).toEqual(["validation", "dependencies", "dryRun", "plan", "documentation", "materialization", "substrates", "markdown"]);
    expect([v.dependencies.nodeCount, v.dependencies.edgeCount, v.documentation.operationCount]).toEqual([11, 8, 19]);
    expect(v.markdown).toBe((await mb("introspect", "examples/oci-image")).stdout);
  });

  it("export: the plan as JSON without package objects", async () => {
    const r = await mb("export", "examples/oci-image");
    expect(r.code).toBe(0);
    const p = json<{ name: string; tools: unknown[]; steps: { args?: unknown[] }[] }>(r);
    expect(p.name).toBe("busybox-shell-oci-image");
    expect(p.tools).toEqual([
      { _con: "MetaBuilderTool", name: "bash" },
      { _con: "MetaBuilderTool", name: "tar" },
      { _con: "MetaBuilderTool", name: "coreutils" },
    ]);
    expect(r.stdout).not.toMatch(/"package"|resolvedPackage|builderPackage|hostPackage/);
    expect(p.steps[1]!.args![3]).toMatch(/\/[0-9a-df-np-sv-z]{32}-busybox-static-rootfs$/);
    expect(json(await mb("export", "--json", "examples/oci-image"))).toEqual(p);
  });

  it("render shell passes shellcheck", async () => {
    const r = await mb("render", "shell", "examples/oci-image");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual(["#!/usr/bin/env bash", "# mb render shell: busybox-shell-oci-image, after busybox-static-rootfs"]);
    expect(lines).toContain("set -euo pipefail");
    const env = lines.indexOf(SCRIPT_ENVIRONMENT[0]!);
    expect(lines.slice(env, env + 3)).toEqual(SCRIPT_ENVIRONMENT);
    for (const fn of ["mb_build_0() (", "mb_build_1() ("]) {
      const at = lines.indexOf(fn);
      expect(lines.slice(at + 3, at + 11)).toEqual(BUILD_ENVIRONMENT);
    }
    const sc = spawnSync("shellcheck", ["-"], { input: r.stdout, encoding: "utf8" });
    if (sc.error) throw new Error(`shellcheck is required for this test and could not be run: ${sc.error.message}`);
    expect(sc.stdout).toBe("");
    expect(sc.status).toBe(0);
  });

  it("render dockerfile has the reference's shape", async () => {
    const r = await mb("render", "dockerfile", "examples/oci-image");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "# syntax=docker/dockerfile:1",
      "ARG base=debian:stable-slim",
      "FROM ${base}",
      "RUN command -v bash >/dev/null",
      "RUN command -v tar >/dev/null",
      // Debian's coreutils has no `coreutils` command and no step invokes one: it is not checked for.
      "ENV out=/out",
      "RUN mkdir -p /out",
    ]);
    const runs = lines.filter((l) => l.startsWith("RUN <<'METABUILDER_RUN_"));
    expect(runs).toHaveLength(9);
    for (const open of runs) expect(lines).toContain(open.slice("RUN <<'".length, -1));
    expect(lines.filter((l) => l.startsWith("COPY "))).toEqual([]);
    const j = json<{ backend: string; text: string }>(await mb("render", "dockerfile", "--json", "examples/oci-image"));
    expect(j).toEqual({ backend: "dockerfile", text: r.stdout });
  });
});

describe.concurrent("mb over small fixtures, exact output", () => {
  it("a directory holding builder.ts", async () => {
    expect(await mb("validate", `${FIX}/hello`)).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    expect(await mb("dry-run", `${FIX}/hello`)).toEqual({
      code: 0,
      stdout: "tool bash\nrun greet with bash\nwrite notes.txt\ntransform greeting (text)\nmaterialize hello with runCommand\nevidence greets\n",
      stderr: "",
    });
    expect(await mb("deps", `${FIX}/hello`)).toEqual({
      code: 0,
      stdout: "node tool:bash (tool) package bash\nnode operation:greet (operation) via bash\nedge tool:bash -> operation:greet (uses-tool)\n2 nodes, 1 edges, 0 services\n",
      stderr: "",
    });
  });

  it("plan and render of the directory builder", async () => {
    const marker = "METABUILDER_HEREDOC_37a2f29e4d4486fc34efb12d1a39cb0024a1a2ecd8738e9c5f4dcf4ed9bfb6aa";
    const plan = await mb("plan", `${FIX}/hello`);
    expect(plan).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "# plan hello (builder runCommand), 2 step(s)",
        "# tools: bash",
        "# outputs: greeting -> greeting (text)",
        "",
        "# step 1/2: greet",
        `bash -c 'printf "%s\\n" "$1" > "'"$out"'/greeting"' greet 'hello world'`,
        "",
        "# step 2/2: write:notes.txt",
        'mkdir -p "$(dirname "$out/notes.txt")"',
        `cat > "$out/notes.txt" <<'${marker}'`,
        "metabuilder says hi",
        marker,
        "",
      ].join("\n"),
    });
    const shell = await mb("render", "shell", `${FIX}/hello`);
    const lines = shell.stdout.split("\n");
    expect(lines.slice(lines.indexOf(SCRIPT_ENVIRONMENT[0]!))).toEqual([
      ...SCRIPT_ENVIRONMENT,
      "mb_build_0() (",
      "  mb_name=hello",
      "  mb_step='(setup)'",
      ...BUILD_ENVIRONMENT,
      "  command -v bash >/dev/null 2>&1 || { echo 'backends.shell: missing tool on PATH: bash' >&2; exit 1; }",
      '  mkdir -p "$out"',
      "  mb_step='1/2 greet (runStep)'",
      `  printf '%s\\n' "--- step $mb_step" >&2`,
      `  bash -c 'printf "%s\\n" "$1" > "'"$out"'/greeting"' greet 'hello world'`,
      "  mb_step='2/2 write:notes.txt (writeStep)'",
      `  printf '%s\\n' "--- step $mb_step" >&2`,
      '  mkdir -p "$(dirname "$out/notes.txt")"',
      `cat > "$out/notes.txt" <<'${marker}'`,
      "metabuilder says hi",
      marker,
      "  mb_step='(seal)'",
      '  mb_seal "$out"',
      ")",
      'mkdir -p "$(dirname "$mb_out")"',
      'mb_build_0 "$mb_out"',
      "",
    ]);
  });

  it("describe of the directory builder", async () => {
    const r = await mb("describe", `${FIX}/hello`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "# hello

      Builder: \`runCommand\`

      ## Tools

      - \`bash\`

      ## Outputs

      - output 'notes' at notes.txt (path)
      - output 'greeting' at greeting (text)

      ## Evidence

      - \`greets\` - {"command":"cat greeting","expectedOutput":"hello world"}

      ## Operations

      - \`builder.declareTool\` \`bash\` - declare tool 'bash'
      - \`builder.runTool\` \`greet\` - run 'bash' with 4 argument(s)
      - \`builder.writeFile\` \`notes\` - write output 'notes' at notes.txt (path)
      - \`builder.transformOutput\` \`greeting\` - transform output 'greeting' at greeting (text)
      - \`builder.materializeDerivation\` \`hello\` - materialize derivation 'hello' with runCommand
      - \`builder.declareEvidence\` \`greets\` - declare evidence 'greets'
      "
    `);
  });

  it("a .json spec", async () => {
    expect(await mb("validate", `${FIX}/spec.json`)).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    expect(await mb("dry-run", `${FIX}/spec.json`)).toEqual({
      code: 0,
      stdout: "tool bash\nrun say with bash\ntransform said (text)\nmaterialize json-spec-out with runCommand\n",
      stderr: "",
    });
    const plan = json<{ steps: { shell: string }[] }>(await mb("plan", "--json", `${FIX}/spec.json`));
    expect(plan.steps.map((s) => s.shell)).toEqual([`GREETING='hi there' bash -c 'echo "$GREETING" > "'"$out"'/said"'`]);
  });

  it("file#name picks a named export: a spec, or a program", async () => {
    expect(await mb("dry-run", `${FIX}/exports.ts#small`)).toEqual({ code: 0, stdout: "materialize small-out with runCommand\n", stderr: "" });
    expect(await mb("dry-run", `${FIX}/exports.ts#program`)).toEqual({ code: 0, stdout: "tool bash\nrun true with bash\nmaterialize from-program with runCommand\n", stderr: "" });
    expect(await mb("dry-run", `${FIX}/exports.ts`)).toEqual({ code: 0, stdout: "materialize default-out with runCommand\n", stderr: "" });
  });

  it("--json for every view", async () => {
    const h = `${FIX}/hello`;
    const [validate, deps, dry, plan, describe, introspect, exported, shell] = await Promise.all([
      mb("validate", "--json", h),
      mb("deps", "--json", h),
      mb("dry-run", "--json", h),
      mb("plan", "--json", h),
      mb("describe", "--json", h),
      mb("introspect", "--json", h),
      mb("export", "--json", h),
      mb("render", "shell", "--json", h),
    ]);
    for (const r of [validate, deps, dry, plan, describe, introspect, exported, shell]) expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(json(validate)).toEqual({ ok: true, diagnostics: [] });
    expect(Object.keys(json(deps))).toEqual(["nodes", "edges", "services"]);
    expect(json(dry)).toEqual({
      steps: [
        { kind: "tool", name: "bash" },
        { kind: "run", name: "greet", tool: "bash", args: ["-c", 'printf "%s\\n" "$1" > "$out/greeting"', "greet", "hello world"], env: {} },
        { kind: "write", path: "notes.txt" },
        { kind: "transform", name: "greeting", format: "text" },
        { kind: "materialize", name: "hello", builder: "runCommand" },
        { kind: "evidence", name: "greets" },
      ],
    });
    expect(Object.keys(json(plan))).toEqual(["name", "builder", "tools", "outputs", "pathMap", "nativePaths", "steps", "runtimeArtifacts", "shell"]);
    expect(Object.keys(json(describe))).toEqual(["model", "markdown"]);
    expect(Object.keys(json(introspect))).toEqual(["validation", "dependencies", "dryRun", "plan", "documentation", "materialization", "substrates", "markdown"]);
    expect(json(exported)).toMatchObject({ _con: "MetaBuilderPlan", name: "hello", tools: [{ _con: "MetaBuilderTool", name: "bash" }] });
    expect(Object.keys(json(shell))).toEqual(["backend", "text"]);
  });

  it("validate reports diagnostics with exit 1", async () => {
    expect(await mb("validate", `${FIX}/empty-name.json`)).toEqual({
      code: 1,
      stdout:
        "error builder.required-non-empty at operation 0 (materialize-derivation.name): materialize-derivation.name must be a non-empty string\n1 diagnostic(s)\n",
      stderr: "",
    });
    const j = await mb("validate", "--json", `${FIX}/empty-name.json`);
    expect(j.code).toBe(1);
    expect(json(j)).toEqual({
      ok: false,
      diagnostics: [
        {
          severity: "error",
          code: "builder.required-non-empty",
          path: ["materialize-derivation", "name"],
          message: "materialize-derivation.name must be a non-empty string",
          operation: 0,
        },
      ],
    });
    expect((await mb("introspect", `${FIX}/empty-name.json`)).code).toBe(1);
  });
});

describe.concurrent("mb schema", () => {
  it("prints the BuilderSpec JSON Schema", async () => {
    const r = await mb("schema");
    expect(r.code).toBe(0);
    const s = json<{ $schema: string; required: string[]; properties: Record<string, unknown> }>(r);
    expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(s.required).toEqual(["name", "parameters", "inputs", "dependencies", "tools", "operations", "outputs", "evidence"]);
    expect(Object.keys(s.properties)).toEqual(["_con", ...s.required]);
  });

  it("prints an ornament's JSON Schema", async () => {
    const r = await mb("schema", "oci-image");
    expect(r.code).toBe(0);
    const s = json<{ properties: Record<string, unknown> }>(r);
    for (const f of ["name", "operations", "layers", "entrypoint", "cmd", "env", "exposedPorts", "labels", "architecture", "os"]) expect(s.properties).toHaveProperty(f);
  });

  it("an unknown ornament or record is a usage error", async () => {
    expect(await mb("schema", "nope")).toEqual({
      code: 2,
      stdout: "",
      stderr: `mb: error: unknown ornament or record 'nope'; known ornaments: ${ORNAMENTS.map((e) => e.name).join(", ")}; known records: param, capability, capability-category, capability-set, protocol, service, repl-server, tool-env, transform-step, sandbox-profile, tcp-endpoint, display-config, dns-config, landlock-profile, systemd-hardening\nmb: hint: run \`mb --help\` for usage\n`,
    });
  });
});

describe.concurrent("exit 2: a message naming the problem, no stack trace", () => {
  const cases: [string, string[], string][] = [
    [
      "a spec missing fields",
      ["validate", `${FIX}/missing-fields.json`],
      `mb: error: ${abs(FIX)}/missing-fields.json: builder spec does not match its schema (6 problems):
  - parameters: Invalid input: expected array, received undefined
  - inputs: Invalid input: expected array, received undefined
  - dependencies: Invalid input: expected array, received undefined
  - tools: Invalid input: expected array, received undefined
  - outputs: Invalid input: expected array, received undefined
  - evidence: Invalid input: expected array, received undefined
`,
    ],
    [
      "a field of the wrong type",
      ["plan", `${FIX}/wrong-type.json`],
      `mb: error: ${abs(FIX)}/wrong-type.json: builder spec does not match its schema (2 problems):
  - name: Invalid input: expected string, received number
  - tools: Invalid input: expected array, received string
`,
    ],
    ["invalid JSON", ["describe", `${FIX}/invalid.json`], `mb: error: ${abs(FIX)}/invalid.json: invalid JSON at line 4, column 1: Unexpected token '}', ..."eters": [ } " is not valid JSON\n`],
    ["a missing builder file", ["validate", `${FIX}/nope.json`], `mb: error: builder '${FIX}/nope.json' not found: no such file or directory\n`],
    ["a directory without builder.ts", ["validate", `${FIX}/empty-dir`], `mb: error: builder directory '${FIX}/empty-dir' holds no builder.ts (nor builder.js, builder.json)\n`],
    [
      "a malformed constructor call in a builder",
      ["validate", `${FIX}/bad-constructor.mjs`],
      `mb: error: ${abs(FIX)}/bad-constructor.mjs: MetaBuilderTool does not match its schema (1 problem):\n  - name: Invalid input: expected string, received number\n`,
    ],
    ["a module exporting no spec", ["validate", `${FIX}/not-a-spec.mjs`], `mb: error: ${abs(FIX)}/not-a-spec.mjs: the builder is number, not a spec or a program\n`],
    ["a missing named export", ["validate", `${FIX}/exports.ts#nosuch`], `mb: error: ${abs(FIX)}/exports.ts: has no export named 'nosuch' (exports: program, small)\n`],
  ];

  it.each(cases)("%s", async (_label, args, stderr) => {
    const r = await mb(...args);
    expect(r).toEqual({ code: 2, stdout: "", stderr });
    noStackTrace(r);
  });

  it("usage errors", async () => {
    expect(await mb("frobnicate", `${FIX}/hello`)).toEqual({ code: 2, stdout: "", stderr: "mb: error: unknown command 'frobnicate'\nmb: hint: run `mb --help` for usage\n" });
    expect((await mb("render", "pdf", `${FIX}/hello`)).stderr).toBe("mb: error: render needs a backend: 'shell', 'dockerfile', 'nix' or 'systemd', got 'pdf'\nmb: hint: run `mb --help` for usage\n");
    expect((await mb("deps", "--format", "pdf", `${FIX}/hello`))).toEqual({ code: 2, stdout: "", stderr: "mb: error: unknown --format 'pdf' for deps; expected text, json, dot, svg or mermaid\n" });
    expect((await mb("validate")).code).toBe(2);
  });
});

describe.concurrent("exit 1: the view found problems", () => {
  const message = "mb: error: runTool 'hello' references undeclared tool 'echo'. Declared so far: [sh]. Add a declareTool operation for this tool before runTool.\n";

  it.each([["plan"], ["export"], ["introspect"]])("a runTool before its declareTool: %s", async (view) => {
    const r = await mb(view, `${FIX}/undeclared-tool.json`);
    expect(r).toEqual({ code: 1, stdout: "", stderr: message });
  });

  it("a runTool before its declareTool: validate reports it as a diagnostic", async () => {
    const r = await mb("validate", `${FIX}/undeclared-tool.json`);
    expect(r).toEqual({
      code: 1,
      stdout:
        "error builder.undeclared-tool at operation 1 (run-tool.tool): runTool 'hello' references undeclared tool 'echo'. Declared so far: [sh]. Add a declareTool operation for this tool before runTool.\n1 diagnostic(s)\n",
      stderr: "",
    });
  });

  it("views that need no plan still read a program that cannot be planned", async () => {
    expect(await mb("dry-run", `${FIX}/undeclared-tool.json`)).toEqual({ code: 0, stdout: "tool sh\nrun hello with echo\n", stderr: "" });
    const deps = await mb("deps", "--json", `${FIX}/undeclared-tool.json`);
    expect(deps.code).toBe(0);
    expect(JSON.parse(deps.stdout).edges).toEqual([{ from: "tool:echo", to: "operation:hello", kind: "uses-tool" }]);
    const docs = await mb("describe", `${FIX}/undeclared-tool.json`);
    expect(docs.code).toBe(0);
    expect(docs.stdout).toContain("- `builder.runTool` `hello` - run 'echo' with 1 argument(s)");
  });

  it("output piped into a reader that stops early ends quietly", () => {
    // `true` exits without reading, long before node has started: every write meets a closed pipe (EPIPE).
    const r = spawnSync("bash", ["-c", `${mbCommand().map((w) => JSON.stringify(w)).join(" ")} schema | true; echo "\${PIPESTATUS[0]}"`], { encoding: "utf8", env: mbEnv() });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("0");
  });

  it("render of a plan the backend does not support names every reason", async () => {
    expect(await mb("render", "shell", `${FIX}/foreign-builder.json`)).toEqual({
      code: 1,
      stdout: "",
      stderr: "mb: error: shell backend: plan 'foreign-out' is unsupported:\n  - builder 'buildGoModule' has no shell translation (only runCommand semantics)\n",
    });
    expect(await mb("render", "dockerfile", `${FIX}/foreign-builder.json`)).toEqual({
      code: 1,
      stdout: "",
      stderr: "mb: error: dockerfile backend: plan 'foreign-out' is unsupported:\n  - builder 'buildGoModule' has no Dockerfile translation (only runCommand semantics)\n",
    });
  });
});

describe("npx mb inside the repository", () => {
  it("runs the package's own bin (dist/cli/main.js is executable after the build)", () => {
    const r = spawnSync("npx", ["--no-install", "mb", "--help"], { cwd: ROOT, encoding: "utf8", env: mbEnv({ env: { npm_config_update_notifier: "false" } }) });
    expect(r.stderr).not.toContain("Permission denied");
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("mb - metabuilder: typed builds, many views");
  });
});
