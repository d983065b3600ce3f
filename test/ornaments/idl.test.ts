// The idl ornament against the original's fromProtobuf: stacked over code-gen (forget steps one level at a time), the
// lowering (operation list and order, protoc arguments), native dependencies of a language, and unknown languages
// rejected with their path.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const tags = (spec: { operations: readonly mb.Operation[] }) => spec.operations.map((o) => `${o._con}${"name" in o ? `:${o.name}` : ""}`);

describe("fromProtobuf (the original's from-protobuf-shape)", () => {
  const spec = mb.fromProtobuf({ name: "demo", protos: ["/tmp/a.proto", "/tmp/b.proto"], languages: ["cpp", "java"], createOutputDirs: false });

  it("keeps idlFormat, generator and languages; two inputs, two outputs, four protoc runs", () => {
    expect(spec.idlFormat).toBe("protobuf");
    expect(spec.generator).toBe("protoc");
    expect(spec.languages).toEqual(["cpp", "java"]);
    expect(spec.inputs).toHaveLength(2);
    expect(spec.outputs).toHaveLength(2);
    expect(spec.operations.filter((o) => o._con === "runTool")).toHaveLength(4);
  });

  it("lowers in the original's order, with its protoc arguments (createOutputDirs: false)", () => {
    expect(tags(spec)).toEqual([
      "readSource:a.proto",
      "readSource:b.proto",
      "declareTool",
      "runTool:protoc-cpp-a.proto",
      "runTool:protoc-cpp-b.proto",
      "runTool:protoc-java-a.proto",
      "runTool:protoc-java-b.proto",
      "transformOutput",
      "transformOutput",
      "emitDescriptor",
      "materializeDerivation:demo-generated",
    ]);
    const run = spec.operations[3] as mb.OpOf<"runTool">;
    expect(run.args).toEqual(["--cpp_out=$out/cpp", "/tmp/a.proto"]);
    expect(mb.renderStep(mb.compile(mb.fromOrnamentedSpec(mb.IdlBuilder, spec)).steps[0]!)).toBe(`protoc '--cpp_out='"$out"/cpp "$pathMap_${mb.sha256("/tmp/a.proto")}"`);
    expect(spec.operations.at(-2)).toMatchObject({ descriptor: { name: "demo-idl", payload: { kind: "idl", format: "protobuf", languages: ["cpp", "java"], sources: ["a.proto", "b.proto"] } } });
  });

  it("includes and options come before and after the language flags", () => {
    const s = mb.fromProtobuf({ name: "d", protos: "/p/x.proto", includes: ["/inc"], options: { cpp: ["lite"] }, createOutputDirs: false });
    expect((s.operations.find((o) => o._con === "runTool") as mb.OpOf<"runTool">).args).toEqual(["-I/inc", "--cpp_out=$out/cpp", "--cpp_opt=lite", "/p/x.proto"]);
  });

  it("by default makes the output directories first (protoc does not), with coreutils' mkdir declared", () => {
    const s = mb.fromProtobuf({ name: "d", protos: ["/p/x.proto"], languages: ["cpp", "java"] });
    expect(tags(s).slice(0, 5)).toEqual(["readSource:x.proto", "declareTool", "declareTool", "runTool:make-output-dirs", "runTool:protoc-cpp-x.proto"]);
    expect((s.operations[3] as mb.OpOf<"runTool">).args).toEqual(["-p", "$out/cpp", "$out/java"]);
  });

  it("a proto inside a directory package is given to protoc as --proto_path <root> <file>", () => {
    const s = mb.fromProtobuf({ name: "d", protos: [{ root: mb.pathPackage("/src/proto", "proto"), file: "schema.proto" }], createOutputDirs: false });
    expect((s.operations.find((o) => o._con === "runTool") as mb.OpOf<"runTool">).args).toEqual(["--proto_path", mb.pathPackage("/src/proto", "proto"), "--cpp_out=$out/cpp", "schema.proto"]);
    expect(s.inputs).toEqual([mb.generatedSource({ name: "schema.proto", producer: "proto/schema.proto" })]);
  });

  it("a language with native packages resolves them (role native)", () => {
    const s = mb.fromProtobuf({
      name: "d",
      protos: ["/tmp/a.proto"],
      languages: ["demo"],
      languageConfigs: { ...mb.defaultProtobufLanguages, demo: { args: (l) => [`--${l}_out=$out/${l}`], native: [mb.hostPackage("stub-native")] } },
    });
    const resolves = s.operations.filter((o) => o._con === "resolveDependency");
    expect(resolves).toHaveLength(1);
    expect(resolves[0]).toMatchObject({ dependency: { name: "stub-native", role: "native" } });
  });

  it("rejects an unknown language, naming it, its path and the known ones", () => {
    expect(() => mb.fromProtobuf({ name: "demo", protos: ["/tmp/a.proto"], languages: ["cpp", "klingon"] })).toThrow(
      "fromProtobuf: languages[1]: unknown language 'klingon' (known: go, python, cpp, java)",
    );
  });

  it("rejects a relative proto path", () => {
    expect(() => mb.fromProtobuf({ name: "demo", protos: ["a.proto"] })).toThrow("protos");
  });
});

describe("IdlBuilder is stacked over CodeGenBuilder", () => {
  const spec = mb.fromProtobuf({ name: "demo", protos: ["/tmp/a.proto"], languages: ["cpp", "java"] });

  it("forget goes to a code-gen spec, then to the base spec; forgetAll goes straight down", () => {
    expect(mb.IdlBuilder.base).toBe(mb.CodeGenBuilder);
    const codegen = mb.IdlBuilder.forget(spec);
    expect(Object.keys(codegen).sort()).toEqual(Object.keys(mb.CodeGenBuilder.schema.shape).sort());
    expect(codegen).not.toHaveProperty("idlFormat");
    expect(codegen.generator).toBe("protoc");
    const base = mb.CodeGenBuilder.forget(codegen);
    expect(base).not.toHaveProperty("generator");
    expect(base).toEqual(mb.IdlBuilder.forgetAll(spec));
    expect(mb.fromOrnamentedSpec(mb.CodeGenBuilder, codegen)).toEqual(mb.fromOrnamentedSpec(mb.IdlBuilder, spec));
    expect(mb.fromSpec(base)).toEqual(mb.fromOrnamentedSpec(mb.IdlBuilder, spec));
  });

  it("an idl spec is checked by code-gen's rules too", () => {
    expect(() => mb.fromOrnamentedSpec(mb.IdlBuilder, { ...spec, generator: "protocc" })).toThrow("generator 'protocc' is not a declared tool");
  });

  it("describes its stack", () => {
    expect(mb.IdlBuilder.describe()).toMatchObject({ name: "MetaBuilderIdl", base: "MetaBuilderCodeGen", inserted: ["generator", "languages", "idlFormat", "idlSource"] });
  });
});
