/**
 * The lock file of registry bases (`mb.lock.json` beside the builder): for each `docker://` reference the digest it
 * named when it was resolved and, per platform, the image manifest a build pulls. One zod schema (strict); pure
 * functions over it: which references a program uses, where the lock disagrees with them, the pulls a build needs.
 */
import { z } from "zod";
import { ExitCode, MbError } from "../../core/errors.js";
import { storeHash } from "../../core/hash.js";
import { mapPackages } from "../../core/operations.js";
import { strictObject } from "../../core/strict.js";
import { fromSpec, unsafeProgram, type Program } from "../../program/program.js";
import type { BuilderSpec, PackageRef } from "../../core/spec.js";
import { parseRegistryPackage, parseRegistryReference } from "./reference.js";

/** The lock file's name, in the builder file's directory. */
export const LOCK_FILE_NAME = "mb.lock.json";

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a digest is sha256:<64 lower-case hex digits>");
const PlatformKey = z.string().regex(/^[a-z0-9]+\/[a-z0-9]+$/, "platforms are written os/architecture, e.g. linux/amd64");

/** The image manifest of one platform: what a build pulls (by digest) and imports. */
export const LockedManifest = strictObject({
  digest: Digest.describe("The platform's image manifest digest (the pulled store entry is named by it)."),
  mediaType: z.string().min(1).describe("The manifest's media type."),
  size: z.number().int().nonnegative().describe("The manifest's size in bytes."),
});
export type LockedManifest = z.infer<typeof LockedManifest>;

/** One pinned reference. */
export const LockPin = strictObject({
  digest: Digest.describe("What the reference named when it was resolved: an image manifest or an image index."),
  mediaType: z.string().min(1).describe("The media type of that manifest or index."),
  platforms: z.record(PlatformKey, LockedManifest).describe("Per platform (os/architecture), the image manifest used."),
});
export type LockPin = z.infer<typeof LockPin>;

/** `mb.lock.json`: the registry bases of the builders in its directory, pinned. */
export const LockFile = strictObject({
  lockfileVersion: z.literal(1).describe("The lock file format; 1."),
  bases: z
    .record(z.string().refine((r) => typeof parseRegistryReference(r) !== "string", "keys are docker://host/repo:tag or @sha256: references"), LockPin)
    .describe("By docker:// reference, as the spec writes it."),
});
export type LockFile = z.infer<typeof LockFile>;

/** An empty lock. */
export const EMPTY_LOCK: LockFile = { lockfileVersion: 1, bases: {} };

