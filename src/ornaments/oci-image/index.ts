/** The oci-image ornament (reference section 6): image fields over the base spec, and `ociImage`, which lowers them into the layout assembly program. */
import { z } from "zod";
import { escapeShellArg } from "../../program/render.js";
import * as C from "../../program/constructors.js";
import type { Operation } from "../../core/operations.js";
import { PackageRef, type Evidence } from "../../core/records.js";
import { defineOrnament } from "../ornament.js";
import { parseOrThrow } from "../../core/validate-schema.js";

/** A layer: a name and a rootfs directory (a package, or a path). */
export const OciLayer = z.object({
  _con: z.literal("MetaBuilderOciLayer").default("MetaBuilderOciLayer"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "layer names use only letters, digits, '.', '_' and '-', and start with a letter or digit"),
  source: PackageRef,
});
export type OciLayer = z.infer<typeof OciLayer>;

/** OciImageBuilder: the base spec plus layers, entrypoint, cmd, env, exposedPorts, labels, architecture and os. */
export const OciImageBuilder = defineOrnament({
  name: "MetaBuilderOciImage",
  fields: {
    layers: z.array(OciLayer),
    entrypoint: z.array(z.string()),
    cmd: z.array(z.string()),
    env: z.array(z.string()),
    exposedPorts: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    architecture: z.string(),
    os: z.string(),
  },
});
export type OciImageSpec = z.output<typeof OciImageBuilder.schema>;

/** Arguments of `ociImage`. */
export const OciImageArgs = z.object({
  name: z.string().min(1),
  layers: z.array(OciLayer.omit({ _con: true })).min(1),
  entrypoint: z.array(z.string()).default([]),
  cmd: z.array(z.string()).default([]),
  env: z.array(z.string()).default([]),
  exposedPorts: z.array(z.string()).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  architecture: z.string().default("amd64"),
  os: z.string().default("linux"),
  evidence: z.array(z.custom<Evidence>()).default([]),
  /** Packages for the three tools; host packages by default. */
  toolPackages: z
    .object({ bash: PackageRef.optional(), tar: PackageRef.optional(), coreutils: PackageRef.optional() })
    .default({}),
});
export type OciImageArgs = z.input<typeof OciImageArgs>;

export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar";
export const CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";

const DETERMINISTIC_TAR_FLAGS = [
  "--sort=name",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
  '--mtime="@$SOURCE_DATE_EPOCH"',
  "--owner=0",
  "--group=0",
  "--numeric-owner",
].join(" ");

