// The protocol vocabulary against the original's tests (src/ornaments/protocol.nix): the built-ins, `satisfies`,
// `define`, and `http` as the original's node-service example declares it; ports are 1-65535.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const { protocol, capabilities } = mb.vocabulary;
const { rpc, jsonRpc, dbus, grpc } = protocol.builtins;
const { lifecycle, crud, streaming } = capabilities.builtins;
const set = (...categories: mb.CapabilityCategory[]) => mb.capabilitySet({ categories });

describe("built-in protocols", () => {
  it("carry the original's names, transports, serializations and categories, with no port", () => {
    const row = (p: mb.Protocol) => [p._con, p.name, p.description, p.transport, p.serialization, p.capabilities.categories.map((c) => c.name), p.defaultPort, p.portEnvVar, p.options];
    expect([rpc, jsonRpc, dbus, grpc].map(row)).toEqual([
      ["MetaBuilderProtocol", "rpc", "Generic RPC over TCP/JSON", "TCP", "JSON", ["lifecycle", "crud"], null, null, {}],
      ["MetaBuilderProtocol", "json-rpc", "JSON-RPC 2.0 over stdio", "Stdio", "JSON", ["lifecycle"], null, null, {}],
      ["MetaBuilderProtocol", "dbus", "D-Bus inter-process communication", "Unix", "MsgPack", ["lifecycle"], null, null, {}],
      ["MetaBuilderProtocol", "grpc", "gRPC remote procedure call protocol", "TCP", "Protobuf", ["lifecycle", "crud", "streaming"], null, null, {}],
    ]);
  });
});

describe("satisfies", () => {
  it("as the original's tests", () => {
    expect(protocol.satisfies(rpc, set(lifecycle, crud))).toBe(true);
    expect(protocol.satisfies(jsonRpc, set(lifecycle, crud))).toBe(false);
    expect(protocol.satisfies(grpc, set(lifecycle, crud, streaming))).toBe(true);
    expect(protocol.satisfies(dbus, set(lifecycle))).toBe(true);
    expect(protocol.satisfies(dbus, set(lifecycle, crud))).toBe(false);
  });

  it("counts custom capabilities, and an empty requirement is always met", () => {
    const custom = mb.capabilitySet({ custom: [mb.capability({ name: "ping" })] });
    expect(protocol.satisfies(grpc, custom)).toBe(false);
    expect(protocol.satisfies(mb.protocol({ name: "p", transport: "TCP", serialization: "JSON", capabilities: custom }), custom)).toBe(true);
    expect(protocol.satisfies(dbus, mb.capabilitySet({}))).toBe(true);
  });
});

describe("define", () => {
  it("builds a typed protocol over the closed sums (also given as {_con})", () => {
    const p = protocol.define({ name: "alpha", description: "alpha protocol", transport: { _con: "TCP" } as never, serialization: protocol.Serialization.Sexp, capabilities: set(lifecycle) });
    expect([p._con, p.name, p.transport, p.serialization]).toEqual(["MetaBuilderProtocol", "alpha", "TCP", "Sexp"]);
    expect(Object.values(protocol.Transport)).toEqual(["TCP", "Unix", "Stdio"]);
    expect(Object.values(protocol.Serialization)).toEqual(["JSON", "Protobuf", "Sexp", "MsgPack", "Bencode"]);
  });

  it.each([0, 65536, -1, 80.5])("refuses the port %s, naming the field", (defaultPort) => {
    expect(() => protocol.define({ name: "p", transport: "TCP", serialization: "JSON", defaultPort })).toThrow(/MetaBuilderProtocol does not match its schema \(1 problem\):\n {2}- defaultPort: /);
  });

  it("accepts ports 1 and 65535", () => {
    for (const defaultPort of [1, 65535]) expect(protocol.define({ name: "p", transport: "TCP", serialization: "JSON", defaultPort }).defaultPort).toBe(defaultPort);
  });
});

describe("http", () => {
  it("is the node-service example's protocol: TCP/JSON, PORT, options.healthPath, lifecycle", () => {
    expect(protocol.http()).toEqual(
      mb.protocol({
        name: "http",
        description: "HTTP service protocol",
        transport: "TCP",
        serialization: "JSON",
        defaultPort: 3000,
        portEnvVar: "PORT",
        capabilities: set(lifecycle),
        options: { healthPath: "/health" },
      }),
    );
  });

  it("takes the port, health path and capabilities", () => {
    const p = protocol.http({ port: 8080, healthPath: "/healthz", capabilities: set(lifecycle, crud) });
    expect([p.defaultPort, p.options, p.capabilities.categories.map((c) => c.name)]).toEqual([8080, { healthPath: "/healthz" }, ["lifecycle", "crud"]]);
  });

  it("refuses a port outside 1-65535 and unknown arguments", () => {
    expect(() => protocol.http({ port: 70000 })).toThrow("protocol.http does not match its schema (1 problem):\n  - port: a port is at most 65535");
    expect(() => protocol.http({ prot: 1 } as never)).toThrow("did you mean `port`?");
  });
});
