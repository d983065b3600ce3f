// Vitest global setup: one XDG_CACHE_HOME for every `mb` the tests run (the harness's environment policy, see
// test/support/mb.ts), made before the first test file and removed after the last.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The XDG_CACHE_HOME `mb` runs with in tests. */
    mbCacheHome: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "mb-test-cache-"));
  project.provide("mbCacheHome", dir);
  return () => {
    spawnSync("chmod", ["-R", "u+w", dir]); // a default store would hold read-only entries
    rmSync(dir, { recursive: true, force: true });
  };
}
