/**
 * The node programs the base-image steps run (`node -e PROGRAM ARGS`): import-base, which reads the base layout and
 * copies its layers into the output, and the config merge of write-config. Plain JavaScript text without `$` (runTool
 * arguments are split on `$out`), so the same text is what the plan shows and what the unit tests evaluate.
 */

/**
 * `mergeImageConfig(base, spec, created, diffIds)`: the image config of an image built on `base` (the base's config
 * JSON). `spec` is `{architecture, os, config, history}` where `config` holds only the fields the spec gives (image-spec
 * names). Entrypoint, Cmd, User, WorkingDir and StopSignal replace the base's; a spec that sets Entrypoint but not Cmd
 * drops the base's Cmd (Docker's rule: an inherited Cmd was meant for the base's entrypoint); an empty list removes the
 * field. Env is merged by key (a spec entry replaces the base's entry in place, new keys follow), Labels by key (the
 * spec's win), ExposedPorts and Volumes are the union. Every other field of the base's config is kept. diff_ids and
 * history are the base's, then the new layers'.
 */
export const MERGE_CONFIG_JS = String.raw`function mergeImageConfig(base, spec, created, diffIds) {
  const bc = base.config || {};
  const o = spec.config || {};
  const sorted = (obj) => { const r = {}; for (const k of Object.keys(obj).sort()) r[k] = obj[k]; return r; };
  const set = (a, b) => { const r = {}; for (const k of Object.keys(a || {}).concat(Object.keys(b || {})).sort()) r[k] = {}; return r; };
  const envKey = (e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("="));
  const c = {};
  const pick = (k, v) => { if (v !== undefined && !(Array.isArray(v) && v.length === 0) && !(v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)) c[k] = v; };
  pick("Entrypoint", o.Entrypoint !== undefined ? o.Entrypoint : bc.Entrypoint);
  pick("Cmd", o.Cmd !== undefined ? o.Cmd : o.Entrypoint !== undefined ? undefined : bc.Cmd);
  let env = (bc.Env || []).slice();
  for (const e of o.Env || []) {
    const i = env.findIndex((b) => envKey(b) === envKey(e));
    if (i >= 0) env[i] = e; else env.push(e);
  }
  pick("Env", env);
  pick("ExposedPorts", set(bc.ExposedPorts, o.ExposedPorts));
  pick("Labels", sorted(Object.assign({}, bc.Labels || {}, o.Labels || {})));
  for (const k of ["WorkingDir", "User"]) pick(k, o[k] !== undefined ? o[k] : bc[k] === "" ? undefined : bc[k]);
  pick("Volumes", set(bc.Volumes, o.Volumes));
  pick("StopSignal", o.StopSignal !== undefined ? o.StopSignal : bc.StopSignal);
  const own = ["Entrypoint", "Cmd", "Env", "ExposedPorts", "Labels", "WorkingDir", "User", "Volumes", "StopSignal"];
  for (const k of Object.keys(bc)) if (!own.includes(k)) c[k] = bc[k];
  const image = { architecture: spec.architecture, os: spec.os };
  if (spec.variant !== undefined) image.variant = spec.variant;
  else if (base.variant !== undefined && base.architecture === spec.architecture) image.variant = base.variant;
  image.created = created;
  image.config = c;
  image.rootfs = { type: "layers", diff_ids: ((base.rootfs && base.rootfs.diff_ids) || []).concat(diffIds) };
  image.history = (base.history || []).concat(spec.history.map((h) => ({ created: created, created_by: h })));
  return image;
}
`;

/**
 * write-config on a base: `node -e PROGRAM SPEC CREATED`; reads `.scratch/base-config.json` and each new layer's
 * `.scratch/layer-<name>.diffid`, prints the merged config (SPEC is `{architecture, os, config, history, layers}`).
 */
export const BASE_CONFIG_PROGRAM = `"use strict";
const fs = require("fs");
const path = require("path");
${MERGE_CONFIG_JS}
const spec = JSON.parse(process.argv[1]);
const scratch = path.join(process.env.out, ".scratch");
const base = JSON.parse(fs.readFileSync(path.join(scratch, "base-config.json"), "utf8"));
const diffIds = spec.layers.map((n) => "sha256:" + fs.readFileSync(path.join(scratch, "layer-" + n + ".diffid"), "utf8").trim());
process.stdout.write(JSON.stringify(mergeImageConfig(base, spec, process.argv[2], diffIds)));
`;

/**
 * import-base: `node -e PROGRAM LAYOUT REFERENCE REF OS ARCH NEWLAYERS`. Picks the manifest (by ref name, else the
 * layout's only one; through an index, the one for OS/ARCH), checks every blob it uses against its digest and size and
 * the config's platform, copies the layer blobs into `$out/blobs/sha256` (same digests), and writes
 * `.scratch/base-config.json` and `.scratch/base-layers.json` (the layer descriptors, OCI media types, as the text the
 * manifest's layer list starts with). Every failure names the reference and exits 1.
 */
