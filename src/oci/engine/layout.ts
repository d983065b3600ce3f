/** Reading an OCI image layout: its JSON documents, blob paths, and layer streams decompressed and hashed in one pass. */
import { createHash } from "node:crypto";
import { isExecutableFile } from "../../engine/host.js";
import { createReadStream, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { Readable } from "node:stream";
import { spawn } from "node:child_process";
import * as zlib from "node:zlib";
import { MbError } from "../../core/errors.js";
import { layerCompression } from "../media-types.js";

/** An OCI content descriptor as it appears in index.json and manifests. */
export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { architecture?: string; os?: string };
}

const DIGEST = /^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$/;

/** The file of a blob, or null when the digest is not a well-formed sha256/sha512 digest. */
export function blobPath(layoutDir: string, digest: string): string | null {
  const m = DIGEST.exec(digest);
  if (!m) return null;
  return join(layoutDir, "blobs", m[1] ?? m[3]!, m[2] ?? m[4]!);
}

/** Parses a JSON file, or throws an MbError naming it. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new MbError("oci.layout.missing", `oci: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MbError("oci.layout.invalid", `oci: ${path} is not JSON: ${(e as Error).message}`);
  }
}

/** Where executables are looked for: PATH, then the sbin directories (runc lives in /usr/sbin). */
export function searchDirs(path = process.env.PATH ?? ""): string[] {
  return [...path.split(delimiter).filter((d) => d !== ""), "/usr/local/sbin", "/usr/sbin", "/sbin"];
}

/** Finds an executable by name in `dirs`. */
export function findExecutable(name: string, dirs: readonly string[] = searchDirs()): string | null {
  for (const dir of dirs) if (isExecutableFile(join(dir, name))) return join(dir, name);
  return null;
}

/** What reading a whole layer found: the blob's digest and size, and the digest of its uncompressed tar (the diff_id). */
export interface LayerFacts {
  readonly blobDigest: string;
  readonly blobSize: number;
  readonly diffId: string;
}

/** A layer opened for reading: its uncompressed bytes, and `finish`, which drains the rest and returns the facts. */
export interface OpenLayer {
  readonly data: AsyncIterable<Buffer>;
  finish(): Promise<LayerFacts>;
}

async function* hashing(src: AsyncIterable<Buffer>, onChunk: (b: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const b of src) {
    onChunk(b);
    yield b;
  }
}

/** Opens a layer blob: decompresses by media type (gzip with zlib, zstd with the zstd program) while hashing both sides. */
export function openLayer(path: string, mediaType: string): OpenLayer {
  const compression = layerCompression(mediaType);
  if (compression === null) throw new MbError("oci.layer.media-type", `oci: unsupported layer media type ${mediaType}`);
  const blobHash = createHash("sha256");
  const diffHash = createHash("sha256");
  let blobSize = 0;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const blob = hashing(file, (b) => {
    blobHash.update(b);
    blobSize += b.length;
  });
  let plain: AsyncIterable<Buffer>;
  let ended: Promise<void> = Promise.resolve();
  if (compression === "none") plain = blob;
  else if (compression === "gzip") {
    const gunzip = zlib.createGunzip();
    Readable.from(blob).on("error", (e) => gunzip.destroy(e)).pipe(gunzip);
    plain = gunzip;
  } else {
    const native = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream & AsyncIterable<Buffer> }).createZstdDecompress;
    if (native) {
      const z = native();
      Readable.from(blob).pipe(z);
      plain = z;
    } else {
      const zstd = findExecutable("zstd");
      if (zstd === null) {
        throw new MbError("oci.tool.missing", "oci: reading a zstd layer needs the zstd program: apt-get install zstd");
      }
      const child = spawn(zstd, ["-dcq"], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.stdin.on("error", () => undefined); // the exit status tells
      Readable.from(blob).pipe(child.stdin);
      ended = new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new MbError("oci.layer.decompress", `oci: zstd -d failed on ${path}: ${stderr.trim()}`))));
      });
      ended.catch(() => undefined);
      plain = child.stdout;
    }
  }
  const it = hashing(plain, (b) => diffHash.update(b))[Symbol.asyncIterator]();
  return {
    data: { [Symbol.asyncIterator]: () => it },
    async finish() {
      while (!(await it.next()).done) {
        // drain what the reader left (tar's end-of-archive padding)
      }
      await ended;
      return { blobDigest: `sha256:${blobHash.digest("hex")}`, blobSize, diffId: `sha256:${diffHash.digest("hex")}` };
    },
  };
}

/** The first image manifest of a layout: its descriptor, the manifest, and the config. */
export interface OciImage {
  readonly manifestDescriptor: OciDescriptor;
  readonly manifest: { layers: OciDescriptor[]; config: OciDescriptor; mediaType?: string };
  readonly config: {
    config?: { Env?: string[]; WorkingDir?: string; User?: string; Entrypoint?: string[]; Cmd?: string[] };
    rootfs?: { diff_ids?: string[] };
  };
}

/** Reads index.json, the first manifest it lists, and that manifest's config (no hashing: see verifyOciLayout). */
export function readOciImage(layoutDir: string): OciImage {
  const index = readJsonFile(join(layoutDir, "index.json")) as { manifests?: OciDescriptor[] };
  const manifestDescriptor = index.manifests?.[0];
  if (!manifestDescriptor) throw new MbError("oci.layout.invalid", `oci: ${layoutDir}/index.json lists no manifest`);
  const path = (d: OciDescriptor, what: string): string => {
    const p = blobPath(layoutDir, d.digest);
    if (p === null) throw new MbError("oci.layout.invalid", `oci: ${what} has a malformed digest ${JSON.stringify(d.digest)}`);
    return p;
  };
  const manifest = readJsonFile(path(manifestDescriptor, "the manifest")) as OciImage["manifest"];
  if (!Array.isArray(manifest.layers) || !manifest.config) throw new MbError("oci.layout.invalid", `oci: the manifest ${manifestDescriptor.digest} has no config or layers`);
  const config = readJsonFile(path(manifest.config, "the config")) as OciImage["config"];
  return { manifestDescriptor, manifest, config };
}
