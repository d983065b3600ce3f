/**
 * The OCI distribution client: manifests (get, head, put), blobs (exists, streamed and verified download, upload —
 * skipped when present, mounted across repositories, monolithic or chunked) and tag lists, for one registry.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, renameSync, rmSync, statSync, readFileSync, createWriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { MbError } from "../core/errors.js";
import { isOciDigest, referenceText, type OciDigest } from "./reference.js";
import { RegistrySession, httpError, type RegistryOptions } from "./session.js";

/** The manifest media types asked for by default: OCI and Docker v2, images and indexes. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
] as const;

/** A fetched manifest: its media type, its digest (checked against the reference when that is a digest), its bytes. */
export interface Manifest {
  readonly mediaType: string;
  readonly digest: OciDigest;
  readonly bytes: Uint8Array;
}

/** What HEAD on a manifest tells: its media type, digest and size. */
export interface ManifestHead {
  readonly mediaType: string;
  readonly digest: OciDigest;
  readonly size: number;
}

/** How a blob reached the registry: it was already there, it was mounted from another repository, or uploaded. */
export type BlobPush = "exists" | "mounted" | "uploaded";

/** Options of pushBlob. */
export interface PushBlobOptions {
  /** The repositories of the same registry to ask for a cross-repository mount from, in order. */
  readonly mountFrom?: string | readonly string[];
  /** Told of each mount attempt: the source repository and whether the registry mounted the blob from it. */
  readonly onMount?: (from: string, mounted: boolean) => void;
}

const DEFAULT_CHUNK = 16 * 1024 * 1024;

