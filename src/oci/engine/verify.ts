/**
 * Our own check of an OCI image layout, like `crane validate`: every descriptor's digest and size against its blob,
 * every layer's uncompressed digest against the config's diff_ids, every layer a readable tar, every blob named by its hash;
 * in an image index, each platform once and as its image's config names it.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, layerCompression } from "../media-types.js";
import { blobPath, openLayer, readJsonFile, type OciDescriptor } from "./layout.js";
import { readTar } from "./tar.js";

/** The verdict: ok when there are no problems; each problem names the document or blob it concerns. */
export interface OciVerification {
  readonly ok: boolean;
  readonly problems: string[];
}

async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  return `sha256:${h.digest("hex")}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What is wrong with an index descriptor's `platform` (manifests[i] of `what`): not an object with architecture and os, a
 * platform another descriptor of the index already has (`seen`), or one the image's config (when read) contradicts.
 */
function platformProblems(platform: unknown, config: Record<string, unknown> | null, what: string, seen: Map<string, number>, i: number): string[] {
  if (!isObject(platform) || typeof platform.architecture !== "string" || typeof platform.os !== "string") return [`${what}: platform needs architecture and os`];
  const out: string[] = [];
  const key = [platform.os, platform.architecture, platform.variant].filter((v) => v !== undefined).join("/");
  const first = seen.get(key);
  if (first !== undefined) out.push(`${what}: platform ${key} is also manifests[${first}]'s`);
  else seen.set(key, i);
  if (config !== null) {
    for (const k of ["architecture", "os", "variant"] as const) {
      const show = (v: unknown): string => (v === undefined ? "(none)" : JSON.stringify(v));
      if (platform[k] !== config[k]) out.push(`${what}: platform ${k} ${show(platform[k])} but the image config says ${show(config[k])}`);
    }
  }
  return out;
}

