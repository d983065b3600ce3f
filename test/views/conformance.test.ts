// The original's coverage grid: every view and both backends run over one minimal program per constructor (all 15),
// with per-constructor expected facts; every view refuses an unknown constructor; a view missing a handler does not compile.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError, type OpCon, type OpHandlers } from "../../src/index.js";
import { constructors, grid, gridProgram } from "../support/grid.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PATHMAP_SCHEMA = `pathMap_${mb.sha256("/tmp/schema.proto")}`;
const HEREDOC_HELLO = `METABUILDER_HEREDOC_${mb.sha256("hello")}`;

/** What each view must say about the grid program of one constructor. */
interface Facts {
  readonly dryRun: readonly mb.DryRunStep[];
  readonly depNodes: readonly string[];
  readonly depEdges: readonly mb.DepEdge[];
  readonly services: readonly string[];
  readonly planName: string;
  readonly planSteps: readonly string[];
  readonly pathMap: Readonly<Record<string, string>>;
  readonly nativePaths: readonly string[];
  readonly tools: readonly string[];
  readonly outputs: readonly string[];
  readonly runtimeArtifacts: readonly string[];
  readonly documented: readonly string[];
  readonly shell: string;
  readonly dockerfile: "supported" | readonly string[];
}

const none: Omit<Facts, "dryRun" | "documented"> = {
  depNodes: [],
  depEdges: [],
  services: [],
  planName: "metabuilder-output",
  planSteps: [],
  pathMap: {},
  nativePaths: [],
  tools: [],
  outputs: [],
  runtimeArtifacts: [],
  shell: "",
  dockerfile: "supported",
};

