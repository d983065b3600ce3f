/** The dry-run view: one step per operation, in order, saying what the build would do. */
import { familyOf, type OpCon } from "../core/operations.js";
import type { Arg } from "../core/spec.js";
import { type Program, type OpHandlers, fold } from "../program/fold.js";

/** One dry-run step; `kind` names what the operation would do. */
export type DryRunStep =
  | { kind: "source"; name: string }
  | { kind: "dependency"; name: string; role: string }
  | { kind: "tool"; name: string }
  | { kind: "run"; name: string; tool: string; args: Arg[]; env: Record<string, string | number> }
  | { kind: "write"; path: string }
  | { kind: "copy"; to: string }
  | { kind: "transform"; name: string; format: string }
  | { kind: "validate"; name: string }
  | { kind: "descriptor"; name: string }
  | { kind: "materialize"; name: string; builder: string }
  | { kind: "evidence"; name: string }
  | { kind: "declare-capability"; name: string }
  | { kind: "declare-protocol"; name: string }
  | { kind: "declare-service"; name: string }
  | { kind: "materialize-unit"; name: string };

/** The dry-run result. */
export interface DryRunResult {
  readonly steps: DryRunStep[];
}

/** The step kind of each constructor (one per constructor, checked by the compiler). */
const KIND_OF = {
  readSource: "source",
  resolveDependency: "dependency",
  declareTool: "tool",
  runTool: "run",
  writeFile: "write",
  copyPath: "copy",
  transformOutput: "transform",
  validateValue: "validate",
  emitDescriptor: "descriptor",
  materializeDerivation: "materialize",
  declareEvidence: "evidence",
  declareCapability: "declare-capability",
  declareProtocol: "declare-protocol",
  declareService: "declare-service",
  materializeUnit: "materialize-unit",
} as const satisfies { readonly [K in OpCon]: DryRunStep["kind"] };

/** The kinds of runtime operations' steps, derived from the families in the operation table. */
const RUNTIME_KINDS: ReadonlySet<DryRunStep["kind"]> = new Set((Object.keys(KIND_OF) as OpCon[]).filter((c) => familyOf(c) === "runtime").map((c) => KIND_OF[c]));

/** True for the steps of runtime operations. */
export function isRuntimeStep(step: DryRunStep): boolean {
  return RUNTIME_KINDS.has(step.kind);
}

const add = (s: DryRunStep[], step: DryRunStep) => (s.push(step), s);

const handlers = {
  readSource: (op, s) => add(s, { kind: "source", name: op.name }),
  resolveDependency: (op, s) => add(s, { kind: "dependency", name: op.dependency.name, role: op.dependency.role }),
  declareTool: (op, s) => add(s, { kind: "tool", name: op.tool.name }),
  runTool: (op, s) => add(s, { kind: "run", name: op.name, tool: op.tool.name, args: op.args, env: op.env }),
  writeFile: (op, s) => add(s, { kind: "write", path: op.output.path }),
  copyPath: (op, s) => add(s, { kind: "copy", to: op.output.path }),
  transformOutput: (op, s) => add(s, { kind: "transform", name: op.output.name, format: op.output.format }),
  validateValue: (op, s) => add(s, { kind: "validate", name: op.validation.name }),
  emitDescriptor: (op, s) => add(s, { kind: "descriptor", name: op.descriptor.name }),
  materializeDerivation: (op, s) => add(s, { kind: "materialize", name: op.name, builder: op.builder }),
  declareEvidence: (op, s) => add(s, { kind: "evidence", name: op.evidence.name }),
  declareCapability: (op, s) => add(s, { kind: "declare-capability", name: op.category.name }),
  declareProtocol: (op, s) => add(s, { kind: "declare-protocol", name: op.protocol.name }),
  declareService: (op, s) => add(s, { kind: "declare-service", name: op.service.name }),
  materializeUnit: (op, s) => add(s, { kind: "materialize-unit", name: op.name }),
} satisfies OpHandlers<DryRunStep[]>;

/** Says, step by step, what the program would do. */
export function dryRun(program: Program): DryRunResult {
  return { steps: fold(program, handlers, [], "dry-run") };
}
