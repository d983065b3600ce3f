/**
 * The steps of an image on a base (issue 12, item 1): import-base (the base's layers into the output, its config and
 * layer descriptors into scratch) and write-config merging the base's config with the spec's. Both run node programs
 * (src/oci/base/programs.ts); the manifest step puts the base's layer descriptors first (documents.ts).
 */
import type { Operation } from "../../core/operations.js";
import type { OciBase } from "../base/reference.js";
import { BASE_CONFIG_PROGRAM, IMPORT_BASE_PROGRAM } from "../base/programs.js";
import { bashStep, jsonText, type StepContext } from "./common.js";
import type { StepLayer } from "./layer.js";

/** The config fields a spec sets over its base (image-spec names); absent ones are inherited. */
export interface ConfigOverrides {
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Env?: readonly string[];
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly WorkingDir?: string;
  readonly User?: string;
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
  readonly StopSignal?: string;
}

/** import-base: reads the base (extracting an oci-archive first) and copies its layer blobs into the output. */
export function importBaseStep(ctx: StepContext, base: OciBase, platform: { os: string; architecture: string }, newLayers: number): Operation {
  const layout =
    base.kind === "archive"
      ? `mkdir -p "$out/.scratch/base-archive"
tar -xf "$1" -C "$out/.scratch/base-archive"
layout="$out/.scratch/base-archive"`
      : `layout="$1"`;
  return bashStep(
    ctx,
    "import-base",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256" "$out/.scratch"
${layout}
node -e "$2" "$layout" "$3" "$4" "$5" "$6" "$7"
`,
    [base.source, IMPORT_BASE_PROGRAM, base.reference, base.ref ?? "", platform.os, platform.architecture, String(newLayers)],
  );
}

/** write-config on a base: the merged config blob (base fields inherited unless overridden; history and diff_ids base first). */
export function baseConfigStep(
  ctx: StepContext,
  image: { architecture: string; os: string; variant?: string; created?: string | undefined; config: ConfigOverrides },
  layers: readonly StepLayer[],
): Operation {
  const spec = {
    architecture: image.architecture,
    os: image.os,
    ...(image.variant === undefined ? {} : { variant: image.variant }),
    config: image.config,
    history: layers.map((l) => `metabuilder oci-image: layer ${l.name}`),
    layers: layers.map((l) => l.name),
  };
  return bashStep(
    ctx,
    "write-config",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
${image.created === undefined ? `created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)` : `created="$3"`}
node -e "$1" "$2" "$created" > "$out/.scratch/config.json"
d=$(${ctx.hash} "$out/.scratch/config.json" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/config.json")
printf "%s" "$d" > "$out/.scratch/config.digest"
printf "%s" "$s" > "$out/.scratch/config.size"
cp "$out/.scratch/config.json" "$out/blobs/sha256/$d"
`,
    [BASE_CONFIG_PROGRAM, jsonText(spec), ...(image.created === undefined ? [] : [image.created])],
  );
}