const facts: { readonly [K in OpCon]: Facts } = {
  readSource: {
    ...none,
    dryRun: [{ kind: "source", name: "schema" }],
    pathMap: { [PATHMAP_SCHEMA]: "/tmp/schema.proto" },
    documented: ["builder.readSource schema"],
    shell: `${PATHMAP_SCHEMA}=/tmp/schema.proto`,
  },
  resolveDependency: {
    ...none,
    dryRun: [{ kind: "dependency", name: "protobuf", role: "runtime" }],
    depNodes: ["runtime:protobuf"],
    nativePaths: ["libprotobuf-dev"],
    documented: ["builder.resolveDependency protobuf"],
    shell: "export LD_LIBRARY_PATH=libprotobuf-dev/lib:${LD_LIBRARY_PATH:-}",
    dockerfile: ["nativePaths reference host store paths that do not exist inside an image build"],
  },
  declareTool: {
    ...none,
    dryRun: [{ kind: "tool", name: "protoc" }],
    depNodes: ["tool:protoc"],
    tools: ["protoc"],
    documented: ["builder.declareTool protoc"],
  },
  runTool: {
    ...none,
    dryRun: [
      { kind: "tool", name: "protoc" },
      { kind: "run", name: "generate", tool: "protoc", args: ["--version"], env: {} },
    ],
    depNodes: ["tool:protoc", "operation:generate"],
    depEdges: [{ from: "tool:protoc", to: "operation:generate", kind: "uses-tool" }],
    planSteps: ["generate"],
    tools: ["protoc"],
    documented: ["builder.declareTool protoc", "builder.runTool generate"],
    shell: "protoc --version",
  },
  writeFile: {
    ...none,
    dryRun: [{ kind: "write", path: "manifest.txt" }],
    planSteps: ["write:manifest.txt"],
    documented: ["builder.writeFile manifest"],
    shell: `mkdir -p "$(dirname "$out/manifest.txt")"\ncat > "$out/manifest.txt" <<'${HEREDOC_HELLO}'\nhello\n${HEREDOC_HELLO}`,
  },
  copyPath: {
    ...none,
    dryRun: [{ kind: "copy", to: "copied" }],
    planSteps: ["copy:copied"],
    pathMap: { [PATHMAP_SCHEMA]: "/tmp/schema.proto" },
    documented: ["builder.copyPath copy"],
    shell: `${PATHMAP_SCHEMA}=/tmp/schema.proto\nmkdir -p "$(dirname "$out/copied")"\ncp -r "$${PATHMAP_SCHEMA}" "$out/copied"`,
  },
  transformOutput: {
    ...none,
    dryRun: [{ kind: "transform", name: "cpp", format: "tree" }],
    outputs: ["cpp"],
    documented: ["builder.transformOutput cpp"],
  },
  validateValue: { ...none, dryRun: [{ kind: "validate", name: "check" }], documented: ["builder.validateValue check"] },
  emitDescriptor: { ...none, dryRun: [{ kind: "descriptor", name: "idl" }], documented: ["builder.emitDescriptor idl"] },
  materializeDerivation: {
    ...none,
    dryRun: [{ kind: "materialize", name: "demo", builder: "runCommand" }],
    planName: "demo",
    documented: ["builder.materializeDerivation demo"],
  },
  declareEvidence: { ...none, dryRun: [{ kind: "evidence", name: "self-test" }], documented: ["builder.declareEvidence self-test"] },
  declareCapability: {
    ...none,
    dryRun: [{ kind: "declare-capability", name: "lifecycle" }],
    depNodes: ["capability:lifecycle"],
    documented: ["runtime.declareCapability lifecycle"],
  },
  declareProtocol: {
    ...none,
    dryRun: [{ kind: "declare-protocol", name: "grpc" }],
    depNodes: ["protocol:grpc", "capability:lifecycle"],
    depEdges: [{ from: "protocol:grpc", to: "capability:lifecycle", kind: "carries" }],
    documented: ["runtime.declareProtocol grpc"],
  },
  declareService: { ...none, dryRun: [{ kind: "declare-service", name: "api" }], services: ["api"], documented: ["runtime.declareService api"] },
  materializeUnit: {
    ...none,
    dryRun: [
      { kind: "declare-service", name: "api" },
      { kind: "materialize-unit", name: "api" },
    ],
    depNodes: ["service:api", "protocol:grpc", "capability:lifecycle"],
    depEdges: [
      { from: "protocol:grpc", to: "capability:lifecycle", kind: "carries" },
      { from: "service:api", to: "protocol:grpc", kind: "speaks" },
      { from: "service:api", to: "capability:lifecycle", kind: "provides" },
    ],
    services: ["api"],
    runtimeArtifacts: ["service:api"],
    documented: ["runtime.declareService api", "runtime.materializeUnit api"],
  },
};

