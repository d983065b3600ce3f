/**
 * The built-in runtime vocabulary of the original (its capabilities, protocol and replServer ornaments): the
 * capability categories lifecycle, crud and streaming, the protocols rpc, json-rpc, dbus and grpc, and the REPL
 * protocols swank, nrepl and dap. Plain data, parsed once through the records' schemas; the ornaments under
 * src/ornaments/ re-export them under the original's names. They live in core because the ReplServer record resolves
 * a REPL protocol given by name.
 */
import { Capability, CapabilityCategory, CapabilitySet, Param, Protocol, type RuntimeType } from "./runtime.js";

/** Freezes a built-in value all the way down, so no caller can change the vocabulary for everyone else. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

const param = (name: string, description: string, type: RuntimeType): Param => Param.parse({ name, description, type, required: true });
const cap = (name: string, description: string, params: Param[] = []): Capability => Capability.parse({ name, description, params, returns: "RTObject" });
const category = (name: string, description: string, capabilities: Capability[]): CapabilityCategory => CapabilityCategory.parse({ name, description, capabilities });
const set = (...categories: CapabilityCategory[]): CapabilitySet => CapabilitySet.parse({ categories });

const id = () => param("id", "Resource identifier", "RTString");
const channel = () => param("channel", "Channel identifier", "RTString");

/** The built-in capability categories, exactly as the original's (names, descriptions, params, returns). */
export const BUILTIN_CATEGORIES = frozen({
  lifecycle: category("lifecycle", "Service lifecycle management", [cap("start", "Start service"), cap("stop", "Stop service"), cap("health", "Check service health")]),
  crud: category("crud", "Create, read, update, delete operations", [
    cap("create", "Create a resource", [param("data", "Resource data", "RTObject")]),
    cap("read", "Read a resource", [id()]),
    cap("update", "Update a resource", [id(), param("data", "Updated data", "RTObject")]),
    cap("delete", "Delete a resource", [id()]),
  ]),
  streaming: category("streaming", "Streaming and pub-sub operations", [
    cap("subscribe", "Subscribe to a channel", [channel()]),
    cap("publish", "Publish to a channel", [channel(), param("data", "Data to publish", "RTObject")]),
  ]),
} as const satisfies Record<string, CapabilityCategory>);

const { lifecycle, crud, streaming } = BUILTIN_CATEGORIES;

/** The built-in protocols (the original's `protocol.builtins`): no default port or port variable, no options. */
export const BUILTIN_PROTOCOLS = frozen({
  rpc: Protocol.parse({ name: "rpc", description: "Generic RPC over TCP/JSON", transport: "TCP", serialization: "JSON", capabilities: set(lifecycle, crud) }),
  jsonRpc: Protocol.parse({ name: "json-rpc", description: "JSON-RPC 2.0 over stdio", transport: "Stdio", serialization: "JSON", capabilities: set(lifecycle) }),
  dbus: Protocol.parse({ name: "dbus", description: "D-Bus inter-process communication", transport: "Unix", serialization: "MsgPack", capabilities: set(lifecycle) }),
  grpc: Protocol.parse({ name: "grpc", description: "gRPC remote procedure call protocol", transport: "TCP", serialization: "Protobuf", capabilities: set(lifecycle, crud, streaming) }),
} as const satisfies Record<string, Protocol>);

/** The built-in REPL protocols (the original's `replServer.protocols`), each with the lifecycle baseline. */
export const REPL_PROTOCOLS = frozen({
  swank: Protocol.parse({ name: "swank", description: "Swank REPL protocol over S-expressions", transport: "TCP", serialization: "Sexp", defaultPort: 4005, portEnvVar: "SWANK_PORT", capabilities: set(lifecycle) }),
  nrepl: Protocol.parse({ name: "nrepl", description: "Network REPL protocol over Bencode", transport: "TCP", serialization: "Bencode", defaultPort: 7888, portEnvVar: "NREPL_PORT", capabilities: set(lifecycle) }),
  dap: Protocol.parse({ name: "dap", description: "Debug Adapter Protocol over JSON", transport: "TCP", serialization: "JSON", defaultPort: 5678, portEnvVar: "DAP_PORT", capabilities: set(lifecycle) }),
} as const satisfies Record<string, Protocol>);

/** The names a ReplServer may give as its `protocol` instead of a whole Protocol record. */
export const REPL_PROTOCOL_NAMES = Object.keys(REPL_PROTOCOLS) as (keyof typeof REPL_PROTOCOLS)[];