function digestOf(bytes: Uint8Array, algorithm = "sha256"): OciDigest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}` as OciDigest;
}

const pull = (repo: string): string => `repository:${repo}:pull`;
const pushPull = (repo: string): string => `repository:${repo}:pull,push`;

/** A client of one registry (`host[:port]`), over Node's fetch; see RegistryOptions for transport and auth. */
export class RegistryClient {
  private readonly session: RegistrySession;
  private readonly chunkSize: number;

  constructor(
    readonly registry: string,
    options: RegistryOptions = {},
  ) {
    this.session = new RegistrySession(registry, options);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  }

  /** The base URL requests go to (`http://` only for loopback hosts or insecure clients). */
  get baseUrl(): string {
    return this.session.base;
  }

  private what(repo: string, ref: string): string {
    return referenceText(this.registry, repo, ref);
  }

  /** Fetches a manifest by tag or digest; a missing one is an MbError (exit 1) naming the reference. */
  async getManifest(repo: string, ref: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<Manifest> {
    const what = this.what(repo, ref);
    const res = await this.session.request("GET", `/v2/${repo}/manifests/${ref}`, { what, scopes: [pull(repo)], headers: { accept: accept.join(", ") } });
    if (!res.ok) throw await httpError(res, what, "cannot get the manifest of");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const algorithm = isOciDigest(ref) ? ref.slice(0, ref.indexOf(":")) : "sha256";
    const digest = digestOf(bytes, algorithm);
    if (isOciDigest(ref) && digest !== ref) throw new MbError("registry.digest-mismatch", `registry: the manifest of ${what} has digest ${digest}, not ${ref}: refused`);
    const header = res.headers.get("docker-content-digest");
    if (header && header.startsWith(`${algorithm}:`) && header !== digest) {
      throw new MbError("registry.digest-mismatch", `registry: the manifest of ${what} has digest ${digest} but the registry says ${header}: refused`);
    }
    let mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (mediaType === "" || mediaType === "application/json") {
      try {
        mediaType = String((JSON.parse(Buffer.from(bytes).toString("utf8")) as { mediaType?: unknown }).mediaType ?? mediaType);
      } catch {
        // not JSON: keep the header's type
      }
    }
    return { mediaType, digest, bytes };
  }

  /** HEAD of a manifest: its media type, digest and size, or null when the registry has no such tag or digest. */
  async headManifest(repo: string, ref: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestHead | null> {
    const what = this.what(repo, ref);
    const res = await this.session.request("HEAD", `/v2/${repo}/manifests/${ref}`, { what, scopes: [pull(repo)], headers: { accept: accept.join(", ") } });
    if (res.status === 404) return null;
    if (!res.ok) throw await httpError(res, what, "cannot look up the manifest of");
    const digest = res.headers.get("docker-content-digest") ?? "";
    if (!isOciDigest(digest)) {
      // a registry that does not say the digest on HEAD: fetch the manifest to know it
      const m = await this.getManifest(repo, ref, accept);
      return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    return { mediaType, digest, size: Number(res.headers.get("content-length") ?? "0") };
  }

  /** Puts a manifest under a tag or its digest; returns its digest (the registry's answer is checked against it). */
  async putManifest(repo: string, ref: string, mediaType: string, bytes: Uint8Array): Promise<OciDigest> {
    const digest = digestOf(bytes);
    if (isOciDigest(ref) && ref !== digest) throw new MbError("registry.digest-mismatch", `registry: a manifest with digest ${digest} cannot be put as ${this.what(repo, ref)}`);
    const what = this.what(repo, ref);
    const res = await this.session.request("PUT", `/v2/${repo}/manifests/${ref}`, {
      what,
      scopes: [pushPull(repo)],
      headers: { "content-type": mediaType },
      body: () => bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw await httpError(res, what, "cannot put the manifest");
    await res.body?.cancel();
    const header = res.headers.get("docker-content-digest");
    if (header && header !== digest) throw new MbError("registry.digest-mismatch", `registry: ${what} was stored with digest ${header}, not ${digest}`);
    return digest;
  }

  /** True when the repository has the blob. */
  async hasBlob(repo: string, digest: OciDigest): Promise<boolean> {
    const what = this.what(repo, digest);
    const res = await this.session.request("HEAD", `/v2/${repo}/blobs/${digest}`, { what, scopes: [pull(repo)] });
    if (res.status === 404) return false;
    if (!res.ok) throw await httpError(res, what, "cannot look up the blob");
    return true;
  }

  /**
   * Downloads a blob to `destFile`: streamed to a temporary file beside it, its digest verified, then renamed. A
   * digest mismatch is an MbError naming the reference and both digests, and leaves nothing behind.
   */
  async getBlob(repo: string, digest: OciDigest, destFile: string): Promise<void> {
    const what = this.what(repo, digest);
    const res = await this.session.request("GET", `/v2/${repo}/blobs/${digest}`, { what, scopes: [pull(repo)] });
    if (!res.ok || !res.body) throw await httpError(res, what, "cannot get the blob");
    const algorithm = digest.slice(0, digest.indexOf(":"));
    const hash = createHash(algorithm);
    const temp = join(dirname(destFile), `.${basename(destFile)}.part-${process.pid}-${randomBytes(4).toString("hex")}`);
    const out = createWriteStream(temp, { flags: "wx", mode: 0o644 });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", r));
      }
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== digest) throw new MbError("registry.digest-mismatch", `registry: the blob ${what} has digest ${actual}, not ${digest}: refused, nothing kept`);
      renameSync(temp, destFile);
    } catch (e) {
      out.destroy();
      rmSync(temp, { force: true });
      if (e instanceof MbError) throw e;
      throw new MbError("registry.download", `registry: downloading ${what} failed: ${(e as Error).message}`);
    }
  }

  /**
   * Uploads a blob from `file` unless the repository has it (HEAD first). With `mountFrom` (one repository or several,
   * tried in order), asks the registry to mount it from there, another repository of the same registry, telling
   * `onMount` of each attempt; a refused mount (a fresh upload session, an error status, or credentials without pull
   * on the source) goes on to the next, then to the upload: in one PUT when the blob is at most the chunk size, else
   * in PATCH chunks then a closing PUT.
   */
  async pushBlob(repo: string, digest: OciDigest, size: number, file: string, opts: PushBlobOptions = {}): Promise<BlobPush> {
    if (await this.hasBlob(repo, digest)) return "exists";
    const what = this.what(repo, digest);
    const actualSize = statSync(file).size;
    if (actualSize !== size) throw new MbError("registry.blob-size", `registry: ${file} has ${actualSize} bytes, not the ${size} its descriptor says (${what})`);
    const sources = (typeof opts.mountFrom === "string" ? [opts.mountFrom] : (opts.mountFrom ?? [])).filter((r) => r !== repo);
    let scopes = [pushPull(repo)];
    let start: Response | undefined;
    for (const [i, from] of sources.entries()) {
      const mountScopes = [pushPull(repo), pull(from)];
      const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
      const res = await this.session.request("POST", `/v2/${repo}/blobs/uploads/${query}`, { what, scopes: mountScopes, headers: { "content-length": "0" } }).catch((e: unknown) => {
        if (e instanceof MbError && e.code === "registry.auth") return undefined; // no pull on the source: not mounted
        throw e;
      });
      await res?.body?.cancel();
      opts.onMount?.(from, res?.status === 201);
      if (res?.status === 201) return "mounted";
      // Refused with a fresh upload session: the last one is used, the others cancelled.
      if (res?.status === 202 && i === sources.length - 1) [start, scopes] = [res, mountScopes];
      else if (res?.status === 202 && res.headers.get("location")) await this.cancelUpload(this.location(res, what), what, mountScopes);
    }
    start ??= await this.session.request("POST", `/v2/${repo}/blobs/uploads/`, { what, scopes, headers: { "content-length": "0" } });
    if (start.status !== 202) throw await httpError(start, what, "cannot start the upload of");
    await start.body?.cancel();
    let location = this.location(start, what);
    if (size > this.chunkSize) {
      const fd = openSync(file, "r");
      try {
        for (let offset = 0; offset < size; offset += this.chunkSize) {
          const length = Math.min(this.chunkSize, size - offset);
          const read = (): Uint8Array => {
            const buf = Buffer.alloc(length);
            readSync(fd, buf, 0, length, offset);
            return buf;
          };
          const res = await this.session.request("PATCH", location, {
            what,
            scopes,
            headers: { "content-type": "application/octet-stream", "content-range": `${offset}-${offset + length - 1}`, "content-length": String(length) },
            body: read,
          });
          if (res.status !== 202) throw await httpError(res, what, `cannot upload bytes ${offset}-${offset + length - 1} of`);
          await res.body?.cancel();
          location = this.location(res, what);
        }
      } finally {
        closeSync(fd);
      }
    }
    const url = new URL(location);
    url.searchParams.set("digest", digest);
    const whole = size > this.chunkSize ? undefined : (): Uint8Array => readFileSync(file);
    const done = await this.session.request("PUT", url.toString(), {
      what,
      scopes,
      headers: { "content-type": "application/octet-stream", ...(whole ? {} : { "content-length": "0" }) },
      ...(whole ? { body: whole } : {}),
    });
    if (done.status !== 201) throw await httpError(done, what, "cannot finish the upload of");
    await done.body?.cancel();
    return "uploaded";
  }

  /** Cancels an upload session (best effort: the registry expires it anyway). */
  private async cancelUpload(location: string, what: string, scopes: readonly string[]): Promise<void> {
    const res = await this.session.request("DELETE", location, { what, scopes }).catch(() => undefined);
    await res?.body?.cancel();
  }

  /** The absolute URL of an upload's `Location` header. */
  private location(res: Response, what: string): string {
    const loc = res.headers.get("location");
    if (!loc) throw new MbError("registry.http", `registry: the upload of ${what} got no Location header`);
    return new URL(loc, this.session.base).toString();
  }

  /** The OCI 1.1 referrers API's index of `digest`, or null when the registry has no referrers API (distribution 2.8). */
  async getReferrers(repo: string, digest: OciDigest): Promise<Uint8Array | null> {
    const what = this.what(repo, digest);
    const res = await this.session.request("GET", `/v2/${repo}/referrers/${digest}`, { what, scopes: [pull(repo)] });
    const type = res.headers.get("content-type") ?? "";
    if (!res.ok || !type.startsWith("application/vnd.oci.image.index.v1+json")) {
      await res.body?.cancel();
      return null;
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Every tag of a repository (following `Link` pagination); a repository the registry does not know is an MbError. */
  async listTags(repo: string): Promise<string[]> {
    const what = `docker://${this.registry}/${repo}`;
    const tags: string[] = [];
    let next: string | null = `/v2/${repo}/tags/list`;
    while (next !== null) {
      const res = await this.session.request("GET", next, { what, scopes: [pull(repo)] });
      if (!res.ok) throw await httpError(res, what, "cannot list the tags of");
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "");
      next = link ? link[1]! : null;
    }
    return tags;
  }
}
