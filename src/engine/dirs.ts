/** Creating directories safely. */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
/**
 * `mkdir -p` that cannot loop: Node's recursive mkdir spins forever where mkdir answers ENOENT under an existing
 * parent (as in /proc). Each level is made at most once; a failure is thrown.
 */
export function ensureDir(dir: string, depth = 0): void {
  try {
    mkdirSync(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && statSync(dir).isDirectory()) return;
    const parent = dirname(dir);
    if (code !== "ENOENT" || parent === dir || depth > 256) throw e;
  }
  ensureDir(dirname(dir), depth + 1);
  mkdirSync(dir);
}

/** Whether `path` is `dir` or lies below it (both absolute and normalized). */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** The names in a directory, or none when it cannot be read (missing, not a directory). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
