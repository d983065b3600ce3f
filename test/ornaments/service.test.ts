// The service vocabulary against the original's tests (src/ornaments/service.nix): `define` checks the service and
// lowers it, in the original's order, to exactly its declare and materialize operations; the lowering obeys the
// ornament law and dry-run agrees with the plan.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { dryRunAgreesWithPlan } from "../support/lowering-laws.js";

const { service } = mb.vocabulary;
const lifecycle = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" }), mb.capability({ name: "stop" })] });
const query = mb.capabilityCategory({ name: "query", capabilities: [mb.capability({ name: "get" }), mb.capability({ name: "list" })] });
const serviceCaps = mb.capabilitySet({ categories: [lifecycle, query] });
const rpcProto = mb.protocol({ name: "rpc", transport: "TCP", serialization: "JSON", defaultPort: 9000, portEnvVar: "SERVICE_PORT", capabilities: serviceCaps });
const args: mb.ServiceArgs = {
  name: "control",
  description: "Generic control-plane service",
  package: "/nix/store/00000000000000000000000000000000-control-binary",
  capabilities: serviceCaps,
  protocols: [rpcProto],
};

describe("define", () => {
  const def = service.define(args);

  it("lowers in the original's order to exactly those operations", () => {
    const svc = mb.service(args);
    expect(def.service).toEqual(svc);
    expect(def.operations).toEqual([
      mb.declareCapability({ category: lifecycle }),
      mb.declareCapability({ category: query }),
      mb.declareProtocol({ protocol: rpcProto }),
      mb.declareService({ service: svc }),
      mb.materializeUnit({ name: "control" }),
    ]);
    expect(service.operationsFor(svc)).toEqual(def.operations);
  });

  it("round-trips the typed service fields", () => {
    expect([def.service.name, def.service.description, def.service.protocols.length, def.service.capabilities.categories.length]).toEqual(["control", "Generic control-plane service", 1, 2]);
  });

  it("one declareProtocol per protocol, none for a service without protocols or categories", () => {
    const two = service.define({ ...args, protocols: [rpcProto, mb.vocabulary.protocol.builtins.grpc] });
    expect(two.operations.map((o) => o._con)).toEqual(["declareCapability", "declareCapability", "declareProtocol", "declareProtocol", "declareService", "materializeUnit"]);
    const bare = service.define({ name: "bare", package: "bare" });
    expect(bare.operations.map((o) => o._con)).toEqual(["declareService", "materializeUnit"]);
  });

  it("rejects a service whose only protocol lacks a capability it claims", () => {
    const weak = mb.protocol({ name: "weak", transport: "TCP", serialization: "JSON", capabilities: mb.capabilitySet({ categories: [mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" })] })] }) });
    expect(() => service.define({ ...args, name: "broken", protocols: [weak] })).toThrow(
      "MetaBuilderService does not match its schema (1 problem):\n  - protocols: service 'broken': no protocol offers every declared capability (protocol 'weak' lacks stop, get, list)",
    );
  });

  it("re-exports compatibility and the descriptor", () => {
    expect(service.compatibility(def.service)).toEqual({ valid: true, errors: [] });
    expect(service.compatibility({ capabilities: serviceCaps, protocols: [mb.vocabulary.protocol.builtins.dbus] })).toEqual({
      valid: false,
      errors: ["Protocol 'dbus' cannot satisfy capabilities: get, list"],
    });
    const d = service.descriptor(def.service) as { name: string; protocols: mb.Protocol[] };
    expect(d).not.toHaveProperty("package");
    expect([d.name, d.protocols[0]!.transport, d.protocols[0]!.serialization, d.protocols[0]!.defaultPort, d.protocols[0]!.portEnvVar]).toEqual(["control", "TCP", "JSON", 9000, "SERVICE_PORT"]);
  });
});

describe("the lowering in a spec", () => {
  const def = service.define(args);
  const spec: mb.BuilderSpec = { _con: "MetaBuilderSpec", name: "svc", parameters: [], inputs: [], dependencies: [], tools: [], operations: def.operations, outputs: [], evidence: [] };

  it("program and fromSpec agree; the plan declares the service and one runtime artifact", () => {
    const program = service.program(def);
    expect(mb.fromSpec(spec)).toEqual(program);
    expect(service.program(args)).toEqual(program);
    const plan = mb.compile(program);
    expect(plan.declaredCapabilities.map((c) => c.name)).toEqual(["lifecycle", "query"]);
    expect(plan.declaredProtocols.map((p) => p.name)).toEqual(["rpc"]);
    expect(plan.declaredServices.map((s) => s.name)).toEqual(["control"]);
    expect(plan.runtimeArtifacts).toHaveLength(1);
    expect(plan.runtimeArtifacts[0]!.storePath).toMatch(/-service-control\.json$/);
    expect((plan.runtimeArtifacts[0]!.descriptor as { protocols: mb.Protocol[] }).protocols[0]!.defaultPort).toBe(9000);
  });

  it("dry-run agrees with the plan, and the runtime steps are in the original's order", () => {
    const program = mb.fromSpec(spec);
    dryRunAgreesWithPlan(program);
    expect(mb.dryRun(program).steps.map((s) => s.kind)).toEqual(["declare-capability", "declare-capability", "declare-protocol", "declare-service", "materialize-unit"]);
    expect(mb.validate(program).ok).toBe(true);
  });

  it("materializeUnit of an undeclared service is a scope problem", () => {
    const program = mb.sequence([mb.materializeUnit({ name: "ghost" })]);
    expect(mb.validate(program).ok).toBe(false);
    expect(mb.scopeProblems(program).map((p) => p.message)).toEqual([
      "materializeUnit 'ghost' references undeclared service 'ghost'. Declared so far: []. Add a declareService operation for this service before materializeUnit.",
    ]);
  });
});

describe("generated services", () => {
  const categories = Object.values(mb.vocabulary.capabilities.builtins);
  const protocols = Object.values(mb.vocabulary.protocol.builtins);

  it("lower to one op per category and protocol plus two; the JSON spec compiles the same; dry-run agrees with the plan", () => {
    fc.assert(
      fc.property(fc.subarray(categories), fc.subarray(protocols), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), (cats, protos, name) => {
        const capabilities = mb.capabilitySet({ categories: cats });
        if (!mb.compatibility({ capabilities, protocols: protos }).valid) {
          expect(() => service.define({ name, package: "pkg", capabilities, protocols: protos })).toThrow("no protocol offers every declared capability");
          return;
        }
        const def = service.define({ name, package: "pkg", capabilities, protocols: protos });
        expect(def.operations.map((o) => o._con)).toEqual([...cats.map(() => "declareCapability"), ...protos.map(() => "declareProtocol"), "declareService", "materializeUnit"]);
        const spec = { name: "svc", parameters: [], inputs: [], dependencies: [], tools: [], operations: def.operations, outputs: [], evidence: [] };
        const program = mb.fromSpec(JSON.parse(JSON.stringify(spec)));
        expect(program).toEqual(service.program(def));
        dryRunAgreesWithPlan(program);
        expect(mb.compile(program).runtimeArtifacts.map((a) => a.name)).toEqual([name]);
      }),
      { numRuns: 100 },
    );
  });
});
