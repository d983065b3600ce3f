/**
 * The content-addressed store: `<dir>/<hash>-<name>` entries (read-only, canonical), and beside them, in dot
 * directories, what the store knows about them:
 *
 *   .meta/<entry>.json    the metadata record; an entry is complete (valid) only when it has one
 *   .logs/<entry>.log     the build log of the last attempt
 *   .locks/<entry>.lock   held while the entry is being realized
 *   .b/                   outputs being built (same path length as the final entry) and their owner files
 *   .roots/               garbage-collector roots: symlinks to out-links, and temporary roots of running builds
 *   .cache/               the identity cache and the evaluation cache
 *
 * An entry is reused only when its record reads back whole and the entry passes the cheap check against it
 * (store-meta.ts); anything else counts as missing and is rebuilt under the entry's lock.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { ensureDir, listDir } from "./dirs.js";
import { formatOwner, ownerAlive, parseOwner, selfOwner } from "./owner.js";
import { cheapProblem, readEntryMeta, type EntryMeta } from "./store-meta.js";
import { forceRemove, writeFileAtomic } from "./store-fs.js";

export { forceRemove, writeFileAtomic } from "./store-fs.js";
export type { EntryMeta, StepRecord, ToolIdentity } from "./store-meta.js";

/** A path to an entry of a store (checked to lie directly in the store directory). */
export type StorePath = string & { readonly __brand: "StorePath" };

const ENTRY = /^[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]+$/;
const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** True when a base name looks like a store entry. */
export function isEntryName(name: string): boolean {
  return ENTRY.test(name);
}

/** A random string of Nix base-32 characters. */
export function randomName(length: number): string {
  const bytes = randomBytes(length);
  let s = "";
  for (let i = 0; i < length; i++) s += NIX32[bytes[i]! & 31];
  return s;
}

/** A store directory. */
export class Store {
  readonly metaDir: string;
  readonly logDir: string;
  readonly lockDir: string;
  readonly buildDir: string;
  readonly rootDir: string;
  readonly cacheDir: string;
  /** Entries this process found valid (or installed): checked once per run. */
  private readonly vouched = new Set<string>();

  constructor(readonly dir: string) {
    this.metaDir = join(dir, ".meta");
    this.logDir = join(dir, ".logs");
    this.lockDir = join(dir, ".locks");
    this.buildDir = join(dir, ".b");
    this.rootDir = join(dir, ".roots");
    this.cacheDir = join(dir, ".cache");
  }

  /** Creates the store's directories; a store that cannot be made is a clear error (exit 1). */
  ensureLayout(): void {
    try {
      ensureDir(this.dir);
      for (const d of [this.metaDir, this.logDir, this.lockDir, this.buildDir, this.rootDir, this.cacheDir]) ensureDir(d);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new MbError("store.unusable", `cannot use the store at ${this.dir}: ${err.message}`, {
        exitCode: ExitCode.problems,
        hint: "pass a writable directory with --store or MB_STORE",
      });
    }
  }

  /** Checks that a path names an entry of this store; returns it branded, or null. */
  entry(path: string): StorePath | null {
    const prefix = `${this.dir}/`;
    if (!path.startsWith(prefix)) return null;
    const name = path.slice(prefix.length);
    return isEntryName(name) ? (path as StorePath) : null;
  }

  /** The entry a path names, or throws. */
  mustEntry(path: string): StorePath {
    const e = this.entry(path);
    if (!e) throw new Error(`'${path}' is not an entry of the store ${this.dir}`);
    return e;
  }

  /** Where an entry's metadata record lives. */
  metaPath(p: StorePath): string {
    return join(this.metaDir, `${basename(p)}.json`);
  }

  /** Where an entry's build log lives. */
  logPath(p: StorePath): string {
    return join(this.logDir, `${basename(p)}.log`);
  }

  /** The lock file held while an entry is realized. */
  lockPath(p: StorePath): string {
    return join(this.lockDir, `${basename(p)}.lock`);
  }

