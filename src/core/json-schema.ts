/** JSON Schemas derived from the zod schemas: reused records become `$defs` entries. */
import { z } from "zod";

/** The JSON Schema (draft 2020-12) of what a schema accepts as input. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any", reused: "ref" }) as Record<string, unknown>;
}

/** The JSON Schema of a record with every reused sub-schema written in place (only recursion goes through `$defs`), as `mb schema <record>` prints it. */
export function inlineJsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any", reused: "inline" }) as Record<string, unknown>;
}
