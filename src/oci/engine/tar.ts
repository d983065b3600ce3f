/** A streaming tar reader (ustar, POSIX pax and GNU long names): enough to read and unpack OCI layers without a tar binary. */
import { MbError } from "../../core/errors.js";

/** One archive member; `path` and `linkpath` are as stored (pax and GNU long names applied). */
export interface TarEntry {
  readonly type: "file" | "hardlink" | "symlink" | "directory" | "char" | "block" | "fifo" | "other";
  readonly path: string;
  readonly linkpath: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size: number;
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        const b = typeof r.value === "string" ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.chunks.push(b);
        this.length += b.length;
      }
    }
  }

  /** Up to `max` bytes (at least 1 unless the stream ended), without copying when a chunk suffices. */
  async readSome(max: number): Promise<Buffer | null> {
    await this.fill(1);
    if (this.length === 0) return null;
    const first = this.chunks[0]!;
    if (first.length <= max) {
      this.chunks.shift();
      this.length -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.length -= max;
    return first.subarray(0, max);
  }

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const take = Math.min(n, all.length);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}

function fail(message: string): never {
  throw new MbError("oci.tar.invalid", `tar: ${message}`);
}

function cstring(b: Buffer): string {
  const z = b.indexOf(0);
  return (z < 0 ? b : b.subarray(0, z)).toString("utf8");
}

function numeric(b: Buffer, what: string): number {
  if (b[0]! & 0x80) {
    // base-256: big-endian two's complement with the top bit as the marker
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = cstring(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) fail(`bad ${what} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) fail("bad pax record");
    const len = Number(data.subarray(i, sp).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) fail("bad pax record length");
    const rec = data.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq < 0) fail("bad pax record");
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

const TYPES: Record<string, TarEntry["type"]> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "directory", "6": "fifo",
};

/**
 * Reads a tar stream: for each member, `onEntry` gets its header and an async iterator over its data, which it may
 * consume or ignore (what it leaves is skipped). Checks header checksums and rejects a truncated archive.
 */
export async function readTar(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  onEntry: (entry: TarEntry, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<number> {
  const r = new ByteReader(source);
  let pax = new Map<string, string>();
  const globalPax = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  let count = 0;
  for (;;) {
    const h = await r.read(512);
    if (h.length === 0) return count; // tolerated: no end-of-archive blocks
    if (h.length < 512) fail("truncated header");
    if (h.every((x) => x === 0)) return count;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (numeric(h.subarray(148, 156), "checksum") !== sum) fail(`header checksum mismatch after ${count} entries`);
    const flag = String.fromCharCode(h[156]!);
    const magic = h.subarray(257, 263).toString("latin1");
    const prefix = magic.startsWith("ustar") ? cstring(h.subarray(345, 500)) : "";
    let size = numeric(h.subarray(124, 136), "size");
    const readData = async (): Promise<Buffer> => {
      const d = await r.read(size);
      if (d.length < size) fail("truncated member data");
      await r.read((512 - (size % 512)) % 512);
      return d;
    };
    if (flag === "x" || flag === "g") {
      const rec = parsePax(await readData());
      if (flag === "g") for (const [k, v] of rec) globalPax.set(k, v);
      else pax = rec;
      continue;
    }
    if (flag === "L" || flag === "K") {
      const v = cstring(await readData());
      if (flag === "L") longName = v;
      else longLink = v;
      continue;
    }
    const attr = (k: string): string | undefined => pax.get(k) ?? globalPax.get(k);
    const name = cstring(h.subarray(0, 100));
    const path = attr("path") ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkpath = attr("linkpath") ?? longLink ?? cstring(h.subarray(157, 257));
    if (attr("size") !== undefined) size = Number(attr("size"));
    const entry: TarEntry = {
      type: TYPES[flag] ?? "other",
      path,
      linkpath,
      mode: numeric(h.subarray(100, 108), "mode") & 0o7777,
      uid: attr("uid") !== undefined ? Number(attr("uid")) : numeric(h.subarray(108, 116), "uid"),
      gid: attr("gid") !== undefined ? Number(attr("gid")) : numeric(h.subarray(116, 124), "gid"),
      mtime: attr("mtime") !== undefined ? Number(attr("mtime")) : numeric(h.subarray(136, 148), "mtime"),
      size: dataSize(flag, size),
    };
    pax = new Map();
    longName = null;
    longLink = null;
    let remaining = entry.size;
    const data: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const b = await r.readSome(Math.min(remaining, 1 << 20));
          if (b === null) fail(`truncated data of ${path}`);
          remaining -= b.length;
          yield b;
        }
      },
    };
    await onEntry(entry, data);
    while (remaining > 0) {
      const b = await r.readSome(Math.min(remaining, 1 << 20));
      if (b === null) fail(`truncated data of ${path}`);
      remaining -= b.length;
    }
    const pad = (512 - (entry.size % 512)) % 512;
    if ((await r.read(pad)).length < pad) fail(`truncated padding of ${path}`);
    count++;
  }
}

/** Links, directories and devices carry no data whatever their size field says (except in some writers' hard links). */
function dataSize(flag: string, size: number): number {
  return flag === "2" || flag === "5" || flag === "3" || flag === "4" || flag === "6" ? 0 : size;
}
