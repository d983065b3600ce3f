// Strict specs (issue 9, items 1 and 6): the one output path type, unknown keys with "did you mean", closed sets,
// unique names, OCI env and platform values, and store names the store can hold.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { formatPath, MbError } from "../../src/index.js";

/** The MbError `f` throws. */
function thrown(f: () => unknown): MbError {
  try {
    f();
  } catch (e) {
    if (e instanceof MbError) return e;
    throw e;
  }
  throw new Error("did not throw");
}
/** Every problem of the MbError `f` throws, as `path: message`. */
const problems = (f: () => unknown) => thrown(f).issues.map((i) => `${formatPath(i.path)}: ${i.message}`);

const spec = (over: Record<string, unknown>) => ({
  name: "s", parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: [], ...over,
});
const layer = { name: "root", source: "/nix/store/00000000000000000000000000000000-root" };

describe("OutputPath: one normalised type for every output path", () => {
  it.each([
    ["x", "x"],
    ["$out/x", "x"],
    ["${out}/x", "x"],
    ["./x", "x"],
    ["a/./b", "a/b"],
    ["$out/./a/b", "a/b"],
    ["$out", "$out"],
    ["${out}", "$out"],
    [".", "$out"],
    ["$outdir/x", "$outdir/x"],
  ])("%j is %j", (input, normal) => {
    expect(mb.OutputPath.parse(input)).toBe(normal);
    // Normalising twice changes nothing.
    expect(mb.OutputPath.parse(mb.OutputPath.parse(input))).toBe(normal);
  });

  it.each([
    ["", "is not empty"],
    ["../x", "holds '..'"],
    ["$out/../x", "holds '..'"],
    ["a/../../etc/passwd", "holds '..'"],
    ["..", "holds '..'"],
    ["/etc/passwd", "is absolute"],
    ["a//b", "empty segment"],
    ["a/", "empty segment"],
    ["a\0b", "NUL"],
  ])("%j is an error (%s)", (input, why) => {
    const r = mb.OutputPath.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain(why);
  });

  it("every consumer uses it: writeFile, copyPath, transformOutput and the spec's outputs name the spec path", () => {
    const escape = mb.output({ name: "o", path: "x" });
    const bad = { ...escape, path: "../../etc/cron.d/x" };
    expect(problems(() => mb.writeFile({ output: bad, text: "" }))).toEqual([`output.path: an output path never leaves $out: '../../etc/cron.d/x' holds '..'`]);
    expect(problems(() => mb.copyPath({ source: mb.generatedSource({ name: "g", producer: "p" }), output: { ...escape, path: "/etc/x" } }))[0]).toMatch(/^output\.path: .*absolute/);
    expect(problems(() => mb.fromSpec(spec({ operations: [{ _con: "transformOutput", output: bad }], outputs: [{ name: "p", path: "a//b" }] })))).toEqual([
      `operations[0].output.path: an output path never leaves $out: '../../etc/cron.d/x' holds '..'`,
      "outputs[0].path: an output path has no empty segment: 'a//b' holds '//' or ends in '/'",
    ]);
  });

  it("x and $out/x compile to the same step, rendered once", () => {
    const plan = (path: string) => mb.compile(mb.sequence([mb.writeFile({ output: mb.output({ name: "o", path }), text: "t" })]));
    expect(plan("$out/a/b")).toEqual(plan("a/b"));
    expect(plan("./a/b").steps[0]).toMatchObject({ name: "write:a/b", path: "a/b" });
    expect(mb.renderStep(plan("a/b").steps[0]!).split("\n")[1]).toMatch(/^cat > "\$out\/a\/b" <</);
    expect(mb.renderStep(plan("$out").steps[0]!).split("\n")[1]).toMatch(/^cat > "\$out" <</);
  });
});

