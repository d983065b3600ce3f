// The dry-run view (reference section 5): one step per operation, in order, with a kind and its fields.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { api, grpc, lifecycle } from "../support/grid.js";

const t = mb.tool({ name: "protoc", package: "protobuf-compiler" });
const src = mb.localSource({ name: "schema", path: "/src/schema.proto" });

describe("dryRun", () => {
  it("gives one step per operation, in order, with the reference's kinds and fields", () => {
    const program = mb.sequence([
      mb.readSource({ name: "read-schema", source: src }),
      mb.resolveDependency({ dependency: mb.dependency({ name: "zlib", role: "native", package: "zlib1g" }) }),
      mb.declareTool({ tool: t }),
      mb.runTool({ name: "gen", tool: t, args: ["--cpp_out=$out/cpp", 3, "/src/schema.proto"], env: { LANG: "C", N: 2 } }),
      mb.writeFile({ output: mb.output({ name: "readme", path: "README" }), text: "x" }),
      mb.copyPath({ source: src, output: mb.output({ name: "copy", path: "share/schema.proto" }) }),
      mb.transformOutput({ output: mb.output({ name: "cpp", path: "$out/cpp", format: "tree" }) }),
      mb.validateValue({ validation: mb.validation({ name: "version", value: "1" }) }),
      mb.emitDescriptor({ descriptor: mb.descriptor({ name: "idl", payload: { kind: "idl" } }) }),
      mb.materializeDerivation({ name: "gen-out", builder: "make" }),
      mb.declareEvidence({ evidence: mb.evidence({ name: "self-test" }) }),
      mb.declareCapability({ category: lifecycle }),
      mb.declareProtocol({ protocol: grpc }),
      mb.declareService({ service: api }),
      mb.materializeUnit({ name: "api" }),
    ]);
    expect(mb.dryRun(program)).toEqual({
      steps: [
        { kind: "source", name: "read-schema" },
        { kind: "dependency", name: "zlib", role: "native" },
        { kind: "tool", name: "protoc" },
        { kind: "run", name: "gen", tool: "protoc", args: ["--cpp_out=$out/cpp", 3, "/src/schema.proto"], env: { LANG: "C", N: 2 } },
        { kind: "write", path: "README" },
        { kind: "copy", to: "share/schema.proto" },
        { kind: "transform", name: "cpp", format: "tree" },
        { kind: "validate", name: "version" },
        { kind: "descriptor", name: "idl" },
        { kind: "materialize", name: "gen-out", builder: "make" },
        { kind: "evidence", name: "self-test" },
        { kind: "declare-capability", name: "lifecycle" },
        { kind: "declare-protocol", name: "grpc" },
        { kind: "declare-service", name: "api" },
        { kind: "materialize-unit", name: "api" },
      ],
    });
  });

  it("does not check tools or services (that is validate's and materialize's job)", () => {
    const steps = mb.dryRun(mb.sequence([mb.runTool({ name: "r", tool: t }), mb.materializeUnit({ name: "ghost" })])).steps;
    expect(steps).toEqual([
      { kind: "run", name: "r", tool: "protoc", args: [], env: {} },
      { kind: "materialize-unit", name: "ghost" },
    ]);
  });

  it("the empty program has no steps", () => {
    expect(mb.dryRun(mb.sequence([]))).toEqual({ steps: [] });
  });

  it("isRuntimeStep tells the four runtime kinds from the builder kinds", () => {
    const kinds = mb.dryRun(
      mb.sequence([
        mb.declareTool({ tool: t }),
        mb.declareCapability({ category: lifecycle }),
        mb.declareProtocol({ protocol: grpc }),
        mb.declareService({ service: api }),
        mb.materializeUnit({ name: "api" }),
        mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) }),
      ]),
    ).steps.map((s) => [s.kind, mb.isRuntimeStep(s)]);
    expect(kinds).toEqual([
      ["tool", false],
      ["declare-capability", true],
      ["declare-protocol", true],
      ["declare-service", true],
      ["materialize-unit", true],
      ["evidence", false],
    ]);
  });
});
