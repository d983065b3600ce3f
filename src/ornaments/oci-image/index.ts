/** The oci-image ornament (reference section 6): image fields over the base spec, and `ociImage`, which lowers them into the layout assembly program. */
import { z } from "zod";
import { escapeShellArg } from "../../program/render.js";
import * as C from "../../program/constructors.js";
import type { Operation } from "../../core/operations.js";
import type { Evidence } from "../../core/records.js";
import { PackageRef, type Tool } from "../../core/spec.js";
import { defineOrnament } from "../ornament.js";
import { parseOrThrow } from "../../core/validate-schema.js";

/** How a layer blob is stored: a plain tar (the original's only kind), or compressed with gzip or zstd. */
export const LayerCompression = z.enum(["none", "gzip", "zstd"]);
export type LayerCompression = z.infer<typeof LayerCompression>;

/** A layer: a name, a rootfs directory (a package, or a path) and, when not a plain tar, its compression. */
export const OciLayer = z.object({
  _con: z.literal("MetaBuilderOciLayer").default("MetaBuilderOciLayer"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "layer names use only letters, digits, '.', '_' and '-', and start with a letter or digit"),
  source: PackageRef,
  compression: LayerCompression.optional(),
});
export type OciLayer = z.infer<typeof OciLayer>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** A port as OCI writes it: `<port>/tcp`, `<port>/udp` or `<port>/sctp`; a bare port means tcp. */
const PORT = /^([1-9][0-9]{0,4})(\/(tcp|udp|sctp))?$/;
const ExposedPort = z
  .string()
  .regex(PORT, "exposed ports are written '<port>', '<port>/tcp', '<port>/udp' or '<port>/sctp' (a bare port means tcp)")
  .refine((p) => Number(p.split("/")[0]) <= 65535, "exposed ports are at most 65535")
  .transform((p) => (p.includes("/") ? p : `${p}/tcp`));

/** OciImageBuilder: the base spec plus layers, entrypoint, cmd, env, exposedPorts, labels, architecture, os and (optionally) created. */
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
    created: z.string().optional(),
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
  exposedPorts: z.array(ExposedPort).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  architecture: z.string().default("amd64"),
  os: z.string().default("linux"),
  evidence: z.array(z.custom<Evidence>()).default([]),
  /** The config's `created` (RFC 3339); by default the build's SOURCE_DATE_EPOCH. */
  created: z.string().regex(RFC3339, "created is an RFC 3339 date-time such as 2024-01-02T03:04:05Z").optional(),
  /** Compression of every layer that does not set its own; "none" keeps the original's plain tar layers. */
  compression: LayerCompression.default("none"),
  /**
   * How a layer's rootfs reaches tar: "copy" is the original's `cp -a` into scratch then `chmod -R u+w`; "direct" tars the
   * source in place with `--mode=u+w` (the same bytes, one pass fewer) and checks first that the source is a directory.
   */
  assemble: z.enum(["copy", "direct"]).default("copy"),
  /** Which sha256 implementation computes digests: coreutils' sha256sum (the original's), or openssl (declared only when chosen). */
  digestTool: z.enum(["coreutils", "openssl"]).default("coreutils"),
  /**
   * Who checks that every blob is named by its digest: "step" is the original's verify-blobs step, which re-hashes
   * every blob; "store" declares the blobs output as `oci-blobs`, which the engine checks when it seals the output,
   * from the digests it takes anyway, so verify-blobs only checks sizes (one pass over the blobs fewer).
   */
  verifyBlobs: z.enum(["step", "store"]).default("step"),
  /** Packages for the tools; host packages by default. gzip, zstd and openssl are declared only when used. */
  toolPackages: z
    .object({
      bash: PackageRef.optional(),
      tar: PackageRef.optional(),
      coreutils: PackageRef.optional(),
      gzip: PackageRef.optional(),
      zstd: PackageRef.optional(),
      openssl: PackageRef.optional(),
    })
    .default({}),
});
export type OciImageArgs = z.input<typeof OciImageArgs>;

