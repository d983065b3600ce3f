/**
 * The binary cache's format: one OCI artifact manifest per store entry, tagged by the entry's store hash (the 32
 * characters before `-` in its base name). Its config blob is the entry's record (`CacheEntryConfig`), its one layer
 * the entry as a gzip-compressed deterministic tar (entry-tar.ts), and its annotations carry the signature over the
 * entry's store path, content hash and references (keys.ts) with the key's name.
 */
import { basename } from "node:path";
import { z } from "zod";
import { strictObject } from "../core/strict.js";

/** The artifact type of a store entry. */
export const ENTRY_ARTIFACT_TYPE = "application/vnd.metabuilder.store-entry.v1";
/** The media type of its config blob (the entry's record). */
export const ENTRY_CONFIG_TYPE = "application/vnd.metabuilder.store-entry.config.v1+json";
/** The media type of its layer (the entry as a tar, gzip-compressed). */
export const ENTRY_LAYER_TYPE = "application/vnd.metabuilder.store-entry.tar+gzip";
/** The manifest media type (OCI image manifest, with `artifactType`). */
export const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
/** The annotation holding `<key name>:<base64 signature>`. */
export const SIGNATURE_ANNOTATION = "org.metabuilder.store-entry.signature";
/** The annotation naming the store path (for people browsing the registry; the config is what counts). */
export const STORE_PATH_ANNOTATION = "org.metabuilder.store-entry.path";

const STORE_HASH = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;

/** The record of a store entry in the cache (the artifact's config blob). */
export const CacheEntryConfig = strictObject({
  version: z.literal(1).describe("Version of this record's format."),
  storePath: z.string().describe("The entry's full store path (the store directory is part of every store path)."),
  kind: z.enum(["build", "import", "artifact"]).describe("How the entry was made: a build, an imported path, a runtime artifact."),
  name: z.string().describe("The entry's name."),
  planHash: z.string().regex(STORE_HASH).describe("The hash part of the store path: the builder's fingerprint hash (builds), or a content-derived name."),
  outputHash: z.string().regex(SHA256).describe("`sha256:<tree hash>` of the entry's content (signed)."),
  references: z.array(z.string()).describe("Store paths the entry needs alive, sorted (signed)."),
  files: z.number().int().nonnegative().describe("How many regular files the entry holds."),
  bytes: z.number().int().nonnegative().describe("Their total size in bytes."),
  fingerprint: z.record(z.string(), z.unknown()).optional().describe("The fingerprint record the build's store path was computed from (builds)."),
}).describe("A store entry as the binary cache records it.");
export type CacheEntryConfig = z.infer<typeof CacheEntryConfig>;

/** The tag an entry is stored under: its store hash. */
export function entryTag(storePath: string): string {
  const hash = basename(storePath).slice(0, 32);
  if (!STORE_HASH.test(hash)) throw new Error(`internal: '${storePath}' has no store hash`);
  return hash;
}

/** A blob as a manifest names it. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** The manifest of an entry's artifact (canonical JSON bytes). */
export function entryManifest(config: Descriptor, layer: Descriptor, storePath: string, signature: string): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    artifactType: ENTRY_ARTIFACT_TYPE,
    config,
    layers: [layer],
    annotations: { [SIGNATURE_ANNOTATION]: signature, [STORE_PATH_ANNOTATION]: storePath },
  };
  return Buffer.from(JSON.stringify(manifest), "utf8");
}

/** What a fetched manifest says: its config and layer blobs and its signature. */
export interface EntryManifest {
  readonly config: Descriptor;
  readonly layer: Descriptor;
  readonly signature: string | undefined;
}

const DescriptorSchema = z.object({ mediaType: z.string(), digest: z.string().regex(SHA256), size: z.number().int().nonnegative() });
const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  artifactType: z.literal(ENTRY_ARTIFACT_TYPE).optional(),
  config: DescriptorSchema.extend({ mediaType: z.literal(ENTRY_CONFIG_TYPE) }),
  layers: z.tuple([DescriptorSchema.extend({ mediaType: z.literal(ENTRY_LAYER_TYPE) })]),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Reads a fetched manifest as an entry's artifact, or says why it is not one. */
export function parseEntryManifest(bytes: Uint8Array): EntryManifest | string {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return "its manifest is not JSON";
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) return `its manifest is not a metabuilder store entry (${r.error.issues[0]?.path.join(".") || "manifest"}: ${r.error.issues[0]?.message})`;
  return { config: r.data.config, layer: r.data.layers[0], signature: r.data.annotations?.[SIGNATURE_ANNOTATION] };
}

/** Reads a fetched config blob as an entry's record, or says why it is not one. */
export function parseEntryConfig(text: string): CacheEntryConfig | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "its config is not JSON";
  }
  const r = CacheEntryConfig.safeParse(json);
  if (!r.success) return `its config is not an entry record (${r.error.issues[0]?.path.join(".") || "record"}: ${r.error.issues[0]?.message})`;
  return r.data;
}
