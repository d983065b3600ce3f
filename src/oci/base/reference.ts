/**
 * Base image references (issue 12, item 1): `oci:DIR[:ref]`, `oci-archive:FILE[:ref]`, `docker://host/repo:tag` or
 * `docker://host/repo@sha256:…`, or a package holding an OCI layout (`builderOutput(image)`). Pure: parsing gives the
 * `OciBase` record the oci-image spec carries; the engine imports, pins and pulls what it names.
 */
import { z } from "zod";
import { strictObject } from "../../core/strict.js";
import { PackageRef } from "../../core/spec.js";
import * as C from "../../program/constructors.js";
import type { ResolvedPackage } from "../../core/records.js";

/** The three kinds of base: an OCI layout directory, an oci-archive tar, or an image in a registry. */
export const BASE_KINDS = ["layout", "archive", "registry"] as const;

/** A base image as the oci-image spec records it. */
export const OciBase = strictObject({
  _con: z.literal("MetaBuilderOciBase").default("MetaBuilderOciBase"),
  reference: z.string().min(1).describe("The base as written: oci:DIR[:ref], oci-archive:FILE[:ref], docker://host/repo:tag (or @sha256:…), or package:<name>."),
  kind: z.enum(BASE_KINDS).describe("layout (an OCI layout directory), archive (an oci-archive tar) or registry (pulled, pinned by mb.lock.json)."),
  source: PackageRef.describe("What the base step reads: the layout or archive as a package, or the registry image's package string."),
  ref: z.string().min(1).optional().describe("The manifest's ref name in the layout (org.opencontainers.image.ref.name); absent: the layout's only manifest."),
});
export type OciBase = z.infer<typeof OciBase>;

/** A registry reference, split: registry host (with port), repository, and a tag and/or a sha256 digest. */
export interface RegistryReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const HOST = /^(?:localhost|\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Splits `docker://host[:port]/repo[:tag][@sha256:…]`; a string naming what is wrong when it is not one. */
export function parseRegistryReference(reference: string): RegistryReference | string {
  if (!reference.startsWith("docker://")) return `'${reference}' is not a docker:// reference`;
  let rest = reference.slice("docker://".length);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `'${reference}': the digest '${digest}' is not sha256:<64 lower-case hex digits>`;
  }
  const slash = rest.indexOf("/");
  const registry = slash < 0 ? "" : rest.slice(0, slash);
  if (slash < 0 || !HOST.test(registry) || !/[.:]|^localhost/.test(registry)) {
    return `'${reference}' names no registry host: write docker://<host>[:port]/<repository>:<tag> (Docker Hub is docker://docker.io/library/<name>:<tag>)`;
  }
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) return `'${reference}': '${tag}' is not a tag (letters, digits, '_', '.', '-'; at most 128, not starting with '.' or '-')`;
  }
  if (path === "" || !path.split("/").every((c) => COMPONENT.test(c))) return `'${reference}': '${path}' is not a repository name (lower-case components separated by '/')`;
  if (tag === undefined && digest === undefined) return `'${reference}' names no tag or digest: write ${reference}:<tag> (e.g. :latest) or ${reference}@sha256:<digest>`;
  return { registry, repository: path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The key of a registry base on one platform: the reference and the platform (`docker://host/repo:tag#linux/amd64`). */
export function registryKey(reference: string, os: string, architecture: string): string {
  return `${reference}#${os}/${architecture}`;
}

/**
 * The package a registry base's step reads before it is pinned: a store package whose path is its registry key. The
 * lock stage (src/oci/engine/base-registry.ts) replaces it by the pulled store entry; until then it is no path.
 */
export function registryPackage(reference: string, os: string, architecture: string): ResolvedPackage {
  const key = registryKey(reference, os, architecture);
  return { _con: "resolvedPackage", name: reference, packageName: reference, origin: "store", outPath: key, version: null, executables: {}, contentHash: null };
}

/** The reference and platform of a registry base's package (before pinning), or null for any other package. */
export function parseRegistryPackage(pkg: PackageRef): { reference: string; os: string; architecture: string } | null {
  if (typeof pkg === "string" || pkg._con !== "resolvedPackage" || !pkg.outPath.startsWith("docker://")) return null;
  const m = /^(.*)#([a-z0-9]+)\/([a-z0-9]+)$/.exec(pkg.outPath);
  return m ? { reference: m[1]!, os: m[2]!, architecture: m[3]! } : null;
}

/** A local reference's path and ref name: `oci:DIR[:ref]` splits at the first ':' after the scheme, as skopeo does. */
function splitLocal(rest: string): { path: string; ref?: string } {
  const colon = rest.indexOf(":");
  return colon < 0 ? { path: rest } : { path: rest.slice(0, colon), ref: rest.slice(colon + 1) };
}

const REF_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

/** The base a `base:` argument names, for an image of `os`/`architecture`; a string naming what is wrong when it is not one. */
export function parseBase(base: string | Exclude<PackageRef, string>, os: string, architecture: string): OciBase | string {
  if (typeof base !== "string") {
    const name = base._con === "builderPackage" ? base.spec.name : base._con === "pathPackage" ? base.path : base._con === "hostPackage" ? base.name : base.packageName;
    return { _con: "MetaBuilderOciBase", reference: `package:${name}`, kind: "layout", source: base };
  }
  if (base.startsWith("docker://")) {
    const r = parseRegistryReference(base);
    if (typeof r === "string") return r;
    return { _con: "MetaBuilderOciBase", reference: base, kind: "registry", source: registryPackage(base, os, architecture) };
  }
  for (const [scheme, kind] of [["oci:", "layout"], ["oci-archive:", "archive"]] as const) {
    if (!base.startsWith(scheme)) continue;
    const { path, ref } = splitLocal(base.slice(scheme.length));
    if (path === "") return `'${base}' names no ${kind === "layout" ? "directory" : "file"}: write ${scheme}<path>[:<ref>]`;
    if (ref !== undefined && !REF_NAME.test(ref)) return `'${base}': '${ref}' is not a ref name`;
    return { _con: "MetaBuilderOciBase", reference: base, kind, source: C.pathPackage(path), ...(ref === undefined ? {} : { ref }) };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(base)?.[1];
  return `'${base}' has ${scheme === undefined ? "no scheme" : `the unknown scheme '${scheme}:'`}: a base is oci:DIR[:ref], oci-archive:FILE[:ref], docker://host/repo:tag, docker://host/repo@sha256:… or a package (builderOutput(image))`;
}
