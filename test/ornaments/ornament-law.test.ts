// The ornament law (reference section 6): compiling forget(spec) yields the same program as compiling spec, for every
// ornament of the registry (its sample spec, generated base specs carrying its fields, generated extra fields), for
// generated oci-image constructor arguments, and for generated ornaments stacked over the base spec. Specs are strict:
// generated extra fields are rejected, naming the field, by the ornament's schema and by the base spec's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as mb from "../../src/index.js";
import { main } from "../../src/cli/main.js";
import { ornamentOfKeys } from "../../src/ornaments/registry.js";
import { protoKeyIssues } from "../../src/core/validate-schema.js";
import { constructors, grid } from "../support/grid.js";

const BASE_KEYS = ["_con", "dependencies", "evidence", "inputs", "name", "operations", "outputs", "parameters", "tools"];

const word = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/);
const layerName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,11}$/);
const source: fc.Arbitrary<mb.PackageRef> = fc.oneof(
  word.map((n) => mb.hostPackage(n)),
  word.map((n) => `/nix/store/00000000000000000000000000000000-${n}`),
  word.map((n) => mb.pathPackage(`./${n}`)),
);
const port = fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.constantFrom("", "/tcp", "/udp", "/sctp")).map(([p, proto]) => `${p}${proto}`);
const anyText = fc.string({ unit: "binary", maxLength: 12 });
/** Any JSON value without a `__proto__` key, which specs refuse (test/core/strict.test.ts). */
const specJson = (c?: fc.JsonSharedConstraints) => fc.jsonValue(c).filter((v) => protoKeyIssues(v).length === 0);

/** Arguments of ociImage, every optional field sometimes given. */
const ociArgs: fc.Arbitrary<mb.OciImageArgs> = fc.record(
  {
    name: fc.oneof(word, fc.string({ minLength: 1, maxLength: 12 })),
    layers: fc.uniqueArray(fc.record({ name: layerName, source }), { minLength: 1, maxLength: 3, selector: (l) => l.name }),
    entrypoint: fc.array(anyText, { maxLength: 3 }),
    cmd: fc.array(anyText, { maxLength: 3 }),
    env: fc.array(fc.tuple(fc.stringMatching(/^[A-Z_]{1,6}$/), anyText).map(([k, v]) => `${k}=${v}`), { maxLength: 3 }),
    exposedPorts: fc.uniqueArray(port, { maxLength: 3 }),
    labels: fc.dictionary(word, anyText, { maxKeys: 3 }),
    architecture: fc.constantFrom("amd64", "arm64", "riscv64"),
    os: fc.constantFrom("linux", "freebsd"),
    evidence: fc.array(
      fc.record({ name: word, payload: fc.record({ command: anyText, expectedOutput: anyText, text: anyText, data: specJson() }, { requiredKeys: [] }) }).map((e) => mb.evidence(e)),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: ["name", "layers"] },
);

/** Fields neither the base spec nor these inserted fields name, with any JSON value. */
const extraFieldsBeside = (inserted: readonly string[]) =>
  fc.dictionary(
    fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !BASE_KEYS.includes(k) && !inserted.includes(k) && k !== "__proto__"),
    specJson({ maxDepth: 2 }),
    { maxKeys: 4 },
  );
/** Fields neither the base spec nor oci-image knows, with any JSON value. */
const extraFields = extraFieldsBeside(mb.OciImageBuilder.inserted);

/** Base specs over every constructor of the operation alphabet. */
const baseSpec = fc.record({
  name: word,
  ops: fc.array(fc.constantFrom(...constructors), { maxLength: 8 }),
  evidence: fc.array(word.map((name) => mb.evidence({ name })), { maxLength: 2 }),
}).map(({ name, ops, evidence }) => ({
  _con: "MetaBuilderSpec" as const,
  name,
  parameters: [],
  inputs: [],
  dependencies: [],
  tools: [],
  operations: ops.flatMap((c): readonly mb.Operation[] => grid[c]),
  outputs: [],
  evidence,
}));

/** Asserts that `f` throws a spec error naming every key of `junk` as unknown (nothing when `junk` is empty). */
function rejectsJunk(junk: Record<string, unknown>, f: () => unknown): void {
  const keys = Object.keys(junk);
  if (keys.length === 0) return void f();
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(mb.MbError);
  for (const k of keys) expect((error as mb.MbError).message).toContain(`\`${k}\``);
}

/** Every registered ornament, loaded. */
const registered = await Promise.all(mb.ORNAMENTS.map(async (entry) => ({ entry, ...(await entry.load()) })));

