/**
 * File digests as the tree hash records them, taken so that they can be trusted later without reading the file
 * again: the file's stamp (device, inode, size, mode, mtime and ctime in nanoseconds) before and after the read must
 * agree, and its ctime must lie far enough in the past that a later write could not keep the same ctime (file times
 * advance by clock ticks of at most 10 ms). While the stamp holds, the digest holds. Each read also notes whether the
 * bytes contain a given needle (a build's temporary output path, which sealing rewrites). Used by the main thread and
 * by the hashing workers.
 *
 * A file's tree digest is the sha256 of its bytes, except for files of CHUNKED_FROM bytes or more: theirs is
 * `chunked:` and the sha256 of the concatenated sha256 digests of their CHUNK_BYTES chunks, so that several threads
 * can hash one large file at once.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type BigIntStats } from "node:fs";
import { createHash, type Hash } from "node:crypto";

/** How old a file's ctime must be, when its read starts, for the digest to be trusted while the stamp holds. */
export const TRUST_MARGIN_NS = 50_000_000n;
/**
 * Files at least this large have a chunked tree digest. Below it, one sha256 serves as both the tree digest and the
 * plain digest an OCI blob is named by, so layer blobs (and the archives that hold them) are read and hashed once.
 */
export const CHUNKED_FROM = 1 << 30;
/** The chunk size of chunked tree digests. */
export const CHUNK_BYTES = 16 << 20;

/** The stamp of a file: equal stamps mean unchanged content, once the trust margin has passed. */
export function stampOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mode}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Now, in nanoseconds of the wall clock that file times use. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * True when a digest read now could not be trusted by the file's stamp later: the file changed within the trust
 * margin, or its file system keeps whole-second times (a ctime with no nanoseconds), where a rewrite within the same
 * second keeps the stamp.
 */
export function tooRecent(st: BigIntStats, now = nowNs()): boolean {
  return now - st.ctimeNs < TRUST_MARGIN_NS || st.ctimeNs % 1_000_000_000n === 0n;
}

/** The tree digest of a chunked file from its chunk digests (hex), in order. */
export function combineChunks(chunks: readonly string[]): string {
  return `chunked:${createHash("sha256").update(Buffer.from(chunks.join(""), "hex")).digest("hex")}`;
}

/** Streams bytes into the sha256 digests of consecutive CHUNK_BYTES chunks. */
class ChunkHasher {
  private h = createHash("sha256");
  private inChunk = 0;
  readonly chunks: string[] = [];

  update(data: Buffer): void {
    for (let off = 0; off < data.length; ) {
      const take = Math.min(CHUNK_BYTES - this.inChunk, data.length - off);
      this.h.update(data.subarray(off, off + take));
      this.inChunk += take;
      off += take;
      if (this.inChunk === CHUNK_BYTES) this.close();
    }
  }

  private close(): void {
    this.chunks.push(this.h.digest("hex"));
    this.h = createHash("sha256");
    this.inChunk = 0;
  }

  /** The digests of every chunk, the last (partial) one included. */
  finish(): string[] {
    if (this.inChunk > 0) this.close();
    return this.chunks;
  }
}

/** Streams bytes into a file's tree digest (and its plain sha256, when wanted or when they are the same). */
export class TreeDigester {
  private readonly plain: Hash | null;
  private readonly chunked: ChunkHasher | null;

  constructor(size: number, wantPlain: boolean) {
    const chunked = size >= CHUNKED_FROM;
    this.plain = wantPlain || !chunked ? createHash("sha256") : null;
    this.chunked = chunked ? new ChunkHasher() : null;
  }

  update(data: Buffer): void {
    this.plain?.update(data);
    this.chunked?.update(data);
  }

  /** The tree digest, and the plain sha256 when it was computed. */
  finish(): { tree: string; sha256: string | null } {
    const sha256 = this.plain ? this.plain.digest("hex") : null;
    return { tree: this.chunked ? combineChunks(this.chunked.finish()) : sha256!, sha256 };
  }
}

