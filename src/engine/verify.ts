/**
 * Verifying the store (`mb store verify`): every entry is re-hashed against its record, entries without a record are
 * reported, and with `--repair` whatever fails is removed (records first), so it is rebuilt on next use rather than
 * reused. `verifyEntry` is the same check for one entry, run by `mb check` before any evidence.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { lockOwner } from "./lock.js";
import type { Store, StorePath } from "./store.js";
import { readEntryMeta } from "./store-meta.js";
import { canonicalProblem, hashTree, hashTreeV1 } from "./tree-hash.js";

/** One problem `mb store verify` found. */
export interface VerifyProblem {
  readonly storePath: string;
  readonly kind: "missing" | "corrupt" | "incomplete";
  readonly detail: string;
}

/** Why an entry with a record is not what its record says (re-hashed in full), or null when it is. */
export function verifyEntry(store: Store, p: StorePath): VerifyProblem | null {
  const meta = readEntryMeta(store.metaPath(p), p);
  if (typeof meta === "string") return { storePath: p, kind: "corrupt", detail: meta };
  if (!existsSync(p)) return { storePath: p, kind: "missing", detail: "its metadata exists but the entry is gone" };
  const actual = `sha256:${meta.version === 1 ? hashTreeV1(p) : hashTree(p)}`;
  if (actual !== meta.outputHash) {
    const cheap = store.problemOf(p);
    return { storePath: p, kind: "corrupt", detail: `content hash ${actual} differs from the recorded ${meta.outputHash}${cheap ? ` (${cheap})` : ""}` };
  }
  const bad = canonicalProblem(p);
  if (bad) return { storePath: p, kind: "corrupt", detail: `not in canonical form: ${bad}` };
  const cheap = store.problemOf(p);
  return cheap ? { storePath: p, kind: "corrupt", detail: cheap } : null;
}

/** Re-hashes every entry against its metadata; also reports entries without metadata and entries not in canonical form. */
export function verifyStore(store: Store): { checked: number; problems: VerifyProblem[] } {
  const problems: VerifyProblem[] = [];
  const metas = store.metaNames();
  const withMeta = new Set(metas);
  for (const n of metas) {
    const problem = verifyEntry(store, join(store.dir, n) as StorePath);
    if (problem) problems.push(problem);
  }
  for (const n of store.entryNames()) {
    if (withMeta.has(n)) continue;
    const p = join(store.dir, n) as StorePath;
    if (lockOwner(store.lockPath(p)) !== null) continue; // being installed right now
    problems.push({ storePath: p, kind: "incomplete", detail: "the entry has no metadata record (an interrupted install)" });
  }
  return { checked: metas.length, problems };
}
