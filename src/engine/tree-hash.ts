/** Content hashes of files and directory trees (a NAR-like serialization: type, executable bit, content, symlink target, sorted names). */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";

const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

function hashFileInto(h: Hash, path: string): void {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
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

function walk(h: Hash, path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    h.update(`symlink\0${readlinkSync(path)}\0`);
  } else if (st.isFile()) {
    h.update(`file\0${st.mode & 0o111 ? "x" : "-"}\0${st.size}\0`);
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
