/**
 * Sealing a build output in place: canonical form (files 0444 or 0555, directories 0555, mtime 1, no setuid or
 * setgid, no hard links shared with anything outside), self-references to the temporary output path rewritten to the
 * final store path, and the format-2 tree hash (tree-hash.ts) with every file's digest.
 *
 * Large files are digested by worker threads, several at once; and while the steps still run, a Speculator digests
 * large files that earlier steps finished writing, so that sealing can reuse those digests as long as the file's
 * stamp has not changed since (see file-digest.ts for when a stamp can be trusted).
 */
import { availableParallelism } from "node:os";
import { chmodSync, copyFileSync, constants as fsConstants, lstatSync, lutimesSync, openSync, readdirSync, readlinkSync, readSync, renameSync, symlinkSync, unlinkSync, utimesSync, writeSync, closeSync, fstatSync, type BigIntStats } from "node:fs";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { CHUNK_BYTES, CHUNKED_FROM, combineChunks, digestFile, stampOf, tooRecent, type ChunkDigests, type FileDigest } from "./file-digest.js";
import { HashPool, LARGE_FILE } from "./hash-pool.js";
import { canonicalMode, CANONICAL_MTIME, CHUNK, chunk, fileRecord, SpecialFileError, symlinkHeader, type Rewrite, type SealResult } from "./tree-hash.js";

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
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        if (++seen > this.maxEntries) {
          this.stop();
          return;
        }
        const path = join(dir, name);
        let st: BigIntStats;
        try {
          st = lstatSync(path, { bigint: true });
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(path);
        else if (st.isFile() && st.size >= BigInt(LARGE_FILE)) {
          const stamp = stampOf(st);
          if (this.stamps.get(path) === stamp) continue;
          if (tooRecent(st)) continue; // looked at again after the next step
          this.stamps.set(path, stamp);
          this.known.set(
            path,
            this.pool.digest(path, this.needle, this.plainFor(relative(this.root, path))).then(
              (d) => (d.trusted && d.stamp === stamp ? d : null),
              () => null,
            ),
          );
        }
        if (this.stopped) return;
      }
    };
    walk(this.root);
  }

  /** Stops scanning; digests already started still complete. */
  stop(): void {
    this.stopped = true;
  }
}

interface FileNode {
  readonly kind: "file";
  readonly path: string;
  readonly rel: string;
  readonly mode: number;
  size: number;
  digest: Digests | Promise<Digests>;
}
interface DirNode {
  readonly kind: "dir";
  readonly path: string;
  readonly mode: number;
  readonly children: [string, Node][];
}
interface LinkNode {
  readonly kind: "symlink";
  readonly path: string;
  readonly target: string;
}
type Node = FileNode | DirNode | LinkNode;

/** Gives a hard-linked file its own copy, so that nothing done to the output reaches a file outside it. */
function breakHardLink(path: string): void {
  const tmp = `${path}.mb-unlink-${process.pid}`;
  copyFileSync(path, tmp, fsConstants.COPYFILE_EXCL);
  renameSync(tmp, path);
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

/** What sealing needs besides the output: the rewrite, the digests taken during the build, and the workers. */
export interface SealOptions {
  readonly rewrite?: Rewrite;
  readonly known?: KnownDigests;
  readonly pool?: HashPool;
  /** Files (by path relative to the root) whose plain sha256 is wanted even when their tree digest is chunked. */
  readonly plainFor?: (rel: string) => boolean;
}

/** What sealing knows of one file: its tree digest and, when computed, the sha256 of its bytes. */
interface Digests {
  readonly tree: string;
  readonly sha256: string | null;
}

/**
 * Seals a build output in place and returns its format-2 tree hash, the digest of every regular file (by path
 * relative to the root), and what it rewrote.
 */
export async function sealTree(root: string, opts: SealOptions = {}): Promise<SealResult> {
  const rw = opts.rewrite;
  const needle = rw?.from ?? Buffer.alloc(0);
  const rewritten: string[] = [];
  const digests = new Map<string, string>();
  let files = 0;
  let bytes = 0;
  let reused = 0;

  const fileDigest = (path: string, rel: string, st: BigIntStats): Digests | Promise<Digests> => {
    const plain = opts.plainFor?.(rel) ?? false;
    const stamp = stampOf(st);
    const inline = (): Digests => {
      const d = digestFile(path, needle, plain);
      if (!d.found || !rw) return d;
      rewriteInPlace(path, rw);
      rewritten.push(rel);
      return digestFile(path, Buffer.alloc(0), plain);
    };
    // A digest taken while steps were running counts only if it can be trusted by its stamp; one taken now (every
    // step has ended) only needs the stamp to be the one seen here.
    const early = opts.known?.get(path);
    if (early) {
      return early.then((d) => {
        if (d && d.trusted && d.stamp === stamp && !d.found && d.size === Number(st.size) && (d.sha256 !== null || !plain)) {
          reused++;
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

  const visit = (path: string, rel: string): Node => {
    let st = lstatSync(path, { bigint: true });
    if (st.isSymbolicLink()) {
      let target = readlinkSync(path);
      if (rw && target.includes(rw.from.toString())) {
        target = target.replaceAll(rw.from.toString(), rw.to.toString());
        unlinkSync(path);
        symlinkSync(target, path);
        rewritten.push(rel);
      }
      return { kind: "symlink", path, target };
    }
    if (st.isFile()) {
      // A hard link may share its inode with a file outside the output: give the output its own copy before any
      // chmod, utimes or rewrite touches the inode.
      if (st.nlink > 1n) {
        breakHardLink(path);
        st = lstatSync(path, { bigint: true });
      }
      files++;
      bytes += Number(st.size);
      return { kind: "file", path, rel, mode: Number(st.mode), size: Number(st.size), digest: fileDigest(path, rel, st) };
    }
    if (st.isDirectory()) {
      const mode = Number(st.mode);
      if ((mode & 0o700) !== 0o700) chmodSync(path, mode | 0o700);
      const children: [string, Node][] = readdirSync(path)
        .sort()
        .map((name) => [name, visit(join(path, name), rel === "" ? name : join(rel, name))]);
      return { kind: "dir", path, mode, children };
    }
    throw new SpecialFileError(rel === "" ? "." : rel, Number(st.mode));
  };

  const top = visit(root, "");
  // Wait for every digest (workers and the Speculator's), then fold the tree and put it in canonical form.
  const pending: Promise<void>[] = [];
  const settle = (n: Node): void => {
    if (n.kind === "file" && n.digest instanceof Promise) {
      pending.push(
        n.digest.then((d) => {
          n.digest = d;
        }),
      );
    } else if (n.kind === "dir") n.children.forEach(([, c]) => settle(c));
  };
  settle(top);
  await Promise.all(pending);

  const h = createHash("sha256");
  const fold = (n: Node): void => {
    if (n.kind === "symlink") {
      h.update(symlinkHeader(n.target));
      lutimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    } else if (n.kind === "file") {
      const d = n.digest as Digests;
      if (d.sha256 !== null) digests.set(n.rel, d.sha256);
      h.update(fileRecord((n.mode & 0o111) !== 0, n.size, d.tree));
      chmodSync(n.path, canonicalMode(n.mode, false));
      utimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    } else {
      h.update("dir\0");
      for (const [name, c] of n.children) {
        h.update(`entry\0${name}\0`);
        fold(c);
      }
      h.update("end\0");
      chmodSync(n.path, 0o555);
      utimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    }
  };
  fold(top);
  return { hash: h.digest("hex"), files, bytes, rewritten, digests, reused };
}
