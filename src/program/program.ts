/** Programs from specs (reference section 4): validation against the schemas, then lowering to operations. */
import { z } from "zod";
import { BuilderSpec, Operation } from "../core/spec.js";
import { withoutOrnamentFields } from "../core/ornamented.js";
import { parseOrThrow } from "../core/validate-schema.js";
import { unsafeProgram, type Program } from "./fold.js";

export { fold, isProgram, unsafeProgram, type OpHandlers, type Program } from "./fold.js";

/** Makes a program straight from operations (each checked against the operation union). */
export function sequence(ops: readonly unknown[]): Program {
  const operations = parseOrThrow(z.array(Operation), ops, "program", "program.invalid");
  return { _con: "MetaBuilderProgram", operations };
}

/** Lowers a parsed spec: its operations, then one declareEvidence per evidence entry, in order. */
export function compileSpec(spec: BuilderSpec): Operation[] {
  const ops: Operation[] = spec.operations.slice();
  for (const evidence of spec.evidence) ops.push({ _con: "declareEvidence", evidence });
  return ops;
}

/**
 * Validates a spec against the base spec type (strictly: an unknown key is an error) and compiles it to a program. A
 * spec made by an ornament's constructor is accepted without the fields that ornament inserted and checked.
 */
export function fromSpec(spec: unknown): Program {
  return unsafeProgram(compileSpec(parseOrThrow(BuilderSpec, withoutOrnamentFields(spec), "builder spec")));
}