export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar";
export const CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";

/** Per compression: the layer media type, the compressor command line, and the tool and level recorded as annotations. */
export const COMPRESSORS = {
  none: { mediaType: LAYER_MEDIA_TYPE, command: null, tool: null, level: null },
  gzip: { mediaType: `${LAYER_MEDIA_TYPE}+gzip`, command: "gzip -n -6 -c", tool: "gzip", level: "6" },
  // zstd's multi-threaded format does not depend on the number of threads, so -T0 stays deterministic. -T0 alone
  // counts physical cores (one, on a 2-vCPU machine whose vCPUs are hyperthreads); logical ones are what there is.
  zstd: { mediaType: `${LAYER_MEDIA_TYPE}+zstd`, command: "zstd -q -3 -T0 --auto-threads=logical -c", tool: "zstd", level: "3" },
} as const satisfies Record<LayerCompression, { mediaType: string; command: string | null; tool: string | null; level: string | null }>;

/** Annotation keys recording how a compressed layer was made. */
export const COMPRESSION_TOOL_ANNOTATION = "io.metabuilder.layer.compression.tool";
export const COMPRESSION_LEVEL_ANNOTATION = "io.metabuilder.layer.compression.level";

const DETERMINISTIC_TAR_FLAGS = [
  "--sort=name",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
  '--mtime="@$SOURCE_DATE_EPOCH"',
  "--owner=0",
  "--group=0",
  "--numeric-owner",
].join(" ");

/** Docker's reference grammar for a repository name, so that `<name>:latest` can be a RepoTag. */
const DOCKER_REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** A piece of JSON text written by a step: literal text, or a shell variable holding a value computed at build time. */
type JsonPiece = string | { readonly shellVar: string };

/** `printf "%s" ... > file` writing the pieces one after another; literals are JSON text without `$` (see `jsonText`). */
function printfPieces(pieces: readonly JsonPiece[], dest: string): string {
  const args = pieces.map((p) => (typeof p === "string" ? escapeShellArg(p) : `"$${p.shellVar}"`));
  return `printf "%s" ${args.join(" ")} \\\n  > ${dest}`;
}

