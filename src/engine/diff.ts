/** File-level differences between two trees: what `mb build --check` reports between a stored entry and its rebuild. */
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { Difference } from "./events.js";
import { hashFile } from "./tree-hash.js";

function kindOf(st: Stats): string {
  return st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "directory" : st.isFile() ? "file" : "special";
}

function walk(a: string, b: string, rel: string, out: Difference[]): void {
  const pa = rel === "" ? a : join(a, rel);
  const pb = rel === "" ? b : join(b, rel);
  const sa = lstatSync(pa);
  const sb = lstatSync(pb);
  const where = rel === "" ? "." : rel;
  if (kindOf(sa) !== kindOf(sb)) {
    out.push({ path: where, kind: "type" });
    return;
  }
  if (sa.isSymbolicLink()) {
    if (readlinkSync(pa) !== readlinkSync(pb)) out.push({ path: where, kind: "symlink" });
    return;
  }
  if (sa.isFile()) {
    if ((sa.mode & 0o111) !== (sb.mode & 0o111)) out.push({ path: where, kind: "mode" });
    if (sa.size !== sb.size || hashFile(pa) !== hashFile(pb)) out.push({ path: where, kind: "content" });
    return;
  }
  if (sa.isDirectory()) {
    const na = new Set(readdirSync(pa));
    const nb = new Set(readdirSync(pb));
    for (const n of [...new Set([...na, ...nb])].sort()) {
      const r = rel === "" ? n : join(rel, n);
      if (!nb.has(n)) out.push({ path: r, kind: "only-stored" });
      else if (!na.has(n)) out.push({ path: r, kind: "only-rebuilt" });
      else walk(a, b, r, out);
    }
  }
}

/** Every file-level difference between `stored` and `rebuilt`, in path order. */
export function diffTrees(stored: string, rebuilt: string): Difference[] {
  const out: Difference[] = [];
  walk(stored, rebuilt, "", out);
  return out;
}