describe("strict records: unknown keys are errors, with a near name", () => {
  it("in the spec, its operations and its records", () => {
    expect(problems(() => mb.fromSpec(spec({ oprations: [] })))[0]).toMatch(/^oprations: unknown key `oprations` \(did you mean `operations`\?\)/);
    const tool = mb.tool({ name: "t", package: "p" });
    const ops = [{ _con: "declareTool", tool }, { _con: "runTool", name: "r", tool, arg: ["x"] }];
    expect(problems(() => mb.fromSpec(spec({ tools: [tool], operations: ops })))[0]).toMatch(/^operations\[1\]\.arg: unknown key `arg` \(did you mean `args`\?\)/);
    expect(problems(() => mb.output({ name: "o", path: "x", fromat: "json" } as never))[0]).toMatch(/^fromat: unknown key `fromat` \(did you mean `format`\?\)/);
    expect(problems(() => mb.tool({ name: "t", package: { _con: "hostPackage", name: "p", nmae: "q" } } as never))[0]).toMatch(/^package\.nmae: unknown key .*did you mean `name`/);
  });

  it("in evidence payloads: `comand` is not silently an entry without a command", () => {
    expect(problems(() => mb.evidence({ name: "e", payload: { comand: "true" } as never }))[0]).toMatch(/^payload\.comand: unknown key `comand` \(did you mean `command`\?\)/);
    expect(problems(() => mb.fromSpec(spec({ evidence: [{ name: "e", payload: { command: "x", expectedOuput: "y" } }] })))[0]).toMatch(
      /^evidence\[0\]\.payload\.expectedOuput: .*did you mean `expectedOutput`/,
    );
    expect(mb.evidence({ name: "e", payload: { command: "true", expectedOutput: "", text: "t", description: "d", data: { any: 1 } } }).payload.command).toBe("true");
  });

  it("in the oci-image ornament, its arguments and its layers", () => {
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], entryPoint: ["/bin/sh"] } as never))[0]).toMatch(/^entryPoint: unknown key `entryPoint` \(did you mean `entrypoint`\?\)/);
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], lables: {} } as never))[0]).toMatch(/did you mean `labels`/);
    expect(problems(() => mb.ociImage({ name: "i", layers: [{ ...layer, compresion: "gzip" }] } as never))[0]).toMatch(/^layers\[0\]\.compresion: .*did you mean `compression`/);
    const image = mb.ociImage({ name: "i", layers: [layer] });
    expect(problems(() => mb.fromOrnamentedSpec(mb.OciImageBuilder, { ...image, lables: {} }))[0]).toMatch(/^lables: .*did you mean `labels`/);
  });

  it("a spec made by ociImage is a base spec without the fields it inserted; a copy with other keys is not", () => {
    const image = mb.ociImage({ name: "i", layers: [layer] });
    expect(mb.fromSpec(image)).toEqual(mb.fromOrnamentedSpec(mb.OciImageBuilder, image));
    expect(mb.builderOutput(image).spec).toEqual(mb.OciImageBuilder.forget(image));
    expect(thrown(() => mb.fromSpec({ ...image })).message).toContain("unknown keys `layers`");
  });

  it("suggests only near names", () => {
    expect(mb.nearestName("entryPoint", ["entrypoint", "cmd"])).toBe("entrypoint");
    expect(mb.nearestName("lables", ["labels"])).toBe("labels");
    expect(mb.nearestName("arg", ["args", "env"])).toBe("args");
    expect(mb.nearestName("zzz", ["args", "env"])).toBeUndefined();
    expect(mb.editDistance("comand", "command")).toBe(1);
  });
});

describe("closed sets and unique names", () => {
  it("an unknown output format is an error naming the formats", () => {
    expect(problems(() => mb.output({ name: "o", path: "x", format: "jsno" as never }))[0]).toMatch(/^format: Invalid option: expected one of "path"\|"tree"/);
  });

  it("duplicate tool, output and layer names are errors at the second one", () => {
    const t = mb.tool({ name: "t", package: "p" });
    const o = mb.output({ name: "o", path: "x" });
    expect(problems(() => mb.fromSpec(spec({ tools: [t, t], outputs: [o, { ...o, path: "y" }] })))).toEqual([
      "tools[1].name: duplicate tool name 't' (first at [0])",
      "outputs[1].name: duplicate output name 'o' (first at [0])",
    ]);
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer, { ...layer, source: "/nix/store/11111111111111111111111111111111-b" }] }))).toEqual([
      "layers[1].name: duplicate layer name 'root' (first at [0])",
    ]);
    const image = mb.ociImage({ name: "i", layers: [layer] });
    expect(problems(() => mb.fromOrnamentedSpec(mb.OciImageBuilder, { ...image, layers: [...image.layers, ...image.layers] }))).toEqual([
      "layers[1].name: duplicate layer name 'root' (first at [0])",
    ]);
  });

  it("validate reports a tool or output name declared twice, differently, by the operations", () => {
    const t = mb.tool({ name: "t", package: "p" });
    const o = mb.output({ name: "o", path: "x" });
    const ops = [mb.declareTool({ tool: t }), mb.declareTool({ tool: t }), mb.declareTool({ tool: { ...t, package: "q" } })];
    const r = mb.validate(mb.sequence([...ops, mb.transformOutput({ output: o }), mb.transformOutput({ output: o }), mb.transformOutput({ output: { ...o, path: mb.OutputPath.parse("y") } })]));
    expect(r.diagnostics.map((d) => [d.code, d.operation, d.message])).toEqual([
      ["builder.duplicate-tool", 2, "tool 't' is declared twice, differently (first by operation 0)"],
      ["builder.duplicate-output", 5, "output 'o' is declared twice, differently (first by operation 3)"],
    ]);
  });
});

