/**
 * One binary cache: a repository of an OCI registry (`docker://host[:port]/repo`) holding one artifact per store
 * entry (artifact.ts). Pushing packs and signs an entry; looking up fetches an entry's manifest and record and checks
 * its signature against the trusted keys; unpacking fetches its layer and checks the content hash the signature
 * covers. Every refusal is a `Refusal` (a reason), never an entry used.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { Readable, Writable } from "node:stream";
import { RegistryClient, type OciDigest } from "../registry/index.js";
import type { EntryMeta } from "../engine/store-meta.js";
import { hashFile } from "../engine/tree-hash.js";
import {
  entryManifest, entryTag, ENTRY_CONFIG_TYPE, ENTRY_LAYER_TYPE, MANIFEST_TYPE, parseEntryConfig, parseEntryManifest, type CacheEntryConfig, type Descriptor,
} from "./artifact.js";
import { EntryUnpacker, entryTar } from "./entry-tar.js";
import { entryFingerprint, signatureProblem, signText, type PublicKey, type SecretKey } from "./keys.js";
import { parseCacheUrl } from "./settings.js";

/** Why a cache entry is not used. */
export class Refusal extends Error {}

/** A cache entry whose record and signature were checked: what `unpack` fetches. */
export interface Found {
  readonly config: CacheEntryConfig;
  readonly layer: Descriptor;
}

/** A binary cache in one registry repository. */
export class BinaryCache {
  readonly client: RegistryClient;
  readonly registry: string;
  readonly repository: string;

  constructor(
    readonly url: string,
    opts: { retries?: number; warn?: (m: string) => void; insecure?: boolean } = {},
  ) {
    const { registry, repository } = parseCacheUrl(url);
    this.registry = registry;
    this.repository = repository;
    this.client = new RegistryClient(registry, { retries: opts.retries ?? 1, ...(opts.warn ? { warn: opts.warn } : {}), ...(opts.insecure ? { insecure: true } : {}) });
  }

  /** Whether the registry answers its API root within `timeoutMs` (a 401 asking for credentials counts as up); the reason when not. */
  async probe(timeoutMs: number): Promise<string | null> {
    try {
      const res = await fetch(`${this.client.baseUrl}/v2/`, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return res.ok || res.status === 401 ? null : `it answers HTTP ${res.status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === "TimeoutError" || err.name === "AbortError") return `it did not answer within ${(timeoutMs / 1000).toFixed(1)} s`;
      return `it cannot be reached (${err.cause?.code ?? err.cause?.message ?? err.message})`;
    }
  }

  /** True when the cache has an entry for `storePath` (its tag exists). */
  async has(storePath: string): Promise<boolean> {
    return (await this.client.headManifest(this.repository, entryTag(storePath), [MANIFEST_TYPE])) !== null;
  }

  /** Packs a store entry (described by its record), signs it and uploads it: layer, config, then the tagged manifest. */
  async push(storePath: string, meta: EntryMeta, key: SecretKey, workDir: string): Promise<{ digest: string; bytes: number }> {
    const config: CacheEntryConfig = {
      version: 1,
      storePath,
      kind: meta.kind,
      name: meta.name,
      planHash: meta.planHash,
      outputHash: meta.outputHash,
      references: [...meta.references].sort(),
      files: meta.files ?? 0,
      bytes: meta.bytes ?? 0,
      ...(meta.fingerprint ? { fingerprint: meta.fingerprint } : {}),
    };
    const tag = entryTag(storePath);
    const layerFile = join(workDir, `${tag}.tar.gz`);
    const configFile = join(workDir, `${tag}.json`);
    try {
      await pipeline(Readable.from(entryTar(storePath)), createGzip({ level: 1, chunkSize: 1 << 20 }), createWriteStream(layerFile, { mode: 0o600 }));
      const configBytes = Buffer.from(JSON.stringify(config), "utf8");
      await pipeline(Readable.from([configBytes]), createWriteStream(configFile, { mode: 0o600 }));
      const layer: Descriptor = { mediaType: ENTRY_LAYER_TYPE, digest: `sha256:${hashFile(layerFile)}`, size: statSync(layerFile).size };
      const cfg: Descriptor = { mediaType: ENTRY_CONFIG_TYPE, digest: `sha256:${createHash("sha256").update(configBytes).digest("hex")}`, size: configBytes.length };
      await this.client.pushBlob(this.repository, layer.digest as OciDigest, layer.size, layerFile);
      await this.client.pushBlob(this.repository, cfg.digest as OciDigest, cfg.size, configFile);
      const signature = signText(key, entryFingerprint(storePath, config.outputHash, config.references));
      const digest = await this.client.putManifest(this.repository, tag, MANIFEST_TYPE, entryManifest(cfg, layer, storePath, signature));
      return { digest, bytes: layer.size };
    } finally {
      rmSync(layerFile, { force: true });
      rmSync(configFile, { force: true });
    }
  }

  /**
   * The cache's entry for `storePath` (which `has` found), its record and signature checked against `trusted`; a
   * Refusal when it must not be used.
   */
  async lookup(storePath: string, trusted: readonly PublicKey[], workDir: string): Promise<Found> {
    const tag = entryTag(storePath);
    const m = await this.client.getManifest(this.repository, tag, [MANIFEST_TYPE]);
    const manifest = parseEntryManifest(m.bytes);
    if (typeof manifest === "string") throw new Refusal(manifest);
    const configFile = join(workDir, "config.json");
    let text: string;
    try {
      await this.client.getBlob(this.repository, manifest.config.digest as OciDigest, configFile);
      text = readFileSync(configFile, "utf8");
    } finally {
      rmSync(configFile, { force: true });
    }
    const config = parseEntryConfig(text);
    if (typeof config === "string") throw new Refusal(config);
    if (config.storePath !== storePath) throw new Refusal(`it is the entry of ${config.storePath}`);
    const bad = signatureProblem(manifest.signature, entryFingerprint(config.storePath, config.outputHash, config.references), trusted);
    if (bad) throw new Refusal(bad);
    return { config, layer: manifest.layer };
  }

  /** Fetches a found entry's layer and unpacks it at `dest`; its content must hash to the signed content hash. */
  async unpack(found: Found, dest: string, workDir: string): Promise<{ files: number; bytes: number }> {
    const layerFile = join(workDir, "layer.tar.gz");
    try {
      await this.client.getBlob(this.repository, found.layer.digest as OciDigest, layerFile);
      const unpacker = new EntryUnpacker(dest);
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          try {
            unpacker.write(chunk);
            done();
          } catch (e) {
            done(e as Error);
          }
        },
      });
      let counts: { files: number; bytes: number };
      let actual: string;
      try {
        await pipeline(createReadStream(layerFile, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), sink);
        counts = unpacker.finish();
        actual = `sha256:${unpacker.treeHash()}`;
      } catch (e) {
        unpacker.abort();
        throw new Refusal(`its layer does not unpack: ${(e as Error).message}`);
      }
      if (actual !== found.config.outputHash) throw new Refusal(`its content hashes to ${actual}, not the signed ${found.config.outputHash}`);
      return counts;
    } finally {
      rmSync(layerFile, { force: true });
    }
  }
}
