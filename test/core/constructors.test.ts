// Smart constructors from the package root: each fills `_con` and the reference's defaults (section 2 and 3),
// and a malformed value throws an MbError at once, naming the field.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { formatPath, MbError } from "../../src/index.js";

const bash = mb.hostPackage("bash");
const echo = mb.tool({ name: "echo", package: bash });
const src = mb.localSource({ name: "schema", path: "/tmp/schema.proto" });
const out = mb.output({ name: "manifest", path: "manifest.txt" });
const emptySet = { _con: "MetaBuilderCapabilitySet", categories: [], custom: [] };

describe("record constructors fill _con and the reference's defaults", () => {
  it.each([
    ["parameter", () => mb.parameter({ name: "jobs", value: 4 }), { _con: "MetaBuilderParameter", name: "jobs", value: 4 }],
    ["localSource", () => mb.localSource({ name: "schema", path: "/tmp/schema.proto" }), { _con: "localSource", name: "schema", path: "/tmp/schema.proto" }],
    ["generatedSource", () => mb.generatedSource({ name: "gen", producer: "protoc" }), { _con: "generatedSource", name: "gen", producer: "protoc" }],
    ["dependency", () => mb.dependency({ name: "zlib", package: "zlib1g" }), { _con: "MetaBuilderDependency", name: "zlib", role: "runtime", package: "zlib1g" }],
    ["dependency with role", () => mb.dependency({ name: "zlib", role: "native", package: bash }), { _con: "MetaBuilderDependency", name: "zlib", role: "native", package: { _con: "hostPackage", name: "bash" } }],
    ["tool", () => mb.tool({ name: "bash", package: bash }), { _con: "MetaBuilderTool", name: "bash", package: { _con: "hostPackage", name: "bash" } }],
    ["output (its path normalised, relative to $out)", () => mb.output({ name: "cpp", path: "$out/cpp" }), { _con: "MetaBuilderOutput", name: "cpp", path: "cpp", format: "path" }],
    ["output with format", () => mb.output({ name: "cpp", path: "$out/cpp", format: "tree" }), { _con: "MetaBuilderOutput", name: "cpp", path: "cpp", format: "tree" }],
    ["evidence", () => mb.evidence({ name: "self-test" }), { _con: "MetaBuilderEvidence", name: "self-test", payload: {} }],
    ["validation", () => mb.validation({ name: "check", value: [1, 2] }), { _con: "MetaBuilderValidation", name: "check", value: [1, 2] }],
    ["descriptor", () => mb.descriptor({ name: "idl" }), { _con: "MetaBuilderDescriptor", name: "idl", payload: {} }],
  ] as const)("%s", (_label, make, expected) => {
    expect(make()).toEqual(expected);
  });
});

describe("runtime record constructors fill _con and the reference's defaults", () => {
  it.each([
    ["param", () => mb.param({ name: "id", type: "RTString" }), { _con: "MetaBuilderParam", name: "id", description: "", type: "RTString", required: true }],
    ["param given the original's enum value", () => mb.param({ name: "n", type: { _con: "RTInt" } as never, required: false }), { _con: "MetaBuilderParam", name: "n", description: "", type: "RTInt", required: false }],
    ["capability", () => mb.capability({ name: "start" }), { _con: "MetaBuilderCapability", name: "start", description: "", params: [], returns: "RTObject" }],
    ["capabilityCategory", () => mb.capabilityCategory({ name: "lifecycle" }), { _con: "MetaBuilderCapabilityCategory", name: "lifecycle", description: "", capabilities: [] }],
    ["capabilitySet", () => mb.capabilitySet({}), emptySet],
    [
      "protocol",
      () => mb.protocol({ name: "rpc", transport: "TCP", serialization: "JSON" }),
      { _con: "MetaBuilderProtocol", name: "rpc", description: "", transport: "TCP", serialization: "JSON", defaultPort: null, portEnvVar: null, capabilities: emptySet, options: {} },
    ],
    [
      "service",
      () => mb.service({ name: "api", package: bash }),
      { _con: "MetaBuilderService", name: "api", description: "", package: { _con: "hostPackage", name: "bash" }, capabilities: emptySet, protocols: [], config: [] },
    ],
  ] as const)("%s", (_label, make, expected) => {
    expect(make()).toEqual(expected);
  });
});

