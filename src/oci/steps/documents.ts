/** The document steps of oci-image: write-config, write-manifest and write-index, each a JSON text printed by bash. */
import type { Operation } from "../../core/operations.js";
import { escapeShellArg } from "../../program/render.js";
import { COMPRESSION_LEVEL_ANNOTATION, COMPRESSION_TOOL_ANNOTATION, CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, REF_NAME_ANNOTATION } from "../media-types.js";
import { bashStep, jsonText, printfPieces, type JsonPiece, type StepContext } from "./common.js";
import { COMPRESSORS, compressionOf, type StepLayer } from "./layer.js";

/** The image configuration the config blob records; `created` absent means the build's SOURCE_DATE_EPOCH. */
export interface ImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string | undefined;
  readonly created?: string | undefined;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: readonly string[];
  readonly exposedPorts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly workingDir?: string | undefined;
  readonly user?: string | undefined;
  readonly volumes?: readonly string[] | undefined;
  readonly stopSignal?: string | undefined;
}

/** Shell lines reading what tar-layer recorded for every layer: d<i> digest and s<i> size, or id<i> diff_id. */
function readLayerFacts(layers: readonly StepLayer[], facts: "descriptor" | "diffId"): string {
  return layers
    .map((l, i) =>
      facts === "diffId"
        ? `id${i}=$(< "$out/.scratch/layer-${l.name}.diffid")`
        : `d${i}=$(< "$out/.scratch/layer-${l.name}.digest")\ns${i}=$(< "$out/.scratch/layer-${l.name}.size")`,
    )
    .join("\n");
}

/** Shell lines storing `.scratch/<doc>.json` as a blob and recording its digest and size in scratch. */
export function storeDocument(hash: string, doc: string): string {
  return `d=$(${hash} "$out/.scratch/${doc}.json" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/${doc}.json")
printf "%s" "$d" > "$out/.scratch/${doc}.digest"
printf "%s" "$s" > "$out/.scratch/${doc}.size"
cp "$out/.scratch/${doc}.json" "$out/blobs/sha256/$d"
`;
}

