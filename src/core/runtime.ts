/**
 * Runtime records (reference section 2): capabilities and protocols, one zod schema each (services hold a package, so
 * they live in spec.ts), and the pure checks over them (`hasCapability`, `protocolSatisfies`, `compatibility`).
 */
import { z } from "zod";
import { strictObject } from "./strict.js";

/** Accepts an enum as a plain string or as the original's `{_con: "X"}` value, and keeps the plain string. */
export function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (v) => (v !== null && typeof v === "object" && "_con" in v ? (v as { _con: unknown })._con : v),
    z.enum(values),
  );
}

/** The type of a runtime parameter. */
export const RuntimeType = enumOf(["RTString", "RTInt", "RTBool", "RTObject", "RTArray"] as const);
export type RuntimeType = z.infer<typeof RuntimeType>;

/** A transport a protocol runs over. */
export const Transport = enumOf(["TCP", "Unix", "Stdio"] as const).describe("The transport: TCP, Unix (a socket) or Stdio.");
/** A serialization a protocol speaks. */
export const Serialization = enumOf(["JSON", "Protobuf", "Sexp", "MsgPack", "Bencode"] as const).describe("The serialization: JSON, Protobuf, Sexp, MsgPack or Bencode.");

/** A parameter of a capability or a service's configuration. */
export const Param = strictObject({
  _con: z.literal("MetaBuilderParam").default("MetaBuilderParam"),
  name: z.string().describe("The parameter's name."),
  description: z.string().default("").describe("What the parameter means."),
  type: RuntimeType.describe("The parameter's runtime type: RTString, RTInt, RTBool, RTObject or RTArray."),
  required: z.boolean().default(true).describe("Whether a caller must give it."),
}).describe("A parameter of a capability or of a service's configuration.");
export type Param = z.infer<typeof Param>;

/** One capability: a named operation a service offers. */
export const Capability = strictObject({
  _con: z.literal("MetaBuilderCapability").default("MetaBuilderCapability"),
  name: z.string().describe("The capability's name, unique within a service (e.g. `start`, `create`)."),
  description: z.string().default("").describe("What the capability does."),
  params: z.array(Param).default([]).describe("Its parameters, in order."),
  returns: RuntimeType.default("RTObject").describe("The runtime type of its result."),
}).describe("A capability: a named operation a service offers at run time.");
export type Capability = z.infer<typeof Capability>;

/** A named group of capabilities. */
export const CapabilityCategory = strictObject({
  _con: z.literal("MetaBuilderCapabilityCategory").default("MetaBuilderCapabilityCategory"),
  name: z.string().describe("The category's name (built-ins: lifecycle, crud, streaming)."),
  description: z.string().default("").describe("What the category groups."),
  capabilities: z.array(Capability).default([]).describe("The capabilities of the category."),
}).describe("A named group of capabilities.");
export type CapabilityCategory = z.infer<typeof CapabilityCategory>;

/** Categories plus custom capabilities. */
export const CapabilitySet = strictObject({
  _con: z.literal("MetaBuilderCapabilitySet").default("MetaBuilderCapabilitySet"),
  categories: z.array(CapabilityCategory).default([]).describe("Whole categories of capabilities."),
  custom: z.array(Capability).default([]).describe("Capabilities outside any category."),
}).describe("A set of capabilities: categories plus custom capabilities.");

/** A TCP or UDP port number: a whole number from 1 to 65535. */
export const Port = z.number().int("a port is a whole number").min(1, "a port is at least 1").max(65535, "a port is at most 65535");
export type CapabilitySet = z.infer<typeof CapabilitySet>;

/** A wire protocol: transport, serialization, default port and the capabilities it carries. */
export const Protocol = strictObject({
  _con: z.literal("MetaBuilderProtocol").default("MetaBuilderProtocol"),
  name: z.string().describe("The protocol's name (e.g. `rpc`, `http`, `swank`)."),
  description: z.string().default("").describe("What the protocol is."),
  transport: Transport,
  serialization: Serialization,
  defaultPort: Port.nullable().default(null).describe("The port it listens on unless configured (1-65535), or null."),
  portEnvVar: z.string().nullable().default(null).describe("The environment variable that sets the port, or null."),
  capabilities: CapabilitySet.default({ _con: "MetaBuilderCapabilitySet", categories: [], custom: [] }).describe("The capabilities the protocol carries."),
  options: z.record(z.string(), z.unknown()).default({}).describe("Protocol-specific options (e.g. `healthPath` for http)."),
}).describe("A wire protocol: transport (TCP, Unix, Stdio), serialization, default port and the capabilities it carries.");
export type Protocol = z.infer<typeof Protocol>;

/** The names of every capability in a set, categories first. */
export function capabilityNames(set: CapabilitySet): string[] {
  return [...set.categories.flatMap((c) => c.capabilities.map((x) => x.name)), ...set.custom.map((x) => x.name)];
}

/** Whether a capability set holds a capability of that name (the original's `hasCapability`). */
export function hasCapability(set: CapabilitySet, name: string): boolean {
  return capabilityNames(set).includes(name);
}

/** Whether a protocol carries every capability of `required` (the original's `protocolSatisfies`). */
export function protocolSatisfies(protocol: Protocol, required: CapabilitySet): boolean {
  return capabilityNames(required).every((n) => hasCapability(protocol.capabilities, n));
}

/** The original's `compatibility`: valid, or one error per protocol that cannot carry the service's capabilities. */
export function compatibility(svc: { capabilities: CapabilitySet; protocols: readonly Protocol[] }): { valid: boolean; errors: string[] } {
  const wanted = capabilityNames(svc.capabilities);
  if (svc.protocols.length === 0 || wanted.length === 0 || svc.protocols.some((p) => protocolSatisfies(p, svc.capabilities))) return { valid: true, errors: [] };
  const errors = svc.protocols.map((p) => `Protocol '${p.name}' cannot satisfy capabilities: ${wanted.filter((n) => !hasCapability(p.capabilities, n)).join(", ")}`);
  return { valid: false, errors };
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