/** What reading a file (or some of its chunks) found. */
interface ReadFacts {
  readonly size: number;
  /** Whether the needle occurs in the bytes read. */
  readonly found: boolean;
  /** The stamp before the read. */
  readonly stamp: string;
  /** True when the stamp did not change during the read and the ctime was older than the trust margin. */
  readonly trusted: boolean;
}

/** A whole file's digests. */
export interface FileDigest extends ReadFacts {
  readonly tree: string;
  /** The plain sha256, when asked for (always for files below CHUNKED_FROM). */
  readonly sha256: string | null;
}

/** The digests of some chunks of a file. */
export interface ChunkDigests extends ReadFacts {
  readonly chunks: string[];
}

const BUFFER = 4 << 20;
let buf: Buffer | undefined;

/** Searches `data` for `needle`, given the `tail` kept from the data before it; returns [found, next tail]. */
function search(needle: Buffer, tail: Buffer, data: Buffer): [boolean, Buffer] {
  if (needle.length === 0) return [false, tail];
  const keep = needle.length - 1;
  if (data.indexOf(needle) >= 0) return [true, tail];
  if (tail.length > 0 && Buffer.concat([tail, data.subarray(0, keep)]).indexOf(needle) >= 0) return [true, tail];
  const next = data.length >= keep ? data.subarray(data.length - keep) : Buffer.concat([tail, data]).subarray(-keep);
  return [false, Buffer.from(next)];
}

/**
 * Reads bytes [from, to) of a file (to = Infinity: to the end) and hands each piece to `consume` with the file's size
 * as stat saw it before the read; searches [from, to + needle length - 1) for the needle.
 */
function readRange(path: string, needle: Buffer, from: number, to: number, consume: (data: Buffer, size: number) => void): ReadFacts {
  buf ??= Buffer.allocUnsafe(BUFFER);
  const before = statSync(path, { bigint: true });
  const started = nowNs();
  const declared = Number(before.size);
  const fd = openSync(path, "r");
  const end = Math.min(to, declared) + Math.max(0, needle.length - 1);
  let found = false;
  let tail: Buffer = Buffer.alloc(0);
  let pos = from;
  let size = 0;
  try {
    while (pos < end || to === Infinity) {
      const n = readSync(fd, buf, 0, to === Infinity ? BUFFER : Math.min(BUFFER, end - pos), pos);
      if (n === 0) break;
      const data = buf.subarray(0, n);
      const hashed = Math.max(0, Math.min(n, to - pos));
      if (hashed > 0) consume(data.subarray(0, hashed), declared);
      size += hashed;
      if (!found) [found, tail] = search(needle, tail, data);
      pos += n;
    }
    const after = fstatSync(fd, { bigint: true });
    const stamp = stampOf(before);
    const whole = to === Infinity ? size === declared : true;
    return { size, found, stamp, trusted: whole && stampOf(after) === stamp && !tooRecent(before, started) };
  } finally {
    closeSync(fd);
  }
}

/** A whole regular file's digests (symlinks followed), searching it for `needle` (empty: no search). */
export function digestFile(path: string, needle: Buffer, wantPlain = false): FileDigest {
  let d: TreeDigester | null = null;
  const facts = readRange(path, needle, 0, Infinity, (data, size) => {
    d ??= new TreeDigester(size, wantPlain);
    d.update(data);
  });
  const { tree, sha256 } = (d ?? new TreeDigester(0, wantPlain)).finish();
  return { ...facts, tree, sha256 };
}

/** The digests of `count` chunks of a file from chunk `first` on (for hashing one large file on several threads). */
export function digestChunks(path: string, needle: Buffer, first: number, count: number): ChunkDigests {
  const c = new ChunkHasher();
  const facts = readRange(path, needle, first * CHUNK_BYTES, (first + count) * CHUNK_BYTES, (data) => c.update(data));
  return { ...facts, chunks: c.finish() };
}