describe("OCI values", () => {
  it("env entries are KEY=value with a non-empty KEY", () => {
    for (const bad of ["PATH", "=x", ""]) {
      expect(problems(() => mb.ociImage({ name: "i", layers: [layer], env: ["A=1", bad] }))[0]).toMatch(/^env\[1\]: env entries are 'KEY=value'/);
    }
    expect(mb.ociImage({ name: "i", layers: [layer], env: ["A=", "B=x=y"] }).env).toEqual(["A=", "B=x=y"]);
  });

  it("architecture and os are the OCI platform values", () => {
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], architecture: "x86_64" as never }))[0]).toMatch(/^architecture: Invalid option: expected one of .*"amd64"/);
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], os: "Linux" as never }))[0]).toMatch(/^os: Invalid option/);
    expect(mb.ociImage({ name: "i", layers: [layer], architecture: "arm64", os: "freebsd" }).architecture).toBe("arm64");
  });
});

describe("store names", () => {
  it("a name longer than a store entry can carry is an error", () => {
    const long = "n".repeat(mb.STORE_NAME_MAX + 1);
    expect(problems(() => mb.fromSpec(spec({ name: long })))[0]).toMatch(/^name: a store entry name is at most 198 characters/);
    expect(problems(() => mb.materializeDerivation({ name: long }))[0]).toMatch(/^name: a store entry name is at most/);
    expect(problems(() => mb.ociImage({ name: "n".repeat(mb.STORE_NAME_MAX - 9), layers: [layer] }))[0]).toMatch(/^name: a store entry name is at most 188/);
    expect(mb.fromSpec(spec({ name: "n".repeat(mb.STORE_NAME_MAX) })).operations).toEqual([]);
  });
});

describe("a `__proto__` key", () => {
  // JSON.parse makes `__proto__` an own key; zod would drop it from a record without a word.
  const protoMsg = /^labels\.__proto__: the key `__proto__` is not allowed/;

  it("is refused at its path in a constructor's arguments, alone or beside other problems", () => {
    const labels = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    const e = thrown(() => mb.ociImage({ name: "i", layers: [layer], labels }));
    expect(e.code).toBe("constructor.invalid");
    expect(e.exitCode).toBe(2);
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], labels }))).toEqual([expect.stringMatching(protoMsg)]);
    expect(problems(() => mb.ociImage({ name: "i", layers: [layer], labels, os: "Linux" as never }))).toEqual([expect.stringMatching(protoMsg), expect.stringMatching(/^os: /)]);
  });

  it("is refused deep inside free-form data, in arrays and in objects without a prototype", () => {
    const data = JSON.parse('{"a": [{"b": {"__proto__": {}}}]}') as unknown;
    expect(problems(() => mb.evidence({ name: "e", payload: { data } }))).toEqual([expect.stringMatching(/^payload\.data\.a\[0\]\.b\.__proto__: the key/)]);
    const bare = Object.create(null) as Record<string, unknown>;
    bare["__proto__"] = 1;
    expect(problems(() => mb.evidence({ name: "e", payload: { data: [bare] } }))).toEqual([expect.stringMatching(/^payload\.data\[0\]\.__proto__: /)]);
  });

  it("is said once in a strict record, not also as an unknown key", () => {
    const s = JSON.parse('{"name": "s", "__proto__": 1}') as Record<string, unknown>;
    expect(problems(() => mb.fromSpec(spec(s)))).toEqual([expect.stringMatching(/^__proto__: the key `__proto__` is not allowed/)]);
  });

  it("keeps its place in canonical JSON, so data with one never hashes like data without", () => {
    expect(mb.canonicalJson(JSON.parse('{"b": 1, "__proto__": 2}'))).toBe('{"__proto__":2,"b":1}');
    expect(mb.canonicalJson(JSON.parse('{"__proto__": 2}'))).not.toBe(mb.canonicalJson({}));
  });

  it("other names of Object.prototype are ordinary keys", () => {
    const labels = { constructor: "c", toString: "t", hasOwnProperty: "h" };
    expect(mb.ociImage({ name: "i", layers: [layer], labels }).labels).toEqual(labels);
  });
});
