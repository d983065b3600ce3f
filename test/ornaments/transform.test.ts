// The transform ornament against the original's tests (src/ornaments/transform.nix): its lowering (reads, declared
// tools, runs, outputs, descriptor, derivation), tool deduplication, the ornament law and dry-run/plan agreement for
// generated pipelines.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { dryRunAgreesWithPlan } from "../support/lowering-laws.js";

const pkg = (name: string) => `/nix/store/00000000000000000000000000000000-${name}`;

describe("transform", () => {
  it("builds the spec: 0 reads + 2 declares + 2 runs + 1 output + descriptor + derivation", () => {
    const spec = mb.transform({
      name: "demo",
      steps: [
        { name: "preprocess", tool: { name: "pp", package: pkg("pp") }, args: ["-i", "src"] },
        { name: "compile", tool: { name: "cc", package: pkg("cc") }, args: ["-O2"] },
      ],
      outputs: [mb.output({ name: "result", path: "$out/result" })],
    });
    expect([spec.operations.length, spec.steps.length, spec.tools.length]).toEqual([7, 2, 2]);
    const pp = mb.tool({ name: "pp", package: pkg("pp") });
    const cc = mb.tool({ name: "cc", package: pkg("cc") });
    expect(spec.operations).toEqual([
      mb.declareTool({ tool: pp }),
      mb.declareTool({ tool: cc }),
      mb.runTool({ name: "preprocess", tool: pp, args: ["-i", "src"] }),
      mb.runTool({ name: "compile", tool: cc, args: ["-O2"] }),
      mb.transformOutput({ output: mb.output({ name: "result", path: "$out/result" }) }),
      mb.emitDescriptor({ descriptor: mb.descriptor({ name: "demo-transform", payload: { kind: "transform", stepCount: 2 } }) }),
      mb.materializeDerivation({ name: "demo-transformed" }),
    ]);
    expect(spec.steps[0]).toEqual({ _con: "MetaBuilderTransformStep", name: "preprocess", tool: pp, args: ["-i", "src"], env: {} });
  });

  it("reads its inputs first and deduplicates a shared tool", () => {
    const tool = mb.tool({ name: "tool", package: pkg("tool") });
    const src = mb.localSource({ name: "in", path: "/tmp/in" });
    const spec = mb.transform({ name: "shared", inputs: [src], steps: [{ name: "a", tool, args: ["-a"] }, { name: "b", tool, args: ["-b"] }] });
    expect(spec.tools).toEqual([tool]);
    expect(spec.operations.map((o) => o._con)).toEqual(["readSource", "declareTool", "runTool", "runTool", "emitDescriptor", "materializeDerivation"]);
    expect(spec.operations[0]).toEqual(mb.readSource({ name: "in", source: src }));
  });

  it("without outputs there is no transformOutput", () => {
    const spec = mb.transform({ name: "no-outputs", steps: [{ name: "step", tool: { name: "t", package: pkg("t") } }] });
    expect(spec.operations.some((o) => o._con === "transformOutput")).toBe(false);
  });

  it("one tool name with two packages, and unknown keys, are errors with their path", () => {
    expect(() => mb.transform({ name: "x", steps: [{ name: "a", tool: { name: "t", package: pkg("t1") } }, { name: "b", tool: { name: "t", package: pkg("t2") } }] })).toThrow(
      "transform does not match its schema (1 problem):\n  - steps[1].tool.package: tool 't' is used with two different packages; give each its own name",
    );
    expect(() => mb.transform({ name: "x", steps: [{ name: "a", tool: { name: "t", package: "t" }, arg: [] } as never] })).toThrow("- steps[0].arg: unknown key `arg` (did you mean `args`?)");
  });

  it("the TransformStep JSON Schema is non-empty and the spec schema lists steps", () => {
    expect(Object.keys(mb.jsonSchemaOf(mb.TransformStep).properties as object)).toEqual(["_con", "name", "tool", "args", "env"]);
    expect((mb.TransformBuilder.jsonSchema().properties as object)).toHaveProperty("steps");
  });
});

describe("compile(forget(spec)) = compile(spec), and dry-run agrees with the plan", () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const args = fc.record({
    name: word,
    tools: fc.uniqueArray(word, { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.record({ name: word, tool: fc.nat(2), args: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,5}$/), fc.string({ maxLength: 5 }), { maxKeys: 2 }) }), { minLength: 1, maxLength: 5 }),
    outputs: fc.uniqueArray(word, { maxLength: 3 }),
  });

  it("for generated pipelines", () => {
    fc.assert(
      fc.property(args, (a) => {
        const spec = mb.transform({
          name: a.name,
          steps: a.steps.map((s) => ({ name: s.name, tool: { name: a.tools[s.tool % a.tools.length]!, package: pkg(a.tools[s.tool % a.tools.length]!) }, args: s.args, env: s.env })),
          outputs: a.outputs.map((name) => mb.output({ name, path: `$out/${name}` })),
        });
        const program = mb.fromOrnamentedSpec(mb.TransformBuilder, JSON.parse(JSON.stringify(spec)));
        expect(mb.fromSpec(mb.TransformBuilder.forget(spec))).toEqual(program);
        expect(mb.fromSpec(spec)).toEqual(program);
        expect(mb.compile(program).steps.map((s) => s.name)).toEqual(a.steps.map((s) => s.name));
        expect(new Set(spec.tools.map((t) => t.name)).size).toBe(spec.tools.length);
        dryRunAgreesWithPlan(program);
        expect(mb.validate(program).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