describe.each(constructors)("grid program of %s", (con) => {
  const program = gridProgram(con);
  const f = facts[con];

  it("validate: ok, no diagnostics", () => {
    expect(mb.validate(program)).toEqual({ ok: true, diagnostics: [] });
  });

  it("deps: nodes, edges and services", () => {
    const g = mb.deps(program);
    expect(g.nodes.map((n) => n.id)).toEqual(f.depNodes);
    expect(g.edges).toEqual(f.depEdges);
    expect(Object.keys(g.services)).toEqual(f.services);
  });

  it("dryRun: one step per operation, with its kind", () => {
    expect(mb.dryRun(program).steps).toEqual(f.dryRun);
  });

  it("materialize: the plan", () => {
    const plan = mb.compile(program);
    expect(plan.name).toBe(f.planName);
    expect(plan.builder).toBe("runCommand");
    expect(plan.steps.map((s) => s.name)).toEqual(f.planSteps);
    expect(plan.pathMap).toEqual(f.pathMap);
    expect(plan.nativePaths).toEqual(f.nativePaths);
    expect(plan.tools.map((t) => t.name)).toEqual(f.tools);
    expect(plan.outputs.map((o) => o.name)).toEqual(f.outputs);
    expect(plan.runtimeArtifacts.map((a) => `${a.kind}:${a.name}`)).toEqual(f.runtimeArtifacts);
    expect(mb.BuildPlan.safeParse(plan).success).toBe(true);
  });

  it("planView: the shell of the plan", () => {
    const pv = mb.planView(program);
    expect(pv.shell).toBe(f.shell);
    expect(pv.steps.map((s) => s.name)).toEqual(f.planSteps);
    expect(pv.runtimeArtifacts.map((a) => `${a.kind}:${a.name}`)).toEqual(f.runtimeArtifacts);
  });

  it("describe: one documented operation per operation", () => {
    const d = mb.describe(program);
    expect(d.model.operations.map((o) => `${o.family}.${o.constructor} ${o.name}`)).toEqual(f.documented);
    expect(d.markdown).toContain("## Operations");
    expect(mb.Documentation.safeParse(d.model).success).toBe(true);
  });

  it("introspect: every view at once", () => {
    const r = mb.introspect(program);
    expect(r.markdown.startsWith("The same internalized program is interpreted several ways.\n")).toBe(true);
    expect(r.validation.ok).toBe(true);
    expect(r.dependencies.nodeCount).toBe(f.depNodes.length);
    expect(r.dryRun.stepCount).toBe(f.dryRun.length);
    expect(r.plan.stepCount).toBe(f.planSteps.length);
    expect(r.documentation.operationCount).toBe(grid[con].length);
    expect(r.materialization.runtimeArtifactCount).toBe(f.runtimeArtifacts.length);
    expect(r.substrates.dockerfile.supported).toBe(f.dockerfile === "supported");
  });

  it("planExport: plain JSON without package objects", () => {
    const exported = mb.planExport(program);
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    expect(JSON.stringify(exported)).not.toMatch(/hostPackage|"package"/);
    expect((exported.steps as unknown[]).length).toBe(f.planSteps.length);
  });

  it("renderShell: a standalone script holding the plan", () => {
    const script = mb.renderShell(mb.compile(program));
    expect(script.startsWith("#!/usr/bin/env bash\nset -euo pipefail\n")).toBe(true);
    expect(script.endsWith("\n")).toBe(true);
    for (const tool of f.tools) expect(script).toContain(`command -v ${tool} >/dev/null 2>&1 ||`);
    for (const line of f.shell.split("\n").filter((l) => l !== "" && !l.startsWith("pathMap_"))) expect(script).toContain(line);
  });

  it("renderDockerfile: supported, or refused with the reference's reasons", () => {
    const plan = mb.compile(program);
    expect(mb.dockerfileUnsupportedReasons(plan)).toEqual(f.dockerfile === "supported" ? [] : f.dockerfile);
    if (f.dockerfile === "supported") {
      expect(mb.renderDockerfile(plan).split("\n").slice(0, 3)).toEqual(["# syntax=docker/dockerfile:1", "ARG base=debian:stable-slim", "FROM ${base}"]);
    } else {
      expect(() => mb.renderDockerfile(plan)).toThrow(MbError);
    }
  });
});

describe("every view and backend refuses an unknown constructor", () => {
  const bogus = mb.unsafeProgram([mb.materializeDerivation({ name: "x" }), { _con: "launchMissiles" } as never]);
  it.each([
    ["validate", () => mb.validate(bogus)],
    ["deps", () => mb.deps(bogus)],
    ["dry-run", () => mb.dryRun(bogus)],
    ["compile", () => mb.compile(bogus)],
    ["compile", () => mb.planView(bogus)],
    ["describe", () => mb.describe(bogus)],
    ["introspect", () => mb.introspect(bogus)],
    ["compile", () => mb.planExport(bogus)],
    ["compile", () => mb.renderShell(mb.compile(bogus))],
  ] as const)("%s", (view, run) => {
    expect(run).toThrow(
      expect.objectContaining({
        code: "program.unknown-operation",
        exitCode: mb.ExitCode.usage,
        message: `${view}: unknown operation constructor 'launchMissiles' at operation 1`,
      }),
    );
  });
});