/** Builds the typed OCI image spec: its 18 operations per single layer (plus evidence) assemble the layout and archive. */
export function ociImage(args: OciImageArgs): OciImageSpec {
  const a = parseOrThrow(OciImageArgs, args, "ociImage", "constructor.invalid");
  const layers: OciLayer[] = a.layers.map((l) => ({
    _con: "MetaBuilderOciLayer",
    name: l.name,
    source: l.source,
    ...((l.compression ?? a.compression) !== "none" ? { compression: l.compression ?? a.compression } : {}),
  }));
  const compressionOf = (l: OciLayer): LayerCompression => l.compression ?? "none";
  const used = new Set(layers.map(compressionOf));
  const pkg = (name: keyof typeof a.toolPackages): PackageRef => a.toolPackages[name] ?? C.hostPackage(name);

  const bashTool = C.tool({ name: "bash", package: pkg("bash") });
  const tarTool = C.tool({ name: "tar", package: pkg("tar") });
  const coreutilsTool = C.tool({ name: "coreutils", package: pkg("coreutils") });
  const tools: Tool[] = [bashTool, tarTool, coreutilsTool];
  if (used.has("gzip")) tools.push(C.tool({ name: "gzip", package: pkg("gzip") }));
  if (used.has("zstd")) tools.push(C.tool({ name: "zstd", package: pkg("zstd") }));
  if (a.digestTool === "openssl") tools.push(C.tool({ name: "openssl", package: pkg("openssl") }));
  const hash = a.digestTool === "openssl" ? "openssl dgst -sha256 -r" : "sha256sum";

  const layoutOutput = C.output({ name: "oci-layout", path: "oci-layout", format: "json" });
  const indexOutput = C.output({ name: "index", path: "$out/index.json", format: "json" });
  const blobsOutput = C.output({ name: "blobs", path: "$out/blobs", format: a.verifyBlobs === "store" ? "oci-blobs" : "tree" });
  const archiveOutput = C.output({ name: "oci-archive", path: "$out/image.oci.tar", format: "tar" });

  const runBash = (name: string, script: string): Operation => C.runTool({ name, tool: bashTool, args: ["-c", script, name] });

  // The "copy" script is the original's, line for line (the seed page shows it).
  const assembleRootfs = (l: OciLayer): Operation =>
    C.runTool({
      name: `assemble-rootfs-${l.name}`,
      tool: bashTool,
      args: [
        "-c",
        a.assemble === "copy"
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
ln -sfn "$1" "$out/.scratch/rootfs-${l.name}"
`,
        `assemble-rootfs-${l.name}`,
        l.source,
      ],
    });

  // One pass over the rootfs: tar's stream is hashed while it is written (and compressed straight into the blob, which
  // is hashed after: on two cores that is faster than a second tee in the pipeline).
  const tarLayer = (l: OciLayer): Operation => {
    const s = `"$out/.scratch/layer-${l.name}`;
    const tar = `LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS}${a.assemble === "direct" ? " --mode=u+w" : ""} \\
  -cf - -C "$out/.scratch/rootfs-${l.name}" .`;
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
    return runBash(
      `tar-layer-${l.name}`,
      `set -euo pipefail
mkdir -p "$out/blobs/sha256"
${stream}
size=$(wc -c < ${s}.blob")
printf "%s" "$d" > ${s}.digest"
printf "%s" "$diffid" > ${s}.diffid"
printf "%s" "$size" > ${s}.size"
mv ${s}.blob" "$out/blobs/sha256/$d"
`,
    );
  };

  /** Shell lines reading what tar-layer recorded for every layer: d<i> digest and s<i> size, or id<i> diff_id. */
  const readLayerFacts = (facts: "descriptor" | "diffId"): string =>
    layers
      .map((l, i) =>
        facts === "diffId"
          ? `id${i}=$(cat "$out/.scratch/layer-${l.name}.diffid")`
          : `d${i}=$(cat "$out/.scratch/layer-${l.name}.digest")\ns${i}=$(cat "$out/.scratch/layer-${l.name}.size")`,
      )
      .join("\n");

  const configSection: Record<string, unknown> = {};
  if (a.entrypoint.length > 0) configSection.Entrypoint = a.entrypoint;
  if (a.cmd.length > 0) configSection.Cmd = a.cmd;
  if (a.env.length > 0) configSection.Env = a.env;
  if (a.exposedPorts.length > 0) configSection.ExposedPorts = Object.fromEntries([...new Set(a.exposedPorts)].sort().map((p) => [p, {}]));
  if (Object.keys(a.labels).length > 0) configSection.Labels = sortedObject(a.labels);
  const createdPiece: JsonPiece = a.created === undefined ? { shellVar: "created" } : a.created;

  const configPieces: JsonPiece[] = [
    `{"architecture":${jsonText(a.architecture)},"os":${jsonText(a.os)},"created":"`,
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

  const writeConfig = runBash(
    "write-config",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
${readLayerFacts("diffId")}
${a.created === undefined ? `created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)\n` : ""}${printfPieces(configPieces, `"$out/.scratch/config.json"`)}
d=$(${hash} "$out/.scratch/config.json" | cut -d " " -f 1)
s=$(wc -c < "$out/.scratch/config.json")
printf "%s" "$d" > "$out/.scratch/config.digest"
printf "%s" "$s" > "$out/.scratch/config.size"
cp "$out/.scratch/config.json" "$out/blobs/sha256/$d"
`,
  );

  const layerDescriptor = (l: OciLayer, i: number): JsonPiece[] => {
    const c = COMPRESSORS[compressionOf(l)];
    const annotations =
      c.tool === null ? "" : `,"annotations":${jsonText({ [COMPRESSION_LEVEL_ANNOTATION]: c.level, [COMPRESSION_TOOL_ANNOTATION]: c.tool })}`;
    return [
      `${i > 0 ? "," : ""}{"mediaType":${jsonText(c.mediaType)},"digest":"sha256:`,
      { shellVar: `d${i}` },
      `","size":`,
      { shellVar: `s${i}` },
      `${annotations}}`,
    ];
  };
  const manifestPieces: JsonPiece[] = [
    `{"schemaVersion":2,"mediaType":${jsonText(MANIFEST_MEDIA_TYPE)},"config":{"mediaType":${jsonText(CONFIG_MEDIA_TYPE)},"digest":"sha256:`,
    { shellVar: "cfgd" },
    `","size":`,
    { shellVar: "cfgs" },
    `},"layers":[`,
    ...layers.flatMap(layerDescriptor),
    `]}`,
  ];

  const writeManifest = runBash(
    "write-manifest",
    `set -euo pipefail
mkdir -p "$out/blobs/sha256"
cfgd=$(cat "$out/.scratch/config.digest")
cfgs=$(cat "$out/.scratch/config.size")
${readLayerFacts("descriptor")}
${printfPieces(manifestPieces, `"$out/.scratch/manifest.json"`)}
d=$(${hash} "$out/.scratch/manifest.json" | cut -d " " -f 1)
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

  // With verifyBlobs "store" the digests are the engine's to check (the oci-blobs promise); the sizes still are the step's.
  const verifyBlobs = runBash(
    "verify-blobs",
    `set -euo pipefail
st=0
${a.verifyBlobs === "store" ? "" : `for b in "$out"/blobs/sha256/*; do
  d=$(${hash} "$b" | cut -d " " -f 1)
  if [ "$d" != "$(basename "$b")" ]; then
    echo "oci-image: blob digest mismatch: $b" >&2
    st=1
  fi
done
`}for f in "$out"/.scratch/*.size; do
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

  // The archive also carries a docker-archive manifest.json (as `docker save` does since Docker 25), read back from the
  // layout's own index and manifest; it lives only in the archive, never in the layout. Modes are fixed so that the
  // build's umask cannot change the archive.
  const repoTags = DOCKER_REPOSITORY.test(a.name) ? jsonText([`${a.name}:latest`]) : "[]";
  const archiveLayout = runBash(
    "archive-layout",
    `set -euo pipefail
sha='"digest":"sha256:([0-9a-f]{64})"'
idx=$(cat "$out/index.json")
[[ $idx =~ $sha ]]
m=$(cat "$out/blobs/sha256/\${BASH_REMATCH[1]}")
rest=\${m#*'"config":'}
[[ $rest =~ $sha ]]
cfg=\${BASH_REMATCH[1]}
rest=\${m#*'"layers":'}
layers=""
sep=""
while [[ $rest =~ $sha ]]; do
  layers="$layers$sep\\"blobs/sha256/\${BASH_REMATCH[1]}\\""
  sep=,
  rest=\${rest#*"\${BASH_REMATCH[0]}"}
done
dm=$(mktemp -d "$TMPDIR/docker-manifest.XXXXXX")
printf '[{"Config":"blobs/sha256/%s","RepoTags":%s,"Layers":[%s]}]' "$cfg" ${escapeShellArg(repoTags)} "$layers" > "$dm/manifest.json"
LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS} --mode=u=rwX,go=rX \\
  -cf "$TMPDIR/image.oci.tar" \\
  -C "$out" . -C "$dm" ./manifest.json
rm -rf "$dm"
mv "$TMPDIR/image.oci.tar" "$out/image.oci.tar"
`,
  );

  const operations: Operation[] = [
    ...tools.map((tool) => C.declareTool({ tool })),
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
    ...(a.created === undefined ? {} : { created: a.created }),
    parameters: [],
    inputs: [],
    dependencies: [],
    tools,
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