/** Builds the typed OCI image spec: its 18 operations per single layer (plus evidence) assemble the layout and archive. */
export function ociImage(args: OciImageArgs): OciImageSpec {
  const a = parseOrThrow(OciImageArgs, args, "ociImage", "constructor.invalid");
  const layers: OciLayer[] = a.layers.map((l) => ({ _con: "MetaBuilderOciLayer", name: l.name, source: l.source }));

  const bashTool = C.tool({ name: "bash", package: a.toolPackages.bash ?? C.hostPackage("bash") });
  const tarTool = C.tool({ name: "tar", package: a.toolPackages.tar ?? C.hostPackage("tar") });
  const coreutilsTool = C.tool({ name: "coreutils", package: a.toolPackages.coreutils ?? C.hostPackage("coreutils") });

  const layoutOutput = C.output({ name: "oci-layout", path: "oci-layout", format: "json" });
  const indexOutput = C.output({ name: "index", path: "$out/index.json", format: "json" });
  const blobsOutput = C.output({ name: "blobs", path: "$out/blobs", format: "tree" });
  const archiveOutput = C.output({ name: "oci-archive", path: "$out/image.oci.tar", format: "tar" });

  const runBash = (name: string, script: string): Operation => C.runTool({ name, tool: bashTool, args: ["-c", script, name] });

  const assembleRootfs = (l: OciLayer): Operation =>
    C.runTool({
      name: `assemble-rootfs-${l.name}`,
      tool: bashTool,
      args: [
        "-c",
        `set -euo pipefail
mkdir -p "$out/.scratch/rootfs-${l.name}"
cp -a "$1"/. "$out/.scratch/rootfs-${l.name}/"
chmod -R u+w "$out/.scratch/rootfs-${l.name}"
`,
        `assemble-rootfs-${l.name}`,
        l.source,
      ],
    });

  const tarLayer = (l: OciLayer): Operation =>
    runBash(
      `tar-layer-${l.name}`,
      `set -euo pipefail
mkdir -p "$out/blobs/sha256"
LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS} \\
  -cf "$out/.scratch/layer-${l.name}.tar" \\
  -C "$out/.scratch/rootfs-${l.name}" .
d=$(sha256sum "$out/.scratch/layer-${l.name}.tar" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/layer-${l.name}.tar")
printf "%s" "$d" > "$out/.scratch/layer-${l.name}.digest"
printf "%s" "$s" > "$out/.scratch/layer-${l.name}.size"
mv "$out/.scratch/layer-${l.name}.tar" "$out/blobs/sha256/$d"
`,
    );

  const layerNames = layers.map((l) => l.name).join(" ");
  const configSection: Record<string, unknown> = {};
  if (a.entrypoint.length > 0) configSection.Entrypoint = a.entrypoint;
  if (a.cmd.length > 0) configSection.Cmd = a.cmd;
  if (a.env.length > 0) configSection.Env = a.env;
  if (a.exposedPorts.length > 0) configSection.ExposedPorts = Object.fromEntries([...a.exposedPorts].sort().map((p) => [p, {}]));
  if (Object.keys(a.labels).length > 0) configSection.Labels = sortedObject(a.labels);
  const configPrefix =
    `{"architecture":${jsonText(a.architecture)},"os":${jsonText(a.os)},"config":${jsonText(configSection)}` +
    `,"rootfs":{"type":"layers","diff_ids":[`;

  const writeConfig = runBash(
    "write-config",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
ids=""
sep=""
for n in ${layerNames}; do
  d=$(cat "$out/.scratch/layer-$n.digest")
  ids="$ids$sep\\"sha256:$d\\""
  sep=,
done
printf "%s%s%s" ${escapeShellArg(configPrefix)} "$ids" "]}}" \\
  > "$out/.scratch/config.json"
d=$(sha256sum "$out/.scratch/config.json" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/config.json")
printf "%s" "$d" > "$out/.scratch/config.digest"
printf "%s" "$s" > "$out/.scratch/config.size"
cp "$out/.scratch/config.json" "$out/blobs/sha256/$d"
`,
  );

  const writeManifest = runBash(
    "write-manifest",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
cfgd=$(cat "$out/.scratch/config.digest")
cfgs=$(cat "$out/.scratch/config.size")
lj=""
sep=""
for n in ${layerNames}; do
  d=$(cat "$out/.scratch/layer-$n.digest")
  s=$(cat "$out/.scratch/layer-$n.size")
  lj="$lj$sep{\\"mediaType\\":\\"${LAYER_MEDIA_TYPE}\\",\\"digest\\":\\"sha256:$d\\",\\"size\\":$s}"
  sep=,
done
m="{\\"schemaVersion\\":2,\\"mediaType\\":\\"${MANIFEST_MEDIA_TYPE}\\",\\"config\\":{\\"mediaType\\":\\"${CONFIG_MEDIA_TYPE}\\",\\"digest\\":\\"sha256:$cfgd\\",\\"size\\":$cfgs},\\"layers\\":[$lj]}"
printf "%s" "$m" > "$out/.scratch/manifest.json"
d=$(sha256sum "$out/.scratch/manifest.json" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/manifest.json")
printf "%s" "$d" > "$out/.scratch/manifest.digest"
printf "%s" "$s" > "$out/.scratch/manifest.size"
cp "$out/.scratch/manifest.json" "$out/blobs/sha256/$d"
`,
  );

  const writeIndex = runBash(
    "write-index",
    `set -euo pipefail
ref=${escapeShellArg(jsonText(a.name))}
md=$(cat "$out/.scratch/manifest.digest")
ms=$(cat "$out/.scratch/manifest.size")
i="{\\"schemaVersion\\":2,\\"manifests\\":[{\\"mediaType\\":\\"${MANIFEST_MEDIA_TYPE}\\",\\"digest\\":\\"sha256:$md\\",\\"size\\":$ms,\\"annotations\\":{\\"org.opencontainers.image.ref.name\\":$ref}}]}"
printf "%s" "$i" > "$out/index.json"
`,
  );

  const verifyBlobs = runBash(
    "verify-blobs",
    `set -euo pipefail
st=0
for b in "$out"/blobs/sha256/*; do
  d=$(sha256sum "$b" | cut -d " " -f 1)
  if [ "$d" != "$(basename "$b")" ]; then
    echo "oci-image: blob digest mismatch: $b" >&2
    st=1
  fi
done
for f in "$out"/.scratch/*.size; do
  n=$(basename "$f" .size)
  d=$(cat "$out/.scratch/$n.digest")
  s=$(cat "$f")
  if [ "$s" != "$(wc -c < "$out/blobs/sha256/$d")" ]; then
    echo "oci-image: blob size mismatch: $n" >&2
    st=1
  fi
done
exit $st
`,
  );

  const cleanScratch = runBash("clean-scratch", `set -euo pipefail
rm -rf "$out/.scratch"
`);

  const archiveLayout = runBash(
    "archive-layout",
    `set -euo pipefail
LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS} \\
  -cf "$TMPDIR/image.oci.tar" \\
  -C "$out" .
mv "$TMPDIR/image.oci.tar" "$out/image.oci.tar"
`,
  );

  const operations: Operation[] = [
    ...[bashTool, tarTool, coreutilsTool].map((tool) => C.declareTool({ tool })),
    C.writeFile({ output: layoutOutput, text: JSON.stringify({ imageLayoutVersion: "1.0.0" }) }),
    ...layers.flatMap((l) => [assembleRootfs(l), tarLayer(l)]),
    writeConfig,
    writeManifest,
    writeIndex,
    verifyBlobs,
    cleanScratch,
    archiveLayout,
    C.emitDescriptor({
      descriptor: C.descriptor({
        name: `${a.name}-oci-image`,
        payload: { kind: "oci-image", entrypoint: a.entrypoint, exposedPorts: a.exposedPorts, labels: a.labels, architecture: a.architecture, os: a.os },
      }),
    }),
    ...[layoutOutput, indexOutput, blobsOutput, archiveOutput].map((output) => C.transformOutput({ output })),
    C.materializeDerivation({ name: `${a.name}-oci-image`, builder: "runCommand" }),
  ];

  return {
    _con: "MetaBuilderSpec",
    name: a.name,
    layers,
    entrypoint: a.entrypoint,
    cmd: a.cmd,
    env: a.env,
    exposedPorts: a.exposedPorts,
    labels: a.labels,
    architecture: a.architecture,
    os: a.os,
    parameters: [],
    inputs: [],
    dependencies: [],
    tools: [bashTool, tarTool, coreutilsTool],
    operations,
    outputs: [layoutOutput, indexOutput, blobsOutput, archiveOutput],
    evidence: a.evidence.map((e) => C.evidence(e)),
  };
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/**
 * JSON text that never contains `$`: runTool arguments are split on `$out`, so a `$` in a label or
 * command is written as the JSON escape `\u0024`, which decodes to the same string.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replaceAll("$", "\\u0024");
}
