// Concurrency: two processes building one plan yield one entry (one builds, the other waits and reuses it), and -j N
// runs independent builds of the DAG at the same time.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BuildEvent } from "../../src/engine/events.js";
import { cleanup, entries, events, FIXTURES, mb, mbStart, tempDir } from "./helpers.js";

afterAll(cleanup);

describe("concurrent builds of one plan", () => {
  it("yield one entry: one process builds, the other waits and reuses it", async () => {
    const store = tempDir("store");
    const args = ["build", join(FIXTURES, "slow.json"), "--store", store, "--no-out-link", "--json"];
    const a = mbStart(args);
    const b = mbStart(args);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    const ea = events(ra.stdout);
    const eb = events(rb.stdout);
    expect(ea.at(-1)).toEqual(eb.at(-1));
    const builders = [ea, eb].filter((evs) => evs.some((e) => e.event === "build-start"));
    expect(builders).toHaveLength(1);
    const other = builders[0] === ea ? eb : ea;
    expect(other.some((e) => e.event === "cached")).toBe(true);
    expect(entries(store)).toHaveLength(1);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  });
});

function order(evs: BuildEvent[]): string[] {
  return evs.flatMap((e) => (e.event === "step-start" ? [`start ${e.name}`] : e.event === "step-done" ? [`done ${e.name}`] : []));
}

describe("-j N", () => {
  it("runs independent builds of the DAG in parallel, and their dependant after both", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "diamond.json"), "--store", store, "--no-out-link", "--json", "-j", "2"]);
    expect(r.status, r.stderr).toBe(0);
    const o = order(events(r.stdout));
    // Both dependencies start before either finishes; the diamond starts after both.
    expect(o.slice(0, 2).sort()).toEqual(["start dep-a", "start dep-b"]);
    expect(o.slice(2, 4).sort()).toEqual(["done dep-a", "done dep-b"]);
    expect(o.slice(4)).toEqual(["start diamond", "done diamond"]);
  });

  it("with -j 1 (the default) runs them one after the other", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "diamond.json"), "--store", store, "--no-out-link", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(order(events(r.stdout))).toEqual(["start dep-a", "done dep-a", "start dep-b", "done dep-b", "start diamond", "done diamond"]);
  });

  it("rejects a -j that is not a positive whole number (exit 2)", () => {
    const r = mb(["build", join(FIXTURES, "diamond.json"), "-j", "0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("-j needs a positive whole number, got '0'");
  });
});