/** Checks a layout directory; never throws for a bad layout (only the problems list says what is wrong). */
export async function verifyOciLayout(dir: string): Promise<OciVerification> {
  const problems: string[] = [];
  const hashed = new Map<string, string>(); // blob path -> digest computed
  const attempt = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  };

  const layout = attempt("oci-layout", () => readJsonFile(join(dir, "oci-layout")));
  if (layout !== undefined && !(isObject(layout) && typeof layout.imageLayoutVersion === "string")) {
    problems.push("oci-layout: imageLayoutVersion is missing");
  }

  /** Checks that a descriptor's blob exists with its size and digest; returns the blob's path when it does. */
  const checkBlob = async (d: unknown, what: string, hash = true): Promise<string | null> => {
    if (!isObject(d) || typeof d.digest !== "string" || typeof d.size !== "number" || typeof d.mediaType !== "string") {
      problems.push(`${what}: not a descriptor (mediaType, digest and size are required)`);
      return null;
    }
    const path = blobPath(dir, d.digest);
    if (path === null) {
      problems.push(`${what}: malformed digest ${JSON.stringify(d.digest)}`);
      return null;
    }
    if (!existsSync(path)) {
      problems.push(`${what}: blob ${d.digest} is missing`);
      return null;
    }
    const size = statSync(path).size;
    if (size !== d.size) problems.push(`${what}: size mismatch for ${d.digest}: the descriptor says ${d.size}, the blob has ${size} bytes`);
    if (hash && d.digest.startsWith("sha256:")) {
      const actual = hashed.get(path) ?? (await hashFile(path));
      hashed.set(path, actual);
      if (actual !== d.digest) problems.push(`${what}: digest mismatch: the descriptor says ${d.digest}, the blob hashes to ${actual}`);
    }
    return path;
  };

  /** Checks a manifest, its config and layers; returns the config when it could be read. */
  const checkManifest = async (d: OciDescriptor, what: string): Promise<Record<string, unknown> | null> => {
    const path = await checkBlob(d, what);
    if (path === null) return null;
    const m = attempt(what, () => readJsonFile(path));
    if (!isObject(m)) {
      if (m !== undefined) problems.push(`${what}: not a JSON object`);
      return null;
    }
    if (m.schemaVersion !== 2) problems.push(`${what}: schemaVersion is not 2`);
    if (m.mediaType !== undefined && m.mediaType !== MANIFEST_MEDIA_TYPE) problems.push(`${what}: mediaType ${String(m.mediaType)} is not ${MANIFEST_MEDIA_TYPE}`);
    if (!isObject(m.config)) {
      problems.push(`${what}: no config descriptor`);
      return null;
    }
    if (typeof m.artifactType === "string") {
      await checkArtifact(m, d, what);
      return null;
    }
    if (m.config.mediaType !== CONFIG_MEDIA_TYPE) problems.push(`${what}: config mediaType ${String(m.config.mediaType)} is not ${CONFIG_MEDIA_TYPE}`);
    const cfgPath = await checkBlob(m.config, `${what} config`);
    if (!Array.isArray(m.layers)) problems.push(`${what}: layers is not an array`);
    const layers = Array.isArray(m.layers) ? (m.layers as unknown[]) : [];
    let diffIds: unknown[] = [];
    let config: Record<string, unknown> | null = null;
    if (cfgPath !== null) {
      const c = attempt(`${what} config`, () => readJsonFile(cfgPath));
      if (isObject(c)) config = c;
      if (isObject(c)) {
        if (typeof c.architecture !== "string" || typeof c.os !== "string") problems.push(`${what} config: architecture and os are required`);
        const rootfs = c.rootfs;
        if (!isObject(rootfs) || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids)) problems.push(`${what} config: rootfs must be {type: "layers", diff_ids: [...]}`);
        else diffIds = rootfs.diff_ids as unknown[];
        if (diffIds.length !== layers.length) problems.push(`${what} config: ${diffIds.length} diff_ids for ${layers.length} layers`);
      }
    }
    for (const [i, l] of layers.entries()) {
      const lw = `${what} layer ${i}`;
      // The layer's blob digest is computed while it is read as a tar, below: one pass.
      const lpath = await checkBlob(l, lw, false);
      if (lpath === null || !isObject(l)) continue;
      const mediaType = String(l.mediaType);
      if (layerCompression(mediaType) === null) {
        problems.push(`${lw}: unsupported layer media type ${mediaType}`);
        continue;
      }
      try {
        const layer = openLayer(lpath, mediaType);
        const entries = await readTar(layer.data, async () => undefined);
        const facts = await layer.finish();
        hashed.set(lpath, facts.blobDigest);
        if (String(l.digest).startsWith("sha256:") && facts.blobDigest !== l.digest) {
          problems.push(`${lw}: digest mismatch: the descriptor says ${String(l.digest)}, the blob hashes to ${facts.blobDigest}`);
        }
        if (entries === 0) problems.push(`${lw}: the layer tar has no entries`);
        if (diffIds[i] !== undefined && diffIds[i] !== facts.diffId) {
          problems.push(`${lw}: diff_id mismatch: the config says ${String(diffIds[i])}, the uncompressed layer hashes to ${facts.diffId}`);
        }
        if (layerCompression(mediaType) === "none" && facts.diffId !== l.digest) problems.push(`${lw}: an uncompressed layer's digest must equal its diff_id`);
      } catch (e) {
        problems.push(`${lw}: unreadable: ${(e as Error).message}`);
      }
    }
    return config;
  };

  /** An artifact manifest (an SBOM, a provenance): the artifactType the index gives is its own; its blobs and its subject exist. */
  const checkArtifact = async (m: Record<string, unknown>, d: OciDescriptor, what: string): Promise<void> => {
    const listed = (d as { artifactType?: unknown }).artifactType;
    if (listed !== undefined && listed !== m.artifactType) problems.push(`${what}: the index's artifactType is not the manifest's`);
    await checkBlob(m.config, `${what} config`);
    for (const [i, l] of (Array.isArray(m.layers) ? (m.layers as unknown[]) : []).entries()) await checkBlob(l, `${what} blob ${i}`);
    if (m.subject !== undefined) await checkBlob(m.subject, `${what} subject`);
  };

  const checkIndex = async (index: unknown, what: string, depth: number): Promise<void> => {
    if (!isObject(index)) return void problems.push(`${what}: not a JSON object`);
    if (index.schemaVersion !== 2) problems.push(`${what}: schemaVersion is not 2`);
    if (!Array.isArray(index.manifests) || index.manifests.length === 0) return void problems.push(`${what}: manifests is empty`);
    const platforms = new Map<string, number>();
    for (const [i, d] of (index.manifests as unknown[]).entries()) {
      const dw = `${what} manifests[${i}]`;
      if (isObject(d) && d.mediaType === INDEX_MEDIA_TYPE && depth < 8) {
        const p = await checkBlob(d, dw);
        if (p !== null) await checkIndex(attempt(dw, () => readJsonFile(p)), dw, depth + 1);
      } else if (isObject(d) && d.mediaType === MANIFEST_MEDIA_TYPE) {
        const config = await checkManifest(d as unknown as OciDescriptor, dw);
        // A multi-platform index: each descriptor's platform is its image's, and names one image.
        if (d.platform !== undefined) problems.push(...platformProblems(d.platform, config, dw, platforms, i));
      } else {
        problems.push(`${dw}: mediaType ${isObject(d) ? String(d.mediaType) : "(none)"} is neither a manifest nor an index`);
      }
    }
  };

  const index = attempt("index.json", () => readJsonFile(join(dir, "index.json")));
  if (index !== undefined) await checkIndex(index, "index.json", 0);

  // Every blob, referenced or not, is named by its own hash.
  const shaDir = join(dir, "blobs", "sha256");
  if (existsSync(shaDir)) {
    for (const name of readdirSync(shaDir).sort()) {
      const path = join(shaDir, name);
      if (!/^[a-f0-9]{64}$/.test(name)) {
        problems.push(`blobs/sha256/${name}: not a sha256 digest name`);
        continue;
      }
      const actual = hashed.get(path) ?? (await hashFile(path));
      if (actual !== `sha256:${name}`) problems.push(`blobs/sha256/${name}: content hashes to ${actual}`);
    }
  } else problems.push("blobs/sha256: missing");

  return { ok: problems.length === 0, problems };
}
