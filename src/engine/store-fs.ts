/**
 * Writing and removing in the store, checked: a metadata or bookkeeping file is written in full (short writes
 * continued), flushed to disk, read back and compared before it is renamed into place, so a full disk can never leave
 * a truncated record that looks complete. Removal works whatever the modes (store entries are read-only).
 */
import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";

/** Removes a path whatever its modes (store entries are read-only). */
export function forceRemove(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EACCES" && (e as NodeJS.ErrnoException).code !== "EPERM") throw e;
  }
  makeWritable(path);
  rmSync(path, { recursive: true, force: true });
}

function makeWritable(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  chmodSync(path, 0o700);
  for (const name of readdirSync(path)) makeWritable(join(path, name));
}

/** Writes every byte of `data` to `fd` (a short write, as on a nearly full disk, is continued or fails with its errno). */
export function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    const n = writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" });
    off += n;
  }
}

/** Flushes a directory's entries (a rename into it) to disk; best effort where the file system refuses. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // some file systems cannot fsync a directory
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file atomically and checked: a temp file in the same directory, written in full and flushed (`durable`,
 * for records that vouch for an entry), read back and compared, then renamed over `path`. On any failure the temp
 * file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, text: string, durable = false): void {
  const tmp = `${path}.${process.pid}.${randomBytes(3).toString("hex")}.tmp`;
  const data = Buffer.from(text, "utf8");
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeAll(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const back = readFileSync(tmp);
    if (!back.equals(data)) throw new Error(`'${tmp}' reads back ${back.length} bytes, not the ${data.length} written`);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDir(dirname(path));
}
