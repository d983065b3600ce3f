/** The validate view: walks the program and collects diagnostics; `ok` when there are none. */
import { type Program, type OpHandlers, fold } from "../program/fold.js";

/** One problem found by validation. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly code: string;
  /** `[<effect>, <field>]`, as in the original. */
  readonly path: readonly string[];
  readonly message: string;
  /** Index of the operation in the program. */
  readonly operation: number;
}

/** The result of validation. */
export interface ValidationResult {
  readonly ok: boolean;
  readonly diagnostics: Diagnostic[];
}

interface State {
  diagnostics: Diagnostic[];
  tools: Set<string>;
  services: Set<string>;
}

function requireNonEmpty(s: State, i: number, effect: string, field: string, value: string): void {
  if (value === "") {
    s.diagnostics.push({
      severity: "error",
      code: "builder.required-non-empty",
      path: [effect, field],
      message: `${effect}.${field} must be a non-empty string`,
      operation: i,
    });
  }
}

const named = (s: State, i: number, effect: string, value: { name: string }): State => {
  requireNonEmpty(s, i, effect, "name", value.name);
  return s;
};

const handlers = {
  readSource: (op, s, i) => named(named(s, i, "read-source", op), i, "read-source.source", op.source),
  resolveDependency: (op, s, i) => named(s, i, "resolve-dependency.dependency", op.dependency),
  declareTool: (op, s, i) => {
    s.tools.add(op.tool.name);
    return named(s, i, "declare-tool.tool", op.tool);
  },
  runTool: (op, s, i) => {
    named(named(s, i, "run-tool", op), i, "run-tool.tool", op.tool);
    if (!s.tools.has(op.tool.name)) {
      s.diagnostics.push({
        severity: "error",
        code: "builder.undeclared-tool",
        path: ["run-tool", "tool"],
        message: `runTool '${op.name}' references undeclared tool '${op.tool.name}'. Declared so far: [${[...s.tools].join(", ")}]. Add a declareTool operation for this tool before runTool.`,
        operation: i,
      });
    }
    return s;
  },
  writeFile: (op, s, i) => (requireNonEmpty(s, i, "write-file.output", "path", op.output.path), s),
  copyPath: (op, s, i) => (requireNonEmpty(s, i, "copy-path.output", "path", op.output.path), s),
  transformOutput: (op, s, i) => named(s, i, "transform-output.output", op.output),
  validateValue: (op, s, i) => named(s, i, "validate-value.validation", op.validation),
  emitDescriptor: (op, s, i) => named(s, i, "emit-descriptor.descriptor", op.descriptor),
  materializeDerivation: (op, s, i) => named(s, i, "materialize-derivation", op),
  declareEvidence: (op, s, i) => named(s, i, "declare-evidence.evidence", op.evidence),
  declareCapability: (op, s, i) => named(s, i, "declare-capability.category", op.category),
  declareProtocol: (op, s, i) => named(s, i, "declare-protocol.protocol", op.protocol),
  declareService: (op, s, i) => {
    s.services.add(op.service.name);
    return named(s, i, "declare-service.service", op.service);
  },
  materializeUnit: (op, s, i) => {
    named(s, i, "materialize-unit", op);
    if (!s.services.has(op.name)) {
      s.diagnostics.push({
        severity: "error",
        code: "runtime.undeclared-service",
        path: ["materialize-unit", "name"],
        message: `materializeUnit '${op.name}' references undeclared service. Declared so far: [${[...s.services].join(", ")}]. Add a declareService operation for this service before materializeUnit.`,
        operation: i,
      });
    }
    return s;
  },
} satisfies OpHandlers<State>;

/** Validates a program: non-empty names (the original's checks), declared tools and declared services. */
export function validate(program: Program): ValidationResult {
  const s = fold<State>(program, handlers, { diagnostics: [], tools: new Set(), services: new Set() }, "validate");
  return { ok: s.diagnostics.length === 0, diagnostics: s.diagnostics };
}
