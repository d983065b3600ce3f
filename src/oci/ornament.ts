/**
 * The oci-image ornament (reference section 6): image fields over the base spec, and `ociImage`, which lowers them
 * into the layout assembly program; each step's script is a named function in ./steps/.
 */
import { z } from "zod";
import * as C from "../program/constructors.js";
import type { Operation } from "../core/operations.js";
import { Evidence } from "../core/records.js";
import { storeNamed, strictObject, uniqueNames } from "../core/strict.js";
import { PackageRef, type Tool } from "../core/spec.js";
import { defineOrnament } from "../ornaments/ornament.js";
import type { LoadedOrnament } from "../ornaments/registry.js";
import { markOrnamented } from "../core/ornamented.js";
import { parseOrThrow } from "../core/validate-schema.js";
import { LAYER_COMPRESSIONS } from "./media-types.js";
import { digestCommand, type StepContext } from "./steps/common.js";
import { assembleRootfsStep, tarLayerStep } from "./steps/layer.js";
import { configStep, indexStep, manifestStep } from "./steps/documents.js";
import { archiveStep, cleanScratchStep, verifyBlobsStep } from "./steps/finish.js";
import { attestStep } from "./steps/attest.js";
import { Attest } from "./attest/options.js";
import { OciBase, parseBase } from "./base/reference.js";
import { baseSteps } from "./base/lower.js";
import { Annotations, NAMED_TAG, ImageTags, LayerFiles, OciMetadata, StopSignal, TagName, User, Volumes, WorkingDir, metadataEntries } from "./image-config.js";

/** How a layer blob is stored: a plain tar (the original's only kind), or compressed with gzip or zstd. */
export const LayerCompression = z.enum(LAYER_COMPRESSIONS);
export type LayerCompression = z.infer<typeof LayerCompression>;

/** A layer: a name, a rootfs directory (a package, or a path) and, when not a plain tar, its compression. */
export const OciLayer = strictObject({
  _con: z.literal("MetaBuilderOciLayer").default("MetaBuilderOciLayer"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "layer names use only letters, digits, '.', '_' and '-', and start with a letter or digit"),
  source: PackageRef,
  compression: LayerCompression.optional(),
  /** Ownership and modes of members of this layer, set in its tar headers; absent, the original's tar bytes. */
  files: LayerFiles.optional(),
});
export type OciLayer = z.infer<typeof OciLayer>;

/**
 * The platform values an image config names, as the image-spec asks: the Go documentation's `$GOOS` and `$GOARCH`
 * values (https://go.dev/doc/install/source#environment).
 */
export const OCI_OS = ["aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"] as const;
export const OCI_ARCHITECTURES = ["386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm"] as const;
const Os = z.enum(OCI_OS);
const Architecture = z.enum(OCI_ARCHITECTURES);
/** A CPU variant as the image-spec's platform names it (`v7`, `v8` for arm; `v2`..`v4` for amd64); absent by default. */
export const Variant = z.string().regex(/^v[0-9]+(\.[0-9]+)?$/, "variant is a CPU variant such as 'v7' or 'v8'").describe("The platform's CPU variant (image-spec `variant`), e.g. v8 for arm64.");
/** An environment entry of the image config: `KEY=value`, the key non-empty (it ends at the first `=`). */
const EnvEntry = z.string().regex(/^[^=]+=/s, "env entries are 'KEY=value', with a non-empty KEY before the first '='");
const layerList = uniqueNames(OciLayer, "layer");

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
    layers: layerList,
    entrypoint: z.array(z.string()),
    cmd: z.array(z.string()),
    env: z.array(EnvEntry),
    exposedPorts: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    architecture: Architecture,
    os: Os,
    variant: Variant.optional(),
    created: z.string().optional(),
    workingDir: WorkingDir.optional(),
    user: User.optional(),
    volumes: Volumes.optional(),
    stopSignal: StopSignal.optional(),
    annotations: Annotations.optional(),
    tags: ImageTags.optional(),
    attest: Attest.optional(),
    /** The base image (oci:, oci-archive:, docker://, or a package holding a layout); absent, the image starts empty. */
    base: OciBase.optional(),
  },
});
export type OciImageSpec = z.output<typeof OciImageBuilder.schema>;