function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** write-config: the image config blob, with the layers' diff_ids and one history entry per layer. */
export function configStep(ctx: StepContext, image: ImageConfig, layers: readonly StepLayer[]): Operation {
  const configSection: Record<string, unknown> = {};
  if (image.entrypoint.length > 0) configSection.Entrypoint = image.entrypoint;
  if (image.cmd.length > 0) configSection.Cmd = image.cmd;
  if (image.env.length > 0) configSection.Env = image.env;
  if (image.exposedPorts.length > 0) configSection.ExposedPorts = Object.fromEntries([...new Set(image.exposedPorts)].sort().map((p) => [p, {}]));
  if (Object.keys(image.labels).length > 0) configSection.Labels = sortedObject(image.labels);
  // The fields beyond the original's, written only when given (image-spec names; Volumes as a set, like ExposedPorts).
  if (image.workingDir !== undefined) configSection.WorkingDir = image.workingDir;
  if (image.user !== undefined) configSection.User = image.user;
  if (image.volumes !== undefined) configSection.Volumes = Object.fromEntries([...image.volumes].sort().map((v) => [v, {}]));
  if (image.stopSignal !== undefined) configSection.StopSignal = image.stopSignal;
  const createdPiece: JsonPiece = image.created === undefined ? { shellVar: "created" } : image.created;
  const pieces: JsonPiece[] = [
    `{"architecture":${jsonText(image.architecture)},"os":${jsonText(image.os)}${image.variant === undefined ? "" : `,"variant":${jsonText(image.variant)}`},"created":"`,
    createdPiece,
    `","config":${jsonText(configSection)},"rootfs":{"type":"layers","diff_ids":[`,
    ...layers.flatMap((_, i): JsonPiece[] => [`${i > 0 ? "," : ""}"sha256:`, { shellVar: `id${i}` }, `"`]),
    `]},"history":[`,
    ...layers.flatMap((l, i): JsonPiece[] => [
      `${i > 0 ? "," : ""}{"created":"`,
      createdPiece,
      `","created_by":${jsonText(`metabuilder oci-image: layer ${l.name}`)}}`,
    ]),
    `]}`,
  ];
  return bashStep(
    ctx,
    "write-config",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
${readLayerFacts(layers, "diffId")}
${image.created === undefined ? `created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)\n` : ""}${printfPieces(pieces, `"$out/.scratch/config.json"`)}
${storeDocument(ctx.hash, "config")}`,
  );
}

/** A layer's descriptor in the manifest, with the compression annotations of a compressed layer. */
function layerDescriptor(l: StepLayer, i: number): JsonPiece[] {
  const c = COMPRESSORS[compressionOf(l)];
  const annotations =
    c.tool === null ? "" : `,"annotations":${jsonText({ [COMPRESSION_LEVEL_ANNOTATION]: c.level, [COMPRESSION_TOOL_ANNOTATION]: c.tool })}`;
  return [`${i > 0 ? "," : ""}{"mediaType":${jsonText(c.mediaType)},"digest":"sha256:`, { shellVar: `d${i}` }, `","size":`, { shellVar: `s${i}` }, `${annotations}}`];
}

/** `,"annotations":{...}` (keys sorted) when there are any, else nothing. */
function annotationsMember(annotations: Readonly<Record<string, string>> | undefined): string {
  return annotations === undefined || Object.keys(annotations).length === 0 ? "" : `,"annotations":${jsonText(sortedObject(annotations))}`;
}

/**
 * write-manifest: the image manifest blob, naming the config and every layer blob (and its annotations, when given); on
 * a base, the base's layer descriptors (import-base's `.scratch/base-layers.json`) come first.
 */
export function manifestStep(ctx: StepContext, layers: readonly StepLayer[], annotations?: Readonly<Record<string, string>>, onBase = false): Operation {
  const pieces: JsonPiece[] = [
    `{"schemaVersion":2,"mediaType":${jsonText(MANIFEST_MEDIA_TYPE)},"config":{"mediaType":${jsonText(CONFIG_MEDIA_TYPE)},"digest":"sha256:`,
    { shellVar: "cfgd" },
    `","size":`,
    { shellVar: "cfgs" },
    `},"layers":[`,
    ...(onBase ? [{ shellVar: "bl" }] : []),
    ...layers.flatMap(layerDescriptor),
    `]${annotationsMember(annotations)}}`,
  ];
  return bashStep(
    ctx,
    "write-manifest",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
cfgd=$(cat "$out/.scratch/config.digest")
cfgs=$(cat "$out/.scratch/config.size")
${onBase ? `bl=$(cat "$out/.scratch/base-layers.json")\n` : ""}${readLayerFacts(layers, "descriptor")}
${printfPieces(pieces, `"$out/.scratch/manifest.json"`)}
${storeDocument(ctx.hash, "manifest")}`,
  );
}

/**
 * write-index: index.json, listing the manifest under the image's name; with tags (or annotations), one descriptor per
 * ref name, each carrying the annotations and its `org.opencontainers.image.ref.name`.
 */
export function indexStep(ctx: StepContext, name: string, tags?: readonly string[], annotations?: Readonly<Record<string, string>>): Operation {
  if (tags !== undefined || annotations !== undefined) return namedIndexStep(ctx, tags ?? [name], annotations ?? {});
  return bashStep(
    ctx,
    "write-index",
    `set -euo pipefail
ref=${escapeShellArg(jsonText(name))}
md=$(< "$out/.scratch/manifest.digest")
ms=$(< "$out/.scratch/manifest.size")
i="{\\"schemaVersion\\":2,\\"manifests\\":[{\\"mediaType\\":\\"${MANIFEST_MEDIA_TYPE}\\",\\"digest\\":\\"sha256:$md\\",\\"size\\":$ms,\\"annotations\\":{\\"${REF_NAME_ANNOTATION}\\":$ref}}]}"
printf "%s" "$i" > "$out/index.json"
`,
  );
}

/** write-index with named tags or annotations: the descriptor text is built here, only the manifest's digest and size at build time. */
function namedIndexStep(ctx: StepContext, refs: readonly string[], annotations: Readonly<Record<string, string>>): Operation {
  return refIndexStep(ctx, { mediaType: MANIFEST_MEDIA_TYPE, scratch: "manifest", digestVar: "md", sizeVar: "ms" }, refs, annotations);
}

/**
 * write-index: index.json with one descriptor of the document at `.scratch/<scratch>.digest|size` per ref name, each
 * with the annotations and its `org.opencontainers.image.ref.name` (an image's manifest, or an index's image index).
 */
export function refIndexStep(
  ctx: StepContext,
  doc: { readonly mediaType: string; readonly scratch: string; readonly digestVar: string; readonly sizeVar: string },
  refs: readonly string[],
  annotations: Readonly<Record<string, string>>,
): Operation {
  const pieces: JsonPiece[] = [`{"schemaVersion":2,"manifests":[`];
  refs.forEach((ref, i) => {
    pieces.push(`${i > 0 ? "," : ""}{"mediaType":${jsonText(doc.mediaType)},"digest":"sha256:`, { shellVar: doc.digestVar }, `","size":`, { shellVar: doc.sizeVar });
    pieces.push(`,"annotations":${jsonText(sortedObject({ ...annotations, [REF_NAME_ANNOTATION]: ref }))}}`);
  });
  pieces.push(`]}`);
  return bashStep(
    ctx,
    "write-index",
    `set -euo pipefail
${doc.digestVar}=$(cat "$out/.scratch/${doc.scratch}.digest")
${doc.sizeVar}=$(cat "$out/.scratch/${doc.scratch}.size")
${printfPieces(pieces, `"$out/index.json"`)}
`,
  );
}
