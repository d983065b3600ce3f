/**
 * Content hashes of files and directory trees (a NAR-like serialization: type, executable bit, content, symlink
 * target, sorted names), and the two walks that produce store entries with that same hash in one pass: sealing a
 * build output in place and copying a local input in.
 */
import {
  chmodSync, closeSync, constants as fsConstants, copyFileSync, renameSync, fstatSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync,
  unlinkSync, utimesSync, writeSync,
} from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";

const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

function chunk(): Buffer {
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

/** sha256 of a file's bytes, as hex. */
export function hashFile(path: string): string {
  const h = createHash("sha256");
  hashFileInto(h, path);
  return h.digest("hex");
}

const symlinkHeader = (target: string) => `symlink\0${target}\0`;
const fileHeader = (executable: boolean, size: number) => `file\0${executable ? "x" : "-"}\0${size}\0`;

function walk(h: Hash, path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    h.update(symlinkHeader(readlinkSync(path)));
  } else if (st.isFile()) {
    h.update(fileHeader((st.mode & 0o111) !== 0, st.size));
    hashFileInto(h, path);
    h.update("\0");
  } else if (st.isDirectory()) {
    h.update("dir\0");
    for (const name of readdirSync(path).sort()) {
      h.update(`entry\0${name}\0`);
      walk(h, join(path, name));
    }
    h.update("end\0");
  } else {
    h.update(`other\0${st.mode}\0`);
  }
}

/** Content hash of a file or a whole tree: the same bytes, modes and names give the same hash, wherever they live. */
export function hashTree(path: string): string {
  const h = createHash("sha256");
  walk(h, path);
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
}

/** A file type the store does not hold (device, fifo, socket). */
export class SpecialFileError extends Error {
  constructor(readonly path: string, readonly mode: number) {
    super(`'${path}' is a special file (mode ${mode.toString(8)}); store entries hold only files, directories and symlinks`);
  }
}

/** Hashes a file while replacing every occurrence of `rw.from` by `rw.to` in place; returns whether it rewrote. */
function hashRewritingFile(h: Hash, path: string, rw: Rewrite | undefined): boolean {
  if (!rw) {
    hashFileInto(h, path);
    return false;
  }
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
      if (n === 0) {
        h.update(data);
        break;
      }
      const cut = Math.max(0, data.length - keep);
      h.update(data.subarray(0, cut));
      pending = Buffer.from(data.subarray(cut));
      pos += cut;
    }
  } finally {
    closeSync(fd);
    if (wfd >= 0) closeSync(wfd);
  }
  return wfd >= 0;
}

function breakHardLink(path: string): void {
  const tmp = `${path}.mb-unlink-${process.pid}`;
  copyFileSync(path, tmp, fsConstants.COPYFILE_EXCL);
  renameSync(tmp, path);
}

function sealWalk(h: Hash, root: string, rel: string, rw: Rewrite | undefined, out: { files: number; bytes: number; rewritten: string[] }): void {
  const path = rel === "" ? root : join(root, rel);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    let target = readlinkSync(path);
    if (rw && target.includes(rw.from.toString())) {
      target = target.replaceAll(rw.from.toString(), rw.to.toString());
      unlinkSync(path);
      symlinkSync(target, path);
      out.rewritten.push(rel);
    }
    h.update(symlinkHeader(target));
    lutimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
  } else if (st.isFile()) {
    // A hard link may share its inode with a file outside the output: give the output its own copy before any
    // chmod, utimes or rewrite touches the inode.
    if (st.nlink > 1) breakHardLink(path);
    h.update(fileHeader((st.mode & 0o111) !== 0, st.size));
    if (hashRewritingFile(h, path, rw)) out.rewritten.push(rel);
    h.update("\0");
    chmodSync(path, canonicalMode(st.mode, false));
    utimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
    out.files++;
    out.bytes += st.size;
  } else if (st.isDirectory()) {
    if ((st.mode & 0o700) !== 0o700) chmodSync(path, st.mode | 0o700);
    h.update("dir\0");
    for (const name of readdirSync(path).sort()) {
      h.update(`entry\0${name}\0`);
      sealWalk(h, root, rel === "" ? name : join(rel, name), rw, out);
    }
    h.update("end\0");
    chmodSync(path, 0o555);
    utimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
  } else {
    throw new SpecialFileError(rel === "" ? "." : rel, st.mode);
  }
}

/**
 * Puts a build output into canonical form in place (files 0444 or 0555, directories 0555, mtime 1, no setuid or
 * setgid), replacing self-references first, and returns its `hashTree` hash, all in one walk.
 */
export function sealTree(root: string, rewrite?: Rewrite): SealResult {
  const h = createHash("sha256");
  const out = { files: 0, bytes: 0, rewritten: [] as string[] };
  sealWalk(h, root, "", rewrite, out);
  return { hash: h.digest("hex"), ...out };
}

function copyFileHashing(h: Hash, src: string, dst: string, mode: number): number {
  const buf = chunk();
  const fd = openSync(src, "r");
  const wfd = openSync(dst, "wx", 0o600);
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
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
  return total;
}

function copyWalk(h: Hash, src: string, dst: string, out: { files: number; bytes: number }): void {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    const target = readlinkSync(src);
    h.update(symlinkHeader(target));
    symlinkSync(target, dst);
    lutimesSync(dst, CANONICAL_MTIME, CANONICAL_MTIME);
  } else if (st.isFile()) {
    h.update(fileHeader((st.mode & 0o111) !== 0, st.size));
    const n = copyFileHashing(h, src, dst, canonicalMode(st.mode, false));
    if (n !== st.size) throw new Error(`'${src}' changed while it was being imported`);
    h.update("\0");
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
