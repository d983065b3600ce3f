/**
 * Image references as skopeo writes them (`docker://host[:port]/repo[:tag|@sha256:…]`): parsing with errors that name
 * the reference, formatting, and the transport rule (plain HTTP only for loopback hosts or when asked to be insecure).
 */
import { isIP } from "node:net";
import { MbError, ExitCode } from "../core/errors.js";

/** An OCI content digest, `algorithm:hex` (`sha256:…` or `sha512:…`). */
export type OciDigest = string & { readonly __brand: "OciDigest" };

/** A parsed `docker://` reference; `tag` is `latest` unless a digest alone was given. */
export interface ImageReference {
  /** The registry's host and optional port, as written (`127.0.0.1:5000`, `docker.io`). */
  readonly registry: string;
  /** The repository path inside the registry (`team/app`; Docker Hub's single names get `library/`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: OciDigest;
}

const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;
/** The registry a reference without a host names (as docker and skopeo do). */
export const DOCKER_HUB = "docker.io";

/** A registry host as mb names it: lower case, Docker Hub's historical names (`index.docker.io`, `registry-1.docker.io`) as `docker.io`. */
export function canonicalRegistry(host: string): string {
  const h = host.toLowerCase();
  return h === "index.docker.io" || h === "registry-1.docker.io" ? DOCKER_HUB : h;
}

/** True for a well-formed tag: letters, digits, `_ . -`, at most 128, not starting with `.` or `-`. */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** True for a well-formed `sha256:` or `sha512:` digest. */
export function isOciDigest(value: string): value is OciDigest {
  return DIGEST.test(value);
}

/** Checks a digest, or throws a usage error (exit 2) naming `where`. */
export function ociDigest(value: string, where: string): OciDigest {
  if (!isOciDigest(value)) throw new MbError("registry.digest", `${where}: '${value}' is not a digest (sha256:<64 hex> or sha512:<128 hex>)`, { exitCode: ExitCode.usage });
  return value;
}

function bad(ref: string, why: string): MbError {
  return new MbError("registry.reference", `invalid image reference '${ref}': ${why}`, {
    exitCode: ExitCode.usage,
    hint: "write docker://host[:port]/repository[:tag] or docker://host[:port]/repository@sha256:<hex>",
  });
}

/** Parses `docker://host[:port]/repo[:tag][@digest]` into its parts, or throws a usage error (exit 2) naming it. */
export function parseReference(ref: string): ImageReference {
  if (!ref.startsWith("docker://")) throw bad(ref, "it must start with docker://");
  let rest = ref.slice("docker://".length);
  let digest: OciDigest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isOciDigest(d)) throw bad(ref, `'${d}' is not a digest (sha256:<64 hex> or sha512:<128 hex>)`);
    digest = d;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? rest : rest.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["));
  const registry = hasHost ? first : DOCKER_HUB;
  let path = hasHost ? rest.slice(slash + 1) : rest;
  if (hasHost && !HOST.test(registry)) throw bad(ref, `'${registry}' is not a host[:port]`);
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `'${tag}' is not a tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (path === "") throw bad(ref, "it names no repository");
  const parts = path.split("/");
  const wrong = parts.find((p) => !COMPONENT.test(p));
  if (wrong !== undefined) throw bad(ref, `'${wrong}' is not a repository path component (lowercase letters, digits, separators . _ __ -)`);
  if (registry === DOCKER_HUB && parts.length === 1) path = `library/${path}`;
  if (path.length > 255) throw bad(ref, "the repository name is longer than 255 characters");
  return { registry, repository: path, ...(tag !== undefined || digest === undefined ? { tag: tag ?? "latest" } : {}), ...(digest ? { digest } : {}) };
}

/** The `docker://` text of a reference (a digest wins over a tag when both are given and `both` is false). */
export function formatReference(ref: ImageReference, both = true): string {
  const base = `docker://${ref.registry}/${ref.repository}`;
  if (ref.digest && ref.tag && both) return `${base}:${ref.tag}@${ref.digest}`;
  if (ref.digest) return `${base}@${ref.digest}`;
  return `${base}:${ref.tag ?? "latest"}`;
}

/** The reference text for a repository and a tag or digest (for messages). */
export function referenceText(registry: string, repository: string, ref: string): string {
  return `docker://${registry}/${repository}${isOciDigest(ref) ? "@" : ":"}${ref}`;
}

/** The host part of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostOf(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** True for loopback hosts: `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopback(registry: string): boolean {
  const host = hostOf(registry).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

/** The base URL of a registry's API: plain HTTP only for a loopback host or when `insecure`; https otherwise. */
export function registryBaseUrl(registry: string, insecure = false): string {
  const host = registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
  return `${isLoopback(registry) || insecure ? "http" : "https"}://${host}`;
}
