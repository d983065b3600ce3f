/**
 * Registry base images, the engine side (issue 12, item 1): the lock stage before resolution (read `mb.lock.json`,
 * refuse a lock that disagrees with the spec, resolve unpinned tags once and write the lock) and the pull stage before
 * a build (the pinned platform manifest, its config and layers into a store entry named by the manifest digest,
 * every blob verified by digest, each recorded in the store's blob locations for `mb push` to mount from). Network
 * goes through the registry client (src/registry/).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ExitCode, MbError } from "../../core/errors.js";
import type { Program } from "../../program/program.js";
import { BlobLocations, blobLocationsFile, RegistryClient } from "../../registry/index.js";
import { ociDigest } from "../../registry/reference.js";
import { installOnce } from "../../engine/install.js";
import type { RealizeOptions } from "../../engine/options.js";
import { writeFileAtomic } from "../../engine/store-fs.js";
import { copyTreeCanonical } from "../../engine/tree-hash.js";
import { EMPTY_LOCK, LOCK_FILE_NAME, lockDisagreements, lockText, parseLock, pinProgram, pullOf, registryUses, type LockFile, type LockPin, type RegistryPull } from "../base/lock.js";
import { parseRegistryReference, registryKey } from "../base/reference.js";
import { INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE } from "../media-types.js";

const INDEXES = [INDEX_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.list.v2+json"];
const MANIFESTS = [MANIFEST_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.v2+json"];

/** How the lock stage treats the lock: `read` (views: never the network), `build` (pin what is missing), `update` (re-resolve every tag). */
export type LockMode = "read" | "build" | "update";

/** What the lock stage found: the program with pinned bases as store paths, the pulls by package string, what it changed. */
export interface LockStage {
  readonly program: Program;
  readonly file: string;
  readonly pulls: ReadonlyMap<string, RegistryPull>;
  readonly changed: readonly string[];
}

/** The lock file of a builder in `dir`. */
export function lockFileIn(dir: string): string {
  return join(dir, LOCK_FILE_NAME);
}

function readLock(file: string): LockFile {
  return existsSync(file) ? parseLock(readFileSync(file, "utf8"), file) : EMPTY_LOCK;
}

/** Resolves a reference once: what it names now, and for each platform asked, that platform's image manifest. */
async function resolvePin(reference: string, platforms: readonly string[], warn: (m: string) => void): Promise<LockPin> {
  const r = parseRegistryReference(reference);
  if (typeof r === "string") throw new MbError("base.reference", r, { exitCode: ExitCode.usage });
  const client = new RegistryClient(r.registry, { warn });
  const top = await client.getManifest(r.repository, r.digest ?? r.tag!);
  if (r.digest !== undefined && top.digest !== r.digest) {
    throw new MbError("base.digest-mismatch", `base ${reference}: the registry answered ${top.digest} for ${r.digest}`, { exitCode: ExitCode.problems });
  }
  const pin: LockPin = { digest: top.digest, mediaType: top.mediaType, platforms: {} };
  if (MANIFESTS.includes(top.mediaType)) {
    // One image: its config (a small blob) says its platform, checked before anything is pinned.
    const manifest = JSON.parse(Buffer.from(top.bytes).toString("utf8")) as { config: { digest: string } };
    const tmp = mkdtempSync(join(tmpdir(), "mb-lock-"));
    let config: { os?: string; architecture?: string; variant?: string };
    try {
      await client.getBlob(r.repository, ociDigest(manifest.config.digest, reference), join(tmp, "config"));
      config = JSON.parse(readFileSync(join(tmp, "config"), "utf8")) as typeof config;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    for (const p of platforms) {
      if (`${config.os}/${config.architecture}` !== p) {
        throw new MbError("base.platform", `base ${reference} is an image for ${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ""}, not ${p}`, { exitCode: ExitCode.problems });
      }
      pin.platforms[p] = { digest: top.digest, mediaType: top.mediaType, size: top.bytes.length };
    }
    return pin;
  }
  if (!INDEXES.includes(top.mediaType)) throw new MbError("base.media-type", `base ${reference}: '${top.mediaType}' is neither an image manifest nor an index`, { exitCode: ExitCode.problems });
  const index = JSON.parse(Buffer.from(top.bytes).toString("utf8")) as { manifests?: { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }[] };
  for (const p of platforms) {
    const [os, architecture] = p.split("/");
    const hit = (index.manifests ?? []).find((m) => m.platform?.os === os && m.platform?.architecture === architecture);
    if (!hit) {
      const have = (index.manifests ?? []).map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ""}` : "none")).join(", ");
      throw new MbError("base.platform", `base ${reference} is not available for ${p} (its platforms: ${have || "none"})`, { exitCode: ExitCode.problems });
    }
    pin.platforms[p] = { digest: hit.digest, mediaType: hit.mediaType, size: hit.size };
  }
  return pin;
}

/**
 * The lock stage: the registry bases `program` uses, pinned by the lock in `dir`. A lock that pins a reference the
 * builder does not use, or contradicts a digest the spec names, is an error (exit 2) naming both (`update` rewrites
 * it instead). Unpinned references are resolved in `build` and `update` mode and the lock is written; in `read` mode
 * they stay unpinned (the resolver reports them).
 */
export async function lockStage(program: Program, dir: string, storeDir: string, mode: LockMode, warn: (m: string) => void, strict = false): Promise<LockStage> {
  const file = lockFileIn(dir);
  const uses = registryUses(program);
  // A builder without registry bases never reads the lock (another builder of the directory may use it).
  if (uses.size === 0) return { program, file, pulls: new Map(), changed: [] };
  const lock = readLock(file);
  if (mode !== "update") {
    const problems = lockDisagreements(lock, uses, file);
    if (problems.length > 0) {
      throw new MbError("base.lock-disagrees", `the lock file disagrees with the spec:\n  ${problems.join("\n  ")}`, { exitCode: ExitCode.usage, hint: "run `mb lock --update <builder>` to re-pin the spec's bases" });
    }
  }
  const next: LockFile = { lockfileVersion: 1, bases: {} };
  const changed: string[] = [];
  for (const [ref, platforms] of [...uses].sort(([a], [b]) => a.localeCompare(b))) {
    const pin = lock.bases[ref];
    const missing = [...platforms].filter((p) => pin?.platforms[p] === undefined);
    if (mode === "read" || (mode === "build" && missing.length === 0)) {
      if (pin) next.bases[ref] = pin;
      continue;
    }
    if (mode === "build" && pin) {
      // Pinned, but not for every platform now used: resolve those under the pinned digest, never the tag again.
      const r = parseRegistryReference(ref) as Exclude<ReturnType<typeof parseRegistryReference>, string>;
      const again = await resolvePin(`docker://${r.registry}/${r.repository}@${pin.digest}`, missing, warn);
      next.bases[ref] = { ...pin, platforms: { ...pin.platforms, ...again.platforms } };
    } else next.bases[ref] = await resolvePin(ref, [...platforms].sort(), warn);
    if (JSON.stringify(next.bases[ref]) !== JSON.stringify(pin)) changed.push(`${ref} -> ${next.bases[ref]!.digest}`);
  }
  if (mode !== "read" && (changed.length > 0 || Object.keys(lock.bases).length !== Object.keys(next.bases).length || !existsSync(file))) {
    writeFileAtomic(file, lockText(next), true);
  }
  const pulls = new Map<string, RegistryPull>();
  for (const [ref, platforms] of uses) {
    for (const p of platforms) {
      const pull = pullOf(ref, p, next.bases[ref], storeDir);
      const [os, arch] = p.split("/");
      if (pull) {
        pulls.set(registryKey(ref, os!, arch!), pull);
        pending.set(pull.storePath, pull);
      } else {
        const msg = `base image ${ref} is not pinned for ${p} in ${file}`;
        const hint = "`mb build` pins it when it first builds; `mb lock <builder>` pins it without building";
        if (strict) throw new MbError("base.unpinned", msg, { exitCode: ExitCode.problems, hint });
        warn(`${msg}; ${hint}`);
      }
    }
  }
  return { program: pinProgram(program, pulls), file, pulls, changed };
}

