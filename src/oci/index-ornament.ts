/**
 * The oci-index ornament: a multi-platform OCI image index over per-platform images (`ociIndex`). Each image is a
 * builder dependency (its layout, built by ociImage); the index's build copies their blobs into one layout whose
 * index.json names an image index blob with one descriptor per image and its platform. The steps are in ./steps/index.ts.
 */
import { z } from "zod";
import * as C from "../program/constructors.js";
import type { Operation } from "../core/operations.js";
import { storeNamed, strictObject } from "../core/strict.js";
import { PackageRef, type Tool } from "../core/spec.js";
import { defineOrnament } from "../ornaments/ornament.js";
import type { LoadedOrnament } from "../ornaments/registry.js";
import { markOrnamented } from "../core/ornamented.js";
import { parseOrThrow } from "../core/validate-schema.js";
import { Annotations, ImageTags } from "./image-config.js";
import { OCI_ARCHITECTURES, OCI_OS, OciImageBuilder, Variant, ociImage } from "./ornament.js";
import { digestCommand, type StepContext } from "./steps/common.js";
import { addImageStep, imageIndexStep, indexArchiveStep, layoutIndexStep, platformKey } from "./steps/index.js";
import { cleanScratchStep, verifyBlobsStep } from "./steps/finish.js";

/** The platform of an image in the index, as the image-spec's descriptor `platform` names it. */
export const OciPlatform = strictObject({
  architecture: z.enum(OCI_ARCHITECTURES).describe("The CPU architecture (Go's $GOARCH)."),
  os: z.enum(OCI_OS).describe("The operating system (Go's $GOOS)."),
  variant: Variant.optional(),
}).describe("An image's platform: the index descriptor's `platform`, and the image config's architecture, os and variant.");
export type OciPlatform = z.infer<typeof OciPlatform>;

/** An image of the index: its name, its layout (a package: the image builder's output) and its platform. */
export const OciIndexImage = strictObject({
  _con: z.literal("MetaBuilderOciIndexImage").default("MetaBuilderOciIndexImage"),
  name: z.string().min(1).describe("The image's name (its builder's)."),
  source: PackageRef.describe("The image's OCI layout: builderOutput(ociImage(...))."),
  platform: OciPlatform,
});
export type OciIndexImage = z.infer<typeof OciIndexImage>;

/** Refuses a second image of a platform already listed, naming both (an index holds one image per platform). */
function onePerPlatform(images: readonly { name: string; platform: OciPlatform }[], ctx: z.RefinementCtx, at: (i: number) => PropertyKey[]): void {
  const seen = new Map<string, number>();
  images.forEach((image, i) => {
    const key = platformKey(image.platform);
    const first = seen.get(key);
    if (first === undefined) return void seen.set(key, i);
    ctx.addIssue({
      code: "custom",
      path: at(i),
      message: `'${image.name}' is ${key}, as images[${first}] '${images[first]!.name}' is: an index holds one image per platform`,
    });
  });
}

/** The images of an index spec: at least one, one per platform. */
const IndexImages = z
  .array(OciIndexImage)
  .min(1, "an index lists at least one image")
  .superRefine((images, ctx) => onePerPlatform(images, ctx, (i) => [i, "platform"]))
  .describe("The per-platform images, one per platform, in the order of the index.");

/** OciIndexBuilder: the base spec plus the images, and the index's annotations and tags. */
export const OciIndexBuilder = defineOrnament({
  name: "MetaBuilderOciIndex",
  fields: {
    images: IndexImages,
    annotations: Annotations.optional(),
    tags: ImageTags.optional(),
  },
});
export type OciIndexSpec = z.output<typeof OciIndexBuilder.schema>;

/** Arguments of `ociIndex`. */
export const OciIndexArgs = strictObject({
  name: storeNamed("-oci-index".length).min(1),
  /** The per-platform images, as ociImage makes them; their architecture, os and variant are each one's platform. */
  images: z.array(OciImageBuilder.schema).min(1, "an index lists at least one image"),
  /** Annotations of the image index and of its index.json descriptors. */
  annotations: Annotations.optional(),
  /** Named tags `name:tag`: one index.json descriptor each (else one named by the index's name). */
  tags: ImageTags.optional(),
  /** Packages for the tools; host packages by default. */
  toolPackages: strictObject({ bash: PackageRef.optional(), tar: PackageRef.optional(), coreutils: PackageRef.optional() }).default({}),
}).superRefine((a, ctx) => onePerPlatform(a.images.map((i) => ({ name: i.name, platform: platformOf(i) })), ctx, (i) => ["images", i]));
export type OciIndexArgs = z.input<typeof OciIndexArgs>;

