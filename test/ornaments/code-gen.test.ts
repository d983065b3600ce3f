// The code-gen ornament against the original's codeGen: its fields, the lowering (operation list and order), the plan
// it materializes, and its bad input (a generator that is not a declared tool, an invocation writing into an output
// that no language declares), each an error with its spec path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const demoTool = { name: "demo-gen", package: mb.hostPackage("demo-gen") };
const demo = (over: Partial<mb.CodeGenArgs> = {}) =>
  mb.codeGen({ name: "demo", generator: "demo-gen", languages: ["a", "b"], tool: demoTool, invocations: [{ args: ["--ok"] }], ...over });

/** The error a call throws. */
function thrown(f: () => unknown): mb.MbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(mb.MbError);
    return e as mb.MbError;
  }
  throw new Error("expected an error");
}

describe("codeGen (the original's code-gen-builds-spec)", () => {
  it("keeps generator and languages, and lowers to 6 operations and 2 outputs", () => {
    const spec = demo();
    expect(spec.generator).toBe("demo-gen");
    expect(spec.languages).toEqual(["a", "b"]);
    expect(spec.operations).toHaveLength(6);
    expect(spec.outputs).toHaveLength(2);
  });

  it("lowers in the original's order: reads, resolves, declare, runs, transforms, descriptor, materialize", () => {
    const dep = mb.dependency({ name: "alpha-headers", role: "native", package: mb.hostPackage("alpha-headers") });
    const src = mb.localSource({ name: "a.idl", path: "/tmp/a.idl" });
    const spec = demo({ inputs: [src], dependencies: [dep], invocations: [{ args: ["--first"] }, { args: ["--second"], env: { K: "v" } }] });
    expect(spec.operations.map((o) => `${o._con}${"name" in o ? `:${o.name}` : ""}`)).toEqual([
      "readSource:a.idl",
      "resolveDependency",
      "declareTool",
      "runTool:demo-gen-0",
      "runTool:demo-gen-1",
      "transformOutput",
      "transformOutput",
      "emitDescriptor",
      "materializeDerivation:demo-generated",
    ]);
    expect(spec.outputs).toEqual([mb.output({ name: "a", path: "$out/a", format: "tree" }), mb.output({ name: "b", path: "$out/b", format: "tree" })]);
    const descriptor = spec.operations.find((o) => o._con === "emitDescriptor")!;
    expect(descriptor).toMatchObject({ descriptor: { name: "demo-codegen", payload: { kind: "codegen", generator: "demo-gen", languages: ["a", "b"] } } });
  });

  it("materializes: plan demo-generated, one run step per invocation, native deps in nativePaths", () => {
    const dep = mb.dependency({ name: "alpha-headers", role: "native", package: "/nix/store/00000000000000000000000000000000-alpha-headers" });
    const spec = demo({ languages: ["alpha", "beta"], dependencies: [dep], invocations: [{ args: ["--first"] }, { args: ["--second"] }] });
    const plan = mb.compile(mb.fromOrnamentedSpec(mb.CodeGenBuilder, spec));
    expect(plan.name).toBe("demo-generated");
    expect(plan.builder).toBe("runCommand");
    const runs = plan.steps.filter((s) => s._con === "runStep");
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ args: ["--first"], tool: { name: "demo-gen" } });
    expect(plan.outputs).toHaveLength(2);
    expect(plan.nativePaths).toEqual(["/nix/store/00000000000000000000000000000000-alpha-headers"]);
  });

  it("rejects a malformed spec (materialize-rejects-malformed-spec)", () => {
    expect(() => mb.fromOrnamentedSpec(mb.CodeGenBuilder, { _con: "MetaBuilderSpec", name: "missing-fields" })).toThrow(mb.MbError);
  });
});

