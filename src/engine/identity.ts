/**
 * Identities of files and trees on this machine, cached across processes, and the witnesses of what a resolution read.
 *
 * A stamp is what `stat` says about a path (size, mtime, ctime, inode, mode); a file's or a tree's content hash is
 * reused while its stamp is unchanged, as make, ninja and git do. Entries touched in the last second are not cached
 * ("racily clean", as git calls them): a change within the file system's timestamp granularity could go unseen.
 * Every stamp taken while witnessing is recorded, so the evaluation cache can later check that nothing it depends
 * on has changed.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { hashFile, hashTree } from "./tree-hash.js";
import { ensureDir } from "./dirs.js";
import { writeFileAtomic } from "./store-fs.js";

/** What a resolution depended on, with the stamp it saw. */
export interface Witness {
  /** file: a file's stamp; tree: a stat-walk digest; dir: a directory's own stamp; real: where a path's symlinks lead. */
  readonly kind: "file" | "tree" | "dir" | "real";
  readonly path: string;
  /** The stamp, or null when the path did not exist. */
  readonly stamp: string | null;
}

const RACY_MS = 1000;

function statStamp(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.mode}`;
}

function isRacy(st: Stats, now: number): boolean {
  return now - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS;
}

interface Stamped {
  readonly stamp: string | null;
  readonly racy: boolean;
}

function statStamped(path: string): Stamped {
  try {
    const st = statSync(path);
    return { stamp: statStamp(st), racy: isRacy(st, Date.now()) };
  } catch {
    return { stamp: null, racy: false };
  }
}

/** The stamp of a file (following symlinks), or null when absent. */
export function fileStamp(path: string): string | null {
  return statStamped(path).stamp;
}

/** The stamp of a directory itself (its entries' names change its mtime), or null when absent. */
export function dirStamp(path: string): string | null {
  return fileStamp(path);
}

/** Where a path leads after following every symlink, or null when it does not resolve. */
export function realStamp(path: string): string | null {
  try {
    return realpathSync.native(path);
  } catch {
    return null;
  }
}

function walkStamp(h: ReturnType<typeof createHash>, path: string, now: number, state: { racy: boolean }): void {
  const st = lstatSync(path);
  if (isRacy(st, now)) state.racy = true;
  h.update(`${path}\0${statStamp(st)}\0`);
  if (st.isSymbolicLink()) h.update(`${readlinkSync(path)}\0`);
  else if (st.isDirectory()) for (const name of readdirSync(path).sort()) walkStamp(h, join(path, name), now, state);
}

function treeStampOf(path: string): Stamped {
  const state = { racy: false };
  try {
    const h = createHash("sha256");
    walkStamp(h, path, Date.now(), state);
    return { stamp: h.digest("hex"), racy: state.racy };
  } catch {
    return { stamp: null, racy: false };
  }
}

/** The stamp of a whole tree: a digest of every entry's path, stat and symlink target; null when absent. */
export function treeStamp(path: string): string | null {
  return treeStampOf(path).stamp;
}

/** Recomputes a witness's stamp now. */
export function currentStamp(w: Pick<Witness, "kind" | "path">): string | null {
  switch (w.kind) {
    case "file":
      return fileStamp(w.path);
    case "dir":
      return dirStamp(w.path);
    case "tree":
      return treeStamp(w.path);
    case "real":
      return realStamp(w.path);
  }
}

/** True when every witness still sees the stamp it recorded. */
export function witnessesHold(ws: readonly Witness[]): boolean {
  for (const w of ws) if (currentStamp(w) !== w.stamp) return false;
  return true;
}

// ---- witnessing ------------------------------------------------------------------------------------------------

let collecting: Map<string, Witness> | null = null;
let uncacheable: string | null = null;

/** Starts recording witnesses (for the evaluation cache). */
export function startWitnessing(): void {
  collecting = new Map();
  uncacheable = null;
}

/** Stops recording; returns the witnesses, or the reason the result cannot be cached. */
export function stopWitnessing(): { witnesses: Witness[]; uncacheable: string | null } {
  const out = { witnesses: collecting ? [...collecting.values()] : [], uncacheable };
  collecting = null;
  uncacheable = null;
  return out;
}

function stampedNow(kind: Witness["kind"], path: string): Stamped {
  switch (kind) {
    case "file":
    case "dir":
      return statStamped(path);
    case "tree":
      return treeStampOf(path);
    case "real":
      return { stamp: realStamp(path), racy: false };
  }
}

/** Records that the current resolution read `path` and saw `seen` (taken now when not given). */
export function witness(kind: Witness["kind"], path: string, seen?: Stamped): void {
  if (!collecting) return;
  const key = `${kind}\0${path}`;
  if (collecting.has(key)) return;
  const { stamp, racy } = seen ?? stampedNow(kind, path);
  collecting.set(key, { kind, path, stamp });
  if (racy) markUncacheable(`'${path}' changed less than a second ago`);
}

/** Whether this path has been witnessed as `kind` since witnessing started. */
export function witnessed(kind: Witness["kind"], path: string): boolean {
  return collecting?.has(`${kind}\0${path}`) ?? false;
}

/** Marks the current resolution as one the evaluation cache must not keep (it read something no witness covers). */
export function markUncacheable(reason: string): void {
  if (collecting && uncacheable === null) uncacheable = reason;
}

/** True while witnesses are being recorded. */
export function witnessing(): boolean {
  return collecting !== null;
}

// ---- the persistent identity cache -------------------------------------------------------------------------

interface CacheEntry {
  readonly s: string;
  readonly h: string;
}

let cacheFile: string | null = null;
let entries: Record<string, CacheEntry> | null = null;
let dirty = false;

/** Keeps identities in `file` (e.g. `<store>/.cache/identity.json`) from now on; until called, nothing persists. */
export function useIdentityCache(file: string): void {
  if (cacheFile === file) return;
  cacheFile = file;
  entries = null;
  dirty = false;
}

function table(): Record<string, CacheEntry> {
  if (entries) return entries;
  entries = {};
  if (cacheFile) {
    try {
      const parsed = JSON.parse(readFileSync(cacheFile, "utf8")) as { v?: number; entries?: Record<string, CacheEntry> };
      if (parsed.v === 4 && parsed.entries) entries = parsed.entries;
    } catch {
      // no cache yet, or a torn one: start afresh
    }
  }
  return entries;
}

/** Writes the identity cache back if it changed (atomically; a concurrent writer may win, which only costs re-hashing). */
export function flushIdentityCache(): void {
  if (!cacheFile || !entries || !dirty) return;
  try {
    ensureDir(dirname(cacheFile));
    writeFileAtomic(cacheFile, JSON.stringify({ v: 4, entries }));
    dirty = false;
  } catch {
    // a cache that cannot be written is only slower
  }
}

/** sha256 of a file's bytes (following symlinks), reused while its stamp holds; witnessed. */
export function cachedHashFile(path: string): string {
  const real = realpathSync.native(path);
  if (real !== path) witness("real", path, { stamp: real, racy: false });
  const st = statSync(real);
  const stamp = statStamp(st);
  witness("file", real, { stamp, racy: isRacy(st, Date.now()) });
  const key = `file:${real}`;
  const t = table();
  const hit = t[key];
  if (hit && hit.s === stamp) return hit.h;
  const h = hashFile(real);
  if (!isRacy(st, Date.now())) {
    t[key] = { s: stamp, h };
    dirty = true;
  }
  return h;
}

/** A tree's content hash with the stamp it was taken under (null when the tree changed too recently to trust stamps). */
export interface TreeIdentity {
  readonly hash: string;
  readonly stamp: string | null;
}

/** `hashTree` of a path, reused while its tree stamp holds; witnessed. */
export function cachedTreeIdentity(path: string): TreeIdentity {
  const seen = treeStampOf(path);
  const { stamp, racy } = seen;
  witness("tree", path, seen);
  const key = `tree:${path}`;
  const t = table();
  const hit = t[key];
  if (stamp !== null && hit && hit.s === stamp) return { hash: hit.h, stamp };
  const h = hashTree(path);
  // The stamp after hashing must be the one before, or the hash may mix two versions of the tree.
  const after = treeStampOf(path);
  if (stamp !== null && !racy && after.stamp === stamp) {
    t[key] = { s: stamp, h };
    dirty = true;
    return { hash: h, stamp };
  }
  return { hash: h, stamp: null };
}

/** `hashTree` of a path, reused while its tree stamp holds; witnessed. */
export function cachedHashTree(path: string): string {
  return cachedTreeIdentity(path).hash;
}

/** Reads a text file and witnesses it. */
export function witnessedRead(path: string): string {
  witness("file", path);
  return readFileSync(path, "utf8");
}
