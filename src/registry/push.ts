/**
 * Pushing an OCI image layout to a registry, generic over what its index.json holds: an image manifest, an image
 * index (each child first), and artifact manifests whose `subject` is in the image (SBOM, provenance), pushed after
 * it and listed in the referrers tag schema (`sha256-<hex>`) where the registry has no referrers API. Blobs go first,
 * then manifests by digest, then the tags last: an interrupted push leaves no tag on a partial image, and a re-run
 * skips what is there.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ExitCode, MbError } from "../core/errors.js";
import type { BlobLocations } from "./blob-locations.js";
import type { BlobPush, RegistryClient } from "./client.js";
import { isOciDigest, referenceText, type ImageReference, type OciDigest } from "./reference.js";

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** A content descriptor (only the fields pushing reads; others are kept in the bytes pushed). */
const Descriptor = z
  .object({
    mediaType: z.string().describe("the media type of the content"),
    digest: z.string().refine(isOciDigest, "not a sha256/sha512 digest").describe("the content's digest"),
    size: z.number().int().nonnegative().describe("the content's size in bytes"),
    urls: z.array(z.string()).optional().describe("where a non-distributable blob is fetched from (not pushed)"),
    artifactType: z.string().optional().describe("the type of an artifact"),
    annotations: z.record(z.string(), z.string()).optional().describe("annotations"),
  })
  .describe("an OCI content descriptor");
type Descriptor = z.infer<typeof Descriptor>;

/** An image manifest or index as far as pushing reads it. */
const Document = z
  .object({
    mediaType: z.string().optional().describe("the document's media type"),
    config: Descriptor.optional().describe("an image manifest's config"),
    layers: z.array(Descriptor).optional().describe("an image manifest's layers"),
    manifests: z.array(Descriptor).optional().describe("an index's manifests"),
    subject: Descriptor.optional().describe("what an artifact manifest refers to"),
    artifactType: z.string().optional().describe("the type of an artifact manifest"),
    annotations: z.record(z.string(), z.string()).optional().describe("annotations"),
  })
  .describe("an OCI image manifest or image index");
type Document = z.infer<typeof Document>;

/** What pushing reports as it goes. */
export type PushEvent =
  | { readonly event: "push-blob"; readonly digest: string; readonly size: number; readonly how: BlobPush; readonly from?: string }
  | { readonly event: "push-manifest"; readonly digest: string; readonly mediaType: string; readonly how: "exists" | "put" }
  | { readonly event: "push-tag"; readonly reference: string; readonly digest: string };

/** Options of pushLayout. */
export interface PushOptions {
  /** Tags put besides the target's own. */
  readonly tags?: readonly string[];
  /** Told of every blob, manifest and tag as it is pushed. */
  readonly onEvent?: (e: PushEvent) => void;
  /** How messages name the layout (default its path), e.g. "the result of examples/oci-image (/store/…)". */
  readonly label?: string;
  /**
   * Where blobs are known to live: a blob not in the target repository is mounted from another repository of the
   * same registry that the record names (a refused mount drops that entry, then the blob is uploaded), and every blob
   * pushed, mounted or found is recorded in the target repository. Saved when the push ends, even by an error.
   */
  readonly locations?: BlobLocations;
}

/** What a push did: the image's digest and references, its child manifests and referrers, and blob counts. */
export interface PushResult {
  readonly digest: OciDigest;
  readonly mediaType: string;
  /** `docker://host/repo@digest`. */
  readonly reference: string;
  /** `docker://host/repo:tag` for every tag put. */
  readonly tags: readonly string[];
  /** The manifests of an index's platforms, by digest. */
  readonly manifests: readonly string[];
  /** The artifact manifests (SBOM, provenance) whose subject is the image or one of its manifests. */
  readonly referrers: readonly string[];
  readonly blobs: { readonly uploaded: number; readonly existing: number; readonly mounted: number };
}

function notImage(layout: string, why: string): MbError {
  return new MbError("push.not-an-image", `${layout} is not an OCI image layout: ${why}`, { exitCode: ExitCode.usage, hint: "push a builder whose result is an OCI image (ociImage, ociIndex)" });
}

