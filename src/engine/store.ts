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
 */
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { ensureDir } from "./dirs.js";
import { formatOwner, ownerAlive, parseOwner, selfOwner } from "./owner.js";

/** A path to an entry of a store (checked to lie directly in the store directory). */
export type StorePath = string & { readonly __brand: "StorePath" };

const ENTRY = /^[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]+$/;
const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** One tool as the metadata records it. */
export interface ToolIdentity {
  readonly name: string;
  readonly package: string;
  readonly origin: string;
  readonly version: string | null;
  readonly contentHash: string | null;
  readonly executables: Record<string, string>;
}

/** One step as the metadata records it. */
export interface StepRecord {
  readonly name: string;
  readonly durationMs: number;
}

/** The metadata record of a complete entry. */
export interface EntryMeta {
  /** 2: the output hash is tree-hash format 2 (per-file digests); 1: format 1. */
  readonly version: 1 | 2;
  readonly storePath: string;
  readonly kind: "build" | "import" | "artifact";
  readonly name: string;
  /** The hash part of the store path: the plan's fingerprint hash (builds), or the content-derived name (imports, artifacts). */
  readonly planHash: string;
  readonly fingerprint?: Record<string, unknown>;
  readonly tools?: ToolIdentity[];
  readonly steps?: StepRecord[];
  /** `sha256:<hashTree of the entry>`. */
  readonly outputHash: string;
  /** Store paths this entry needs alive: dependencies, imports, runtime artifacts. */
  readonly references: string[];
  readonly source?: string;
  readonly builtAt: string;
  readonly durationMs?: number;
  /** Builds: how long sealing the output took, of durationMs. */
  readonly sealMs?: number;
  readonly files?: number;
  readonly bytes?: number;
}

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

/** Writes a file atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(3).toString("hex")}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A store directory. */
export class Store {
  readonly metaDir: string;
  readonly logDir: string;
  readonly lockDir: string;
  readonly buildDir: string;
  readonly rootDir: string;
  readonly cacheDir: string;

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

  /** True when the entry is complete: it exists and has its metadata record. */
  isValid(p: StorePath): boolean {
    return existsSync(this.metaPath(p)) && existsSync(p);
  }

  /** The metadata record of an entry, or null. */
  readMeta(p: StorePath): EntryMeta | null {
    try {
      return JSON.parse(readFileSync(this.metaPath(p), "utf8")) as EntryMeta;
    } catch {
      return null;
    }
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
    let names: string[];
    try {
      names = readdirSync(this.buildDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
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

  /** Moves a finished temporary output into place and records its metadata; the entry is valid once this returns. */
  install(temp: string, p: StorePath, meta: EntryMeta): void {
    if (existsSync(p)) {
      if (this.isValid(p)) {
        forceRemove(temp); // another process won; its result is the same plan's
        return;
      }
      forceRemove(p); // a partial entry left by a crash
    }
    renameSync(temp, p);
    writeFileAtomic(this.metaPath(p), JSON.stringify(meta, null, 2) + "\n");
  }

  /** Removes an entry and what the store knows about it (metadata first, so it is never seen half-removed). */
  remove(p: StorePath): void {
    rmSync(this.metaPath(p), { force: true });
    forceRemove(p);
    rmSync(this.logPath(p), { force: true });
  }

  /** Base names of every entry (complete or not) in the store. */
  entryNames(): string[] {
    try {
      return readdirSync(this.dir).filter(isEntryName).sort();
    } catch {
      return [];
    }
  }

  /** Base names of every metadata record. */
  metaNames(): string[] {
    try {
      return readdirSync(this.metaDir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5))
        .filter(isEntryName)
        .sort();
    } catch {
      return [];
    }
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

