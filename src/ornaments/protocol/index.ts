/**
 * The protocol vocabulary (the original's protocol ornament): the built-in protocols rpc, json-rpc, dbus and grpc,
 * `define`, the `satisfies` capability check, and `http`, the HTTP protocol a service such as the original's
 * node-service example declares.
 */
import { z } from "zod";
import { BUILTIN_CATEGORIES, BUILTIN_PROTOCOLS } from "../../core/runtime-builtins.js";
import { CapabilitySet, Port, protocolSatisfies, type Protocol } from "../../core/runtime.js";
import { strictObject } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import * as C from "../../program/constructors.js";

/** The transports, as values (the original's `protocol.Transport`). */
export const Transport = { TCP: "TCP", Unix: "Unix", Stdio: "Stdio" } as const;
/** The serializations, as values (the original's `protocol.Serialization`). */
export const Serialization = { JSON: "JSON", Protobuf: "Protobuf", Sexp: "Sexp", MsgPack: "MsgPack", Bencode: "Bencode" } as const;

/** Arguments of `http`: the port (default 3000, the node-service example's), the health path and the capabilities. */
export const HttpArgs = strictObject({
  name: z.string().default("http"),
  port: Port.default(3000),
  healthPath: z.string().default("/health"),
  capabilities: CapabilitySet.optional(),
});
export type HttpArgs = z.input<typeof HttpArgs>;

/** The HTTP protocol of a service: TCP/JSON, the port from `$PORT` (default `port`), `options.healthPath`, lifecycle by default. */
export function http(args: HttpArgs = {}): Protocol {
  const a = parseOrThrow(HttpArgs, args, "protocol.http", "constructor.invalid");
  return C.protocol({
    name: a.name,
    description: "HTTP service protocol",
    transport: "TCP",
    serialization: "JSON",
    defaultPort: a.port,
    portEnvVar: "PORT",
    capabilities: a.capabilities ?? C.capabilitySet({ categories: [BUILTIN_CATEGORIES.lifecycle] }),
    options: { healthPath: a.healthPath },
  });
}

/** The protocol vocabulary under the original's names. */
export const protocol = {
  define: C.protocol,
  /** Whether a protocol carries every capability of a set. */
  satisfies: protocolSatisfies,
  http,
  Transport,
  Serialization,
  builtins: BUILTIN_PROTOCOLS,
} as const;
