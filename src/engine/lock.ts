/**
 * Lock files: one per store path being realized. Created with O_EXCL and holding the owner (pid and start time), so a
 * lock whose owner died is recognized and broken. A second process building the same plan waits for the lock, then
 * finds the entry complete and reuses it.
 */
import { closeSync, fstatSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { writeAll } from "./store-fs.js";
import { formatOwner, ownerAlive, parseOwner, selfOwner, type Owner } from "./owner.js";

/** A held lock; release it once. */
export interface Lock {
  readonly path: string;
  release(): void;
}

/** How long a lock file may stay empty (being written) before it counts as torn. */
const TORN_MS = 5000;
const POLL_MS = 50;

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeAll(fd, Buffer.from(formatOwner(selfOwner())));
  } catch (e) {
    closeSync(fd);
    unlinkSync(path); // a torn lock would make others wait for nothing
    throw e;
  }
  closeSync(fd);
  return true;
}

/** The owner of a lock file; `undefined` when the file is gone, null when it is torn. */
function readLock(path: string): { owner: Owner | null; ino: number; ageMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const text = readFileSync(fd, "utf8");
    return { owner: parseOwner(text), ino: st.ino, ageMs: Date.now() - st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * Breaks a lock whose owner is dead. It is renamed aside first and checked to be the same file (same inode) as the
 * one found dead, so a fresh lock taken meanwhile by another process is put back rather than removed.
 */
function breakStale(path: string, ino: number): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it
  }
  try {
    if (statSync(aside).ino !== ino) {
      try {
        linkSync(aside, path);
      } catch {
        // yet another lock exists now; the rename-based install keeps the store consistent regardless
      }
    }
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // already gone
    }
  }
}

/** Takes the lock without waiting; null when a live process holds it. */
export function tryLock(path: string): Lock | null {
  for (;;) {
    if (tryCreate(path)) return held(path);
    const found = readLock(path);
    if (found === undefined) continue; // released meanwhile
    if (found.owner === null ? found.ageMs < TORN_MS : ownerAlive(found.owner)) return null;
    breakStale(path, found.ino);
  }
}

/** The live owner of a lock, or null. */
export function lockOwner(path: string): Owner | null {
  const found = readLock(path);
  if (!found || !found.owner) return null;
  return ownerAlive(found.owner) ? found.owner : null;
}

function held(path: string): Lock {
  let released = false;
  const mine = formatOwner(selfOwner());
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, "utf8") === mine) unlinkSync(path);
      } catch {
        // gone already
      }
    },
  };
}

/**
 * Takes the lock, waiting while a live process holds it. `onWait` is told once who holds it; `shouldStop` is
 * polled so an interrupt ends the wait (the function then returns null).
 */
export async function acquireLock(path: string, opts: { onWait?: (owner: Owner | null) => void; shouldStop?: () => boolean } = {}): Promise<Lock | null> {
  let told = false;
  for (;;) {
    const lock = tryLock(path);
    if (lock) return lock;
    if (!told) {
      told = true;
      opts.onWait?.(lockOwner(path));
    }
    if (opts.shouldStop?.()) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (opts.shouldStop?.()) return null;
  }
}