// "shellcheck accepts the shell script of every grid program" is in test/tools/shellcheck.test.ts (a host tool).

describe("differential: dry-run and plan agree on the steps and their order", () => {
  const planName = (s: mb.DryRunStep): string | null =>
    s.kind === "run" ? s.name : s.kind === "write" ? `write:${s.path}` : s.kind === "copy" ? `copy:${s.to}` : null;

  it("for any concatenation of grid programs", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...constructors), { maxLength: 30 }), (cons) => {
        const program = mb.sequence(cons.flatMap((c): readonly mb.Operation[] => grid[c]));
        const dry = mb.dryRun(program).steps;
        const plan = mb.compile(program);
        expect(dry).toHaveLength(program.operations.length);
        expect(plan.steps.map((s) => s.name)).toEqual(dry.map(planName).filter((n) => n !== null));
        expect(mb.planView(program).steps.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
        expect(mb.describe(program).model.operations).toHaveLength(program.operations.length);
        expect(mb.validate(program).ok).toBe(true);
      }),
    );
  });
});

// ---- The handler record is exhaustive at compile time ----------------------------------------------------------------

const countAll = {
  readSource: (_op, n) => n + 1,
  resolveDependency: (_op, n) => n + 1,
  declareTool: (_op, n) => n + 1,
  runTool: (_op, n) => n + 1,
  writeFile: (_op, n) => n + 1,
  copyPath: (_op, n) => n + 1,
  transformOutput: (_op, n) => n + 1,
  validateValue: (_op, n) => n + 1,
  emitDescriptor: (_op, n) => n + 1,
  materializeDerivation: (_op, n) => n + 1,
  declareEvidence: (_op, n) => n + 1,
  declareCapability: (_op, n) => n + 1,
  declareProtocol: (_op, n) => n + 1,
  declareService: (_op, n) => n + 1,
  materializeUnit: (_op, n) => n + 1,
} satisfies OpHandlers<number>;

const { materializeUnit: _dropped, ...allButOne } = countAll;
// @ts-expect-error -- materializeUnit is missing: a view must handle every constructor (tsc -p tsconfig.json proves it)
const incomplete = allButOne satisfies OpHandlers<number>;

describe("OpHandlers is exhaustive", () => {
  it("the complete handler record folds every grid program", () => {
    for (const con of constructors) expect(mb.fold(gridProgram(con), countAll, 0)).toBe(grid[con].length);
  });

  it("the incomplete record (rejected by the type checker) also fails at run time", () => {
    expect(() => mb.fold(gridProgram("materializeUnit"), incomplete as unknown as OpHandlers<number>, 0, "incomplete")).toThrow(
      "incomplete: unknown operation constructor 'materializeUnit' at operation 1",
    );
  });

  it("the type checker rejects a handler record missing a constructor, and one with an extra handler", () => {
    const file = join(HERE, "__exhaustive_probe__.ts");
    const source = `
import type { OpHandlers } from "../../src/index.js";
type H = OpHandlers<number>;
declare const full: H;
const { declareTool: _gone, ...missing } = full;
export const a = missing satisfies H;
export const b = { ...full, launchMissiles: (_op: unknown, n: number) => n } satisfies H;
export const c = full satisfies H;
`;
    const parsed = ts.getParsedCommandLineOfConfigFile(join(HERE, "../../tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const host = ts.createCompilerHost(parsed.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram({ rootNames: [file], options: { ...parsed.options, noEmit: true }, host });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
    const messages = diagnostics.map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start!);
      return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0]}`;
    });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^5: Type '.*' does not satisfy the expected type '(H|OpHandlers<number>)'\.$/);
    expect(ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, "\n")).toContain("Property 'declareTool' is missing");
    expect(messages[1]).toMatch(/^6: Object literal may only specify known properties, and 'launchMissiles' does not exist in type '(H|OpHandlers<number>)'\.$/);
  }, 180_000); // the type checker loads the project: ~40 s on an idle 2-core machine, more when other test files run beside it
});
