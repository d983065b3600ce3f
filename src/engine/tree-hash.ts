/**
 * Content hashes of files and directory trees, and the walks that produce store entries with that same hash: sealing
 * a build output in place (see seal.ts) and copying a local input in.
 *
 * The tree hash (format 2) is sha256 over a NAR-like serialization in which each file appears as its type,
 * executable bit, size and its tree digest (the sha256 of its bytes; for files of 1 GiB or more, the sha256 of its
 * 16 MiB chunks' digests: see file-digest.ts); symlinks as their target; directories as their sorted entries.
 * Because a file enters the tree hash only through its own digest, files can be hashed apart: in parallel, and
 * while the build is still running. Format 1 (entries recorded with metadata version 1) streamed the bytes
 * themselves; `hashTreeV1` still verifies such entries.
 */
import {
  chmodSync, closeSync, constants as fsConstants, copyFileSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync,
  utimesSync, writeSync,
} from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { digestFile, TreeDigester } from "./file-digest.js";
import { join } from "node:path";

export const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

/** A read buffer of CHUNK bytes, shared by the synchronous walks of this thread. */
export function chunk(): Buffer {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  return buffer;
}

function hashFileInto(h: Hash, path: string): void {
  const buf = chunk();
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** A digest (sha256 unless told) of a file's bytes, as hex. */
export function hashFile(path: string, algorithm = "sha256"): string {
  const h = createHash(algorithm);
  hashFileInto(h, path);
  return h.digest("hex");
}

const NO_NEEDLE = Buffer.alloc(0);

export const symlinkHeader = (target: string) => `symlink\0${target}\0`;
const fileHeader = (executable: boolean, size: number) => `file\0${executable ? "x" : "-"}\0${size}\0`;

/** The serialization of one regular file in a format-2 tree: header, the sha256 of its bytes, terminator. */
export function fileRecord(executable: boolean, size: number, digest: string): string {
  return `${fileHeader(executable, size)}${digest}\0`;
}

/** Feeds a tree's serialization into `h`; `file` feeds one regular file's part (the only part the formats differ in). */
function walk(h: Hash, path: string, file: (h: Hash, path: string, executable: boolean, size: number) => void): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    h.update(symlinkHeader(readlinkSync(path)));
  } else if (st.isFile()) {
    file(h, path, (st.mode & 0o111) !== 0, st.size);
  } else if (st.isDirectory()) {
    h.update("dir\0");
    for (const name of readdirSync(path).sort()) {
      h.update(`entry\0${name}\0`);
      walk(h, join(path, name), file);
    }
    h.update("end\0");
  } else {
    h.update(`other\0${st.mode}\0`);
  }
}

/** Format 2: a file is its header and its tree digest. */
function fileV2(h: Hash, path: string, executable: boolean, size: number): void {
  h.update(fileRecord(executable, size, digestFile(path, NO_NEEDLE).tree));
}

/** Format 1: a file is its header and its bytes. */
function fileV1(h: Hash, path: string, executable: boolean, size: number): void {
  h.update(fileHeader(executable, size));
  hashFileInto(h, path);
  h.update("\0");
}

/** Content hash of a file or a whole tree (format 2): the same bytes, modes and names give the same hash, wherever they live. */
export function hashTree(path: string): string {
  const h = createHash("sha256");
  walk(h, path, fileV2);
  return h.digest("hex");
}

/** The format-1 tree hash (file bytes streamed into one hash), for entries recorded with metadata version 1. */
export function hashTreeV1(path: string): string {
  const h = createHash("sha256");
  walk(h, path, fileV1);
  return h.digest("hex");
}

// ---- canonical form ------------------------------------------------------------------------------------------

/** The canonical mode of a store file: 0555 when any execute bit is set, else 0444; directories are 0555. */
export function canonicalMode(mode: number, isDirectory: boolean): number {
  return isDirectory || (mode & 0o111) !== 0 ? 0o555 : 0o444;
}

/** The mtime of every store path, in seconds (as Nix). */
export const CANONICAL_MTIME = 1;

/** A byte string to replace by another of the same length. */
export interface Rewrite {
  readonly from: Buffer;
  readonly to: Buffer;
}

