// Temporary directories for tests, removed afterwards even when they hold read-only store entries.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A maker of fresh temporary directories named `<prefix>-<label>-XXXXXX`, and a remover of every one it made. */
export function tempDirs(prefix: string): { tempDir(label: string): string; removeAll(): void } {
  const made: string[] = [];
  return {
    tempDir(label) {
      const d = mkdtempSync(join(tmpdir(), `${prefix}-${label}-`));
      made.push(d);
      return d;
    },
    removeAll() {
      for (const d of made.splice(0)) {
        spawnSync("chmod", ["-R", "u+w", d]); // store entries are read-only
        rmSync(d, { recursive: true, force: true });
      }
    },
  };
}
