// The REPL server vocabulary against the original's tests (src/ornaments/replServer.nix and operations.nix): the
// built-in REPL protocols, `define`'s defaults (port and variable from the protocol, registration from the mode), its
// errors (unknown protocol, port outside 1-65535, no port to fall back on), and the repl ornament's law.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { dryRunAgreesWithPlan } from "../support/lowering-laws.js";

const { replServer } = mb;
const { swank, nrepl, dap } = replServer.protocols;
const base = { name: "r", parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: [] };

describe("built-in REPL protocols", () => {
  it("swank, nrepl and dap with the original's wire, port, variable and lifecycle baseline", () => {
    const row = (p: mb.Protocol) => [p._con, p.name, p.description, p.transport, p.serialization, p.defaultPort, p.portEnvVar, p.capabilities.categories.map((c) => c.name)];
    expect([swank, nrepl, dap].map(row)).toEqual([
      ["MetaBuilderProtocol", "swank", "Swank REPL protocol over S-expressions", "TCP", "Sexp", 4005, "SWANK_PORT", ["lifecycle"]],
      ["MetaBuilderProtocol", "nrepl", "Network REPL protocol over Bencode", "TCP", "Bencode", 7888, "NREPL_PORT", ["lifecycle"]],
      ["MetaBuilderProtocol", "dap", "Debug Adapter Protocol over JSON", "TCP", "JSON", 5678, "DAP_PORT", ["lifecycle"]],
    ]);
    expect(mb.REPL_PROTOCOL_NAMES).toEqual(["swank", "nrepl", "dap"]);
  });
});

describe("define", () => {
  const swankBg = replServer.define({ protocol: swank, mode: "Background" });

  it("defaults: the protocol's port and variable, XDG in the background, LongRunning, 127.0.0.1, enabled", () => {
    expect(swankBg).toEqual({
      _con: "MetaBuilderREPLServerSpec",
      protocol: swank,
      enable: true,
      port: 4005,
      portEnvVar: "SWANK_PORT",
      interface: "127.0.0.1",
      mode: "Background",
      registration: "XDG",
      lifecycle: "LongRunning",
      shortLivedFlags: [],
      extra: {},
    });
  });

  it("the foreground mode infers ServiceSpec registration; the protocol may be given by name", () => {
    const fg = replServer.define({ protocol: "swank", mode: { _con: "Foreground" } as never });
    expect([fg.registration, fg.protocol]).toEqual(["ServiceSpec", swank]);
  });

  it("honours explicit overrides", () => {
    const r = replServer.define({
      protocol: dap,
      mode: replServer.Mode.Background,
      port: 9999,
      portEnvVar: "ALPHA_DAP_PORT",
      interface: "0.0.0.0",
      lifecycle: replServer.Lifecycle.OneShot,
      registration: replServer.Registration.None,
      shortLivedFlags: ["--once", "--query"],
    });
    expect([r.port, r.portEnvVar, r.interface, r.mode, r.registration, r.lifecycle, r.shortLivedFlags.length]).toEqual([9999, "ALPHA_DAP_PORT", "0.0.0.0", "Background", "None", "OneShot", 2]);
  });

  it("an unknown REPL protocol is an error naming it and the known ones", () => {
    expect(() => replServer.define({ protocol: "slime", mode: "Background" })).toThrow(
      "replServer does not match its schema (1 problem):\n  - protocol: unknown REPL protocol 'slime'; known: swank, nrepl, dap (or give a whole Protocol record)",
    );
  });

  it.each([0, 65536, 3.5])("a port %s outside 1-65535 is an error at port", (port) => {
    expect(() => replServer.define({ protocol: "nrepl", mode: "Background", port })).toThrow(/replServer does not match its schema \(1 problem\):\n {2}- port: /);
  });

  it("a protocol without a default port needs a port (and a variable)", () => {
    const portless = mb.protocol({ name: "portless", transport: "Unix", serialization: "Sexp" });
    expect(() => replServer.define({ protocol: portless, mode: "Background" })).toThrow(
      "replServer does not match its schema (2 problems):\n  - port: port required (protocol 'portless' has no defaultPort)\n  - portEnvVar: portEnvVar required (protocol 'portless' has no portEnvVar)",
    );
    expect(replServer.define({ protocol: portless, mode: "Background", port: 7000, portEnvVar: "P" }).port).toBe(7000);
  });

  it("a malformed mode and unknown keys are errors", () => {
    expect(() => replServer.define({ protocol: swank, mode: { _con: "BogusMode" } as never })).toThrow("- mode: Invalid option");
    expect(() => replServer.define({ protocol: swank, mode: "Background", prot: 1 } as never)).toThrow("- prot: unknown key `prot` (did you mean `port`?)");
  });
});

describe("the repl ornament", () => {
  it("withReplServer lays a checked replServer over a spec; forgetting it leaves the program", () => {
    const spec = mb.withReplServer(base, { protocol: "dap", mode: "Foreground" });
    expect(spec.replServer.port).toBe(5678);
    expect(mb.fromOrnamentedSpec(mb.ReplServerBuilder, spec)).toEqual(mb.fromSpec(base));
    expect(mb.fromSpec(spec)).toEqual(mb.fromSpec(base));
  });

  it("compile(forget(spec)) = compile(spec) and dry-run agrees with the plan, for generated REPL servers", () => {
    const repl = fc.record(
      {
        protocol: fc.constantFrom("swank", "nrepl", "dap"),
        mode: fc.constantFrom("Foreground", "Background"),
        port: fc.integer({ min: 1, max: 65535 }),
        lifecycle: fc.constantFrom("LongRunning", "OneShot"),
        registration: fc.constantFrom("XDG", "Global", "ServiceSpec", "None"),
        shortLivedFlags: fc.array(fc.string(), { maxLength: 2 }),
      },
      { requiredKeys: ["protocol", "mode"] },
    );
    fc.assert(
      fc.property(repl, (r) => {
        const spec = mb.withReplServer({ ...base, operations: [mb.materializeDerivation({ name: "r" })] }, r as mb.ReplServerInput);
        const program = mb.fromOrnamentedSpec(mb.ReplServerBuilder, JSON.parse(JSON.stringify(spec)));
        expect(mb.fromSpec(mb.ReplServerBuilder.forget(spec))).toEqual(program);
        expect(mb.compile(program)).toEqual(mb.compile(mb.fromSpec(spec)));
        dryRunAgreesWithPlan(program);
      }),
      { numRuns: 100 },
    );
  });

  it("a JSON spec with an unknown REPL protocol or a port out of range fails with its spec path", () => {
    expect(() => mb.fromOrnamentedSpec(mb.ReplServerBuilder, { ...base, replServer: { protocol: "slime", mode: "Background" } })).toThrow("- replServer.protocol: unknown REPL protocol 'slime'");
    expect(() => mb.fromOrnamentedSpec(mb.ReplServerBuilder, { ...base, replServer: { protocol: "swank", mode: "Background", port: 0 } })).toThrow(
      "- replServer.port: a port is at least 1",
    );
  });
});
