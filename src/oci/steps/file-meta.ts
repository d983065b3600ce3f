/**
 * Per-layer file ownership and modes: a filter between tar and the blob that rewrites the matching members' ustar
 * headers (mode, uid, gid and the checksum) and passes every other byte through, so the archive's order, names and
 * contents stay tar's own and nothing on the host is chowned. It is a node program run as `node -e PROGRAM RULES`
 * (node is declared as a tool only by images that use `files`); the program holds no `$`, so no argument is split.
 */
import { jsonText } from "./common.js";
import { DEFAULT_FILE_META, type OciFileMeta } from "../image-config.js";

/**
 * The filter. Rules are `{path, uid?, gid?, mode?}` with `path` an absolute path or glob; a member's path is its tar
 * name (the pax `path` record when there is one, else prefix/name) without `./` and a trailing `/`, rooted at `/`.
 */
export const FILE_META_PROGRAM = String.raw`"use strict";
const END = String.fromCharCode(36);
const esc = (c) => "\\" + c;
const glob = (p) => new RegExp("^" + p.split(/(\*\*|\*|\?)/).map((s) => s === "**" ? ".*" : s === "*" ? "[^/]*" : s === "?" ? "[^/]" : s.replace(/[.+^{}()|[\]\\]/g, esc)).join("") + END);
const norm = (p) => "/" + p.split("/").filter((c) => c !== "" && c !== ".").join("/");
const rules = JSON.parse(process.argv[1]).map((r) => ({ ...r, re: glob(norm(r.path)) }));
const text = (h, at, len) => { const b = h.subarray(at, at + len); const z = b.indexOf(0); return b.subarray(0, z < 0 ? len : z).toString("utf8"); };
const octal = (h, at, len) => parseInt(text(h, at, len).trim() || "0", 8);
const put = (h, at, v) => h.write(v.toString(8).padStart(7, "0") + "\0", at, 8, "latin1");
const paxPath = (d) => { let i = 0, p = null; while (i < d.length) { const sp = d.indexOf(32, i); if (sp < 0) break; const n = parseInt(d.subarray(i, sp).toString("latin1"), 10); if (!(n > 0)) break; const rec = d.subarray(sp + 1, i + n - 1).toString("utf8"); const eq = rec.indexOf("="); if (rec.slice(0, eq) === "path") p = rec.slice(eq + 1); i += n; } return p; };
function apply(h, name) {
  const p = norm(name);
  let changed = false;
  for (const r of rules) {
    if (!r.re.test(p)) continue;
    if (r.mode !== undefined) put(h, 100, parseInt(r.mode, 8));
    if (r.uid !== undefined) put(h, 108, r.uid);
    if (r.gid !== undefined) put(h, 116, r.gid);
    changed = true;
  }
  if (!changed) return;
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
}
const out = process.stdout;
let pend = Buffer.alloc(0), pass = 0, pax = -1, paxLeft = 0, nextPath = null;
function step() {
  for (;;) {
    if (pass > 0) {
      const n = Math.min(pass, pend.length);
      if (n === 0) return;
      out.write(pend.subarray(0, n)); pend = pend.subarray(n); pass -= n;
      continue;
    }
    if (pax >= 0) {
      if (pend.length < paxLeft) return;
      const d = pend.subarray(0, paxLeft);
      out.write(d); pend = pend.subarray(paxLeft);
      const p = paxPath(d.subarray(0, pax));
      if (p !== null) nextPath = p;
      pax = -1;
      continue;
    }
    if (pend.length < 512) return;
    const h = Buffer.from(pend.subarray(0, 512)); pend = pend.subarray(512);
    const size = octal(h, 124, 12), padded = Math.ceil(size / 512) * 512, type = String.fromCharCode(h[156]);
    if (h.every((b) => b === 0)) { out.write(h); continue; }
    if (type === "x") { out.write(h); pax = size; paxLeft = padded; continue; }
    if (type === "g") { out.write(h); pass = padded; continue; }
    const prefix = text(h, 345, 155), short = text(h, 0, 100);
    apply(h, nextPath ?? (prefix === "" ? short : prefix + "/" + short));
    nextPath = null;
    out.write(h); pass = padded;
  }
}
process.stdin.on("data", (c) => {
  pend = pend.length === 0 ? c : Buffer.concat([pend, c]);
  step();
  if (out.writableNeedDrain) { process.stdin.pause(); out.once("drain", () => process.stdin.resume()); }
});
process.stdin.on("end", () => { step(); if (pend.length > 0) out.write(pend); });
`;

/** The rules a layer's filter applies: the defaults (`/tmp` 1777), then the layer's own, in order. */
export function fileMetaRules(files: readonly OciFileMeta[]): OciFileMeta[] {
  return [...DEFAULT_FILE_META, ...files];
}

/** The rules as the filter's argument: JSON without `$` (see jsonText). */
export function fileMetaArgument(files: readonly OciFileMeta[]): string {
  return jsonText(fileMetaRules(files).map((f) => ({ path: f.path, ...(f.uid === undefined ? {} : { uid: f.uid }), ...(f.gid === undefined ? {} : { gid: f.gid }), ...(f.mode === undefined ? {} : { mode: f.mode }) })));
}
