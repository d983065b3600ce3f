// The project-level ornaments against the original's tests: project-builder (langName), implementations (define,
// select, available, perImpl, extend, filterByName), vendoring (contracts, checkRequired) and testing (cases, suites,
// selectCase, runPure). Each is stacked over project-builder: forget steps to a project spec, then to the base spec.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const { implementations: I, vendoring: V, testing: T } = mb;

describe("project-builder", () => {
  it("inserts langName; its schema has it", () => {
    expect(mb.ProjectBuilder.inserted).toEqual(["langName"]);
    expect((mb.ProjectBuilder.jsonSchema() as { properties: Record<string, unknown> }).properties).toHaveProperty("langName");
    expect(mb.defineProject({ langName: "alpha" })).toMatchObject({ langName: "alpha", name: "alphaProject", operations: [] });
  });
});

describe("implementations", () => {
  const spec = I.define({ langName: "alpha", implementations: [{ name: "impl-a" }, { name: "impl-b" }, { name: "impl-c" }], defaultImpl: "impl-a" });

  it("define types each implementation and names the spec <langName>Builder", () => {
    expect(spec.name).toBe("alphaBuilder");
    expect(spec.implementations.map((i) => i._con)).toEqual(["MetaBuilderImpl", "MetaBuilderImpl", "MetaBuilderImpl"]);
    expect(spec.allowUserExtensions).toBe(false);
  });

  it("a defaultImpl that is not declared is an error at defaultImpl", () => {
    expect(() => I.define({ langName: "alpha", implementations: [{ name: "impl-a" }], defaultImpl: "impl-z" })).toThrow("defaultImpl: defaultImpl 'impl-z' not among declared implementations [impl-a]");
  });

  it("select, available, perImpl", () => {
    expect(I.select(spec, "impl-b").name).toBe("impl-b");
    expect(() => I.select(spec, "nonexistent")).toThrow("implementations.select: unknown implementation 'nonexistent'. Available: impl-a, impl-b, impl-c");
    expect(I.available(spec, ["impl-b"]).map((i) => i.name)).toEqual(["impl-a", "impl-c"]);
    expect(I.perImpl(spec, (i) => `build-${i.name}`)).toEqual({ "impl-a": "build-impl-a", "impl-b": "build-impl-b", "impl-c": "build-impl-c" });
  });

  it("extend is refused unless allowed, and appends when allowed", () => {
    expect(() => I.extend(spec, { implementations: [{ name: "user-impl" }] })).toThrow("declared allowUserExtensions = false");
    const open = I.define({ langName: "alpha", implementations: [{ name: "impl-a" }], defaultImpl: "impl-a", allowUserExtensions: true });
    expect(I.extend(open, { implementations: [{ name: "user-impl" }] }).implementations.map((i) => i.name)).toEqual(["impl-a", "user-impl"]);
    expect(() => I.extend(open, { defaultImpl: "nope" })).toThrow("defaultImpl 'nope' not in extended impl set");
  });

  it("filterByName: plain values pass, selectors give the implementation's entry, else default, else nothing", () => {
    expect(I.filterByName({ name: "impl-a" }, ["pkg-x", "pkg-y"])).toEqual(["pkg-x", "pkg-y"]);
    expect(I.filterByName({ name: "impl-a" }, ["pkg-x", { "impl-a": "alpha-pkg", "impl-b": "beta-pkg" }])).toEqual(["pkg-x", "alpha-pkg"]);
    expect(I.filterByName({ name: "impl-c" }, [{ "impl-a": "alpha-pkg", default: "fallback-pkg" }])).toEqual(["fallback-pkg"]);
    expect(I.filterByName({ name: "impl-c" }, ["pkg-x", { "impl-a": "alpha-pkg", "impl-b": "beta-pkg" }])).toEqual(["pkg-x"]);
    expect(I.filterByName({ name: "impl-a" }, [mb.hostPackage("impl-a")])).toEqual([mb.hostPackage("impl-a")]);
  });

  it("forget steps to a project spec, then to the base spec", () => {
    const project = I.ImplementationsBuilder.forget(spec);
    expect(Object.keys(project).sort()).toEqual(Object.keys(mb.ProjectBuilder.schema.shape).sort());
    expect(project.langName).toBe("alpha");
    expect(mb.ProjectBuilder.forget(project)).toEqual(I.ImplementationsBuilder.forgetAll(spec));
  });
});

describe("vendoring", () => {
  it("defaultContract requires name and deps; define uses it", () => {
    expect(V.defaultContract.required).toEqual(["name", "deps"]);
    const s = V.define({ langName: "alpha" });
    expect(s.langName).toBe("alpha");
    expect(s.name).toBe("alphaVendoring");
    expect(s.contract.required).toEqual(["name", "deps"]);
  });

  it("mkContract builds a validated record", () => {
    expect(V.mkContract({ required: ["foo"], optional: ["bar"], description: "test" })).toMatchObject({ required: ["foo"], optional: ["bar"], description: "test" });
    expect(() => V.mkContract({ required: "foo" as unknown as string[] })).toThrow("required");
  });

  it("checkRequired lists the missing fields", () => {
    expect(V.checkRequired(V.defaultContract, { name: "x" })).toEqual(["deps"]);
    expect(V.checkRequired(V.defaultContract, { name: "x", deps: [] })).toEqual([]);
  });
});

describe("testing", () => {
  it("testCase and testSuite validate at the boundary and tag their records", () => {
    expect(T.testCase({ name: "trivial", body: true }).name).toBe("trivial");
    const s = T.testSuite({ name: "demo", cases: [{ name: "a", body: true }, { name: "b", body: false }] });
    expect(s.cases.map((c) => c._con)).toEqual(["MetaBuilderTestCase", "MetaBuilderTestCase"]);
    expect(() => T.testSuite({ name: "demo", cases: [{ name: "a", body: 1 }, { name: "a", body: 2 }] })).toThrow("cases[1].name: duplicate test case name 'a'");
  });

  it("selectCase finds a case by name; an unknown one names the suite", () => {
    const s = T.testSuite({ name: "demo", cases: [{ name: "a", body: 1 }, { name: "b", body: 2 }] });
    expect(T.selectCase(s, "b").body).toBe(2);
    expect(() => T.selectCase(s, "z")).toThrow("testing.selectCase: unknown case 'z' in suite 'demo'");
  });

  it("runPure tallies PASS, FAIL, SKIP and ERROR", () => {
    const r = T.runPure(T.testSuite({ name: "mixed", cases: [
      { name: "p", body: true },
      { name: "f", body: false },
      { name: "s", body: "non-bool" },
      { name: "e", body: () => { throw new Error("boom"); } },
    ] }));
    expect({ passed: r.passed, failed: r.failed, skipped: r.skipped, allPass: r.allPass }).toEqual({ passed: 1, failed: 2, skipped: 1, allPass: false });
    expect(r.results.map((c) => c.status)).toEqual(["PASS", "FAIL", "SKIP", "ERROR"]);
    expect(T.runPure(T.testSuite({ name: "ok", cases: [{ name: "a", body: true }, { name: "b", body: 1 + 1 === 2 }] })).allPass).toBe(true);
  });

  it("define builds a testing spec named <langName>Tests", () => {
    const s = T.define({ langName: "alpha", testSuite: T.testSuite({ name: "alpha-tests", cases: [{ name: "boot", body: true }] }) });
    expect(s.langName).toBe("alpha");
    expect(s.name).toBe("alphaTests");
    expect(s.testSuite.name).toBe("alpha-tests");
  });
});
