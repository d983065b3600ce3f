/**
 * Speculative digesting: while a build's steps still run, large files that earlier steps finished writing are
 * digested on worker threads, so that sealing can reuse those digests as long as the file's stamp has not changed
 * since (see file-digest.ts for when a stamp can be trusted).
 */
import { availableParallelism } from "node:os";
import { lstatSync, readdirSync, type BigIntStats, type Dirent } from "node:fs";
import { join, relative } from "node:path";
import { stampOf, tooRecent, type FileDigest } from "./file-digest.js";
import { HashPool, LARGE_FILE } from "./hash-pool.js";

/** Digests of large files taken while the build ran, by path; a promise while the worker is still reading. */
export type KnownDigests = Map<string, Promise<FileDigest | null>>;

/**
 * Digests large files of a build output between steps, on worker threads, so that sealing finds them done. A scan
 * runs only when a step has just ended: the driver has killed everything that step left running (its process group,
 * with SIGKILL), so the only processes alive are the next step's, which have only just started; any write they make
 * after the scan's stat moves the file's ctime (a write updates it as it begins, a write through a new shared mapping
 * at its first fault). A file changed within the trust margin of the scan is left for the next scan. Each scan walks
 * the output without following symlinks, and gives up on outputs of more than `maxEntries` entries (the walks would
 * cost more than they save).
 */
export class Speculator {
  readonly known: KnownDigests = new Map();
  private readonly stamps = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly root: string,
    private readonly needle: Buffer,
    private readonly pool: HashPool,
    /** As in SealOptions: files whose plain sha256 is wanted too. */
    private readonly plainFor: (rel: string) => boolean = () => false,
    private readonly maxEntries = 20_000,
  ) {}

  /** True when this machine has a core to spare for it. */
  static worthwhile(): boolean {
    return availableParallelism() >= 2;
  }

  /** Looks for large finished files and starts digesting them. */
  scan(): void {
    if (this.stopped) return;
    let seen = 0;
    const walk = (dir: string): void => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (++seen > this.maxEntries) {
          this.stop();
          return;
        }
        const path = join(dir, entry.name);
        // Only regular files are stat'ed: a rootfs is mostly symlinks, which are never digested.
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) this.consider(path);
        if (this.stopped) return;
      }
    };
    walk(this.root);
  }

  /** Starts digesting a regular file of the output when it is large and has not changed since it was last looked at. */
  private consider(path: string): void {
    let st: BigIntStats;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      return;
    }
    if (!st.isFile() || st.size < BigInt(LARGE_FILE)) return;
    const stamp = stampOf(st);
    if (this.stamps.get(path) === stamp) return;
    if (tooRecent(st)) return; // looked at again after the next step
    this.stamps.set(path, stamp);
    this.known.set(
      path,
      this.pool.digest(path, this.needle, this.plainFor(relative(this.root, path))).then(
        (d) => (d.trusted && d.stamp === stamp ? d : null),
        () => null,
      ),
    );
  }

  /** Stops scanning; digests already started still complete. */
  stop(): void {
    this.stopped = true;
  }
}