/** Parses a lock file's text; anything else is a usage error (exit 2) naming the file and the path of each problem. */
export function parseLock(text: string, file: string): LockFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MbError("lock.invalid", `${file} is not JSON: ${(e as Error).message}`, { exitCode: ExitCode.usage, hint: "fix it, or remove it and run `mb lock <builder>`" });
  }
  const r = LockFile.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.map(String).join(".") || "(top)"}: ${i.message}`);
  throw new MbError("lock.invalid", `${file} is not a lock file:\n  ${problems.join("\n  ")}`, { exitCode: ExitCode.usage, hint: "fix it, or remove it and run `mb lock <builder>`" });
}

/** The lock as written: keys sorted, two-space JSON, a final newline. */
export function lockText(lock: LockFile): string {
  const bases: Record<string, LockPin> = {};
  for (const ref of Object.keys(lock.bases).sort()) {
    const pin = lock.bases[ref]!;
    const platforms: Record<string, LockedManifest> = {};
    for (const p of Object.keys(pin.platforms).sort()) platforms[p] = pin.platforms[p]!;
    bases[ref] = { digest: pin.digest, mediaType: pin.mediaType, platforms };
  }
  return `${JSON.stringify({ lockfileVersion: 1, bases }, null, 2)}\n`;
}

/** Every registry base a program uses (through its builder dependencies too): reference -> platforms (os/architecture). */
export function registryUses(program: Program): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  const seen = new Set<unknown>();
  const walk = (p: Program): void => {
    for (const op of p.operations) {
      mapPackages(op, (ref) => {
        const r = parseRegistryPackage(ref);
        if (r) {
          const set = uses.get(r.reference) ?? new Set<string>();
          set.add(`${r.os}/${r.architecture}`);
          uses.set(r.reference, set);
        } else if (typeof ref !== "string" && ref._con === "builderPackage" && !seen.has(ref.spec)) {
          seen.add(ref.spec);
          walk(fromSpec(ref.spec));
        }
        return ref;
      });
    }
  };
  walk(program);
  return uses;
}

/** Where a lock disagrees with the references a builder uses: a pinned reference it does not use, a digest it contradicts. */
export function lockDisagreements(lock: LockFile, uses: ReadonlyMap<string, ReadonlySet<string>>, file: string): string[] {
  const out: string[] = [];
  for (const [ref, pin] of Object.entries(lock.bases)) {
    if (!uses.has(ref)) {
      out.push(`${file} pins ${ref}, which the builder does not use (its registry bases: ${[...uses.keys()].join(", ") || "none"})`);
      continue;
    }
    const r = parseRegistryReference(ref);
    if (typeof r !== "string" && r.digest !== undefined && r.digest !== pin.digest) {
      out.push(`the spec's ${ref} names ${r.digest}, but ${file} pins it to ${pin.digest}`);
    }
  }
  return out;
}

/** A registry image a build pulls into the store before it runs: one platform manifest, by digest. */
export interface RegistryPull {
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  readonly manifest: LockedManifest;
  /** The store entry: an OCI layout holding the manifest, its config and layers; named by the manifest digest only. */
  readonly storePath: string;
}

/** The store path of a pulled image: named by its manifest digest, so every image on the same base shares it. */
export function pulledPathOf(storeDir: string, manifestDigest: string): string {
  return `${storeDir}/${storeHash(`oci-pull:${manifestDigest}`)}-oci-base-${manifestDigest.slice(7, 23)}`;
}

/** The pull a build needs for `reference` on `platform`, from its pin; null when the lock does not pin that platform. */
export function pullOf(reference: string, platform: string, pin: LockPin | undefined, storeDir: string): RegistryPull | null {
  const manifest = pin?.platforms[platform];
  const r = parseRegistryReference(reference);
  if (manifest === undefined || typeof r === "string") return null;
  return { reference, registry: r.registry, repository: r.repository, manifest, storePath: pulledPathOf(storeDir, manifest.digest) };
}

/**
 * The program with every pinned registry base (a store package whose path is its `docker://…#os/arch` key) given its
 * pulled store entry's path, through builder dependencies too; unpinned ones stay as they are.
 */
export function pinProgram(program: Program, pulls: ReadonlyMap<string, RegistryPull>): Program {
  if (pulls.size === 0) return program;
  const specs = new Map<BuilderSpec, BuilderSpec>();
  const pin = (ref: PackageRef): PackageRef => {
    if (typeof ref === "string") return ref;
    if (ref._con === "resolvedPackage") {
      const pull = ref.outPath.startsWith("docker://") ? pulls.get(ref.outPath) : undefined;
      if (pull === undefined) return ref;
      const name = pull.storePath.slice(pull.storePath.lastIndexOf("/") + 34);
      return { ...ref, name, packageName: name, outPath: pull.storePath, contentHash: pull.manifest.digest };
    }
    if (ref._con !== "builderPackage") return ref;
    let spec = specs.get(ref.spec);
    if (spec === undefined) {
      spec = { ...ref.spec, operations: ref.spec.operations.map((op) => mapPackages(op, pin)) } as BuilderSpec;
      specs.set(ref.spec, spec);
    }
    return { ...ref, spec };
  };
  return unsafeProgram(program.operations.map((op) => mapPackages(op, pin)));
}
