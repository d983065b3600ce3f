/** Runtime records (reference section 2): capabilities and protocols, one zod schema each (services hold a package, so they live in spec.ts). */
import { z } from "zod";
import { strictObject } from "./strict.js";

/** Accepts an enum as a plain string or as the original's `{_con: "X"}` value, and keeps the plain string. */
function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (v) => (v !== null && typeof v === "object" && "_con" in v ? (v as { _con: unknown })._con : v),
    z.enum(values),
  );
}

/** The type of a runtime parameter. */
export const RuntimeType = enumOf(["RTString", "RTInt", "RTBool", "RTObject", "RTArray"] as const);
export type RuntimeType = z.infer<typeof RuntimeType>;

/** A transport a protocol runs over. */
export const Transport = enumOf(["TCP", "Unix", "Stdio"] as const);
/** A serialization a protocol speaks. */
export const Serialization = enumOf(["JSON", "Protobuf", "Sexp", "MsgPack", "Bencode"] as const);

/** A parameter of a capability or a service's configuration. */
export const Param = strictObject({
  _con: z.literal("MetaBuilderParam").default("MetaBuilderParam"),
  name: z.string(),
  description: z.string().default(""),
  type: RuntimeType,
  required: z.boolean().default(true),
});
export type Param = z.infer<typeof Param>;

/** One capability: a named operation a service offers. */
export const Capability = strictObject({
  _con: z.literal("MetaBuilderCapability").default("MetaBuilderCapability"),
  name: z.string(),
  description: z.string().default(""),
  params: z.array(Param).default([]),
  returns: RuntimeType.default("RTObject"),
});
export type Capability = z.infer<typeof Capability>;

/** A named group of capabilities. */
export const CapabilityCategory = strictObject({
  _con: z.literal("MetaBuilderCapabilityCategory").default("MetaBuilderCapabilityCategory"),
  name: z.string(),
  description: z.string().default(""),
  capabilities: z.array(Capability).default([]),
});
export type CapabilityCategory = z.infer<typeof CapabilityCategory>;

/** Categories plus custom capabilities. */
export const CapabilitySet = strictObject({
  _con: z.literal("MetaBuilderCapabilitySet").default("MetaBuilderCapabilitySet"),
  categories: z.array(CapabilityCategory).default([]),
  custom: z.array(Capability).default([]),
});
export type CapabilitySet = z.infer<typeof CapabilitySet>;

/** A wire protocol: transport, serialization, default port and the capabilities it carries. */
export const Protocol = strictObject({
  _con: z.literal("MetaBuilderProtocol").default("MetaBuilderProtocol"),
  name: z.string(),
  description: z.string().default(""),
  transport: Transport,
  serialization: Serialization,
  defaultPort: z.number().int().nullable().default(null),
  portEnvVar: z.string().nullable().default(null),
  capabilities: CapabilitySet.default({ _con: "MetaBuilderCapabilitySet", categories: [], custom: [] }),
  options: z.record(z.string(), z.unknown()).default({}),
});
export type Protocol = z.infer<typeof Protocol>;

/** The names of every capability in a set, categories first. */
export function capabilityNames(set: CapabilitySet): string[] {
  return [...set.categories.flatMap((c) => c.capabilities.map((x) => x.name)), ...set.custom.map((x) => x.name)];
}

/**
 * A service is valid when it has no protocols, or no capabilities, or some protocol offers every
 * capability the service declares; otherwise this names the protocols and what each is missing.
 */
export function serviceProblem(svc: { name: string; capabilities: CapabilitySet; protocols: readonly Protocol[] }): string | null {
  const wanted = capabilityNames(svc.capabilities);
  if (svc.protocols.length === 0 || wanted.length === 0) return null;
  const gaps = svc.protocols.map((p) => {
    const offered = new Set(capabilityNames(p.capabilities));
    return { protocol: p.name, missing: wanted.filter((w) => !offered.has(w)) };
  });
  if (gaps.some((g) => g.missing.length === 0)) return null;
  const detail = gaps.map((g) => `protocol '${g.protocol}' lacks ${g.missing.join(", ")}`).join("; ");
  return `service '${svc.name}': no protocol offers every declared capability (${detail})`;
}