/** Arguments of `ociImage`. */
export const OciImageArgs = strictObject({
  name: storeNamed("-oci-image".length).min(1),
  layers: uniqueNames(OciLayer.omit({ _con: true }), "layer").min(1),
  entrypoint: z.array(z.string()).default([]),
  cmd: z.array(z.string()).default([]),
  env: z.array(EnvEntry).default([]),
  exposedPorts: z.array(ExposedPort).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  architecture: Architecture.default("amd64"),
  os: Os.default("linux"),
  /** The platform's CPU variant (the config's `variant`, an index's `platform.variant`); absent by default. */
  variant: Variant.optional(),
  evidence: z.array(Evidence).default([]),
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
  /** The config's WorkingDir, User (`name`, `uid`, `uid:gid`, `name:group`), Volumes and StopSignal; absent when not given. */
  workingDir: WorkingDir.optional(),
  user: User.optional(),
  volumes: Volumes.optional(),
  stopSignal: StopSignal.optional(),
  /** Annotations of the manifest and of its index.json descriptors. */
  annotations: Annotations.optional(),
  /** `org.opencontainers.image.*` values (version, source, revision, description, ...): labels and annotations both. */
  metadata: OciMetadata.optional(),
  /** Named tags `name:tag` (index.json ref names and docker-archive RepoTags); or `tag`, which names `<name>:<tag>`. */
  tags: ImageTags.optional(),
  tag: TagName.optional(),
  /** Attestations attached as OCI artifacts (src/oci/attest/): `{ sbom: true, provenance: true }`; absent, none. */
  attest: Attest.optional(),
  /** The base image: `oci:DIR[:ref]`, `oci-archive:FILE[:ref]`, `docker://host/repo:tag` (or `@sha256:…`), or a package holding an OCI layout. */
  base: PackageRef.optional(),
  /** Packages for the tools; host packages by default. gzip, zstd, openssl and nodejs are declared only when used. */
  toolPackages: strictObject({
      bash: PackageRef.optional(),
      tar: PackageRef.optional(),
      coreutils: PackageRef.optional(),
      gzip: PackageRef.optional(),
      zstd: PackageRef.optional(),
      openssl: PackageRef.optional(),
      nodejs: PackageRef.optional(),
    })
    .default({}),
}).superRefine((a, ctx) => {
  if (a.tag !== undefined && a.tags !== undefined) ctx.addIssue({ code: "custom", path: ["tag"], message: "give tag or tags, not both" });
  if (a.tag !== undefined && !NAMED_TAG.test(`${a.name}:${a.tag}`)) {
    ctx.addIssue({ code: "custom", path: ["tag"], message: `'${a.name}:${a.tag}' is not a 'name:tag' reference (the name must be a lower-case repository)` });
  }
  const base = a.base === undefined ? undefined : parseBase(a.base, a.os, a.architecture);
  if (typeof base === "string") ctx.addIssue({ code: "custom", path: ["base"], message: `base ${base}` });
});
export type OciImageArgs = z.input<typeof OciImageArgs>;

