/**
 * A store entry as one deterministic tar stream (the layer of its cache artifact), and the strict reader that turns
 * such a stream back into an entry. Written: the entry itself as member `.`, then every path under it as `a/b`, in
 * sorted pre-order; modes 0555/0444 (symlinks 0777), owner 0:0, no names, mtime 1; pax `path`/`linkpath`/`size` only
 * where ustar cannot hold them. Read: only what this writer writes is accepted: files, directories and symlinks, each
 * path once, parents before children, never through a symlink or outside the entry; anything else is refused.
 */
import { closeSync, lstatSync, lutimesSync, mkdirSync, chmodSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createHash, type Hash } from "node:crypto";
import { TreeDigester } from "../engine/file-digest.js";
import { CANONICAL_MTIME, canonicalMode, fileRecord, symlinkHeader } from "../engine/tree-hash.js";

const BLOCK = 512;
const USTAR_MAX = 0o77777777777;

/** Why a stream is not an entry this cache wrote. */
export class EntryTarError extends Error {}

function octal(h: Buffer, off: number, len: number, n: number): void {
  h.write(`${n.toString(8).padStart(len - 1, "0")}\0`, off, len, "ascii");
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (Buffer.byteLength(`${len}${body}`) !== len) len = Buffer.byteLength(`${len}${body}`);
  return `${len}${body}`;
}

function header(name: string, type: string, mode: number, size: number, link = ""): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, CANONICAL_MTIME);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, "ascii");
  h.write(link, 157, 100, "utf8");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return h;
}

const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** The header blocks of one member (a pax header first when a name, link or size does not fit ustar); data follows. */
export function memberHeaders(name: string, type: string, mode: number, size: number, link = ""): Buffer[] {
  const pax = [
    Buffer.byteLength(name) > 100 ? paxRecord("path", name) : "",
    Buffer.byteLength(link) > 100 ? paxRecord("linkpath", link) : "",
    size > USTAR_MAX ? paxRecord("size", String(size)) : "",
  ].join("");
  const main = header(Buffer.byteLength(name) > 100 ? name.slice(0, 99) : name, type, mode, size > USTAR_MAX ? 0 : size, Buffer.byteLength(link) > 100 ? "" : link);
  if (pax === "") return [main];
  const body = Buffer.from(pax, "utf8");
  return [header("././@PaxHeader", "x", 0o644, body.length), body, pad(body.length), main];
}

/** The tar stream of a store entry (file, symlink or directory tree), in blocks; file bytes are read as they are yielded. */
export function* entryTar(root: string): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(1 << 20);
  function* member(path: string, name: string): Generator<Buffer> {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      yield* memberHeaders(name, "2", 0o777, 0, readlinkSync(path));
    } else if (st.isFile()) {
      yield* memberHeaders(name, "0", canonicalMode(st.mode, false), st.size);
      const fd = openSync(path, "r");
      let total = 0;
      try {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) break;
          total += n;
          yield Buffer.from(buf.subarray(0, n));
        }
      } finally {
        closeSync(fd);
      }
      if (total !== st.size) throw new EntryTarError(`'${path}' changed while it was being archived`);
      yield pad(total);
    } else if (st.isDirectory()) {
      yield* memberHeaders(name, "5", 0o555, 0);
      for (const child of readdirSync(path).sort()) yield* member(join(path, child), name === "." ? child : `${name}/${child}`);
    } else {
      throw new EntryTarError(`'${path}' is a special file; store entries hold only files, directories and symlinks`);
    }
  }
  yield* member(root, ".");
  yield Buffer.alloc(BLOCK * 2);
}

