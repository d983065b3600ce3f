/** A small reader of tar headers (v7, ustar, pax, GNU): enough to tell whether a file reads as a tar archive. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const BLOCK = 512;

/** One archive member as its header describes it. */
export interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

/** Why a file does not read as a tar archive. */
export class TarError extends Error {}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

/** Parses a numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
export function tarNumber(h: Buffer, start: number, len: number): number {
  const raw = h.subarray(start, start + len);
  if (raw[0]! & 0x80) {
    let n = raw[0]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + raw[i]!;
    return n;
  }
  const text = field(h, start, len).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`bad numeric field '${text}' at header offset ${start}`);
  return parseInt(text, 8);
}

/** True when a header block's checksum holds (unsigned or, as some old tars wrote, signed). */
export function checksumHolds(h: Buffer): boolean {
  let stored: number;
  try {
    stored = tarNumber(h, 148, 8);
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Reads every header of a tar archive, or throws a TarError saying where it stops being one. */
export function readTarEntries(path: string): TarEntry[] {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw new TarError("the file is empty");
    if (size < BLOCK) throw new TarError(`the file is ${size} bytes, shorter than one ${BLOCK}-byte tar block`);
    const h = Buffer.alloc(BLOCK);
    const entries: TarEntry[] = [];
    let off = 0;
    while (off + BLOCK <= size) {
      if (readSync(fd, h, 0, BLOCK, off) !== BLOCK) throw new TarError(`short read at offset ${off}`);
      if (h.every((b) => b === 0)) return entries; // end-of-archive marker
      if (!checksumHolds(h)) throw new TarError(`header checksum mismatch at offset ${off}`);
      const type = String.fromCharCode(h[156]! || 0x30);
      const entrySize = tarNumber(h, 124, 12);
      const prefix = field(h, 257, 6).startsWith("ustar") ? field(h, 345, 155) : "";
      const name = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
      entries.push({ name, type, size: entrySize });
      // Hard links, symlinks, devices, directories and fifos carry no data, whatever their size field says.
      const hasData = !["1", "2", "3", "4", "5", "6"].includes(type);
      const next = off + BLOCK + (hasData ? Math.ceil(entrySize / BLOCK) * BLOCK : 0);
      if (next > size) throw new TarError(`member '${name}' at offset ${off} runs past the end of the file (truncated archive)`);
      off = next;
    }
    if (off !== size) throw new TarError(`${size - off} trailing bytes after the last member are not a tar block`);
    if (entries.length === 0) throw new TarError("no tar header found");
    return entries; // no end-of-archive marker: GNU tar accepts this with a warning, and so do we
  } finally {
    closeSync(fd);
  }
}