export const IMPORT_BASE_PROGRAM = String.raw`"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const [layout, reference, refName, wantOs, wantArch, newLayers] = process.argv.slice(1);
const out = process.env.out;
const fail = (m) => { process.stderr.write("oci-image: base '" + reference + "': " + m + "\n"); process.exit(1); };
const INDEXES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const MANIFESTS = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];
const LAYERS = {
  "application/vnd.oci.image.layer.v1.tar": "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
};
const blobFile = (d) => {
  const m = /^sha256:([0-9a-f]{64})/.exec(String(d));
  if (!m || String(d).length !== 71) fail("the digest '" + d + "' is not a sha256 digest");
  return path.join(layout, "blobs", "sha256", m[1]);
};
const digestOf = (file) => {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(1 << 20);
  let n, size = 0;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) { h.update(buf.subarray(0, n)); size += n; }
  fs.closeSync(fd);
  return { digest: "sha256:" + h.digest("hex"), size };
};
const checked = (desc, what) => {
  const file = blobFile(desc.digest);
  if (!fs.existsSync(file)) fail("the " + what + " blob " + desc.digest + " is missing from the layout");
  const got = digestOf(file);
  if (got.digest !== desc.digest) fail("digest mismatch for the " + what + " blob: expected " + desc.digest + ", got " + got.digest);
  if (typeof desc.size === "number" && got.size !== desc.size) fail("size mismatch for the " + what + " blob " + desc.digest + ": expected " + desc.size + ", got " + got.size);
  return file;
};
const json = (file, what) => { try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) { fail("the " + what + " is not JSON: " + e.message); } };
const platform = (p) => (p ? p.os + "/" + p.architecture + (p.variant ? "/" + p.variant : "") : "no platform");
const index = json(path.join(layout, "index.json"), "index.json (is " + layout + " an OCI layout?)");
const listed = Array.isArray(index.manifests) ? index.manifests : [];
const refOf = (d) => (d.annotations || {})["org.opencontainers.image.ref.name"];
let desc;
if (refName !== "") {
  desc = listed.find((d) => refOf(d) === refName);
  if (!desc) fail("the layout has no manifest named '" + refName + "' (its ref names: " + (listed.map(refOf).filter(Boolean).join(", ") || "none") + ")");
} else if (listed.length === 1) {
  desc = listed[0];
} else {
  fail("the layout's index.json lists " + listed.length + " manifests: name one (oci:DIR:<ref>; ref names: " + (listed.map(refOf).filter(Boolean).join(", ") || "none") + ")");
}
while (INDEXES.includes(desc.mediaType)) {
  const idx = json(checked(desc, "index"), "image index");
  const hits = (idx.manifests || []).filter((m) => m.platform && m.platform.os === wantOs && m.platform.architecture === wantArch);
  if (hits.length === 0) fail("is not available for " + wantOs + "/" + wantArch + " (its platforms: " + ((idx.manifests || []).map((m) => platform(m.platform)).join(", ") || "none") + ")");
  desc = hits[0];
}
if (!MANIFESTS.includes(desc.mediaType)) fail("the manifest's media type '" + desc.mediaType + "' is not an image manifest");
const manifest = json(checked(desc, "manifest"), "manifest");
const config = json(checked(manifest.config, "config"), "config");
if (config.os !== wantOs || config.architecture !== wantArch) fail("is an image for " + platform(config) + ", not " + wantOs + "/" + wantArch);
const layers = manifest.layers || [];
const diffIds = (config.rootfs && config.rootfs.diff_ids) || [];
if (diffIds.length !== layers.length) fail("its config lists " + diffIds.length + " diff_ids for " + layers.length + " layers");
const descs = layers.map((l, i) => {
  const mediaType = LAYERS[l.mediaType];
  if (mediaType === undefined) fail("layer " + i + " has the media type '" + l.mediaType + "', which is not a layer this image can carry");
  const src = checked(l, "layer " + i);
  const dest = path.join(out, "blobs", "sha256", l.digest.slice(7));
  if (!fs.existsSync(dest)) { fs.copyFileSync(src, dest, fs.constants.COPYFILE_FICLONE); fs.chmodSync(dest, 0o644); }
  const d = { mediaType: mediaType, digest: l.digest, size: l.size };
  if (l.annotations && Object.keys(l.annotations).length > 0) d.annotations = l.annotations;
  return JSON.stringify(d);
});
fs.writeFileSync(path.join(out, ".scratch", "base-config.json"), JSON.stringify(config));
fs.writeFileSync(path.join(out, ".scratch", "base-layers.json"), descs.join(",") + (descs.length > 0 && Number(newLayers) > 0 ? "," : ""));
`;
