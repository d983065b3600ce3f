/** The per-layer steps of oci-image: assemble-rootfs-<layer> (the rootfs in scratch) and tar-layer-<layer> (its blob). */
import type { Operation } from "../../core/operations.js";
import type { PackageRef } from "../../core/spec.js";
import { LAYER_MEDIA_TYPES, type LayerCompression } from "../media-types.js";
import { DETERMINISTIC_TAR_FLAGS, bashStep, type StepContext } from "./common.js";
import type { OciFileMeta } from "../image-config.js";
import { FILE_META_PROGRAM, fileMetaArgument } from "./file-meta.js";

/** A layer as the steps see it: its name, its rootfs, and its compression (none when absent). */
export interface StepLayer {
  readonly name: string;
  readonly source: PackageRef;
  readonly compression?: LayerCompression;
  /** Ownership and modes set in the layer tar's headers (file-meta.ts); absent, tar's stream is the blob unchanged. */
  readonly files?: readonly OciFileMeta[];
}

/** How a layer's rootfs reaches tar: copied into scratch (the original's), or tarred in place. */
export type AssembleMode = "copy" | "direct";

/** Per compression: the layer media type, the compressor command line, and the tool and level recorded as annotations. */
export const COMPRESSORS = {
  none: { mediaType: LAYER_MEDIA_TYPES.none, command: null, tool: null, level: null },
  gzip: { mediaType: LAYER_MEDIA_TYPES.gzip, command: "gzip -n -6 -c", tool: "gzip", level: "6" },
  // zstd's multi-threaded format does not depend on the number of threads, so -T0 stays deterministic. -T0 alone
  // counts physical cores (one, on a 2-vCPU machine whose vCPUs are hyperthreads); logical ones are what there is.
  zstd: { mediaType: LAYER_MEDIA_TYPES.zstd, command: "zstd -q -3 -T0 --auto-threads=logical -c", tool: "zstd", level: "3" },
} as const satisfies Record<LayerCompression, { mediaType: string; command: string | null; tool: string | null; level: string | null }>;

/** The compression of a layer: its own, or a plain tar. */
export function compressionOf(l: StepLayer): LayerCompression {
  return l.compression ?? "none";
}

/** assemble-rootfs-<layer>: puts the layer's rootfs at `.scratch/rootfs-<layer>` (the "copy" script is the original's, line for line). */
export function assembleRootfsStep(ctx: StepContext, l: StepLayer, assemble: AssembleMode): Operation {
  const script =
    assemble === "copy"
      ? `set -euo pipefail
mkdir -p "$out/.scratch/rootfs-${l.name}"
cp -a "$1"/. "$out/.scratch/rootfs-${l.name}/"
chmod -R u+w "$out/.scratch/rootfs-${l.name}"
`
      : `set -euo pipefail
if [ ! -d "$1" ]; then
  echo "oci-image: layer '${l.name}': source '$1' is not a directory" >&2
  exit 1
fi
mkdir -p "$out/.scratch"
if [ -d "$1/tmp" ] && [ ! -L "$1/tmp" ]; then
  # /tmp becomes 1777 in the layer (tar-layer): a copy, since the store's tree cannot change
  mkdir -p "$out/.scratch/rootfs-${l.name}"
  cp -a "$1"/. "$out/.scratch/rootfs-${l.name}/"
  chmod -R u+w "$out/.scratch/rootfs-${l.name}"
else
  ln -sfn "$1" "$out/.scratch/rootfs-${l.name}"
fi
`;
  return bashStep(ctx, `assemble-rootfs-${l.name}`, script, [l.source]);
}

/**
 * tar-layer-<layer>: one pass over the rootfs, tar's stream hashed while it is written (and compressed straight into
 * the blob, which is hashed after: on two cores that is faster than a second tee in the pipeline); records the blob's
 * digest, size and diff_id in scratch. A rootfs's `/tmp` directory is made 1777 first (every layer's, as a
 * distribution's own; in scratch, never in the store). A layer with `files` passes tar's stream through the
 * file-meta filter (node, its program and rules as $1 and $2) before anything hashes it.
 */
export function tarLayerStep(ctx: StepContext, l: StepLayer, assemble: AssembleMode): Operation {
  const { hash } = ctx;
  const s = `"$out/.scratch/layer-${l.name}`;
  const r = `"$out/.scratch/rootfs-${l.name}`;
  const tar = `LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS}${assemble === "direct" ? " --mode=u+w" : ""} \\
  -cf - -C "$out/.scratch/rootfs-${l.name}" .${l.files === undefined ? "" : ` \\
  | node -e "$1" "$2"`}`;
  const compressor = COMPRESSORS[compressionOf(l)].command;
  const stream =
    compressor === null
      ? `d=$(${tar} \\
  | tee ${s}.blob" | ${hash} | cut -d " " -f 1)
diffid=$d`
      : `mkfifo ${s}.fifo"
${hash} < ${s}.fifo" | cut -d " " -f 1 > ${s}.diffid" &
h=$!
${tar} \\
  | tee ${s}.fifo" | ${compressor} > ${s}.blob"
wait "$h"
d=$(${hash} < ${s}.blob" | cut -d " " -f 1)
diffid=$(cat ${s}.diffid")
rm -f ${s}.fifo"`;
  return bashStep(
    ctx,
    `tar-layer-${l.name}`,
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
if [ -d ${r}/tmp" ] && [ ! -L ${r}/tmp" ]; then
  chmod 1777 ${r}/tmp"
fi
${stream}
size=$(wc -c < ${s}.blob")
printf "%s" "$d" > ${s}.digest"
printf "%s" "$diffid" > ${s}.diffid"
printf "%s" "$size" > ${s}.size"
mv ${s}.blob" "$out/blobs/sha256/$d"
`,
    l.files === undefined ? [] : [FILE_META_PROGRAM, fileMetaArgument(l.files)],
  );
}
