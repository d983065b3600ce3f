// The dependencies ornament against the original's tests: the three shapes and their dispatcher, define, and
// resolveUniform (transitive closure, dependencies before dependents, shared dependencies once, the langName-scoped
// field), with a cycle an error naming it; and the resolved-list marker.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const D = mb.dependencies;

describe("dependency shapes", () => {
  it("uniform, partitioned and multiTyped carry their fields; matchShape dispatches by constructor", () => {
    expect(D.uniform({ langName: "alpha" })).toEqual({ _con: "Uniform", langName: "alpha" });
    expect(D.partitioned({ langName: "beta", pathField: "betaPath" })).toMatchObject({ langName: "beta", pathField: "betaPath" });
    const multi = D.multiTyped({ types: [{ name: "type-x" }, { name: "type-y", transitive: false, toposort: false }] });
    expect(multi).toMatchObject({ types: [{ name: "type-x", transitive: true, toposort: true }, { name: "type-y", transitive: false, toposort: false }] });
    const cases = {
      uniform: (a: { langName: string }) => `uniform:${a.langName}`,
      partitioned: (a: { langName: string; pathField: string }) => `partitioned:${a.langName}/${a.pathField}`,
      multiTyped: (a: { types: unknown[] }) => `multi:${a.types.length}`,
    };
    expect([D.uniform({ langName: "alpha" }), D.partitioned({ langName: "beta", pathField: "betaPath" }), multi].map((s) => D.matchShape(cases, s))).toEqual([
      "uniform:alpha",
      "partitioned:beta/betaPath",
      "multi:2",
    ]);
    expect(() => D.matchShape(cases, { _con: "Bogus" } as never)).toThrow("matchShape: not a DependencyShape value (got _con = Bogus)");
  });

  it("define builds a validated spec", () => {
    const s = D.define({ dependencyShape: D.uniform({ langName: "alpha" }) });
    expect(s.dependencyShape._con).toBe("Uniform");
    expect(s.name).toBe("dependenciesBuilder");
    expect(() => D.define({ dependencyShape: { _con: "Uniform" } as never })).toThrow("dependencyShape.langName");
  });
});

describe("resolveUniform", () => {
  const names = (ps: readonly { name: string }[]) => ps.map((p) => p.name);
  const x = { name: "pkg-x", alphaDeps: [] };
  const y = { name: "pkg-y", alphaDeps: [x] };

  it("flattens transitive dependencies and puts dependencies first", () => {
    expect(names(D.resolveUniform({ langName: "alpha", deps: [y] }))).toEqual(["pkg-x", "pkg-y"]);
    const z = { name: "pkg-z", alphaDeps: [y] };
    expect(names(D.resolveUniform({ langName: "alpha", deps: [z] }))).toEqual(["pkg-x", "pkg-y", "pkg-z"]);
  });

  it("keeps a shared dependency once", () => {
    const z = { name: "pkg-z", alphaDeps: [x] };
    expect(D.resolveUniform({ langName: "alpha", deps: [y, z] })).toHaveLength(3);
  });

  it("reads the langName-scoped field", () => {
    const bx = { name: "pkg-x", betaDeps: [] };
    const by = { name: "pkg-y", betaDeps: [bx], alphaDeps: [] };
    expect(names(D.resolveUniform({ langName: "beta", deps: [by] }))).toEqual(["pkg-x", "pkg-y"]);
  });

  it("a cycle is an error naming it, with its path", () => {
    const a: { name: string; alphaDeps: unknown[] } = { name: "a", alphaDeps: [] };
    const b = { name: "b", alphaDeps: [a] };
    const c = { name: "c", alphaDeps: [b] };
    a.alphaDeps.push(c);
    let error: unknown;
    try {
      D.resolveUniform({ langName: "alpha", deps: [a] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(mb.MbError);
    expect((error as mb.MbError).message).toBe("resolveUniform: circular dependency in 'alpha': a -> c -> b -> a");
    expect((error as mb.MbError).exitCode).toBe(mb.ExitCode.usage);
    expect((error as mb.MbError).issues?.[0]?.path).toEqual(["deps", "a", "alphaDeps", "c", "alphaDeps", "b", "alphaDeps"]);
  });
});

describe("the resolved-list marker", () => {
  it("markResolved, isResolved, unwrapDeps", () => {
    const m = D.markResolved(["pkg-x", "pkg-y"]);
    expect(m.__resolvedDeps).toBe(true);
    expect(m.deps).toHaveLength(2);
    expect(D.isResolved(m)).toBe(true);
    expect(D.isResolved(["pkg-x"])).toBe(false);
    expect(D.isResolved({ foo: "bar" })).toBe(false);
    expect(D.unwrapDeps(m)).toEqual(["pkg-x", "pkg-y"]);
    expect(D.unwrapDeps(["pkg-x", "pkg-y"])).toEqual(["pkg-x", "pkg-y"]);
  });
});