describe("the registry", () => {
  it("names each ornament once, with a description", () => {
    expect(registered.length).toBeGreaterThan(0);
    expect(new Set(mb.ORNAMENTS.map((e) => e.name)).size).toBe(mb.ORNAMENTS.length);
    for (const { entry } of registered) expect(mb.findOrnament(entry.name)).toBe(entry);
    for (const { entry } of registered) expect(entry.description).not.toBe("");
  });

  it("declares the fields each ornament inserts, as the ornament itself does (a spec's ornament is found without loading the others)", () => {
    for (const { entry, ornament } of registered) expect([...entry.inserted].sort(), entry.name).toEqual([...ornament.inserted].sort());
  });

  it("finds a spec's ornament by the fields it carries, the one covering most of them", async () => {
    for (const { entry, ornament, example } of registered) {
      const extra = Object.keys(example() as object).filter((k) => !BASE_KEYS.includes(k));
      const found = await ornamentOfKeys(extra);
      // An ornament over another (idl over code-gen, testing over project-builder) is found as itself: its sample carries its own fields.
      expect(found?.entry.name, entry.name).toBe(entry.name);
      expect(found?.loaded.ornament).toBe(ornament);
    }
    expect(await ornamentOfKeys([])).toBeNull();
    expect(await ornamentOfKeys(["notAField"])).toBeNull();
  });
});

for (const { entry, ornament, example } of registered) {
  const sample = example() as Record<string, unknown>;
  /** The fields this ornament inserts, with its sample spec's values: laid over any base spec, they make a spec of it. */
  const inserted = Object.fromEntries(ornament.inserted.filter((k) => k in sample).map((k) => [k, sample[k]]));

  describe(`ornament ${entry.name} (${ornament.name}): compile(forget(spec)) = compile(spec)`, () => {
    it("has a JSON Schema with the base fields and the fields it inserts", async () => {
      const schema = ornament.jsonSchema() as { properties: Record<string, unknown> };
      for (const k of [...BASE_KEYS, ...ornament.inserted]) expect(schema.properties).toHaveProperty(k);
      let printed = "";
      const io = { out: (t: string) => void (printed += t), err: () => undefined, isTTY: false };
      expect(await main(["schema", entry.name], io)).toBe(0);
      expect(JSON.parse(printed)).toEqual(schema);
    });

    it("for its sample spec", () => {
      const spec = example();
      const forgotten = ornament.forgetAll(spec);
      expect(Object.keys(forgotten).sort()).toEqual(BASE_KEYS);
      expect(mb.fromSpec(forgotten)).toEqual(mb.fromOrnamentedSpec(ornament, spec));
      expect(mb.fromSpec(spec as mb.BuilderSpec)).toEqual(mb.fromOrnamentedSpec(ornament, spec));
    });

    it("forget steps one level at a time, and forget composed down the stack is forgetAll", () => {
      const spec = example();
      const stack = mb.ornamentStack(ornament);
      expect(stack[0]).toBe(ornament);
      let current: unknown = spec;
      for (const [i, level] of stack.entries()) {
        const below = stack[i + 1];
        const next = level.forget(current as never) as Record<string, unknown>;
        const keys = Object.keys((below?.schema as z.ZodObject<z.ZodRawShape> | undefined)?.shape ?? Object.fromEntries(BASE_KEYS.map((k) => [k, 0])));
        expect(Object.keys(next).sort()).toEqual(keys.sort());
        // Each level down is a spec of the ornament below, compiling to the same program, and accepted as a base spec.
        if (below) expect(mb.fromOrnamentedSpec(below, next)).toEqual(mb.fromOrnamentedSpec(ornament, spec));
        expect(mb.fromSpec(next)).toEqual(mb.fromOrnamentedSpec(ornament, spec));
        current = next;
      }
      expect(current).toEqual(ornament.forgetAll(spec));
    });

    it("for generated base specs carrying its fields; generated extra fields are rejected", () => {
      fc.assert(
        fc.property(baseSpec, extraFieldsBeside(ornament.inserted), (base, junk) => {
          // The sample's tools too: an ornament may check its fields against them (code-gen's generator is a declared tool).
          const spec = { ...base, ...inserted, tools: sample.tools };
          const plain = mb.fromSpec(base);
          expect(mb.fromOrnamentedSpec(ornament, spec)).toEqual(plain);
          expect(mb.fromSpec(ornament.forget(ornament.schema.parse(spec)))).toEqual(plain);
          expect(Object.keys(ornament.forgetAll(spec)).sort()).toEqual(BASE_KEYS);
          rejectsJunk(junk, () => mb.fromOrnamentedSpec(ornament, { ...junk, ...spec }));
          rejectsJunk(junk, () => mb.fromSpec({ ...junk, ...base }));
        }),
        { numRuns: 100 },
      );
    });
  });
}

