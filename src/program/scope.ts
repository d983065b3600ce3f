/**
 * The one scope check: every tool a runTool uses and every service a materializeUnit names must be declared by an
 * earlier operation. Which operations declare and use names comes from the operation table; validate reports the
 * problems as diagnostics, the compile pass and the deps view stop at the first.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { operationDef, operations, type ScopeName } from "../core/operations.js";
import type { Operation } from "../core/spec.js";
import { assertKnownOperations, type Program } from "./fold.js";

/** A name used before it was declared. */
export interface ScopeProblem {
  /** Index of the operation in the program. */
  readonly operation: number;
  readonly con: Operation["_con"];
  readonly used: ScopeName;
  /** The names of that kind declared before it, in order. */
  readonly declared: readonly string[];
  readonly message: string;
}

const DECLARER = { tool: "declareTool", service: "declareService" } as const;

/** The message of a scope problem: what is undeclared, what was declared so far, and how to fix it. */
export function scopeMessage(op: Operation, used: ScopeName, declared: readonly string[]): string {
  const who = "name" in op ? `${op._con} '${op.name}'` : op._con;
  return `${who} references undeclared ${used.kind} '${used.name}'. Declared so far: [${declared.join(", ")}]. Add a ${DECLARER[used.kind]} operation for this ${used.kind} before ${op._con}.`;
}

/** Walks the program once, in order, and returns every use of an undeclared name; `view` is named if a constructor is unknown. */
export function scopeProblems(program: Program, view = "scope"): ScopeProblem[] {
  assertKnownOperations(program, operations, view);
  const declared = { tool: [] as string[], service: [] as string[] };
  const seen = { tool: new Set<string>(), service: new Set<string>() };
  const problems: ScopeProblem[] = [];
  program.operations.forEach((op, i) => {
    const def = operationDef(op._con) as { declares?: (op: Operation) => ScopeName; uses?: (op: Operation) => ScopeName };
    const used = def.uses?.(op);
    if (used && !seen[used.kind].has(used.name)) {
      const soFar = [...declared[used.kind]];
      problems.push({ operation: i, con: op._con, used, declared: soFar, message: scopeMessage(op, used, soFar) });
    }
    const decl = def.declares?.(op);
    if (decl && !seen[decl.kind].has(decl.name)) {
      seen[decl.kind].add(decl.name);
      declared[decl.kind].push(decl.name);
    }
  });
  return problems;
}

/** Throws the first scope problem (of the given kinds) as an MbError with `code` (exit 1). */
export function assertInScope(program: Program, view: string, code: (used: ScopeName) => string, kinds: readonly ScopeName["kind"][] = ["tool", "service"]): void {
  const first = scopeProblems(program, view).find((p) => kinds.includes(p.used.kind));
  if (first) throw new MbError(code(first.used), first.message, { exitCode: ExitCode.problems });
}
