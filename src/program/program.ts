/** Programs: a plain sequence of operations, compiled from specs (reference section 4), and the exhaustive fold every view uses. */
import { z } from "zod";
import { ExitCode, MbError } from "../core/errors.js";
import { Operation, type OpCon, type OpOf } from "../core/operations.js";
import { BuilderSpec } from "../core/spec.js";
import { parseOrThrow } from "../core/validate-schema.js";
import type { Ornament } from "../ornaments/ornament.js";

/** A program: the operations a spec compiles to, in order. */
export interface Program {
  readonly _con: "MetaBuilderProgram";
  readonly operations: readonly Operation[];
}

/** Makes a program straight from operations (each checked against the operation union). */
export function sequence(ops: readonly unknown[]): Program {
  const operations = parseOrThrow(z.array(Operation), ops, "program", "program.invalid");
  return { _con: "MetaBuilderProgram", operations };
}

/** Makes a program from operations already known to be well-formed (from smart constructors or a parsed spec). */
export function unsafeProgram(operations: readonly Operation[]): Program {
  return { _con: "MetaBuilderProgram", operations };
}

/** Lowers a parsed spec: its operations, then one declareEvidence per evidence entry, in order. */
export function compileSpec(spec: BuilderSpec): Operation[] {
  const ops: Operation[] = spec.operations.slice();
  for (const evidence of spec.evidence) ops.push({ _con: "declareEvidence", evidence });
  return ops;
}

/** Validates a spec against the base spec type and compiles it to a program. */
export function fromSpec(spec: unknown): Program {
  return unsafeProgram(compileSpec(parseOrThrow(BuilderSpec, spec, "builder spec")));
}

/** Validates a spec against an ornament's type, forgets the inserted fields, and compiles it. */
export function fromOrnamentedSpec<S extends z.ZodType>(ornament: Ornament<S>, spec: unknown): Program {
  const parsed = parseOrThrow(ornament.schema, spec, `${ornament.name} spec`);
  return unsafeProgram(compileSpec(ornament.forget(parsed)));
}

/** True when a value is a program. */
export function isProgram(value: unknown): value is Program {
  return typeof value === "object" && value !== null && (value as { _con?: unknown })._con === "MetaBuilderProgram";
}

/** A handler per operation constructor: adding a constructor fails compilation until every view handles it. */
export type OpHandlers<S> = { readonly [K in OpCon]: (op: OpOf<K>, state: S, index: number) => S };

/** Folds a program left to right through a handler record; an unknown constructor is an error, never skipped. */
export function fold<S>(program: Program, handlers: OpHandlers<S>, state: S, view = "view"): S {
  const ops = program.operations;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const handler = (handlers as Record<string, ((op: Operation, s: S, i: number) => S) | undefined>)[op._con];
    if (handler === undefined || !Object.hasOwn(handlers, op._con)) {
      throw new MbError("program.unknown-operation", `${view}: unknown operation constructor '${String(op._con)}' at operation ${i}`, {
        exitCode: ExitCode.usage,
      });
    }
    state = handler(op, state, i);
  }
  return state;
}
