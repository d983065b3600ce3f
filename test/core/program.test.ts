// Programs (reference section 4): fromSpec validates then lowers evidence to trailing declareEvidence operations;
// fromOrnamentedSpec validates against the ornament first; sequence makes a program from operations; fold is exhaustive.
import { describe, expect, it, vi } from "vitest";
import * as mb from "../../src/index.js";
import { formatPath, MbError } from "../../src/index.js";

const echo = mb.tool({ name: "echo", package: "coreutils" });
const baseSpec = {
  name: "demo",
  parameters: [],
  inputs: [],
  dependencies: [],
  tools: [echo],
  operations: [mb.declareTool({ tool: echo }), mb.runTool({ name: "say", tool: echo, args: ["hi"] })],
  outputs: [],
  evidence: [],
};

function thrown(f: () => unknown): MbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MbError);
    return e as MbError;
  }
  throw new Error("expected an MbError, nothing was thrown");
}

describe("fromSpec", () => {
  it("compiles a spec to its operations, in order", () => {
    const program = mb.fromSpec(baseSpec);
    expect(program).toEqual({ _con: "MetaBuilderProgram", operations: baseSpec.operations });
    expect(mb.isProgram(program)).toBe(true);
    expect(mb.isProgram(baseSpec)).toBe(false);
  });

  it("lowers every evidence entry to a trailing declareEvidence operation, in order", () => {
    const a = mb.evidence({ name: "a", payload: { command: "true" } });
    const b = mb.evidence({ name: "b" });
    const middle = mb.declareEvidence({ evidence: mb.evidence({ name: "inline" }) });
    const program = mb.fromSpec({ ...baseSpec, operations: [...baseSpec.operations, middle], evidence: [a, b] });
    expect(program.operations.map((op) => op._con)).toEqual(["declareTool", "runTool", "declareEvidence", "declareEvidence", "declareEvidence"]);
    expect(program.operations.slice(2)).toEqual([middle, { _con: "declareEvidence", evidence: a }, { _con: "declareEvidence", evidence: b }]);
  });

  it("fills defaults of a spec written as plain data (JSON)", () => {
    const raw = JSON.parse(
      JSON.stringify({
        name: "raw",
        parameters: [{ name: "p", value: 1 }],
        inputs: [],
        dependencies: [{ name: "zlib", package: "zlib1g" }],
        tools: [],
        operations: [{ _con: "runTool", name: "r", tool: { name: "echo", package: "coreutils" } }, { _con: "materializeDerivation", name: "m" }],
        outputs: [],
        evidence: [{ name: "e" }],
      }),
    );
    expect(mb.fromSpec(raw).operations).toEqual([
      { _con: "runTool", name: "r", tool: { _con: "MetaBuilderTool", name: "echo", package: "coreutils" }, args: [], env: {} },
      { _con: "materializeDerivation", name: "m", builder: "runCommand" },
      { _con: "declareEvidence", evidence: { _con: "MetaBuilderEvidence", name: "e", payload: {} } },
    ]);
  });

  it("rejects fields the base spec does not know, naming each with a near name", () => {
    const e = thrown(() => mb.fromSpec({ ...baseSpec, oprations: [], extra: { deep: true } }));
    expect(e.code).toBe("spec.invalid");
    expect(e.issues.map((i) => formatPath(i.path))).toEqual(["(root)"]);
    expect(e.message).toContain("unknown keys `oprations` (did you mean `operations`?), `extra`");
  });

  it("rejects a malformed spec before any view runs, with the path of every problem", () => {
    const e = thrown(() =>
      mb.fromSpec({
        name: 7,
        parameters: [],
        inputs: [{ _con: "localSource", name: "s" }],
        dependencies: [],
        tools: "bash",
        operations: [{ _con: "declareTool", tool: { name: "bash", package: "bash" } }, { _con: "runTool", name: "r" }, { _con: "bogus" }],
        outputs: [{ name: "o", path: 1 }],
      }),
    );
    expect(e.code).toBe("spec.invalid");
    expect(e.exitCode).toBe(mb.ExitCode.usage);
    expect(e.issues.map((i) => formatPath(i.path))).toEqual([
      "name",
      "inputs[0].path",
      "tools",
      "operations[1].tool",
      "operations[2]._con",
      "outputs[0].path",
      "evidence",
    ]);
    expect(e.message.split("\n")).toEqual([
      "builder spec does not match its schema (7 problems):",
      "  - name: Invalid input: expected string, received number",
      "  - inputs[0].path: Invalid input: expected string, received undefined",
      "  - tools: Invalid input: expected array, received string",
      "  - operations[1].tool: Invalid input: expected object, received undefined",
      expect.stringMatching(/^ {2}- operations\[2\]\._con: Invalid discriminator value\. Expected 'readSource' \| .* \| 'materializeUnit'$/),
      "  - outputs[0].path: Invalid input: expected string, received number",
      "  - evidence: Invalid input: expected array, received undefined",
    ]);
  });

  it("rejects values that are not objects", () => {
    for (const bad of [null, 3, "spec", []]) {
      expect(thrown(() => mb.fromSpec(bad)).code).toBe("spec.invalid");
    }
  });
});

