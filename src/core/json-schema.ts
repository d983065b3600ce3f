/** JSON Schemas derived from the zod schemas: reused records become `$defs` entries. */
import { z } from "zod";

/** The JSON Schema (draft 2020-12) of what a schema accepts as input. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any", reused: "ref" }) as Record<string, unknown>;
}
