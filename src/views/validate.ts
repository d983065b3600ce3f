/** The validate view: walks the program and collects diagnostics; `ok` when there are none. */
import { type Program, type OpHandlers, fold } from "../program/fold.js";
import { dependencyPathProblem } from "../program/quote.js";
import { scopeProblems } from "../program/scope.js";
import type { OpOf, Operation } from "../core/spec.js";
import { canonicalJson } from "../core/hash.js";

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

/** A dependency given as an absolute path must have the store path form: it reaches shell text (LD_LIBRARY_PATH). */
function storePathDependency(s: State, i: number, pkg: unknown): State {
  const message = typeof pkg === "string" ? dependencyPathProblem(pkg) : null;
  if (message !== null) s.diagnostics.push({ severity: "error", code: "builder.dependency-path", path: ["resolve-dependency.dependency", "package"], message, operation: i });
  return s;
}

const handlers = {
  readSource: (op, s, i) => named(named(s, i, "read-source", op), i, "read-source.source", op.source),
  resolveDependency: (op, s, i) => storePathDependency(named(s, i, "resolve-dependency.dependency", op.dependency), i, op.dependency.package),
  declareTool: (op, s, i) => named(s, i, "declare-tool.tool", op.tool),
  runTool: (op, s, i) => named(named(s, i, "run-tool", op), i, "run-tool.tool", op.tool),
  writeFile: (op, s, i) => (requireNonEmpty(s, i, "write-file.output", "path", op.output.path), s),
  copyPath: (op, s, i) => (requireNonEmpty(s, i, "copy-path.output", "path", op.output.path), s),
  transformOutput: (op, s, i) => named(s, i, "transform-output.output", op.output),
  validateValue: (op, s, i) => named(s, i, "validate-value.validation", op.validation),
  emitDescriptor: (op, s, i) => named(s, i, "emit-descriptor.descriptor", op.descriptor),
  materializeDerivation: (op, s, i) => named(s, i, "materialize-derivation", op),
  declareEvidence: (op, s, i) => named(s, i, "declare-evidence.evidence", op.evidence),
  declareCapability: (op, s, i) => named(s, i, "declare-capability.category", op.category),
  declareProtocol: (op, s, i) => named(s, i, "declare-protocol.protocol", op.protocol),
  declareService: (op, s, i) => named(s, i, "declare-service.service", op.service),
  materializeUnit: (op, s, i) => named(s, i, "materialize-unit", op),
} satisfies OpHandlers<State>;

/** Where a scope problem is reported, by the kind of name: the code and the `[effect, field]` path. */
const SCOPE = {
  tool: { code: "builder.undeclared-tool", path: ["run-tool", "tool"] },
  service: { code: "runtime.undeclared-service", path: ["materialize-unit", "name"] },
} as const;

/** The declarations whose names are unique in a program: a tool, an output. */
const UNIQUE: { readonly [K in Operation["_con"]]?: { effect: string; what: string; decl: (op: OpOf<K>) => { name: string } } } = {
  declareTool: { effect: "declare-tool.tool", what: "tool", decl: (op) => op.tool },
  transformOutput: { effect: "transform-output.output", what: "output", decl: (op) => op.output },
};

/** A second, different declaration of a tool or output name is an error at it (repeating the same one is not). */
function duplicates(program: Program): Diagnostic[] {
  const seen = new Map<string, { operation: number; json: string }>();
  const out: Diagnostic[] = [];
  program.operations.forEach((op, i) => {
    const u = UNIQUE[op._con] as { effect: string; what: string; decl: (op: Operation) => { name: string } } | undefined;
    const decl = u?.decl(op);
    if (u === undefined || decl === undefined || decl.name === "") return;
    const key = `${u.what}:${decl.name}`;
    const first = seen.get(key);
    const json = canonicalJson(decl);
    if (first === undefined) seen.set(key, { operation: i, json });
    else if (first.json !== json) {
      const message = `${u.what} '${decl.name}' is declared twice, differently (first by operation ${first.operation})`;
      out.push({ severity: "error", code: `builder.duplicate-${u.what}`, path: [u.effect, "name"], message, operation: i });
    }
  });
  return out;
}

/** Validates a program: non-empty names (the original's checks), unique tool and output names, then declared tools and services (the scope check), per operation in order. */
export function validate(program: Program): ValidationResult {
  const s = fold<State>(program, handlers, { diagnostics: [...duplicates(program)] }, "validate");
  const scoped: Diagnostic[] = scopeProblems(program, "validate").map((p) => ({ severity: "error", ...SCOPE[p.used.kind], message: p.message, operation: p.operation }));
  // Stable: for one operation, its name checks come before its scope problem.
  const diagnostics = [...s.diagnostics, ...scoped].sort((a, b) => a.operation - b.operation);
  return { ok: diagnostics.length === 0, diagnostics };
}