describe("package references", () => {
  it("hostPackage names a host executable or Debian package", () => {
    expect(mb.hostPackage("busybox-static")).toEqual({ _con: "hostPackage", name: "busybox-static" });
  });
  it("pathPackage holds a path and an optional name", () => {
    expect(mb.pathPackage("./rootfs")).toEqual({ _con: "pathPackage", path: "./rootfs" });
    expect(mb.pathPackage("./rootfs", "root")).toEqual({ _con: "pathPackage", path: "./rootfs", name: "root" });
  });
  it("builderOutput holds the other builder's spec, defaults filled", () => {
    const spec = { name: "dep", parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: [] };
    expect(mb.builderOutput(spec)).toEqual({ _con: "builderPackage", spec: { _con: "MetaBuilderSpec", ...spec } });
  });
  it("builderOutput of an ornamented spec keeps only the base fields (forget)", () => {
    const image = mb.ociImage({ name: "img", layers: [{ name: "root", source: "/nix/store/00000000000000000000000000000000-root" }] });
    const ref = mb.builderOutput(image);
    expect(Object.keys(ref.spec).sort()).toEqual(["_con", "dependencies", "evidence", "inputs", "name", "operations", "outputs", "parameters", "tools"]);
    expect(ref.spec.operations).toEqual(image.operations);
  });
});

describe("operation constructors fill _con and the reference's defaults", () => {
  const cases: [mb.OpCon, () => mb.Operation, mb.Operation][] = [
    ["readSource", () => mb.readSource({ name: "schema", source: src }), { _con: "readSource", name: "schema", source: src }],
    [
      "resolveDependency",
      () => mb.resolveDependency({ dependency: mb.dependency({ name: "zlib", package: "zlib1g" }) }),
      { _con: "resolveDependency", dependency: { _con: "MetaBuilderDependency", name: "zlib", role: "runtime", package: "zlib1g" } },
    ],
    ["declareTool", () => mb.declareTool({ tool: echo }), { _con: "declareTool", tool: echo }],
    ["runTool", () => mb.runTool({ name: "say", tool: echo }), { _con: "runTool", name: "say", tool: echo, args: [], env: {} }],
    ["writeFile", () => mb.writeFile({ output: out, text: "hi" }), { _con: "writeFile", output: out, text: "hi" }],
    ["copyPath", () => mb.copyPath({ source: src, output: out }), { _con: "copyPath", source: src, output: out }],
    ["transformOutput", () => mb.transformOutput({ output: out }), { _con: "transformOutput", output: out }],
    [
      "validateValue",
      () => mb.validateValue({ validation: mb.validation({ name: "v", value: 1 }) }),
      { _con: "validateValue", validation: { _con: "MetaBuilderValidation", name: "v", value: 1 } },
    ],
    [
      "emitDescriptor",
      () => mb.emitDescriptor({ descriptor: mb.descriptor({ name: "d" }) }),
      { _con: "emitDescriptor", descriptor: { _con: "MetaBuilderDescriptor", name: "d", payload: {} } },
    ],
    ["materializeDerivation", () => mb.materializeDerivation({ name: "demo" }), { _con: "materializeDerivation", name: "demo", builder: "runCommand" }],
    [
      "declareEvidence",
      () => mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) }),
      { _con: "declareEvidence", evidence: { _con: "MetaBuilderEvidence", name: "e", payload: {} } },
    ],
    [
      "declareCapability",
      () => mb.declareCapability({ category: mb.capabilityCategory({ name: "lifecycle" }) }),
      { _con: "declareCapability", category: { _con: "MetaBuilderCapabilityCategory", name: "lifecycle", description: "", capabilities: [] } },
    ],
    [
      "declareProtocol",
      () => mb.declareProtocol({ protocol: mb.protocol({ name: "rpc", transport: "Stdio", serialization: "Sexp" }) }),
      {
        _con: "declareProtocol",
        protocol: { _con: "MetaBuilderProtocol", name: "rpc", description: "", transport: "Stdio", serialization: "Sexp", defaultPort: null, portEnvVar: null, capabilities: emptySet as never, options: {} },
      },
    ],
    [
      "declareService",
      () => mb.declareService({ service: mb.service({ name: "api", package: "api" }) }),
      { _con: "declareService", service: { _con: "MetaBuilderService", name: "api", description: "", package: "api", capabilities: emptySet as never, protocols: [], config: [] } },
    ],
    ["materializeUnit", () => mb.materializeUnit({ name: "api" }), { _con: "materializeUnit", name: "api" }],
  ];

  it("covers the 15 constructors of the alphabet", () => {
    expect(cases.map(([con]) => con)).toEqual([...mb.builderOperationNames, ...mb.runtimeOperationNames]);
    expect(mb.builderOperationNames).toHaveLength(11);
    expect(mb.runtimeOperationNames).toHaveLength(4);
  });

  it.each(cases)("%s", (con, make, expected) => {
    const op = make();
    expect(op).toEqual(expected);
    expect(op._con).toBe(con);
    expect(mb.familyOf(con)).toBe(mb.runtimeOperationNames.includes(con as never) ? "runtime" : "builder");
  });

  it("a raw _con given by the caller is overwritten by the constructor's own", () => {
    expect(mb.materializeUnit({ name: "api", _con: "readSource" } as never)).toEqual({ _con: "materializeUnit", name: "api" });
  });
});