function field(h: Buffer, off: number, len: number): string {
  const raw = h.subarray(off, off + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

function number(h: Buffer, off: number, len: number, what: string): number {
  const text = field(h, off, len).trim();
  if (!/^[0-7]+$/.test(text)) throw new EntryTarError(`${what}: bad numeric field '${text}'`);
  return parseInt(text, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(body.subarray(off, sp).toString("ascii"));
    if (!Number.isSafeInteger(len) || len <= sp - off + 1 || off + len > body.length) throw new EntryTarError("a pax header is malformed");
    const rec = body.subarray(sp + 1, off + len);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0 || rec[rec.length - 1] !== 0x0a) throw new EntryTarError("a pax record is malformed");
    out[rec.subarray(0, eq).toString("utf8")] = rec.subarray(eq + 1, rec.length - 1).toString("utf8");
    off += len;
  }
  return out;
}

/** One unpacked member, as the tree hash needs it. */
type Member = { kind: "dir"; children: string[] } | { kind: "symlink"; target: string } | { kind: "file"; executable: boolean; size: number; digest: string };

/**
 * Unpacks a tar stream written by `entryTar` into `dest` (which must not exist), in canonical form; returns the
 * number of regular files and their bytes. Anything this cache does not write is refused with an EntryTarError.
 */
export class EntryUnpacker {
  private pending: Buffer = Buffer.alloc(0);
  private readonly seen = new Map<string, Member>();
  private readonly dirs: string[] = [];
  private pax: Record<string, string> | null = null;
  private file: { fd: number; left: number; padding: number; digester: TreeDigester; member: { digest: string } } | null = null;
  private skip = 0;
  private paxLeft: { size: number } | null = null;
  private ended = false;
  readonly counts = { files: 0, bytes: 0 };

  constructor(private readonly dest: string) {}

  /** Takes the next bytes of the (uncompressed) stream. */
  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.file) {
        const n = Math.min(this.file.left, this.pending.length);
        if (n > 0) {
          let off = 0;
          while (off < n) off += writeSync(this.file.fd, this.pending, off, n - off);
          this.file.digester.update(this.pending.subarray(0, n));
          this.pending = this.pending.subarray(n);
          this.file.left -= n;
        }
        if (this.file.left > 0) return;
        closeSync(this.file.fd);
        this.file.member.digest = this.file.digester.finish().tree;
        this.skip = this.file.padding;
        this.file = null;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.pending.length);
        this.pending = this.pending.subarray(n);
        this.skip -= n;
        if (this.skip > 0) return;
      }
      if (this.paxLeft) {
        if (this.pending.length < this.paxLeft.size) return;
        this.pax = parsePax(this.pending.subarray(0, this.paxLeft.size));
        this.skip = (BLOCK - (this.paxLeft.size % BLOCK)) % BLOCK;
        this.pending = this.pending.subarray(this.paxLeft.size);
        this.paxLeft = null;
        continue;
      }
      if (this.pending.length < BLOCK) return;
      const h = this.pending.subarray(0, BLOCK);
      this.pending = this.pending.subarray(BLOCK);
      if (this.ended) {
        if (h.some((b) => b !== 0)) throw new EntryTarError("data after the end of the archive");
        continue;
      }
      if (h.every((b) => b === 0)) {
        this.ended = true;
        continue;
      }
      this.member(Buffer.from(h));
    }
  }

  private member(h: Buffer): void {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (number(h, 148, 8, "a header's checksum") !== sum) throw new EntryTarError("a header checksum does not match");
    const type = String.fromCharCode(h[156]!);
    let size = number(h, 124, 12, "a header's size");
    if (type === "x") {
      if (this.pax) throw new EntryTarError("two pax headers in a row");
      this.paxLeft = { size };
      return;
    }
    const pax = this.pax ?? {};
    this.pax = null;
    const name = pax.path ?? field(h, 0, 100);
    const link = pax.linkpath ?? field(h, 157, 100);
    if (pax.size !== undefined) size = Number(pax.size);
    const mode = number(h, 100, 8, `member '${name}': mode`);
    const kind: Member["kind"] | null = type === "0" ? "file" : type === "5" ? "dir" : type === "2" ? "symlink" : null;
    if (kind === null) throw new EntryTarError(`member '${name}' has type '${type}'; an entry holds only files, directories and symlinks`);
    if (kind !== "file" && size !== 0) throw new EntryTarError(`member '${name}' is a ${kind} with data`);
    const member: Member = kind === "dir" ? { kind, children: [] } : kind === "symlink" ? { kind, target: link } : { kind, executable: (mode & 0o111) !== 0, size, digest: "" };
    const path = this.place(name, member);
    if (kind === "dir") {
      mkdirSync(path, { mode: 0o700 });
      this.dirs.push(path);
    } else if (kind === "symlink") {
      if (link === "" || link.includes("\0")) throw new EntryTarError(`symlink '${name}' has no target`);
      symlinkSync(link, path);
      lutimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
    } else {
      const fd = openSync(path, "wx", canonicalMode(mode, false) | 0o200);
      this.counts.files++;
      this.counts.bytes += size;
      this.file = { fd, left: size, padding: (BLOCK - (size % BLOCK)) % BLOCK, digester: new TreeDigester(size, false), member: member as { digest: string } };
    }
  }

  /** The path a member is unpacked at: its parent must be a directory this unpacker made, and the name new. */
  private place(name: string, member: Member): string {
    if (this.seen.size === 0) {
      if (name !== ".") throw new EntryTarError(`the first member is '${name}', not the entry itself ('.')`);
      this.seen.set(".", member);
      return this.dest;
    }
    const parts = name.split("/");
    if (parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))) throw new EntryTarError(`member name '${name}' is not a plain relative path`);
    if (this.seen.has(name)) throw new EntryTarError(`member '${name}' appears twice`);
    const parent = this.seen.get(parts.length === 1 ? "." : parts.slice(0, -1).join("/"));
    if (parent?.kind !== "dir") throw new EntryTarError(`member '${name}' is not inside a directory of the entry written before it`);
    parent.children.push(parts[parts.length - 1]!);
    this.seen.set(name, member);
    return join(this.dest, name);
  }

  /** Ends the stream: checks it ended cleanly, then gives files and directories their canonical modes and mtimes. */
  finish(): { files: number; bytes: number } {
    if (this.file || this.paxLeft || this.pending.some((b) => b !== 0)) throw new EntryTarError("the archive is truncated");
    if (!this.ended || this.seen.size === 0) throw new EntryTarError("the archive has no end marker or no members");
    for (const [name, m] of this.seen) {
      if (m.kind !== "file") continue;
      const p = name === "." ? this.dest : join(this.dest, name);
      chmodSync(p, canonicalMode(lstatSync(p).mode, false));
      utimesSync(p, CANONICAL_MTIME, CANONICAL_MTIME);
    }
    for (const d of this.dirs.reverse()) {
      chmodSync(d, 0o555);
      utimesSync(d, CANONICAL_MTIME, CANONICAL_MTIME);
    }
    return { ...this.counts };
  }

  /** The tree hash (tree-hash.ts's `hashTree`, format 2) of what was unpacked, from the digests taken while writing it. */
  treeHash(): string {
    const h = createHash("sha256");
    const walk = (h: Hash, name: string): void => {
      const m = this.seen.get(name)!;
      if (m.kind === "symlink") h.update(symlinkHeader(m.target));
      else if (m.kind === "file") h.update(fileRecord(m.executable, m.size, m.digest));
      else {
        h.update("dir\0");
        for (const child of [...m.children].sort()) {
          h.update(`entry\0${child}\0`);
          walk(h, name === "." ? child : `${name}/${child}`);
        }
        h.update("end\0");
      }
    };
    walk(h, ".");
    return h.digest("hex");
  }

  /** Closes an open file after a failure (the caller removes `dest`). */
  abort(): void {
    if (this.file) closeSync(this.file.fd);
    this.file = null;
  }
}
