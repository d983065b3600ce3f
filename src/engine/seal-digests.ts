/**
 * The digest policy of sealing: which digest of a file to use (one the Speculator took during the steps while the
 * file's stamp still matches, one taken now by worker threads, the chunks of one large file split across all the
 * workers, or one taken inline) and, when a file holds the temporary output path, rewriting it in place to the final
 * store path before digesting it again.
 */
import { chmodSync, closeSync, fstatSync, openSync, readSync, writeSync, type BigIntStats } from "node:fs";
import { CHUNK_BYTES, CHUNKED_FROM, combineChunks, digestFile, stampOf, type ChunkDigests } from "./file-digest.js";
import { HashPool, LARGE_FILE } from "./hash-pool.js";
import type { KnownDigests } from "./speculator.js";
import { CHUNK, chunk, type Rewrite } from "./tree-hash.js";

/** What sealing needs besides the output: the rewrite, the digests taken during the build, and the workers. */
export interface SealOptions {
  readonly rewrite?: Rewrite;
  readonly known?: KnownDigests;
  readonly pool?: HashPool;
  /** Files (by path relative to the root) whose plain sha256 is wanted even when their tree digest is chunked. */
  readonly plainFor?: (rel: string) => boolean;
}

/** What sealing knows of one file: its tree digest and, when computed, the sha256 of its bytes. */
export interface Digests {
  readonly tree: string;
  readonly sha256: string | null;
}

/** What digesting did besides digesting: the files it rewrote (relative paths) and how many early digests it reused. */
export interface DigestTally {
  readonly rewritten: string[];
  reused: number;
}

/** Replaces every occurrence of `rw.from` by `rw.to` in a file, in place (a same-length replacement). */
function rewriteInPlace(path: string, rw: Rewrite): void {
  const needle = rw.from;
  const keep = needle.length - 1;
  const buf = chunk();
  const fd = openSync(path, "r");
  let wfd = -1;
  let pending: Buffer = Buffer.alloc(0);
  let pos = 0; // file offset of pending[0]
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      const data = pending.length === 0 ? buf.subarray(0, n) : Buffer.concat([pending, buf.subarray(0, n)]);
      for (let i = data.indexOf(needle); i >= 0; i = data.indexOf(needle, i + needle.length)) {
        if (wfd < 0) {
          const st = fstatSync(fd);
          if ((st.mode & 0o200) === 0) chmodSync(path, st.mode | 0o200);
          wfd = openSync(path, "r+");
        }
        rw.to.copy(data, i);
        writeSync(wfd, rw.to, 0, rw.to.length, pos + i);
      }
      if (n === 0) break;
      const cut = Math.max(0, data.length - keep);
      pending = Buffer.from(data.subarray(cut));
      pos += cut;
    }
  } finally {
    closeSync(fd);
    if (wfd >= 0) closeSync(wfd);
  }
}

/** The function that digests one regular file of an output being sealed (at `path`, `rel` to the root, stat `st`). */
export function fileDigester(opts: SealOptions, tally: DigestTally): (path: string, rel: string, st: BigIntStats) => Digests | Promise<Digests> {
  const rw = opts.rewrite;
  const needle = rw?.from ?? Buffer.alloc(0);
  return (path: string, rel: string, st: BigIntStats): Digests | Promise<Digests> => {
    const plain = opts.plainFor?.(rel) ?? false;
    const stamp = stampOf(st);
    const inline = (): Digests => {
      const d = digestFile(path, needle, plain);
      if (!d.found || !rw) return d;
      rewriteInPlace(path, rw);
      tally.rewritten.push(rel);
      return digestFile(path, Buffer.alloc(0), plain);
    };
    // A digest taken while steps were running counts only if it can be trusted by its stamp; one taken now (every
    // step has ended) only needs the stamp to be the one seen here.
    const early = opts.known?.get(path);
    if (early) {
      return early.then((d) => {
        if (d && d.trusted && d.stamp === stamp && !d.found && d.size === Number(st.size) && (d.sha256 !== null || !plain)) {
          tally.reused++;
          return d;
        }
        return inline();
      });
    }
    const pool = opts.pool;
    if (!pool || st.size < BigInt(LARGE_FILE)) return inline();
    const size = Number(st.size);
    if (size >= CHUNKED_FROM && !plain && pool.size > 1) {
      // One large file on every worker: each hashes a run of its chunks.
      const total = Math.ceil(size / CHUNK_BYTES);
      const per = Math.ceil(total / pool.size);
      const parts: Promise<ChunkDigests>[] = [];
      for (let first = 0; first < total; first += per) parts.push(pool.chunks(path, needle, first, Math.min(per, total - first)));
      return Promise.all(parts).then(
        (ds) =>
          ds.every((d) => d.stamp === stamp && !d.found) && ds.reduce((n, d) => n + d.size, 0) === size
            ? { tree: combineChunks(ds.flatMap((d) => d.chunks)), sha256: null }
            : inline(),
        () => inline(),
      );
    }
    return pool.digest(path, needle, plain).then((d) => (d.stamp === stamp && !d.found && d.size === size ? d : inline()), () => inline());
  };
}
