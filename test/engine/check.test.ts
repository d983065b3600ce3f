// `mb build --check` rebuilds in a temporary location and reports file-level differences against the stored entry.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { building, cleanup, entries, events, FIXTURES, lastLine, mb, tempDir } from "./helpers.js";

afterAll(cleanup);

describe("mb build --check", () => {
  it("catches a non-deterministic step (one that writes `date +%N`), naming the file", () => {
    const store = tempDir("store");
    const builder = join(FIXTURES, "nondeterministic.json");
    const built = mb(["build", builder, "--store", store, "--no-out-link"]);
    expect(built.status, built.stderr).toBe(0);
    const path = lastLine(built.stdout);

    const r = mb(["build", builder, "--store", store, "--no-out-link", "--check"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`mb: error: 'nondeterministic' is not reproducible: a rebuild differs from the stored entry ${path} in 1 place:\n  content      stamp.txt\n`);
    expect(r.stderr).not.toContain("fixed.txt");
    expect(entries(store)).toEqual([path.slice(store.length + 1)]);
    expect(building(store)).toEqual([]);

    const json = mb(["build", builder, "--store", store, "--no-out-link", "--check", "--json"]);
    expect(json.status).toBe(1);
    expect(events(json.stdout).find((e) => e.event === "check")).toEqual({
      event: "check",
      storePath: path,
      reproducible: false,
      differences: [{ path: "stamp.txt", kind: "content" }],
    });
  });

  it("passes a deterministic build, and builds it first when it is not in the store", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "deterministic.json"), "--store", store, "--no-out-link", "--check", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const evs = events(r.stdout);
    expect(evs.filter((e) => e.event === "build-start").map((e) => (e as { check: boolean }).check)).toEqual([false, true]);
    expect(evs.find((e) => e.event === "check")).toMatchObject({ reproducible: true, differences: [] });
    expect(entries(store)).toHaveLength(1);
  });

  it("with --keep-failed keeps the differing rebuild for inspection", () => {
    const store = tempDir("store");
    const builder = join(FIXTURES, "nondeterministic.json");
    expect(mb(["build", builder, "--store", store, "--no-out-link"]).status).toBe(0);
    const r = mb(["build", builder, "--store", store, "--no-out-link", "--check", "--keep-failed"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`mb: hint: the rebuild is kept at ${store}/\\.b/[0-9a-z]{12}/[0-9a-z]{16}-nondeterministic`));
  });
});
