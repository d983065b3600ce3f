/**
 * The names OCI documents use, defined once: media types, the layer compression ↔ media type mapping, and the
 * annotation keys metabuilder writes. Pure (no zod, no I/O): the ornament's step scripts and the engine's layout
 * reader and verifier both read them.
 */

export const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
/** A plain tar layer; compressed layers append `+gzip` or `+zstd`. */
export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar";
const NONDISTRIBUTABLE_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.nondistributable.v1.tar";
const DOCKER_LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar";

/** How a layer blob is stored: a plain tar, or compressed with gzip or zstd. */
export const LAYER_COMPRESSIONS = ["none", "gzip", "zstd"] as const;
export type LayerCompression = (typeof LAYER_COMPRESSIONS)[number];

/** The media type a layer of this compression is written with. */
export const LAYER_MEDIA_TYPES = {
  none: LAYER_MEDIA_TYPE,
  gzip: `${LAYER_MEDIA_TYPE}+gzip`,
  zstd: `${LAYER_MEDIA_TYPE}+zstd`,
} as const satisfies Record<LayerCompression, string>;

/** Every layer media type that can be read, with its compression: ours, the non-distributable ones, and Docker's. */
const READABLE_LAYERS: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  ...LAYER_COMPRESSIONS.map((c): [string, LayerCompression] => [LAYER_MEDIA_TYPES[c], c]),
  [NONDISTRIBUTABLE_LAYER_MEDIA_TYPE, "none"],
  [`${NONDISTRIBUTABLE_LAYER_MEDIA_TYPE}+gzip`, "gzip"],
  [`${NONDISTRIBUTABLE_LAYER_MEDIA_TYPE}+zstd`, "zstd"],
  [DOCKER_LAYER_MEDIA_TYPE, "none"],
  [`${DOCKER_LAYER_MEDIA_TYPE}.gzip`, "gzip"],
]);

/** How a layer media type is compressed, or null for a media type that is not a layer we can read. */
export function layerCompression(mediaType: string): LayerCompression | null {
  return READABLE_LAYERS.get(mediaType) ?? null;
}

/** The image name an index entry carries (the layout's ref name). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** Annotation keys recording how a compressed layer was made. */
export const COMPRESSION_TOOL_ANNOTATION = "io.metabuilder.layer.compression.tool";
export const COMPRESSION_LEVEL_ANNOTATION = "io.metabuilder.layer.compression.level";