describe("sequence", () => {
  it("makes a program straight from operations", () => {
    const ops = [mb.materializeDerivation({ name: "x" }), mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) })];
    expect(mb.sequence(ops)).toEqual({ _con: "MetaBuilderProgram", operations: ops });
    expect(mb.sequence([])).toEqual({ _con: "MetaBuilderProgram", operations: [] });
  });

  it("adds no evidence and keeps declareEvidence where it is", () => {
    const ops = [mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) }), mb.materializeDerivation({ name: "x" })];
    expect(mb.sequence(ops).operations.map((o) => o._con)).toEqual(["declareEvidence", "materializeDerivation"]);
  });

  it("checks each operation against the closed union", () => {
    const e = thrown(() => mb.sequence([mb.materializeDerivation({ name: "x" }), { _con: "launchMissiles" }, { _con: "materializeUnit" }]));
    expect(e.code).toBe("program.invalid");
    expect(e.issues.map((i) => formatPath(i.path))).toEqual(["[1]._con", "[2].name"]);
  });
});

describe("fromOrnamentedSpec", () => {
  const image = mb.ociImage({ name: "img", layers: [{ name: "root", source: "/nix/store/00000000000000000000000000000000-root" }] });

  it("validates against the ornament, then compiles the forgotten spec", () => {
    expect(mb.fromOrnamentedSpec(mb.OciImageBuilder, image)).toEqual(mb.fromSpec(image));
  });

  it("rejects a spec missing the ornament's fields, naming each", () => {
    const { layers: _l, architecture: _a, ...withoutImageFields } = image;
    const e = thrown(() => mb.fromOrnamentedSpec(mb.OciImageBuilder, withoutImageFields));
    expect(e.message.split("\n")[0]).toBe("MetaBuilderOciImage spec does not match its schema (2 problems):");
    expect(e.issues.map((i) => formatPath(i.path))).toEqual(["layers", "architecture"]);
    // The base spec rejects the ornament's other fields: a copy of an ornamented spec is no base spec.
    expect(thrown(() => mb.fromSpec(withoutImageFields)).message).toContain("unknown keys `entrypoint`");
    expect(mb.fromSpec(mb.OciImageBuilder.forget(image)).operations).toHaveLength(18);
  });
});

describe("fold", () => {
  const counting = Object.fromEntries(
    [...mb.builderOperationNames, ...mb.runtimeOperationNames].map((con) => [con, (_op: unknown, n: number) => n + 1]),
  ) as unknown as mb.OpHandlers<number>;

  it("visits every operation left to right, passing the index", () => {
    const seen: [string, number][] = [];
    const handlers = Object.fromEntries(
      [...mb.builderOperationNames, ...mb.runtimeOperationNames].map((con) => [con, (op: mb.Operation, s: number, i: number) => (seen.push([op._con, i]), s + 1)]),
    ) as unknown as mb.OpHandlers<number>;
    const program = mb.sequence([mb.materializeDerivation({ name: "a" }), mb.materializeUnit({ name: "b" })]);
    expect(mb.fold(program, handlers, 0)).toBe(2);
    expect(seen).toEqual([
      ["materializeDerivation", 0],
      ["materializeUnit", 1],
    ]);
  });

  it("refuses an unknown constructor instead of skipping it", () => {
    const program = mb.unsafeProgram([mb.materializeDerivation({ name: "a" }), { _con: "launchMissiles" } as never]);
    const e = thrown(() => mb.fold(program, counting, 0, "count"));
    expect(e.code).toBe("program.unknown-operation");
    expect(e.message).toBe("count: unknown operation constructor 'launchMissiles' at operation 1");
  });

  it("does not mistake inherited object properties for handlers", () => {
    const program = mb.unsafeProgram([{ _con: "toString" } as never]);
    expect(thrown(() => mb.fold(program, counting, 0)).message).toBe("view: unknown operation constructor 'toString' at operation 0");
  });
});

describe("MbError", () => {
  it("is recognized by its brand, so one thrown by another copy of metabuilder is still an MbError", async () => {
    // A second copy of the module (a fresh evaluation of the same source, beside the one the tests import), as a
    // builder importing its own installed metabuilder would load.
    vi.resetModules();
    const copy = await import("../../src/core/errors.js");
    expect(copy.MbError).not.toBe(MbError);
    const e = new copy.MbError("x.y", "from the other copy");
    expect(e instanceof MbError).toBe(true);
    expect(new MbError("a.b", "here") instanceof copy.MbError).toBe(true);
    expect(new Error("plain") instanceof MbError).toBe(false);
    expect(Object.assign(new Error("look-alike"), { name: "MbError", code: "x" }) instanceof MbError).toBe(false);
  });
});
