/** Programs as data and the exhaustive fold every view uses; free of schema code, so views and the engine load light. */
import { ExitCode, MbError } from "../core/errors.js";
import type { OpCon, OpOf, Operation } from "../core/operations.js";

/** A program: the operations a spec compiles to, in order. */
export interface Program {
  readonly _con: "MetaBuilderProgram";
  readonly operations: readonly Operation[];
}

/** Makes a program from operations already known to be well-formed (from smart constructors or a parsed spec). */
export function unsafeProgram(operations: readonly Operation[]): Program {
  return { _con: "MetaBuilderProgram", operations };
}

/** True when a value is a program. */
export function isProgram(value: unknown): value is Program {
  return typeof value === "object" && value !== null && (value as { _con?: unknown })._con === "MetaBuilderProgram";
}

/** A handler per operation constructor: adding a constructor fails compilation until every view handles it. */
export type OpHandlers<S> = { readonly [K in OpCon]: (op: OpOf<K>, state: S, index: number) => S };

function unknownOperation(view: string, con: unknown, i: number): MbError {
  return new MbError("program.unknown-operation", `${view}: unknown operation constructor '${String(con)}' at operation ${i}`, { exitCode: ExitCode.usage });
}

/** Throws, naming `view`, at the first operation whose constructor is not an own key of `known` (a handler record or the operation table). */
export function assertKnownOperations(program: Program, known: object, view: string): void {
  program.operations.forEach((op, i) => {
    if (!Object.hasOwn(known, op._con)) throw unknownOperation(view, op._con, i);
  });
}

/** Folds a program left to right through a handler record; an unknown constructor is an error, never skipped. */
export function fold<S>(program: Program, handlers: OpHandlers<S>, state: S, view = "view"): S {
  const ops = program.operations;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (!Object.hasOwn(handlers, op._con)) throw unknownOperation(view, op._con, i);
    state = (handlers as unknown as Record<string, (op: Operation, s: S, i: number) => S>)[op._con]!(op, state, i);
  }
  return state;
}
