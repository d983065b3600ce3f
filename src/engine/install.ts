/**
 * Installing a store entry once: every kind of entry (an imported path, a runtime artifact, a build) enters the store
 * by the same sequence: lock the entry, look again whether it is valid, claim a temporary path, produce the entry
 * there, and install it atomically (rename, then metadata). A failure or an interrupt leaves nothing in the store; a
 * full disk, a read-only store or a name too long is a clear error (store-errors.ts). A broken entry (a torn record, a
 * failed cheap check) counts as missing: it is made again and replaces the broken one under the lock.
 */
import { acquireLock, type Lock } from "./lock.js";
import { interrupted } from "./interrupt.js";
import type { RealizeOptions } from "./options.js";
import { storeFault } from "./store-errors.js";
import type { EntryMeta, StorePath } from "./store.js";

/** How one entry is made, for `installOnce`. */
export interface Production<R> {
  /** The entry's name in the `waiting` event, when another process holds its lock. */
  readonly name: string;
  /** Runs under the lock once the entry is known to be missing, before a temporary path is claimed. */
  prepare?(): Promise<void> | void;
  /** Makes the entry at `temp` (claimed, not yet created); what it returns goes to `describe`. */
  produce(temp: string): Promise<R> | R;
  /** Whether a failed `produce` keeps its temporary output for inspection (--keep-failed); default: it does not. */
  keep?(e: unknown): boolean;
  /** Hears a failed `produce`, once its temporary output is released. */
  failed?(e: unknown): void;
  /** The entry's metadata, once produced; runs before the entry is installed (a throw installs nothing). */
  describe(temp: string, made: R): Promise<EntryMeta> | EntryMeta;
}

/** Takes the lock of entry `p`, reporting a wait on another process; throws the interrupted error if a signal stops the wait. */
async function lockEntry(p: StorePath, name: string, opts: Pick<RealizeOptions, "store" | "emit" | "interrupt">): Promise<Lock> {
  const lock = await acquireLock(opts.store.lockPath(p), {
    onWait: (owner) => opts.emit({ event: "waiting", name, storePath: p, pid: owner?.pid ?? null }),
    shouldStop: () => opts.interrupt.signal !== null,
  });
  if (!lock) throw interrupted(opts.interrupt.signal ?? "SIGINT");
  return lock;
}

/**
 * Puts entry `p` in the store unless it is valid there already: under its lock, in a temporary path released on
 * failure and on a forced exit (a second signal). Returns what `produce` made, or null when the entry was valid.
 */
export async function installOnce<R>(p: StorePath, opts: Pick<RealizeOptions, "store" | "emit" | "interrupt">, production: Production<R>): Promise<{ readonly made: R } | null> {
  if (opts.store.isValid(p)) return null;
  try {
    return await installLocked(p, opts, production);
  } catch (e) {
    throw storeFault(e, opts.store.dir, `install ${p}`);
  }
}

async function installLocked<R>(p: StorePath, opts: Pick<RealizeOptions, "store" | "emit" | "interrupt">, production: Production<R>): Promise<{ readonly made: R } | null> {
  const { store } = opts;
  const lock = await lockEntry(p, production.name, opts);
  try {
    if (store.isValid(p)) return null;
    await production.prepare?.();
    const temp = store.claimTemp(p);
    const drop = opts.interrupt.addCleanup(() => store.releaseTemp(temp));
    let released = false;
    try {
      let made: R;
      try {
        made = await production.produce(temp);
      } catch (e) {
        released = true;
        store.releaseTemp(temp, production.keep?.(e) ?? false);
        production.failed?.(e);
        throw e;
      }
      store.install(temp, p, await production.describe(temp, made));
      return { made };
    } finally {
      if (!released) store.releaseTemp(temp);
      drop();
    }
  } finally {
    lock.release();
  }
}
