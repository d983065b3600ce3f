// Compiler probes: add an operation constructor, a plan step kind or an output format to its table (in memory, with the
// TypeScript compiler API) and show that `tsc` fails in every place that must handle the new entry, and nowhere else.
// Derived things (the union, smart constructors, families, runtime kinds) need no edit: a probe that adds the entry AND
// its handlers type-checks, and uses the derived constructor.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SRC = join(ROOT, "src");

interface Patch {
  readonly file: string;
  readonly find: string;
  readonly replace: string;
}

/** Type-checks src/ with the patches applied in memory; returns the files (relative to src/) that have errors. */
function filesWithErrors(patches: readonly Patch[], extraFiles: Record<string, string> = {}): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.build.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const overrides = new Map<string, string>();
  for (const p of patches) {
    const path = join(SRC, p.file);
    const text = overrides.get(path) ?? readFileSync(path, "utf8");
    if (!text.includes(p.find)) throw new Error(`probe: '${p.find}' not found in src/${p.file}: update the probe to the table's new shape`);
    overrides.set(path, text.replace(p.find, p.replace));
  }
  for (const [file, text] of Object.entries(extraFiles)) overrides.set(join(SRC, file), text);
  const host = ts.createCompilerHost({ ...config.options, noEmit: true });
  const read = host.readFile.bind(host);
  host.readFile = (f) => overrides.get(f) ?? read(f);
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => overrides.has(f) || exists(f);
  const program = ts.createProgram([...config.fileNames, ...Object.keys(extraFiles).map((f) => join(SRC, f))], { ...config.options, noEmit: true }, host);
  const files = ts.getPreEmitDiagnostics(program).flatMap((d) => (d.file ? [relative(SRC, d.file.fileName)] : ["(global)"]));
  return [...new Set(files)].sort();
}

const newOperation: Patch = {
  file: "core/spec.ts",
  find: `  materializeUnit: op("materializeUnit", { name: z.string() }),`,
  replace: `  materializeUnit: op("materializeUnit", { name: z.string() }),\n  probeOp: op("probeOp", { name: z.string(), tool: Tool }),`,
};

describe("compiler probes", () => {
  it("the unpatched tree type-checks (the probes' baseline)", () => {
    expect(filesWithErrors([])).toEqual([]);
  });

  it("a new operation constructor fails in the table (schema, family, package lens, scope, lowering) and in every view", () => {
    expect(filesWithErrors([newOperation])).toEqual([
      "core/operations.ts", // its row: family, package lens, scope and lowering
      "views/deps.ts",
      "views/describe.ts",
      "views/dry-run.ts", // its handler and its step kind
      "views/validate.ts",
    ]);
  });

  it("a new operation with its table row and view handlers type-checks, and its smart constructor is derived", () => {
    const handler = (file: string, anchor: string, code: string): Patch => ({ file, find: anchor, replace: `${anchor}\n  probeOp: ${code},` });
    const patches: Patch[] = [
      newOperation,
      {
        file: "core/operations.ts",
        find: "} as const satisfies OperationTable;",
        replace: `  probeOp: { schema: operationSchemas.probeOp, family: "builder", packages: (op, f) => ({ ...op, tool: tool(op.tool, f, "tool.package") }), lower: none },\n} as const satisfies OperationTable;`,
      },
      handler("views/validate.ts", "  materializeUnit: (op, s, i) => named(s, i, \"materialize-unit\", op),", `(op, s, i) => named(s, i, "probe", op)`),
      handler("views/deps.ts", "  declareEvidence: same,", "same"),
      handler("views/describe.ts", "const handlers = {", `(op, s) => doc(s, op._con, op.name, "probe")`),
      handler("views/dry-run.ts", "const handlers = {", `(op, s) => add(s, { kind: "validate", name: op.name })`),
      handler("views/dry-run.ts", "const KIND_OF = {", `"validate"`),
    ];
    const usage = `import { operationConstructors } from "./program/constructors.js";\nexport const probe = operationConstructors.probeOp({ name: "p", tool: { name: "t", package: "bash" } });\nexport const con: "probeOp" = probe._con;\n`;
    expect(filesWithErrors(patches, { "probe-usage.ts": usage })).toEqual([]);
  });

  it("a new plan step kind fails in the step table (verb and rendering)", () => {
    const patch: Patch = {
      file: "core/plan.ts",
      find: "export const planStepSchemas = { runStep: RunStep, writeStep: WriteStep, copyStep: CopyStep } as const;",
      replace: `export const planStepSchemas = { runStep: RunStep, writeStep: WriteStep, copyStep: CopyStep, probeStep: z.object({ _con: z.literal("probeStep"), name: z.string() }) } as const;`,
    };
    // The step table, the engine's output guard (confine.ts), which must decide where a new kind of step writes, and
    // the standalone shell's relocation (shell-graph.ts), which must decide which store paths a new kind names.
    expect(filesWithErrors([patch])).toEqual(["backends/shell-graph.ts", "engine/confine.ts", "program/steps.ts"]);
  });

  it("a new output format fails in the engine's promise table", () => {
    const patch: Patch = {
      file: "core/records.ts",
      find: `"archive", "oci-blobs"] as const;`,
      replace: `"archive", "oci-blobs", "probe-format"] as const;`,
    };
    expect(filesWithErrors([patch])).toEqual(["engine/formats.ts"]);
  });
}, 300_000);
