/**
 * One file's sha256, taken so that it can be trusted later without reading the file again: the file's stamp (device,
 * inode, size, mode, mtime and ctime in nanoseconds) before and after the read must agree, and its ctime must lie
 * far enough in the past that a later write could not keep the same ctime (file times advance by clock ticks of at
 * most 10 ms). While the stamp holds, the digest holds. Also notes whether the bytes contain a given needle (a
 * build's temporary output path, which sealing rewrites). Used by the main thread and by the hashing workers.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type BigIntStats } from "node:fs";
import { createHash } from "node:crypto";

/** How old a file's ctime must be, when its read starts, for the digest to be trusted while the stamp holds. */
export const TRUST_MARGIN_NS = 50_000_000n;

/** The stamp of a file: equal stamps mean unchanged content, once the trust margin has passed. */
export function stampOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mode}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Now, in nanoseconds of the wall clock that file times use. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** True when a file changed so recently that a digest read now could not be trusted by its stamp later. */
export function tooRecent(st: BigIntStats, now = nowNs()): boolean {
  return now - st.ctimeNs < TRUST_MARGIN_NS;
}

/** What hashing one file found. */
export interface FileDigest {
  readonly digest: string;
  readonly size: number;
  /** Whether the needle occurs in the bytes. */
  readonly found: boolean;
  /** The stamp before the read. */
  readonly stamp: string;
  /** True when the stamp did not change during the read and the ctime was older than the trust margin. */
  readonly trusted: boolean;
}

const BUFFER = 4 << 20;
let buf: Buffer | undefined;

/** Hashes a regular file (symlinks followed), searching it for `needle` (empty: no search). */
export function digestFile(path: string, needle: Buffer): FileDigest {
  buf ??= Buffer.allocUnsafe(BUFFER);
  const before = statSync(path, { bigint: true });
  const started = nowNs();
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  let found = false;
  let size = 0;
  const keep = needle.length - 1;
  let tail = Buffer.alloc(0);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, BUFFER, null);
      if (n === 0) break;
      const data = buf.subarray(0, n);
      h.update(data);
      size += n;
      if (needle.length > 0 && !found) {
        if (data.indexOf(needle) >= 0) found = true;
        else if (tail.length > 0 && Buffer.concat([tail, data.subarray(0, keep)]).indexOf(needle) >= 0) found = true;
        else tail = Buffer.from(data.subarray(Math.max(0, n - keep)));
      }
    }
    const after = fstatSync(fd, { bigint: true });
    const stamp = stampOf(before);
    return { digest: h.digest("hex"), size, found, stamp, trusted: stampOf(after) === stamp && !tooRecent(before, started) };
  } finally {
    closeSync(fd);
  }
}