/** Builds the typed OCI image spec: its 18 operations per single layer (plus evidence) assemble the layout and archive. */
export function ociImage(args: OciImageArgs): OciImageSpec {
  const a = parseOrThrow(OciImageArgs, args, "ociImage", "constructor.invalid");
  const layers: OciLayer[] = a.layers.map((l) => ({
    _con: "MetaBuilderOciLayer",
    name: l.name,
    source: l.source,
    ...((l.compression ?? a.compression) !== "none" ? { compression: l.compression ?? a.compression } : {}),
    ...(l.files === undefined ? {} : { files: l.files }),
  }));
  // The new config fields: metadata gives label and annotation defaults (explicit ones win); all stay absent when not given.
  const meta = metadataEntries(a.metadata);
  const labels = { ...meta, ...a.labels };
  const annotations = a.annotations === undefined && Object.keys(meta).length === 0 ? undefined : { ...meta, ...a.annotations };
  const tags = a.tags ?? (a.tag === undefined ? undefined : [`${a.name}:${a.tag}`]);
  const extra = {
    ...(a.workingDir === undefined ? {} : { workingDir: a.workingDir }),
    ...(a.user === undefined ? {} : { user: a.user }),
    ...(a.volumes === undefined ? {} : { volumes: a.volumes }),
    ...(a.stopSignal === undefined ? {} : { stopSignal: a.stopSignal }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(tags === undefined ? {} : { tags }),
    ...(a.attest === undefined ? {} : { attest: a.attest }),
  };
  const variant = a.variant === undefined ? {} : { variant: a.variant };
  const base = a.base === undefined ? undefined : (parseBase(a.base, a.os, a.architecture) as OciBase);
  const used = new Set(layers.map((l) => l.compression ?? "none"));
  const pkg = (name: keyof typeof a.toolPackages): PackageRef => a.toolPackages[name] ?? C.hostPackage(name);

  const bashTool = C.tool({ name: "bash", package: pkg("bash") });
  const tools: Tool[] = [bashTool, C.tool({ name: "tar", package: pkg("tar") }), C.tool({ name: "coreutils", package: pkg("coreutils") })];
  if (used.has("gzip")) tools.push(C.tool({ name: "gzip", package: pkg("gzip") }));
  if (used.has("zstd")) tools.push(C.tool({ name: "zstd", package: pkg("zstd") }));
  if (a.digestTool === "openssl") tools.push(C.tool({ name: "openssl", package: pkg("openssl") }));
  if (base !== undefined || a.attest !== undefined || layers.some((l) => l.files !== undefined)) tools.push(C.tool({ name: "node", package: pkg("nodejs") }));
  const ctx: StepContext = { bash: bashTool, hash: digestCommand(a.digestTool) };

  const layoutOutput = C.output({ name: "oci-layout", path: "oci-layout", format: "json" });
  const indexOutput = C.output({ name: "index", path: "$out/index.json", format: "json" });
  const blobsOutput = C.output({ name: "blobs", path: "$out/blobs", format: a.verifyBlobs === "store" ? "oci-blobs" : "tree" });
  const archiveOutput = C.output({ name: "oci-archive", path: "$out/image.oci.tar", format: "tar" });
  const outputs = [layoutOutput, indexOutput, blobsOutput, archiveOutput];
  const given = new Set(Object.keys(args).filter((k) => (args as Record<string, unknown>)[k] !== undefined));
  const onBase = base === undefined ? undefined : baseSteps(ctx, base, { ...a, labels, ...extra, given }, layers);

  const operations: Operation[] = [
    ...tools.map((tool) => C.declareTool({ tool })),
    C.writeFile({ output: layoutOutput, text: JSON.stringify({ imageLayoutVersion: "1.0.0" }) }),
    ...(onBase === undefined ? [] : [onBase.importStep]),
    ...layers.flatMap((l) => [assembleRootfsStep(ctx, l, a.assemble), tarLayerStep(ctx, l, a.assemble)]),
    onBase?.configStep ?? configStep(ctx, { ...a, labels, ...extra }, layers),
    manifestStep(ctx, layers, annotations, base !== undefined),
    indexStep(ctx, a.name, tags, annotations),
    ...(a.attest === undefined ? [] : [attestStep(ctx, { name: a.name, attest: a.attest, spec: { entrypoint: a.entrypoint, cmd: a.cmd, env: a.env, exposedPorts: a.exposedPorts, labels, architecture: a.architecture, os: a.os, ...extra } }, layers)]),
    verifyBlobsStep(ctx, a.verifyBlobs),
    cleanScratchStep(ctx),
    archiveStep(ctx, a.name, tags),
    C.emitDescriptor({
      descriptor: C.descriptor({
        name: `${a.name}-oci-image`,
        payload: { kind: "oci-image", entrypoint: a.entrypoint, exposedPorts: a.exposedPorts, labels, architecture: a.architecture, os: a.os, ...variant, ...extra, ...(base === undefined ? {} : { base: base.reference }) },
      }),
    }),
    ...outputs.map((output) => C.transformOutput({ output })),
    C.materializeDerivation({ name: `${a.name}-oci-image`, builder: "runCommand" }),
  ];

  return markOrnamented({
    _con: "MetaBuilderSpec",
    name: a.name,
    layers,
    entrypoint: a.entrypoint,
    cmd: a.cmd,
    env: a.env,
    exposedPorts: a.exposedPorts,
    labels,
    architecture: a.architecture,
    os: a.os,
    ...variant,
    ...(a.created === undefined ? {} : { created: a.created }),
    ...extra,
    ...(base === undefined ? {} : { base }),
    parameters: [],
    inputs: [],
    dependencies: [],
    tools,
    operations,
    outputs,
    evidence: a.evidence.map((e) => C.evidence(e)),
  } satisfies OciImageSpec, OciImageBuilder.inserted);
}

/** The oci-image ornament as the registry (src/ornaments/registry.ts) loads it, with a one-layer sample spec. */
export const ociImageOrnament: LoadedOrnament<typeof OciImageBuilder.schema> = {
  ornament: OciImageBuilder,
  example: () => ociImage({ name: "example", layers: [{ name: "rootfs", source: C.hostPackage("rootfs") }], labels: { a: "b" }, exposedPorts: ["80"] }),
};