  /** Why an entry may not be reused (no record, a torn record, a failed cheap check), or null when it may. */
  problemOf(p: StorePath): string | null {
    const meta = readEntryMeta(this.metaPath(p), p);
    if (typeof meta === "string") return meta;
    return cheapProblem(p, meta);
  }

  /** True when the entry is complete: it exists, its record reads back whole, and it passes the cheap check. */
  isValid(p: StorePath): boolean {
    if (this.vouched.has(p)) return true;
    if (this.problemOf(p) !== null) return false;
    this.vouched.add(p);
    return true;
  }

  /** The metadata record of an entry, or null when it is missing or torn. */
  readMeta(p: StorePath): EntryMeta | null {
    const meta = readEntryMeta(this.metaPath(p), p);
    return typeof meta === "string" ? null : meta;
  }

  /**
   * Claims `<store>/.b/<12 random>/<16 random>-<name>`, as long as the final path (self-references are rewritten in
   * place), in a directory of the build's own (the sandbox binds only it writable); its owner file tells gc abandoned ones.
   */
  claimTemp(p: StorePath): string {
    const name = basename(p);
    const own = join(this.buildDir, randomName(12));
    const temp = join(own, `${randomName(16)}${name.slice(32)}`);
    if (temp.length !== p.length) throw new Error(`internal: temporary path length ${temp.length} != ${p.length}`);
    ensureDir(this.buildDir);
    writeFileAtomic(`${own}.owner`, formatOwner(selfOwner()));
    mkdirSync(own);
    return temp;
  }

  /** Gives a temporary path up: removes its directory (unless kept, for gc to remove later) and owner file. */
  releaseTemp(temp: string, keep = false): void {
    const own = dirname(temp);
    if (!keep) forceRemove(own);
    rmSync(`${own}.owner`, { force: true });
  }

  /** Temporary paths in .b whose owner is gone (abandoned builds), with their owner files. */
  abandonedTemps(): string[] {
    const out: string[] = [];
    for (const n of listDir(this.buildDir)) {
      if (n.endsWith(".owner") || n.endsWith(".tmp")) continue;
      let owner = null;
      try {
        owner = parseOwner(readFileSync(join(this.buildDir, `${n}.owner`), "utf8"));
      } catch {
        // no owner file: abandoned
      }
      if (!owner || !ownerAlive(owner)) out.push(join(this.buildDir, n));
    }
    return out;
  }

  /**
   * Moves a finished temporary output into place and records its metadata (written in full, flushed, read back); the
   * entry is valid once this returns. A broken entry already there is replaced; if the record cannot be written, the
   * entry is removed again, so nothing partial stays.
   */
  install(temp: string, p: StorePath, meta: EntryMeta): void {
    if (existsSync(p) || existsSync(this.metaPath(p))) {
      if (this.isValid(p)) {
        forceRemove(temp); // another process won; its result is the same plan's
        return;
      }
      this.remove(p); // a partial or broken entry
    }
    renameSync(temp, p);
    try {
      writeFileAtomic(this.metaPath(p), JSON.stringify(meta, null, 2) + "\n", true);
    } catch (e) {
      this.remove(p);
      throw e;
    }
    this.vouched.add(p);
  }

  /** Removes an entry and what the store knows about it (metadata first, so it is never seen half-removed). */
  remove(p: StorePath): void {
    this.vouched.delete(p);
    rmSync(this.metaPath(p), { force: true });
    forceRemove(p);
    rmSync(this.logPath(p), { force: true });
  }

  /** Base names of every entry (complete or not) in the store. */
  entryNames(): string[] {
    return listDir(this.dir).filter(isEntryName).sort();
  }

  /** Base names of every metadata record. */
  metaNames(): string[] {
    return listDir(this.metaDir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .filter(isEntryName)
      .sort();
  }

  /** Total size in bytes of a path (for gc's report). */
  sizeOf(path: string): number {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return 0;
    }
    if (!st.isDirectory()) return st.size;
    let n = 0;
    for (const name of readdirSync(path)) n += this.sizeOf(join(path, name));
    return n;
  }

  /** True when the store directory exists. */
  exists(): boolean {
    try {
      return statSync(this.dir).isDirectory();
    } catch {
      return false;
    }
  }
}