function platformOf(image: { architecture: OciPlatform["architecture"]; os: OciPlatform["os"]; variant?: string | undefined }): OciPlatform {
  return { architecture: image.architecture, os: image.os, ...(image.variant === undefined ? {} : { variant: image.variant }) };
}

/** Builds the typed OCI index spec: each image a builder dependency, copied into one layout under an image index. */
export function ociIndex(args: OciIndexArgs): OciIndexSpec {
  const a = parseOrThrow(OciIndexArgs, args, "ociIndex", "constructor.invalid");
  const images: OciIndexImage[] = a.images.map((image) => ({
    _con: "MetaBuilderOciIndexImage",
    name: image.name,
    source: C.builderOutput(OciImageBuilder.forgetAll(image)),
    platform: platformOf(image),
  }));
  const pkg = (name: keyof typeof a.toolPackages): PackageRef => a.toolPackages[name] ?? C.hostPackage(name);
  const bashTool = C.tool({ name: "bash", package: pkg("bash") });
  const tools: Tool[] = [bashTool, C.tool({ name: "tar", package: pkg("tar") }), C.tool({ name: "coreutils", package: pkg("coreutils") })];
  const ctx: StepContext = { bash: bashTool, hash: digestCommand("coreutils") };

  const layoutOutput = C.output({ name: "oci-layout", path: "oci-layout", format: "json" });
  const indexOutput = C.output({ name: "index", path: "$out/index.json", format: "json" });
  const blobsOutput = C.output({ name: "blobs", path: "$out/blobs", format: "tree" });
  const archiveOutput = C.output({ name: "oci-archive", path: "$out/image.oci.tar", format: "tar" });
  const outputs = [layoutOutput, indexOutput, blobsOutput, archiveOutput];
  const extra = { ...(a.annotations === undefined ? {} : { annotations: a.annotations }), ...(a.tags === undefined ? {} : { tags: a.tags }) };

  const operations: Operation[] = [
    ...tools.map((tool) => C.declareTool({ tool })),
    C.writeFile({ output: layoutOutput, text: JSON.stringify({ imageLayoutVersion: "1.0.0" }) }),
    ...images.map((image) => addImageStep(ctx, image)),
    imageIndexStep(ctx, images, a.annotations),
    layoutIndexStep(ctx, a.tags ?? [a.name], a.annotations ?? {}),
    verifyBlobsStep(ctx, "step"),
    cleanScratchStep(ctx),
    indexArchiveStep(ctx),
    C.emitDescriptor({
      descriptor: C.descriptor({
        name: `${a.name}-oci-index`,
        payload: { kind: "oci-index", platforms: images.map((i) => platformKey(i.platform)), images: images.map((i) => i.name), ...extra },
      }),
    }),
    ...outputs.map((output) => C.transformOutput({ output })),
    C.materializeDerivation({ name: `${a.name}-oci-index`, builder: "runCommand" }),
  ];

  return markOrnamented({
    _con: "MetaBuilderSpec",
    name: a.name,
    images,
    ...extra,
    parameters: [],
    inputs: [],
    dependencies: [],
    tools,
    operations,
    outputs,
    evidence: [],
  } satisfies OciIndexSpec, OciIndexBuilder.inserted);
}

/** The oci-index ornament as the registry loads it, with a two-platform sample spec. */
export const ociIndexOrnament: LoadedOrnament<typeof OciIndexBuilder.schema> = {
  ornament: OciIndexBuilder,
  example: () => {
    const image = (architecture: "amd64" | "arm64") => ociImage({ name: `example-${architecture}`, architecture, layers: [{ name: "rootfs", source: C.hostPackage("rootfs") }] });
    return ociIndex({ name: "example", images: [image("amd64"), image("arm64")] });
  },
};
