/**
 * Garbage collection: everything the live roots (roots.ts) reach through metadata references stays, as does anything
 * being realized; the rest goes, with dead roots, abandoned build directories, stale logs, locks and cache records.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { listDir } from "./dirs.js";
import { lockOwner } from "./lock.js";
import { liveEntries, listRoots, withGcLock } from "./roots.js";
import { forceRemove, isEntryName, type Store, type StorePath } from "./store.js";

/** What a collection removed and kept. */
export interface GcResult {
  readonly removed: string[];
  readonly freedBytes: number;
  readonly kept: number;
  readonly deadRoots: string[];
  readonly abandonedTemps: string[];
}

/**
 * Removes every entry not reachable from a live root and not being realized; `dryRun` only reports. Holds the gc lock
 * from reading the roots to the last removal, so no root can be added in between (roots.ts).
 */
export async function collectGarbage(store: Store, opts: { dryRun: boolean }): Promise<GcResult> {
  return withGcLock(store, () => collectLocked(store, opts));
}

function collectLocked(store: Store, opts: { dryRun: boolean }): GcResult {
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
    for (const f of listDir(store.logDir)) {
      const base = f.replace(/\.log(\.check)?$/, "");
      if (isEntryName(base) && !existsSync(join(store.dir, base)) && lockOwner(join(store.lockDir, `${base}.lock`)) === null) rmSync(join(store.logDir, f), { force: true });
    }
    for (const f of listDir(store.lockDir)) {
      if (f.endsWith(".lock") && lockOwner(join(store.lockDir, f)) === null) rmSync(join(store.lockDir, f), { force: true });
    }
    // evaluation-cache records whose result is gone
    const evalDir = join(store.cacheDir, "eval");
    for (const f of listDir(evalDir)) {
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