/** A layout and its documents, read once. */
class Layout {
  private readonly docs = new Map<string, { bytes: Uint8Array; doc: Document }>();
  constructor(
    readonly dir: string,
    readonly label: string,
  ) {}

  blobFile(digest: string): string {
    const [alg, hex] = digest.split(":");
    return join(this.dir, "blobs", alg!, hex!);
  }

  /** The manifest or index of a descriptor, its bytes checked against the digest. */
  document(d: Descriptor): { bytes: Uint8Array; doc: Document } {
    const known = this.docs.get(d.digest);
    if (known) return known;
    const file = this.blobFile(d.digest);
    if (!existsSync(file)) throw new MbError("push.blob-missing", `${this.label}: the manifest ${d.digest} is missing from blobs/`);
    const bytes = readFileSync(file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch (e) {
      throw notImage(this.label, `the manifest ${d.digest} is not JSON: ${(e as Error).message}`);
    }
    const r = Document.safeParse(parsed);
    if (!r.success) throw notImage(this.label, `the manifest ${d.digest}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const entry = { bytes, doc: r.data };
    this.docs.set(d.digest, entry);
    return entry;
  }
}

/** The top-level descriptors of a layout's index.json, or a usage error naming the layout when it is not one. */
function topLevel(layout: Layout): Descriptor[] {
  if (!existsSync(join(layout.dir, "oci-layout"))) throw notImage(layout.label, "it has no oci-layout file");
  let index: Document;
  try {
    const r = Document.safeParse(JSON.parse(readFileSync(join(layout.dir, "index.json"), "utf8")));
    if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    index = r.data;
  } catch (e) {
    throw notImage(layout.label, `its index.json cannot be read: ${(e as Error).message}`);
  }
  if (!index.manifests || index.manifests.length === 0) throw notImage(layout.label, "its index.json lists no manifest");
  return index.manifests;
}

/**
 * Pushes the image of an OCI layout to `target`'s repository, tagging it with `target`'s tag and `extraTags`; a
 * digest reference must be the image's digest. See the file header for the order.
 */
export async function pushLayout(layoutDir: string, target: ImageReference, client: RegistryClient, opts: PushOptions = {}): Promise<PushResult> {
  try {
    return await pushImage(layoutDir, target, client, opts);
  } finally {
    opts.locations?.save();
  }
}

async function pushImage(layoutDir: string, target: ImageReference, client: RegistryClient, opts: PushOptions): Promise<PushResult> {
  const { tags: extraTags = [], onEvent = () => {} } = opts;
  const layout = new Layout(layoutDir, opts.label ?? layoutDir);
  const repo = target.repository;
  const top = topLevel(layout);
  const isArtifact = (d: Descriptor): boolean => !INDEX_TYPES.has(d.mediaType) && layout.document(d).doc.subject !== undefined;
  const images = top.filter((d) => !isArtifact(d));
  if (images.length !== 1) {
    const names = images.map((d) => d.annotations?.["org.opencontainers.image.ref.name"] ?? d.digest).join(", ");
    throw notImage(layout.label, images.length === 0 ? "its index.json lists only artifacts, no image" : `its index.json lists ${images.length} images (${names}); push needs one image or one image index`);
  }
  const image = images[0]!;
  if (target.digest !== undefined && target.digest !== image.digest) {
    throw new MbError("push.digest", `the image of ${layout.label} has digest ${image.digest}, not the ${target.digest} of the reference`, { exitCode: ExitCode.usage });
  }
  const blobs = { uploaded: 0, existing: 0, mounted: 0 };
  const pushed = new Set<string>();
  const children: string[] = [];
  const referrers: Descriptor[] = [];

  const pushBlob = async (d: Descriptor): Promise<void> => {
    if (pushed.has(d.digest) || d.urls !== undefined) return; // non-distributable layers stay where their urls say
    const file = layout.blobFile(d.digest);
    if (!existsSync(file)) throw new MbError("push.blob-missing", `${layout.label}: the blob ${d.digest} is missing from blobs/`);
    const { locations } = opts;
    let from: string | undefined;
    const how = await client.pushBlob(repo, d.digest as OciDigest, d.size, file, {
      mountFrom: locations?.repositories(client.registry, d.digest) ?? [],
      onMount: (source, mounted) => (mounted ? (from = source) : locations?.forget(client.registry, d.digest, source)),
    });
    locations?.record(client.registry, d.digest, repo);
    blobs[how === "exists" ? "existing" : how]++;
    pushed.add(d.digest);
    onEvent({ event: "push-blob", digest: d.digest, size: d.size, how, ...(from !== undefined ? { from } : {}) });
  };
  const putManifest = async (d: Descriptor): Promise<void> => {
    if (pushed.has(d.digest)) return;
    const { bytes } = layout.document(d);
    const there = await client.headManifest(repo, d.digest, [d.mediaType]);
    if (there === null) await client.putManifest(repo, d.digest, d.mediaType, bytes);
    pushed.add(d.digest);
    onEvent({ event: "push-manifest", digest: d.digest, mediaType: d.mediaType, how: there === null ? "put" : "exists" });
  };
  /** Pushes a manifest's blobs, or an index's children (images first, then artifacts among them), then the manifest. */
  const pushTree = async (d: Descriptor): Promise<void> => {
    const { doc } = layout.document(d);
    if (INDEX_TYPES.has(d.mediaType)) {
      const inside = doc.manifests ?? [];
      for (const child of inside.filter((c) => !isArtifact(c))) {
        await pushTree(child);
        children.push(child.digest);
      }
      for (const child of inside.filter(isArtifact)) {
        await pushTree(child);
        referrers.push(child);
      }
    } else {
      if (doc.config) await pushBlob(doc.config);
      for (const layer of doc.layers ?? []) await pushBlob(layer);
    }
    await putManifest(d);
  };

  await pushTree(image);
  for (const d of top.filter(isArtifact)) {
    await pushTree(d);
    referrers.push(d);
  }
  await updateReferrersTags(layout, referrers, repo, client);

  const imageBytes = layout.document(image).bytes;
  const tags = [...new Set([...(target.tag !== undefined ? [target.tag] : []), ...extraTags])];
  const tagged: string[] = [];
  for (const tag of tags) {
    await client.putManifest(repo, tag, image.mediaType, imageBytes);
    const reference = referenceText(client.registry, repo, tag);
    tagged.push(reference);
    onEvent({ event: "push-tag", reference, digest: image.digest });
  }
  return {
    digest: image.digest as OciDigest,
    mediaType: image.mediaType,
    reference: referenceText(client.registry, repo, image.digest),
    tags: tagged,
    manifests: children,
    referrers: referrers.map((r) => r.digest),
    blobs,
  };
}

/**
 * Lists each artifact under its subject's referrers tag (`sha256-<hex>`, OCI 1.1's fallback for registries without
 * the referrers API), merged with what that tag already lists; skipped where the registry has the referrers API.
 */
async function updateReferrersTags(layout: Layout, referrers: readonly Descriptor[], repo: string, client: RegistryClient): Promise<void> {
  const bySubject = new Map<string, Descriptor[]>();
  for (const r of referrers) {
    const { doc } = layout.document(r);
    const subject = doc.subject!.digest;
    const entry: Descriptor = {
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      artifactType: doc.artifactType ?? doc.config?.mediaType,
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    };
    bySubject.set(subject, [...(bySubject.get(subject) ?? []), entry]);
  }
  for (const [subject, entries] of bySubject) {
    if ((await client.getReferrers(repo, subject as OciDigest)) !== null) continue;
    const tag = subject.replace(":", "-");
    let existing: Descriptor[] = [];
    if ((await client.headManifest(repo, tag, [OCI_INDEX])) !== null) {
      const r = Document.safeParse(JSON.parse(Buffer.from((await client.getManifest(repo, tag, [OCI_INDEX])).bytes).toString("utf8")));
      existing = r.success ? (r.data.manifests ?? []) : [];
    }
    const merged = [...existing.filter((e) => !entries.some((n) => n.digest === e.digest)), ...entries];
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: merged };
    await client.putManifest(repo, tag, OCI_INDEX, Buffer.from(JSON.stringify(index)));
  }
}
