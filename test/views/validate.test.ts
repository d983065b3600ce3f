// The validate view (reference section 5): diagnostics {severity, code, path, message}; `ok` when there are none.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { api, grpc, lifecycle } from "../support/grid.js";

const pkg = mb.hostPackage("pkg");
const named = (name: string) => mb.tool({ name, package: pkg });
const out = (path: string, name = "o") => mb.output({ name, path });

/** The original's diagnostic for an empty required name. */
const required = (effect: string, field: string, operation: number) => ({
  severity: "error",
  code: "builder.required-non-empty",
  path: [effect, field],
  message: `${effect}.${field} must be a non-empty string`,
  operation,
});

describe("builder.required-non-empty, per effect", () => {
  it.each([
    ["read-source", "name", [mb.readSource({ name: "", source: mb.localSource({ name: "s", path: "/tmp/s" }) })]],
    ["read-source.source", "name", [mb.readSource({ name: "r", source: mb.generatedSource({ name: "", producer: "p" }) })]],
    ["resolve-dependency.dependency", "name", [mb.resolveDependency({ dependency: mb.dependency({ name: "", package: pkg }) })]],
    ["declare-tool.tool", "name", [mb.declareTool({ tool: named("") })]],
    ["run-tool", "name", [mb.declareTool({ tool: named("t") }), mb.runTool({ name: "", tool: named("t") })]],
    ["transform-output.output", "name", [mb.transformOutput({ output: out("$out/x", "") })]],
    ["validate-value.validation", "name", [mb.validateValue({ validation: mb.validation({ name: "", value: 1 }) })]],
    ["emit-descriptor.descriptor", "name", [mb.emitDescriptor({ descriptor: mb.descriptor({ name: "" }) })]],
    ["materialize-derivation", "name", [mb.materializeDerivation({ name: "" })]],
    ["declare-evidence.evidence", "name", [mb.declareEvidence({ evidence: mb.evidence({ name: "" }) })]],
    ["declare-capability.category", "name", [mb.declareCapability({ category: mb.capabilityCategory({ name: "" }) })]],
    ["declare-protocol.protocol", "name", [mb.declareProtocol({ protocol: mb.protocol({ name: "", transport: "Unix", serialization: "MsgPack" }) })]],
    ["declare-service.service", "name", [mb.declareService({ service: mb.service({ name: "", package: pkg }) })]],
  ] as const)("%s.%s", (effect, field, ops) => {
    const r = mb.validate(mb.sequence(ops));
    expect(r).toEqual({ ok: false, diagnostics: [required(effect, field, ops.length - 1)] });
  });

  it("run-tool.tool: an empty tool name (the declareTool of it is flagged too)", () => {
    const r = mb.validate(mb.sequence([mb.declareTool({ tool: named("") }), mb.runTool({ name: "r", tool: named("") })]));
    expect(r.diagnostics).toEqual([required("declare-tool.tool", "name", 0), required("run-tool.tool", "name", 1)]);
  });

  it("materialize-unit.name: an empty unit name (of a service declared with the empty name)", () => {
    const r = mb.validate(mb.sequence([mb.declareService({ service: mb.service({ name: "", package: pkg }) }), mb.materializeUnit({ name: "" })]));
    expect(r.diagnostics).toEqual([required("declare-service.service", "name", 0), required("materialize-unit", "name", 1)]);
  });

  it("collects every diagnostic of a program, in order", () => {
    const r = mb.validate(
      mb.sequence([mb.materializeDerivation({ name: "" }), mb.writeFile({ output: out("ok"), text: "" }), mb.declareEvidence({ evidence: mb.evidence({ name: "" }) })]),
    );
    expect(r.ok).toBe(false);
    expect(r.diagnostics).toEqual([required("materialize-derivation", "name", 0), required("declare-evidence.evidence", "name", 2)]);
  });
});

describe("checks beyond the original", () => {
  it("a runTool before its declareTool, with the reference's message", () => {
    const r = mb.validate(mb.sequence([mb.declareTool({ tool: named("sh") }), mb.runTool({ name: "hello", tool: named("echo") }), mb.declareTool({ tool: named("echo") })]));
    expect(r).toEqual({
      ok: false,
      diagnostics: [
        {
          severity: "error",
          code: "builder.undeclared-tool",
          path: ["run-tool", "tool"],
          message: "runTool 'hello' references undeclared tool 'echo'. Declared so far: [sh]. Add a declareTool operation for this tool before runTool.",
          operation: 1,
        },
      ],
    });
  });

  it("a materializeUnit of an undeclared service", () => {
    const r = mb.validate(mb.sequence([mb.materializeUnit({ name: "ghost" })]));
    expect(r.diagnostics).toEqual([
      {
        severity: "error",
        code: "runtime.undeclared-service",
        path: ["materialize-unit", "name"],
        message: "materializeUnit 'ghost' references undeclared service 'ghost'. Declared so far: []. Add a declareService operation for this service before materializeUnit.",
        operation: 0,
      },
    ]);
  });
});

describe("well-formed programs", () => {
  it("are ok: the empty program, runtime operations, the oci-image example", () => {
    expect(mb.validate(mb.sequence([]))).toEqual({ ok: true, diagnostics: [] });
    const runtime = mb.sequence([
      mb.declareCapability({ category: lifecycle }),
      mb.declareProtocol({ protocol: grpc }),
      mb.declareService({ service: api }),
      mb.materializeUnit({ name: "api" }),
    ]);
    expect(mb.validate(runtime)).toEqual({ ok: true, diagnostics: [] });
    const image = mb.ociImage({ name: "img", layers: [{ name: "root", source: mb.hostPackage("busybox-static") }], evidence: [mb.evidence({ name: "e" })] });
    expect(mb.validate(mb.fromSpec(image))).toEqual({ ok: true, diagnostics: [] });
  });

  it("non-empty output names are not required by writeFile and copyPath (only paths are)", () => {
    const r = mb.validate(mb.sequence([mb.writeFile({ output: out("p", ""), text: "" }), mb.copyPath({ source: mb.generatedSource({ name: "g", producer: "" }), output: out("q", "") })]));
    expect(r).toEqual({ ok: true, diagnostics: [] });
  });
});
