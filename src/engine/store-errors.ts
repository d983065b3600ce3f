/**
 * The file-system failures a store can meet (a full disk, a read-only mount, a name too long, no permission), turned
 * into clear errors naming the store, what was being done and what to do about it, instead of "internal error".
 */
import { ExitCode, MbError } from "../core/errors.js";

const ADVICE: Record<string, { what: string; hint: string }> = {
  ENOSPC: { what: "the disk is full", hint: "free some space (`mb gc` removes unreachable entries), or pass another store with --store or MB_STORE" },
  EDQUOT: { what: "the disk quota is exhausted", hint: "free some space (`mb gc` removes unreachable entries), or pass another store with --store or MB_STORE" },
  EROFS: { what: "the store is on a read-only file system", hint: "pass a writable store with --store or MB_STORE (a read-only store serves only cache hits)" },
  EACCES: { what: "permission denied", hint: "fix the store's permissions, or pass a store you own with --store or MB_STORE" },
  EPERM: { what: "operation not permitted", hint: "fix the store's permissions, or pass a store you own with --store or MB_STORE" },
  ENAMETOOLONG: { what: "a file name is too long", hint: "use a store directory with a shorter path (--store or MB_STORE), or a shorter builder name" },
};

/** The errno code of a file-system error, if it is one of those the store explains. */
export function storeErrno(e: unknown): string | null {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && code in ADVICE ? code : null;
}

/** `e` as a clear store error (exit 1) when it is a known file-system failure; anything else is returned unchanged. */
export function storeFault(e: unknown, storeDir: string, doing: string): unknown {
  if (e instanceof MbError) return stepOnFullDisk(e, storeDir);
  const code = storeErrno(e);
  if (code === null) return e;
  const advice = ADVICE[code]!;
  const path = (e as NodeJS.ErrnoException).path;
  return new MbError("store.io", `cannot ${doing} in the store ${storeDir}: ${advice.what} (${code}${path ? ` at ${path}` : ""}); nothing partial was kept`, {
    exitCode: ExitCode.problems,
    hint: advice.hint,
  });
}

/** A failed step whose output says the disk is full gets the store's full-disk hint (its build directory is there). */
function stepOnFullDisk(e: MbError, storeDir: string): MbError {
  if (!/No space left on device|Disk quota exceeded/.test(e.message)) return e;
  const hint = `the disk of the store ${storeDir} (where builds run) may be full: ${ADVICE.ENOSPC!.hint}`;
  return new MbError(e.code, e.message, { exitCode: e.exitCode, issues: e.issues, hint: e.hint ? `${hint}; ${e.hint}` : hint });
}