/** Calls a constructor with an ill-typed value and returns the MbError it throws at once. */
function thrownBy(make: () => unknown): MbError {
  let caught: unknown;
  try {
    make();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MbError);
  return caught as MbError;
}

const loose = <T>(f: (v: never) => T) => f as unknown as (v: unknown) => T;

describe("a malformed value throws a clear MbError at once, naming the field", () => {
  it.each([
    ["parameter", () => loose(mb.parameter)({ name: 1, value: 0 }), "name", "expected string"],
    ["localSource", () => loose(mb.localSource)({ name: "s", path: 7 }), "path", "expected string"],
    ["generatedSource", () => loose(mb.generatedSource)({ name: "g" }), "producer", "expected string"],
    ["dependency", () => loose(mb.dependency)({ name: "d" }), "package", "Invalid input"],
    ["tool", () => loose(mb.tool)({ name: "t", package: "" }), "package", "Too small"],
    ["output", () => loose(mb.output)({ name: "o", path: "p", format: "zip" }), "format", "expected one of"],
    ["evidence", () => loose(mb.evidence)({ name: "e", payload: "x" }), "payload", "expected object"],
    ["validation", () => loose(mb.validation)({ value: 1 }), "name", "expected string"],
    ["descriptor", () => loose(mb.descriptor)({ name: "d", payload: [] }), "payload", "expected record"],
    ["param", () => loose(mb.param)({ name: "p", type: "RTFloat" }), "type", "RTString"],
    ["capability", () => loose(mb.capability)({ name: "c", returns: "RTFloat" }), "returns", "RTObject"],
    ["capabilityCategory", () => loose(mb.capabilityCategory)({ name: "c", capabilities: "start" }), "capabilities", "expected array"],
    ["capabilitySet", () => loose(mb.capabilitySet)({ categories: 1 }), "categories", "expected array"],
    ["protocol", () => loose(mb.protocol)({ name: "p", transport: "UDP", serialization: "JSON" }), "transport", "TCP"],
    ["service", () => loose(mb.service)({ name: "s" }), "package", "Invalid input"],
    ["readSource", () => loose(mb.readSource)({ name: "r", source: { _con: "localSource", name: "x" } }), "source.path", "expected string"],
    ["resolveDependency", () => loose(mb.resolveDependency)({ dependency: { name: "d", package: 5 } }), "dependency.package", "Invalid input"],
    ["declareTool", () => loose(mb.declareTool)({ tool: { name: 5, package: "p" } }), "tool.name", "expected string"],
    ["runTool", () => loose(mb.runTool)({ name: "r", tool: echo, args: [true] }), "args[0]", "Invalid input"],
    ["writeFile", () => loose(mb.writeFile)({ output: out, text: 1 }), "text", "expected string"],
    ["copyPath", () => loose(mb.copyPath)({ source: src }), "output", "expected object"],
    ["transformOutput", () => loose(mb.transformOutput)({ output: { name: "o" } }), "output.path", "expected string"],
    ["validateValue", () => loose(mb.validateValue)({ validation: {} }), "validation.name", "expected string"],
    ["emitDescriptor", () => loose(mb.emitDescriptor)({ descriptor: { name: null } }), "descriptor.name", "expected string"],
    ["materializeDerivation", () => loose(mb.materializeDerivation)({ name: "m", builder: 1 }), "builder", "expected string"],
    ["declareEvidence", () => loose(mb.declareEvidence)({ evidence: { name: "e", payload: 1 } }), "evidence.payload", "expected object"],
    ["declareCapability", () => loose(mb.declareCapability)({ category: {} }), "category.name", "expected string"],
    ["declareProtocol", () => loose(mb.declareProtocol)({ protocol: { name: "p", transport: "TCP" } }), "protocol.serialization", "JSON"],
    ["declareService", () => loose(mb.declareService)({ service: { name: "s", package: "p", protocols: "x" } }), "service.protocols", "expected array"],
    ["materializeUnit", () => loose(mb.materializeUnit)({}), "name", "expected string"],
    ["hostPackage", () => mb.hostPackage(""), "name", "Too small"],
    ["pathPackage", () => mb.pathPackage(""), "path", "Too small"],
    ["builderOutput", () => mb.builderOutput({ name: "x" }), "spec.parameters", "expected array"],
  ] as const)("%s", (_label, make, field, detail) => {
    const e = thrownBy(make);
    expect(e.code).toBe("constructor.invalid");
    expect(e.exitCode).toBe(mb.ExitCode.usage);
    expect(e.issues.map((i) => formatPath(i.path))).toContain(field);
    expect(e.message).toContain(`  - ${field}: `);
    expect(e.message).toContain(detail);
  });

  it("lists every problem of one value", () => {
    const e = thrownBy(() => loose(mb.runTool)({ name: 1, tool: { name: 2 }, env: { A: true } }));
    expect(e.issues.map((i) => formatPath(i.path))).toEqual(["name", "tool.name", "tool.package", "env.A"]);
    expect(e.message.split("\n")[0]).toBe("runTool does not match its schema (4 problems):");
  });

  it("rejects environment names that are not shell variable names (they could not be rendered as K=v)", () => {
    const e = thrownBy(() => mb.runTool({ name: "r", tool: echo, env: { "A B": "x" } }));
    expect(e.issues).toEqual([
      { path: ["env", "A B"], message: "Invalid key in record: environment variable name must be a shell identifier ([A-Za-z_][A-Za-z0-9_]*)" },
    ]);
    expect(e.message).toContain(`  - env["A B"]: Invalid key in record: environment variable name must be a shell identifier`);
    expect(mb.runTool({ name: "r", tool: echo, env: { _A1: "x", package: 1 } }).env).toEqual({ _A1: "x", package: 1 });
  });
});

