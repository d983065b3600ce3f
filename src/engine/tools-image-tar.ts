/**
 * A small deterministic tar writer (ustar, with pax `path`/`linkpath` records for long names) for the tools image of
 * `mb render dockerfile --context`: members in the order given, owner 0:0, one mtime, no user or group names, so the
 * same members give the same bytes on every machine.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";

const BLOCK = 512;

/** One member of the archive. Names are relative (`usr/bin/bash`); a directory's name carries no trailing slash. */
export type TarMember =
  | { readonly kind: "dir"; readonly name: string; readonly mode: number }
  | { readonly kind: "symlink"; readonly name: string; readonly target: string }
  | { readonly kind: "file"; readonly name: string; readonly mode: number; readonly size: number; readonly from: string }
  | { readonly kind: "data"; readonly name: string; readonly mode: number; readonly data: Buffer };

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, "0") + "\0";
}

/** One 512-byte header; fields that do not fit are left to a preceding pax record. */
function header(name: string, prefix: string, type: string, mode: number, size: number, link: string, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(type, 156, "ascii");
  h.write(link, 157, 100, "utf8");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** A pax record `"<len> <key>=<value>\n"`, its length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Splits a name into ustar's prefix and name fields, or null when it needs a pax record. */
function ustarName(name: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  return null;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Writes `members` in order as a tar archive to `file` (replaced); every member gets mtime `mtime`. */
export function writeTar(file: string, members: readonly TarMember[], mtime: number): { readonly bytes: number } {
  const fd = openSync(file, "w");
  let bytes = 0;
  const put = (b: Buffer) => {
    writeSync(fd, b);
    bytes += b.length;
  };
  try {
    for (const m of members) {
      const full = m.kind === "dir" ? `${m.name}/` : m.name;
      const link = m.kind === "symlink" ? m.target : "";
      const split = ustarName(full);
      const pax = (split === null ? paxRecord("path", full) : "") + (Buffer.byteLength(link) > 100 ? paxRecord("linkpath", link) : "");
      if (pax !== "") {
        const body = Buffer.from(pax);
        put(header("PaxHeader", "", "x", 0o644, body.length, "", mtime));
        put(body);
        put(padding(body.length));
      }
      const n = split ?? { prefix: "", name: full.slice(0, 100) };
      const l = Buffer.byteLength(link) > 100 ? "" : link;
      if (m.kind === "dir") put(header(n.name, n.prefix, "5", m.mode, 0, "", mtime));
      else if (m.kind === "symlink") put(header(n.name, n.prefix, "2", 0o777, 0, l, mtime));
      else if (m.kind === "data") {
        put(header(n.name, n.prefix, "0", m.mode, m.data.length, "", mtime));
        put(m.data);
        put(padding(m.data.length));
      } else {
        put(header(n.name, n.prefix, "0", m.mode, m.size, "", mtime));
        copyFile(m.from, m.size, put);
        put(padding(m.size));
      }
    }
    put(Buffer.alloc(BLOCK * 2));
  } finally {
    closeSync(fd);
  }
  return { bytes };
}

/** Copies exactly `size` bytes of `from` (a file that changes size meanwhile is an error). */
function copyFile(from: string, size: number, put: (b: Buffer) => void): void {
  const fd = openSync(from, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n === 0) throw new Error(`${from} became shorter while it was archived`);
      put(Buffer.from(buf.subarray(0, n)));
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}
