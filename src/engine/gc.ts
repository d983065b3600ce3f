/**
 * Garbage collection and verification. Roots are out-links (`.roots/<id>` symlinks to the out-link; the root is live
 * while the out-link still points into the store) and the temporary roots of running builds; everything they reach
 * through metadata references stays, as does anything being realized. Verification re-hashes every entry.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { sha256 } from "../core/hash.js";
import { lockOwner } from "./lock.js";
import { formatOwner, ownerAlive, parseOwner, selfOwner } from "./owner.js";
import { forceRemove, isEntryName, writeFileAtomic, type Store, type StorePath } from "./store.js";
import { canonicalProblem, hashTree, hashTreeV1 } from "./tree-hash.js";
import { ensureDir } from "./dirs.js";

/** Records an out-link as a gc root of the store. */
export function addRoot(store: Store, outLink: string): void {
  const abs = resolve(outLink);
  ensureDir(store.rootDir);
  const root = join(store.rootDir, sha256(abs).slice(0, 32));
  try {
    if (readlinkSync(root) === abs) return;
    unlinkSync(root);
  } catch {
    // no root yet
  }
  try {
    symlinkSync(abs, root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

/** Keeps `paths` alive while this process runs (a temporary root); returns its remover. */
export function addTempRoot(store: Store, paths: readonly string[]): () => void {
  ensureDir(store.rootDir);
  const file = join(store.rootDir, `tmp-${process.pid}`);
  writeFileAtomic(file, formatOwner(selfOwner()) + paths.join("\n") + "\n");
  return () => rmSync(file, { force: true });
}

/** A root and where it leads. */
export interface RootInfo {
  readonly root: string;
  /** The out-link (or the process) that holds it. */
  readonly holder: string;
  readonly entries: string[];
  readonly live: boolean;
}

/** Every root of the store, live or dead. */
export function listRoots(store: Store): RootInfo[] {
  let names: string[];
  try {
    names = readdirSync(store.rootDir);
  } catch {
    return [];
  }
  const out: RootInfo[] = [];
  for (const n of names.sort()) {
    const root = join(store.rootDir, n);
    if (n.startsWith("tmp-")) {
      let text = "";
      try {
        text = readFileSync(root, "utf8");
      } catch {
        continue;
      }
      const [first, ...rest] = text.split("\n");
      const owner = parseOwner(`${first}\n`);
      out.push({ root, holder: `process ${owner?.pid ?? "?"}`, entries: rest.filter(Boolean), live: owner !== null && ownerAlive(owner) });
      continue;
    }
    let link: string;
    try {
      link = readlinkSync(root);
    } catch {
      continue; // not a root symlink
    }
    let target: string | null = null;
    try {
      if (lstatSync(link).isSymbolicLink()) target = readlinkSync(link);
    } catch {
      // the out-link is gone
    }
    const entry = target !== null ? store.entry(target.replace(/\/+$/, "")) : null;
    out.push({ root, holder: link, entries: entry ? [entry] : [], live: entry !== null });
  }
  return out;
}

/** What a collection removed and kept. */
export interface GcResult {
  readonly removed: string[];
  readonly freedBytes: number;
  readonly kept: number;
  readonly deadRoots: string[];
  readonly abandonedTemps: string[];
}

/** Entries reachable from the live roots, through metadata references. */
export function liveEntries(store: Store, roots: readonly RootInfo[]): Set<string> {
  const live = new Set<string>();
  const stack = roots.filter((r) => r.live).flatMap((r) => r.entries);
  while (stack.length > 0) {
    const p = stack.pop()!;
    const e = store.entry(p);
    if (!e || live.has(e)) continue;
    live.add(e);
    const meta = store.readMeta(e);
    for (const r of meta?.references ?? []) stack.push(r);
  }
  return live;
}

/** Removes every entry not reachable from a live root and not being realized; `dryRun` only reports. */
export function collectGarbage(store: Store, opts: { dryRun: boolean }): GcResult {
  const roots = listRoots(store);
  const live = liveEntries(store, roots);
  const names = new Set([...store.entryNames(), ...store.metaNames()]);
  const removed: string[] = [];
  let freedBytes = 0;
  let kept = 0;
  for (const n of [...names].sort()) {
    const p = join(store.dir, n) as StorePath;
    if (live.has(p) || lockOwner(store.lockPath(p)) !== null) {
      kept++;
      continue;
    }
    freedBytes += store.sizeOf(p);
    removed.push(p);
    if (!opts.dryRun) store.remove(p);
  }
  const deadRoots = roots.filter((r) => !r.live).map((r) => r.root);
  const abandonedTemps = store.abandonedTemps();
  if (!opts.dryRun) {
    for (const r of deadRoots) rmSync(r, { force: true });
    for (const t of abandonedTemps) {
      forceRemove(t);
      rmSync(`${t}.owner`, { force: true });
    }
    // logs of entries that are gone, and locks whose owner died
    for (const f of safeList(store.logDir)) {
      const base = f.replace(/\.log(\.check)?$/, "");
      if (isEntryName(base) && !existsSync(join(store.dir, base)) && lockOwner(join(store.lockDir, `${base}.lock`)) === null) rmSync(join(store.logDir, f), { force: true });
    }
    for (const f of safeList(store.lockDir)) {
      if (f.endsWith(".lock") && lockOwner(join(store.lockDir, f)) === null) rmSync(join(store.lockDir, f), { force: true });
    }
    // evaluation-cache records whose result is gone
    const evalDir = join(store.cacheDir, "eval");
    for (const f of safeList(evalDir)) {
      try {
        const rec = JSON.parse(readFileSync(join(evalDir, f), "utf8")) as { root?: { storePath?: string } };
        if (!rec.root?.storePath || !existsSync(rec.root.storePath)) rmSync(join(evalDir, f), { force: true });
      } catch {
        rmSync(join(evalDir, f), { force: true });
      }
    }
  }
  return { removed, freedBytes, kept, deadRoots, abandonedTemps };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** One problem `mb store verify` found. */
export interface VerifyProblem {
  readonly storePath: string;
  readonly kind: "missing" | "corrupt" | "incomplete";
  readonly detail: string;
}

/** Re-hashes every entry against its metadata; also reports entries without metadata and entries not in canonical form. */
export function verifyStore(store: Store): { checked: number; problems: VerifyProblem[] } {
  const problems: VerifyProblem[] = [];
  const metas = store.metaNames();
  const withMeta = new Set(metas);
  for (const n of metas) {
    const p = join(store.dir, n) as StorePath;
    const meta = store.readMeta(p);
    if (!meta) {
      problems.push({ storePath: p, kind: "corrupt", detail: "its metadata record does not parse" });
      continue;
    }
    if (!existsSync(p)) {
      problems.push({ storePath: p, kind: "missing", detail: "its metadata exists but the entry is gone" });
      continue;
    }
    const actual = `sha256:${meta.version === 1 ? hashTreeV1(p) : hashTree(p)}`;
    if (actual !== meta.outputHash) {
      problems.push({ storePath: p, kind: "corrupt", detail: `content hash ${actual} differs from the recorded ${meta.outputHash}` });
      continue;
    }
    const bad = canonicalProblem(p);
    if (bad) problems.push({ storePath: p, kind: "corrupt", detail: `not in canonical form: ${bad}` });
  }
  for (const n of store.entryNames()) {
    if (withMeta.has(n)) continue;
    const p = join(store.dir, n) as StorePath;
    if (lockOwner(store.lockPath(p)) !== null) continue; // being installed right now
    problems.push({ storePath: p, kind: "incomplete", detail: "the entry has no metadata record (an interrupted install)" });
  }
  return { checked: metas.length, problems };
}