describe("a service is checked when constructed", () => {
  const cap = (name: string) => mb.capability({ name });
  const set = (...names: string[]) => mb.capabilitySet({ custom: names.map(cap) });
  const proto = (name: string, ...names: string[]) => mb.protocol({ name, transport: "TCP", serialization: "JSON", capabilities: set(...names) });

  it("is valid with no protocols", () => {
    expect(mb.service({ name: "api", package: "api", capabilities: set("start") }).protocols).toEqual([]);
  });
  it("is valid with no capabilities", () => {
    expect(mb.service({ name: "api", package: "api", protocols: [proto("grpc")] }).protocols).toHaveLength(1);
  });
  it("is valid when one protocol offers every declared capability", () => {
    const svc = mb.service({ name: "api", package: "api", capabilities: set("start", "stop"), protocols: [proto("dbus", "start"), proto("grpc", "start", "stop", "health")] });
    expect(svc.protocols.map((p) => p.name)).toEqual(["dbus", "grpc"]);
  });
  it("counts capabilities of categories and custom ones alike", () => {
    const category = mb.capabilityCategory({ name: "lifecycle", capabilities: [cap("start")] });
    const svc = mb.service({
      name: "api",
      package: "api",
      capabilities: mb.capabilitySet({ categories: [category], custom: [cap("stop")] }),
      protocols: [mb.protocol({ name: "rpc", transport: "TCP", serialization: "JSON", capabilities: mb.capabilitySet({ custom: [cap("start"), cap("stop")] }) })],
    });
    expect(svc.name).toBe("api");
  });
  it("fails naming the protocol and the missing capabilities", () => {
    const e = thrownBy(() => mb.service({ name: "api", package: "api", capabilities: set("start", "stop", "health"), protocols: [proto("grpc", "start")] }));
    expect(e.code).toBe("constructor.invalid");
    expect(e.issues).toEqual([
      { path: ["protocols"], message: "service 'api': no protocol offers every declared capability (protocol 'grpc' lacks stop, health)" },
    ]);
  });
  it("names every protocol when none suffices", () => {
    const e = thrownBy(() => mb.service({ name: "api", package: "api", capabilities: set("start", "stop"), protocols: [proto("grpc", "start"), proto("dbus", "stop")] }));
    expect(e.issues[0]!.message).toBe("service 'api': no protocol offers every declared capability (protocol 'grpc' lacks stop; protocol 'dbus' lacks start)");
  });
  it("is checked as well when a spec holding the service is parsed", () => {
    const spec = {
      name: "svc",
      parameters: [],
      inputs: [],
      dependencies: [],
      tools: [],
      outputs: [],
      evidence: [],
      operations: [{ _con: "declareService", service: { name: "api", package: "api", capabilities: { custom: [{ name: "stop" }] }, protocols: [{ name: "grpc", transport: "TCP", serialization: "JSON" }] } }],
    };
    const e = thrownBy(() => mb.fromSpec(spec));
    expect(e.issues).toEqual([{ path: ["operations", 0, "service", "protocols"], message: "service 'api': no protocol offers every declared capability (protocol 'grpc' lacks stop)" }]);
  });
});

describe("the package root", () => {
  it("exports every smart constructor under the original's names", () => {
    const names = [
      ...["parameter", "localSource", "generatedSource", "dependency", "tool", "output", "evidence", "validation", "descriptor"],
      ...mb.builderOperationNames,
      ...mb.runtimeOperationNames,
      ...["param", "capability", "capabilityCategory", "capabilitySet", "protocol", "service"],
      ...["hostPackage", "pathPackage", "builderOutput", "ociImage"],
      ...["fromSpec", "fromOrnamentedSpec", "sequence"],
    ];
    const root = mb as unknown as Record<string, unknown>;
    expect(names.filter((n) => typeof root[n] !== "function")).toEqual([]);
    expect(names).toHaveLength(9 + 15 + 6 + 4 + 3);
  });

  it("exports the views and backends under their issue names", () => {
    const root = mb as unknown as Record<string, unknown>;
    const views = ["validate", "deps", "dryRun", "compile", "planView", "describe", "introspect", "planExport", "renderShell", "renderDockerfile"];
    expect(views.filter((n) => typeof root[n] !== "function")).toEqual([]);
  });
});
