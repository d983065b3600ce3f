/**
 * The steps of oci-index: add-image-<platform> (an image's blobs into the layout), write-image-index (the image index
 * blob, one descriptor per platform), write-index (index.json naming it) and archive-layout (the layout as one tar).
 */
import type { Operation } from "../../core/operations.js";
import type { PackageRef } from "../../core/spec.js";
import { escapeShellArg } from "../../program/render.js";
import { INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE } from "../media-types.js";
import { DETERMINISTIC_TAR_FLAGS, bashStep, jsonText, printfPieces, type JsonPiece, type StepContext } from "./common.js";
import { refIndexStep, storeDocument } from "./documents.js";

/** A platform as an index descriptor names it: architecture, os and (when given) variant. */
export interface StepPlatform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string | undefined;
}

/** An image of the index as the steps see it: its name, its layout (a package), and its platform. */
export interface StepIndexImage {
  readonly name: string;
  readonly source: PackageRef;
  readonly platform: StepPlatform;
}

/** `os/architecture[/variant]`, as docker and skopeo write a platform. */
export function platformKey(p: StepPlatform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? "" : `/${p.variant}`}`;
}

/** The scratch name of an image's facts and the suffix of its step: `linux-arm64-v8`. */
export function platformSlug(p: StepPlatform): string {
  return platformKey(p).replaceAll("/", "-");
}

/** The manifest descriptor an image's index.json lists first, as ociImage writes it: its digest and size. */
const MANIFEST_DESCRIPTOR = `"mediaType":"${MANIFEST_MEDIA_TYPE.replaceAll("+", "\\+").replaceAll(".", "\\.")}","digest":"sha256:([0-9a-f]{64})","size":([0-9]+)`;

/**
 * add-image-<platform>: copies every blob of the image's layout (`$1`, the image named `$2`) into the index's (a blob already there is the same
 * bytes, by its name), and records the image manifest's digest and size, read from the image's index.json, in scratch.
 */
export function addImageStep(ctx: StepContext, image: StepIndexImage): Operation {
  const slug = platformSlug(image.platform);
  return bashStep(
    ctx,
    `add-image-${slug}`,
    `set -euo pipefail
mkdir -p "$out/blobs/sha256" "$out/.scratch"
idx=$(cat "$1/index.json")
re=${escapeShellArg(MANIFEST_DESCRIPTOR)}
if ! [[ $idx =~ $re ]]; then
  echo "oci-index: image '$2': $1/index.json lists no image manifest" >&2
  exit 1
fi
printf "%s" "\${BASH_REMATCH[1]}" > "$out/.scratch/image-${slug}.digest"
printf "%s" "\${BASH_REMATCH[2]}" > "$out/.scratch/image-${slug}.size"
for b in "$1"/blobs/sha256/*; do
  [ -e "$out/blobs/sha256/\${b##*/}" ] || cp "$b" "$out/blobs/sha256/"
done
`,
    [image.source, image.name],
  );
}

function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

/** The `platform` object of a descriptor, keys in the image-spec's order. */
function platformObject(p: StepPlatform): Record<string, string> {
  return { architecture: p.architecture, os: p.os, ...(p.variant === undefined ? {} : { variant: p.variant }) };
}

/**
 * write-image-index: the image index blob (mediaType application/vnd.oci.image.index.v1+json), one manifest descriptor
 * per image with its platform, in the order given, and the index's annotations when there are any.
 */
export function imageIndexStep(ctx: StepContext, images: readonly StepIndexImage[], annotations?: Readonly<Record<string, string>>): Operation {
  const pieces: JsonPiece[] = [`{"schemaVersion":2,"mediaType":${jsonText(INDEX_MEDIA_TYPE)},"manifests":[`];
  images.forEach((image, i) => {
    pieces.push(`${i > 0 ? "," : ""}{"mediaType":${jsonText(MANIFEST_MEDIA_TYPE)},"digest":"sha256:`, { shellVar: `d${i}` }, `","size":`, { shellVar: `s${i}` });
    pieces.push(`,"platform":${jsonText(platformObject(image.platform))}}`);
  });
  const annotated = annotations !== undefined && Object.keys(annotations).length > 0;
  pieces.push(`]${annotated ? `,"annotations":${jsonText(sortedObject(annotations))}` : ""}}`);
  const facts = images
    .map((image, i) => {
      const slug = platformSlug(image.platform);
      return `d${i}=$(cat "$out/.scratch/image-${slug}.digest")\ns${i}=$(cat "$out/.scratch/image-${slug}.size")`;
    })
    .join("\n");
  return bashStep(
    ctx,
    "write-image-index",
    `set -euo pipefail
${facts}
${printfPieces(pieces, `"$out/.scratch/image-index.json"`)}
${storeDocument(ctx.hash, "image-index")}`,
  );
}

/** write-index: index.json, one descriptor of the image index per ref name (the tags, else the index's name), each with the annotations. */
export function layoutIndexStep(ctx: StepContext, refs: readonly string[], annotations: Readonly<Record<string, string>>): Operation {
  return refIndexStep(ctx, { mediaType: INDEX_MEDIA_TYPE, scratch: "image-index", digestVar: "d", sizeVar: "s" }, refs, annotations);
}

/**
 * archive-layout: the layout as image.oci.tar (an oci-archive), modes fixed so the umask cannot change it. Unlike an
 * image's archive it carries no docker-archive manifest.json: that format has one image per tag, not an index.
 */
export function indexArchiveStep(ctx: StepContext): Operation {
  return bashStep(
    ctx,
    "archive-layout",
    `set -euo pipefail
LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS} --mode=u=rwX,go=rX \\
  -cf "$TMPDIR/image.oci.tar" \\
  -C "$out" .
mv "$TMPDIR/image.oci.tar" "$out/image.oci.tar"
`,
  );
}