/** The pulls the lock stage pinned in this process, by store path: what a build pulls before it runs. */
const pending = new Map<string, RegistryPull>();

/** Pulls each of `storeInputs` that is a pinned registry image not yet in the store (a build's pre-build pull stage). */
export async function pullPinned(storeInputs: readonly string[], opts: RealizeOptions): Promise<void> {
  for (const s of storeInputs) {
    const pull = pending.get(s);
    if (pull !== undefined) await pullImage(pull, opts);
  }
}

/** Pulls one pinned platform image into its store entry (an OCI layout with that one manifest), unless it is there. */
export async function pullImage(pull: RegistryPull, opts: RealizeOptions): Promise<void> {
  const p = opts.store.mustEntry(pull.storePath);
  let t0 = 0;
  await installOnce(p, opts, {
    name: pull.reference,
    prepare: () => opts.emit({ event: "import", source: pull.reference, storePath: p }),
    async produce(temp) {
      t0 = performance.now();
      const dl = mkdtempSync(join(tmpdir(), "mb-pull-"));
      const locations = new BlobLocations(blobLocationsFile(opts.store.cacheDir));
      try {
        const blobs = join(dl, "blobs", "sha256");
        mkdirSync(blobs, { recursive: true });
        const client = new RegistryClient(pull.registry);
        const m = await client.getManifest(pull.repository, pull.manifest.digest, [pull.manifest.mediaType]);
        if (m.digest !== pull.manifest.digest || m.bytes.length !== pull.manifest.size) {
          throw new MbError("base.digest-mismatch", `base ${pull.reference}: the registry's manifest ${m.digest} (${m.bytes.length} bytes) is not the pinned ${pull.manifest.digest} (${pull.manifest.size} bytes)`, { exitCode: ExitCode.problems });
        }
        writeFileSync(join(blobs, m.digest.slice(7)), m.bytes);
        const manifest = JSON.parse(Buffer.from(m.bytes).toString("utf8")) as { config: { digest: string }; layers?: { digest: string }[] };
        for (const d of [manifest.config, ...(manifest.layers ?? [])]) {
          opts.interrupt.check();
          const file = join(blobs, d.digest.slice(7));
          if (!existsSync(file)) await client.getBlob(pull.repository, ociDigest(d.digest, pull.reference), file);
          locations.record(pull.registry, d.digest, pull.repository);
        }
        writeFileSync(join(dl, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
        writeFileSync(join(dl, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: pull.manifest.mediaType, digest: pull.manifest.digest, size: pull.manifest.size }] }));
        return copyTreeCanonical(dl, temp);
      } finally {
        locations.save();
        rmSync(dl, { recursive: true, force: true });
      }
    },
    describe: (_temp, made) => ({
      version: 2,
      storePath: p,
      kind: "import",
      name: basename(p).slice(33),
      planHash: basename(p).slice(0, 32),
      outputHash: `sha256:${made.hash}`,
      references: [],
      source: pull.reference,
      builtAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - t0),
      files: made.files,
      bytes: made.bytes,
    }),
  });
}
