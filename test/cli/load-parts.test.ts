// The parts of builder loading that need no process: the export as plain data, import cycles, MB_LOAD_TIMEOUT.
import { describe, expect, it } from "vitest";
import { plainData } from "../../src/cli/builder-value.js";
import { importCycle } from "../../src/cli/import-cycle.js";
import { loadTimeoutFrom } from "../../src/cli/load-isolated.js";

describe("plainData", () => {
  it("copies data, keeps shared parts shared, and reads getters once", () => {
    const shared = { n: 1 };
    let reads = 0;
    const v = { a: [shared, shared], get g() { reads++; return "x"; }, u: undefined };
    const c = plainData(v) as { a: object[]; g: string };
    expect(c).toEqual({ a: [{ n: 1 }, { n: 1 }], g: "x", u: undefined });
    expect(c.a[0]).toBe(c.a[1]);
    expect(reads).toBe(1);
  });

  it.each([
    ["a throwing getter", { x: [{ get y() { throw new Error("nope"); } }] }, "reading x[0].y threw: nope"],
    ["a function", { op: { run: () => 1 } }, "op.run is a function, not data"],
    ["a symbol", { s: Symbol("s") }, "s is a symbol, not data"],
  ])("names the path of %s", (_label, value, message) => {
    expect(() => plainData(value)).toThrow(message);
  });

  it("names a value that contains itself", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.deps = [{ spec: a }];
    expect(() => plainData(a)).toThrow("deps[0].spec contains itself: it is the value at (root)");
  });
});

describe("importCycle", () => {
  const meta = (edges: Record<string, string[]>) => ({ inputs: Object.fromEntries(Object.entries(edges).map(([k, v]) => [k, { imports: v.map((path) => ({ path })) }])) });
  it("finds a cycle reachable from the entry, and none in a DAG", () => {
    expect(importCycle(meta({ "x/b.ts": ["x/c.ts"], "x/c.ts": ["x/b.ts"], "x/a.ts": ["x/b.ts"] }), `${process.cwd()}/x/a.ts`)).toEqual(["b.ts", "c.ts", "b.ts"]);
    expect(importCycle(meta({ "x/b.ts": ["x/c.ts"], "x/c.ts": [], "x/a.ts": ["x/b.ts", "x/c.ts"] }), `${process.cwd()}/x/a.ts`)).toBeNull();
  });
});

describe("loadTimeoutFrom", () => {
  it("reads seconds, defaults to 30 s, and rejects anything else", () => {
    expect(loadTimeoutFrom({})).toBe(30_000);
    expect(loadTimeoutFrom({ MB_LOAD_TIMEOUT: "" })).toBe(30_000);
    expect(loadTimeoutFrom({ MB_LOAD_TIMEOUT: "2" })).toBe(2000);
    expect(loadTimeoutFrom({ MB_LOAD_TIMEOUT: "0.25" })).toBe(250);
    for (const bad of ["0", "-1", "x", "1e3", "Infinity", "99999999"]) expect(() => loadTimeoutFrom({ MB_LOAD_TIMEOUT: bad }), bad).toThrow("MB_LOAD_TIMEOUT must be");
  });
});
