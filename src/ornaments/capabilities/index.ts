/**
 * The capabilities vocabulary (the original's capabilities ornament): the built-in categories lifecycle, crud and
 * streaming, the smart constructors, and the `schema` eliminator that gives each capability a JSON-Schema-shaped
 * object for API tooling (MCP and the like).
 */
import { absurd } from "../../core/errors.js";
import * as C from "../../program/constructors.js";
import { BUILTIN_CATEGORIES } from "../../core/runtime-builtins.js";
import { Capability, CapabilitySet, hasCapability, type RuntimeType } from "../../core/runtime.js";
import { parseOrThrow } from "../../core/validate-schema.js";

/** The JSON Schema type name of a runtime type. */
export function jsonSchemaType(rt: RuntimeType): "string" | "integer" | "boolean" | "object" | "array" {
  switch (rt) {
    case "RTString":
      return "string";
    case "RTInt":
      return "integer";
    case "RTBool":
      return "boolean";
    case "RTObject":
      return "object";
    case "RTArray":
      return "array";
    default:
      return absurd(rt);
  }
}

/** The JSON-Schema-shaped description of one capability (the original's `schema`). */
export interface CapabilitySchema {
  readonly type: "object";
  readonly properties: Record<string, { readonly type: string; readonly description: string }>;
  readonly required: string[];
  readonly returns: string;
  readonly description: string;
}

/** A capability's JSON-Schema-shaped object: its params as properties, the required ones listed, its return type. */
export function schema(capability: Capability | Record<string, unknown>): CapabilitySchema {
  const cap = parseOrThrow(Capability, capability, "capabilities.schema", "constructor.invalid");
  return {
    type: "object",
    properties: Object.fromEntries(cap.params.map((p) => [p.name, { type: jsonSchemaType(p.type), description: p.description }])),
    required: cap.params.filter((p) => p.required).map((p) => p.name),
    returns: jsonSchemaType(cap.returns),
    description: cap.description,
  };
}

/** Every capability of a set, by name, each schema tagged with its category (`custom` for custom capabilities). */
export function setSchemas(set: CapabilitySet | Record<string, unknown>): Record<string, CapabilitySchema & { readonly category: string }> {
  const s = parseOrThrow(CapabilitySet, set, "capabilities.setSchemas", "constructor.invalid");
  return Object.fromEntries([
    ...s.categories.flatMap((cat) => cat.capabilities.map((cap) => [cap.name, { ...schema(cap), category: cat.name }] as const)),
    ...s.custom.map((cap) => [cap.name, { ...schema(cap), category: "custom" }] as const),
  ]);
}

/** The capabilities vocabulary under the original's names. */
export const capabilities = {
  capability: C.capability,
  category: C.capabilityCategory,
  set: C.capabilitySet,
  schema,
  setSchemas,
  /** Whether a set holds a capability of that name. */
  contains: hasCapability,
  builtins: BUILTIN_CATEGORIES,
} as const;