/** What sealing found. */
export interface SealResult {
  readonly hash: string;
  readonly files: number;
  readonly bytes: number;
  /** Paths (relative to the root) in which a self-reference was rewritten. */
  readonly rewritten: string[];
  /** The sha256 of every regular file, by path relative to the root. */
  readonly digests: ReadonlyMap<string, string>;
  /** How many file digests were taken while the steps ran (and still held when sealing). */
  readonly reused: number;
}

/** A file type the store does not hold (device, fifo, socket). */
export class SpecialFileError extends Error {
  constructor(readonly path: string, readonly mode: number) {
    super(`'${path}' is a special file (mode ${mode.toString(8)}); store entries hold only files, directories and symlinks`);
  }
}

function copyFileHashing(src: string, dst: string, mode: number, size: number): { n: number; tree: string } {
  const d = new TreeDigester(size, false);
  const buf = chunk();
  const fd = openSync(src, "r");
  const wfd = openSync(dst, "wx", 0o600);
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      d.update(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += writeSync(wfd, buf, off, n - off);
      total += n;
    }
  } finally {
    closeSync(fd);
    closeSync(wfd);
  }
  chmodSync(dst, mode);
  utimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  return { n: total, tree: d.finish().tree };
}

function copyWalk(h: Hash, src: string, dst: string, out: { files: number; bytes: number }): void {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(src);
    h.update(symlinkHeader(target));
    symlinkSync(target, dst);
    lutimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  } else if (st.isFile()) {
    const { n, tree } = copyFileHashing(src, dst, canonicalMode(st.mode, false), st.size);
    if (n !== st.size) throw new Error(`'${src}' changed while it was being imported`);
    h.update(fileRecord((st.mode & 0o111) !== 0, n, tree));
    out.files++;
    out.bytes += n;
  } else if (st.isDirectory()) {
    mkdirSync(dst, { mode: 0o700 });
    h.update("dir\0");
    for (const name of readdirSync(src).sort()) {
      h.update(`entry\0${name}\0`);
      copyWalk(h, join(src, name), join(dst, name), out);
    }
    h.update("end\0");
    chmodSync(dst, 0o555);
    utimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  } else {
    throw new SpecialFileError(src, st.mode);
  }
}

/** Copies a file or tree to `dst` (which must not exist) in canonical form, returning the `hashTree` hash of what it read. */
export function copyTreeCanonical(src: string, dst: string): { hash: string; files: number; bytes: number } {
  const h = createHash("sha256");
  const out = { files: 0, bytes: 0 };
  copyWalk(h, src, dst, out);
  return { hash: h.digest("hex"), ...out };
}

function copyPlainWalk(src: string, dst: string, out: { files: number; bytes: number }): void {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
    lutimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  } else if (st.isFile()) {
    copyFileSync(src, dst, fsConstants.COPYFILE_EXCL);
    chmodSync(dst, canonicalMode(st.mode, false));
    utimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
    out.files++;
    out.bytes += st.size;
  } else if (st.isDirectory()) {
    mkdirSync(dst, { mode: 0o700 });
    for (const name of readdirSync(src).sort()) copyPlainWalk(join(src, name), join(dst, name), out);
    chmodSync(dst, 0o555);
    utimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  } else {
    throw new SpecialFileError(src, st.mode);
  }
}

/** Copies a file or tree to `dst` (which must not exist) in canonical form with the kernel's copy, hashing nothing. */
export function copyTreePlain(src: string, dst: string): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 };
  copyPlainWalk(src, dst, out);
  return out;
}

/** The first way a store entry departs from canonical form, or null. */
export function canonicalProblem(path: string, rel = ""): string | null {
  const st = lstatSync(path);
  const where = rel === "" ? "the entry" : `'${rel}'`;
  if (st.isSymbolicLink()) return null;
  if (st.isFile() || st.isDirectory()) {
    const want = canonicalMode(st.mode, st.isDirectory());
    if ((st.mode & 0o7777) !== want) return `${where} has mode ${(st.mode & 0o7777).toString(8)}, expected ${want.toString(8)}`;
    if (Math.floor(st.mtimeMs / 1000) !== CANONICAL_MTIME) return `${where} has mtime ${Math.floor(st.mtimeMs / 1000)}, expected ${CANONICAL_MTIME}`;
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) {
        const p = canonicalProblem(join(path, name), rel === "" ? name : join(rel, name));
        if (p) return p;
      }
    }
    return null;
  }
  return `${where} is a special file`;
}