/** Dry-run's step for each plan step, as the plan names it (run <name>, write:<path>, copy:<path>). */
const planNameOf = (s: mb.DryRunStep): string | null =>
  s.kind === "run" ? s.name : s.kind === "write" ? `write:${s.path}` : s.kind === "copy" ? `copy:${s.to}` : null;

/** Asserts that dry-run and the plan (and the plan view) agree on the steps and their order. */
function dryRunAgreesWithPlan(program: mb.Program): void {
  const dry = mb.dryRun(program).steps;
  expect(dry).toHaveLength(program.operations.length);
  const plan = mb.compile(program);
  expect(plan.steps.map((s) => s.name)).toEqual(dry.map(planNameOf).filter((n) => n !== null));
  expect(mb.planView(program).steps.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
}

for (const { entry, example, ornament } of registered) {
  it(`ornament ${entry.name}: dry-run and plan step tags agree on its sample spec`, () => {
    dryRunAgreesWithPlan(mb.fromOrnamentedSpec(ornament, example()));
  });
}

// The examples made by ornaments: each exports its ornament spec as `spec` (and the program as default).
const EXAMPLES = [
  { dir: "c-codegen", ornament: (await import("../../examples/c-codegen/builder.js")).CCodegenBuilder, mod: await import("../../examples/c-codegen/builder.js") },
  { dir: "idl", ornament: mb.IdlBuilder, mod: await import("../../examples/idl/builder.js") },
] as const;

for (const { dir, ornament, mod } of EXAMPLES) {
  describe(`examples/${dir}: the ornament laws`, () => {
    const spec = mod.spec as never;
    it("compile(forget(spec)) = compile(spec), forget one level at a time down to forgetAll", () => {
      const program = mb.fromOrnamentedSpec(ornament as mb.Ornament<z.ZodType, unknown>, spec);
      expect(mod.default).toEqual(program);
      expect(mb.fromSpec(spec)).toEqual(program);
      let current: unknown = spec;
      for (const level of mb.ornamentStack(ornament as mb.Ornament<z.ZodType, unknown>)) {
        current = level.forget(current as never);
        expect(mb.fromSpec(current)).toEqual(program);
        expect(mb.compile(mb.fromSpec(current))).toEqual(mb.compile(program));
      }
      expect(Object.keys(current as object).sort()).toEqual(BASE_KEYS);
      expect(current).toEqual((ornament as mb.Ornament<z.ZodType, unknown>).forgetAll(spec));
    });
    it("dry-run and plan step tags agree", () => dryRunAgreesWithPlan(mod.default));
  });
}

describe("examples/c-codegen and examples/idl: the original's plan shapes", () => {
  it("c-codegen: 5 run steps, 2 writes, 4 outputs, the original's tools (coreutils declared beyond it)", () => {
    const plan = mb.compile(EXAMPLES[0].mod.default);
    expect(plan.name).toBe("messages-demo-artifact");
    expect(plan.steps.filter((s) => s._con === "runStep").map((s) => s.name)).toEqual(["generate-c-sources", "compile-generated-object", "archive-library", "link-demo-cli", "smoke-test"]);
    expect(plan.steps.filter((s) => s._con === "writeStep")).toHaveLength(2);
    expect(plan.outputs.map((o) => `${o.name}:${o.format}`)).toEqual(["cli:elf", "static-library:archive", "headers:directory", "pkg-config:text"]);
    expect(plan.tools.map((t) => t.name)).toEqual(["bash", "gcc", "ar", "coreutils"]);
  });
  it("idl: protoc for cpp and java (after making their directories), outputs cpp and java", () => {
    const plan = mb.compile(EXAMPLES[1].mod.default);
    expect(plan.name).toBe("example-idl-generated");
    expect(plan.steps.map((s) => s.name)).toEqual(["make-output-dirs", "protoc-cpp-schema.proto", "protoc-java-schema.proto"]);
    expect(plan.outputs.map((o) => o.name)).toEqual(["cpp", "java"]);
    expect(EXAMPLES[1].mod.spec.languages).toEqual(["cpp", "java"]);
    expect(EXAMPLES[1].mod.spec.idlFormat).toBe("protobuf");
  });
});

describe("oci-image constructor arguments: compile(forget(spec)) = compile(spec)", () => {
  it("for generated specs", () => {
    fc.assert(
      fc.property(ociArgs, (args) => {
        const spec = mb.ociImage(args);
        const forgotten = mb.OciImageBuilder.forget(spec);
        expect(Object.keys(forgotten).sort()).toEqual(BASE_KEYS);
        expect(forgotten.operations).toEqual(spec.operations);
        const viaOrnament = mb.fromOrnamentedSpec(mb.OciImageBuilder, spec);
        expect(mb.fromSpec(forgotten)).toEqual(viaOrnament);
        expect(mb.fromSpec(spec)).toEqual(viaOrnament);
        expect(viaOrnament.operations).toHaveLength(16 + 2 * spec.layers.length + (args.evidence?.length ?? 0));
      }),
      { numRuns: 150 },
    );
  });

  it("for generated specs with generated extra fields: rejected, in the arguments and in the spec", () => {
    fc.assert(
      fc.property(ociArgs, extraFields, (args, extra) => {
        const spec = mb.ociImage(args);
        rejectsJunk(extra, () => mb.fromOrnamentedSpec(mb.OciImageBuilder, { ...extra, ...spec }));
        rejectsJunk(extra, () => mb.fromSpec({ ...extra, ...mb.OciImageBuilder.forget(spec) }));
        rejectsJunk(extra, () => mb.ociImage({ ...extra, ...args } as mb.OciImageArgs));
      }),
      { numRuns: 100 },
    );
  });
});

describe("any ornament, stacked or not: compile(forget(spec)) = compile(spec)", () => {
  const Flavoured = mb.defineOrnament({ name: "Flavoured", fields: { flavour: z.string(), level: z.number().int() } });
  const Stacked = mb.defineOrnament({ name: "Stacked", fields: { extra: z.array(z.boolean()), note: z.string().optional() }, base: Flavoured });

  it("records what each ornament inserts and keeps", () => {
    expect(Flavoured.inserted).toEqual(["flavour", "level"]);
    expect(Stacked.inserted).toEqual(["flavour", "level", "extra", "note"]);
    const kept = ["_con", "name", "parameters", "inputs", "dependencies", "tools", "operations", "outputs", "evidence"];
    expect(Stacked.describe()).toEqual({ name: "Stacked", base: "Flavoured", constructor: "MetaBuilderSpec", kept, inserted: ["flavour", "level", "extra", "note"] });
  });

  it("for generated base specs and generated inserted values; generated extra fields are rejected", () => {
    fc.assert(
      fc.property(baseSpec, anyText, fc.integer(), fc.array(fc.boolean(), { maxLength: 3 }), fc.option(anyText, { nil: undefined }), extraFields, (spec, flavour, level, extra, note, junk) => {
        rejectsJunk(junk, () => mb.fromOrnamentedSpec(Flavoured, { ...junk, ...spec, flavour, level }));
        const flavoured = { ...spec, flavour, level };
        const stacked = { ...flavoured, extra, ...(note === undefined ? {} : { note }) };
        const plain = mb.fromSpec(spec);
        expect(mb.fromOrnamentedSpec(Flavoured, flavoured)).toEqual(plain);
        expect(mb.fromSpec(Flavoured.forget(Flavoured.schema.parse(flavoured)))).toEqual(plain);
        expect(mb.fromOrnamentedSpec(Stacked, stacked)).toEqual(plain);
        expect(mb.fromSpec(Stacked.forget(Stacked.schema.parse(stacked)))).toEqual(plain);
        expect(plain.operations).toHaveLength(spec.operations.length + spec.evidence.length);
      }),
      { numRuns: 150 },
    );
  });

  it("the ornament's type is checked before forgetting", () => {
    expect(() => mb.fromOrnamentedSpec(Stacked, { name: "x", parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: [], flavour: "f", level: 1.5, extra: [] })).toThrow(
      "Stacked spec does not match its schema (1 problem):\n  - level: Invalid input: expected int, received number",
    );
  });
});

describe("examples/node-service: the ornament laws of its NodeServiceBuilder", async () => {
  const mod = await import("../../examples/node-service/builder.js");
  it("compile(forget(spec)) = compile(spec); forget keeps the base spec's keys only", () => {
    const program = mb.fromOrnamentedSpec(mod.NodeServiceBuilder, mod.spec);
    expect(mod.default).toEqual(program);
    const base = mod.NodeServiceBuilder.forget(mod.spec);
    expect(Object.keys(base).sort()).toEqual(BASE_KEYS);
    expect(mb.compile(mb.fromSpec(base))).toEqual(mb.compile(program));
  });
  it("dry-run and plan step tags agree", () => dryRunAgreesWithPlan(mod.default));
});
