// A store that cannot be made is a clear error, never a hang: Node's recursive mkdir loops forever under /proc.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDir } from "../../src/engine/dirs.js";
import { cleanup, FIXTURES, mb, tempDir } from "./helpers.js";

afterAll(cleanup);

describe("the store directory", () => {
  it("is made with its parents when missing", () => {
    const d = join(tempDir("dirs"), "a", "b", "c");
    ensureDir(d);
    expect(existsSync(d)).toBe(true);
    ensureDir(d); // and again: nothing to do
  });

  it("under /proc, where mkdir answers ENOENT forever, fails at once", () => {
    expect(() => ensureDir("/proc/metabuilder-no-such/store")).toThrow(/ENOENT/);
  });

  it("that cannot be made gives exit 1 naming the store", () => {
    const file = join(tempDir("file"), "plain-file");
    writeFileSync(file, "not a directory\n");
    for (const store of ["/proc/metabuilder-no-such", join(file, "store")]) {
      const r = mb(["build", join(FIXTURES, "evidence.json"), "--store", store, "--no-out-link"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`mb: error: cannot use the store at ${store}:`);
      expect(r.stderr).toContain("mb: hint: pass a writable directory with --store or MB_STORE");
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