describe("code-gen bad input, with the spec path", () => {
  it("a generator that is not the declared tool", () => {
    const e = thrown(() => demo({ generator: "other-gen" }));
    expect(e.exitCode).toBe(mb.ExitCode.usage);
    expect(e.message).toContain("generator: generator 'other-gen' is not the declared tool 'demo-gen'");
  });

  it("a spec whose generator is not among its tools (the ornament's schema)", () => {
    const spec = { ...demo(), tools: [] };
    expect(() => mb.fromOrnamentedSpec(mb.CodeGenBuilder, spec)).toThrow("generator: generator 'demo-gen' is not a declared tool (tools: none)");
  });

  it("an invocation writing into an output that is not a language", () => {
    const e = thrown(() => demo({ invocations: [{ args: ["--ok"] }, { args: ["--a_out=$out/a", "--c_out=$out/c"] }] }));
    expect(e.message).toContain("invocations[1].args[1]: writes into $out/c, but 'c' is not an output language");
  });

  it("a spec whose generator run writes into a directory no transformOutput declares (the ornament's schema)", () => {
    const spec = demo();
    const ops = spec.operations.filter((o) => !(o._con === "transformOutput" && o.output.name === "b"));
    const run = ops.findIndex((o) => o._con === "runTool");
    ops[run] = mb.runTool({ name: "demo-gen-0", tool: spec.tools[0]!, args: ["--b_out=$out/b"] });
    expect(() => mb.fromOrnamentedSpec(mb.CodeGenBuilder, { ...spec, operations: ops })).toThrow(`operations[${run}].args[0]: runTool 'demo-gen-0' writes into $out/b, but 'b' is not an output language with a transformOutput`);
  });

  it("a language that is not one path segment", () => {
    expect(() => demo({ languages: ["../x"] })).toThrow("languages[0]");
  });
});

describe("codeGen and fromProtobuf over generated arguments: compile(forget(spec)) = compile(spec)", () => {
  const lang = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);

  it("codeGen: the original's operation count, and the laws one level at a time", () => {
    fc.assert(
      fc.property(fc.uniqueArray(lang, { maxLength: 4 }), fc.array(fc.array(fc.string({ maxLength: 8 }).filter((a) => !a.includes("$")), { maxLength: 3 }), { maxLength: 3 }), (languages, argLists) => {
        const invocations = argLists.map((args, i) => ({ args: [...args, ...(languages[i] === undefined ? [] : [`--out=$out/${languages[i]}`])] }));
        const spec = demo({ languages, invocations });
        expect(spec.operations).toHaveLength(1 + invocations.length + languages.length + 2);
        const program = mb.fromOrnamentedSpec(mb.CodeGenBuilder, spec);
        expect(mb.fromSpec(mb.CodeGenBuilder.forget(spec))).toEqual(program);
        expect(mb.fromSpec(spec)).toEqual(program);
      }),
      { numRuns: 100 },
    );
  });

  it("fromProtobuf: languages x protos protoc runs, forget steps to code-gen then the base spec", () => {
    const proto = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).map((n) => `/p/${n}.proto`);
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom("cpp", "java", "go", "python"), { minLength: 1 }), fc.uniqueArray(proto, { minLength: 1, maxLength: 3 }), (languages, protos) => {
        const spec = mb.fromProtobuf({ name: "gen", protos, languages });
        expect(spec.operations.filter((o) => o._con === "runTool" && o.tool.name === "protoc")).toHaveLength(languages.length * protos.length);
        const program = mb.fromOrnamentedSpec(mb.IdlBuilder, spec);
        const codegen = mb.IdlBuilder.forget(spec);
        expect(mb.fromOrnamentedSpec(mb.CodeGenBuilder, codegen)).toEqual(program);
        expect(mb.fromSpec(mb.CodeGenBuilder.forget(codegen))).toEqual(program);
        expect(mb.CodeGenBuilder.forget(codegen)).toEqual(mb.IdlBuilder.forgetAll(spec));
      }),
      { numRuns: 100 },
    );
  });
});
