/**
 * Garbage-collector roots: out-links (`.roots/<id>` symlinks to the out-link; the root is live while the out-link
 * still points into the store) and the temporary roots of running builds (`.roots/tmp-<pid>`). Roots are added only
 * under the store's gc lock, which `mb gc` holds from reading the roots to its last removal: a root is either seen by
 * a collection or added after it ended, so gc can never remove an entry a build is about to hand out.
 */
import { lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { sha256 } from "../core/hash.js";
import { interrupted } from "./interrupt.js";
import { acquireLock } from "./lock.js";
import { formatOwner, ownerAlive, parseOwner, selfOwner } from "./owner.js";
import { writeFileAtomic, type Store, type StorePath } from "./store.js";
import { ensureDir, listDir } from "./dirs.js";

/** The store-wide lock `mb gc` holds while it collects, and root writers hold while they add a root. */
export function gcLockPath(store: Store): string {
  return join(store.lockDir, "gc.lock");
}

/** Runs `body` holding the store's gc lock (waiting while a collection runs). */
export async function withGcLock<T>(store: Store, body: () => T): Promise<T> {
  ensureDir(store.lockDir);
  const lock = await acquireLock(gcLockPath(store));
  if (!lock) throw interrupted("SIGINT");
  try {
    return body();
  } finally {
    lock.release();
  }
}

/** Records an out-link as a gc root of the store. */
export async function addRoot(store: Store, outLink: string): Promise<void> {
  const abs = resolve(outLink);
  const root = join(store.rootDir, sha256(abs).slice(0, 32));
  await withGcLock(store, () => {
    ensureDir(store.rootDir);
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
  });
}

/**
 * Keeps `paths` alive while this process runs (a temporary root), taken under the gc lock; returns its remover.
 * `purpose` names a second root of the same process (e.g. a started service's, held past its build's root).
 */
export async function addTempRoot(store: Store, paths: readonly string[], purpose?: string): Promise<() => void> {
  const file = join(store.rootDir, purpose === undefined ? `tmp-${process.pid}` : `tmp-${process.pid}-${purpose}`);
  await withGcLock(store, () => {
    ensureDir(store.rootDir);
    writeFileAtomic(file, formatOwner(selfOwner()) + paths.join("\n") + "\n");
  });
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
  const out: RootInfo[] = [];
  for (const n of listDir(store.rootDir).sort()) {
    const root = join(store.rootDir, n);
    if (n.startsWith("tmp-")) {
      if (n.endsWith(".tmp")) continue; // a temp root being written: its writer holds the gc lock, so this is debris
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

/** Entries reachable from the live roots, through metadata references. */
export function liveEntries(store: Store, roots: readonly RootInfo[]): Set<string> {
  return closureOf(store, roots.filter((r) => r.live).flatMap((r) => r.entries));
}

/** The entries among `paths` and every entry they reference, transitively, through metadata references. */
export function closureOf(store: Store, paths: readonly string[]): Set<string> {
  const live = new Set<string>();
  const stack = [...paths];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const e = store.entry(p);
    if (!e || live.has(e)) continue;
    live.add(e);
    for (const r of referencesOf(store, e)) stack.push(r);
  }
  return live;
}

/** The references a record names, read leniently: a record failing other checks still keeps what it names alive. */
function referencesOf(store: Store, p: StorePath): string[] {
  try {
    const refs = (JSON.parse(readFileSync(store.metaPath(p), "utf8")) as { references?: unknown }).references;
    return Array.isArray(refs) ? refs.filter((r): r is string => typeof r === "string") : [];
  } catch {
    return [];
  }
}
