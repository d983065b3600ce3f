/**
 * What an output format promises, as the engine checks it: a check of the output as the steps left it and,
 * optionally, a check run from the digests sealing took. Each format's entry is in the table of formats.ts.
 */
import type { Stats } from "node:fs";

/** The checks of one output format. */
export interface FormatPromise {
  /** Why the output at `path` (which exists; `st` is its stat, symlinks followed) breaks the promise, or null. */
  check(path: string, st: Stats): string | null;
  /**
   * Why the sealed output at `loc` (`rel` from the output root) breaks the promise, judged from the sha256 of its
   * files that sealing took (by path relative to the root) and the files sealing rewrote; null when it keeps it.
   */
  sealed?(loc: string, rel: string, digests: ReadonlyMap<string, string>, rewritten: readonly string[]): string | null;
  /** True when `sealed` needs the plain sha256 of every file below the output (chunked tree digests are not). */
  readonly needsPlainDigests?: boolean;
}

/** Why an output that must be a regular file is not one, or null when it is. */
export function notAFile(st: Stats): string | null {
  return st.isFile() ? null : st.isDirectory() ? "it is a directory, not a file" : "it is not a regular file";
}

/** Why an output that must be a directory is not one, or null when it is. */
export function notADirectory(st: Stats): string | null {
  return st.isDirectory() ? null : "it is not a directory";
}
