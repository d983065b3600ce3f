// The original's coverage grid: one minimal well-formed program per operation constructor (src/program/coverage.nix of metaBuilder).
import * as mb from "../../src/index.js";
import type { OpCon, Operation } from "../../src/index.js";

export const lifecycle = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" })] });
export const lifecycleSet = mb.capabilitySet({ categories: [lifecycle] });
export const grpc = mb.protocol({ name: "grpc", transport: "TCP", serialization: "Protobuf", capabilities: lifecycleSet });
export const api = mb.service({ name: "api", package: mb.hostPackage("api-server"), capabilities: lifecycleSet, protocols: [grpc] });
export const protoc = mb.tool({ name: "protoc", package: mb.hostPackage("protobuf-compiler") });
export const schemaSource = mb.localSource({ name: "schema", path: "/tmp/schema.proto" });

/** Every constructor maps to its program; adding a constructor fails this object's type until a program is added. */
export const grid = {
  readSource: [mb.readSource({ name: "schema", source: schemaSource })],
  resolveDependency: [mb.resolveDependency({ dependency: mb.dependency({ name: "protobuf", package: mb.hostPackage("libprotobuf-dev") }) })],
  declareTool: [mb.declareTool({ tool: protoc })],
  runTool: [mb.declareTool({ tool: protoc }), mb.runTool({ name: "generate", tool: protoc, args: ["--version"] })],
  writeFile: [mb.writeFile({ output: mb.output({ name: "manifest", path: "manifest.txt" }), text: "hello" })],
  copyPath: [mb.copyPath({ source: schemaSource, output: mb.output({ name: "copy", path: "copied" }) })],
  transformOutput: [mb.transformOutput({ output: mb.output({ name: "cpp", path: "$out/cpp", format: "tree" }) })],
  validateValue: [mb.validateValue({ validation: mb.validation({ name: "check", value: true }) })],
  emitDescriptor: [mb.emitDescriptor({ descriptor: mb.descriptor({ name: "idl" }) })],
  materializeDerivation: [mb.materializeDerivation({ name: "demo" })],
  declareEvidence: [mb.declareEvidence({ evidence: mb.evidence({ name: "self-test", payload: { command: "./check" } }) })],
  declareCapability: [mb.declareCapability({ category: lifecycle })],
  declareProtocol: [mb.declareProtocol({ protocol: grpc })],
  declareService: [mb.declareService({ service: api })],
  materializeUnit: [mb.declareService({ service: api }), mb.materializeUnit({ name: "api" })],
} satisfies { readonly [K in OpCon]: readonly Operation[] };

/** Every constructor, in the reference's order (11 build-time, then 4 runtime). */
export const constructors: readonly OpCon[] = [...mb.builderOperationNames, ...mb.runtimeOperationNames];

/** The grid program of one constructor. */
export function gridProgram(con: OpCon): mb.Program {
  return mb.sequence(grid[con]);
}
