/** Store paths known before building: the fingerprint of a plan covers everything that can change its output. Pure computation. */
import { canonicalJson, storeHash } from "../core/hash.js";
import { packageInfo, safeName } from "../core/package.js";
import type { BuildPlan } from "../core/plan.js";
import type { PackageRef } from "../core/spec.js";
import { planShell } from "./steps.js";

/** What, besides the plan, decides the output. */
export interface FingerprintContext {
  readonly storeDir: string;
  /** e.g. `x86_64-linux`. */
  readonly system: string;
  readonly sourceDateEpoch: number;
  /** Content hash of each local input path in the plan's pathMap. */
  readonly inputHashes: Readonly<Record<string, string>>;
  /** How steps are confined: `bwrap` or `none` (`--no-sandbox`). */
  readonly sandbox: string;
  /** The package of the base tools the engine provides (writeFile, copyPath), or null when the plan needs none. */
  readonly baseTools: BaseToolsIdentity | null;
}

/** The identity of the package the engine's base tools come from. */
export interface BaseToolsIdentity {
  readonly package: string;
  readonly version: string | null;
  readonly contentHash: string;
}

/**
 * Bumped whenever the execution contract changes, so old entries are not reused (2: steps sandboxed, base tools; 3: a
 * sandboxed step's PATH is the build directory's bin/, a farm made in memory by bubblewrap).
 */
export const FINGERPRINT_VERSION = 3;

function packageIdentity(pkg: PackageRef): unknown {
  if (typeof pkg === "object" && pkg._con === "resolvedPackage") {
    return { packageName: pkg.packageName, origin: pkg.origin, outPath: pkg.outPath, version: pkg.version, executables: pkg.executables, contentHash: pkg.contentHash };
  }
  return { unresolved: packageInfo(pkg).packageName };
}

/** The canonical fingerprint record of a plan. */
export function fingerprint(plan: BuildPlan, ctx: FingerprintContext): Record<string, unknown> {
  return {
    version: FINGERPRINT_VERSION,
    name: plan.name,
    builder: plan.builder,
    shell: planShell(plan),
    tools: plan.tools.map((t) => ({ name: t.name, package: packageIdentity(t.package) })),
    nativePaths: plan.nativePaths,
    inputs: Object.fromEntries(Object.entries(plan.pathMap).map(([k, path]) => [k, ctx.inputHashes[path] ?? null])),
    outputs: plan.outputs.map((o) => ({ name: o.name, path: o.path, format: o.format })),
    system: ctx.system,
    sourceDateEpoch: ctx.sourceDateEpoch,
    storeDir: ctx.storeDir,
    sandbox: ctx.sandbox,
    baseTools: ctx.baseTools,
  };
}

/** The hash part of a plan's store path. */
export function planHash(plan: BuildPlan, ctx: FingerprintContext): string {
  return storeHash(canonicalJson(fingerprint(plan, ctx)));
}

export { safeName };

/** The store path of a plan, known before it is built. */
export function storePathOf(plan: BuildPlan, ctx: FingerprintContext): string {
  return storePathFromFingerprint(plan.name, fingerprint(plan, ctx), ctx.storeDir);
}

/** The store path named by an already computed fingerprint (so it is computed once). */
export function storePathFromFingerprint(name: string, fp: Record<string, unknown>, storeDir: string): string {
  return `${storeDir}/${storeHash(canonicalJson(fp))}-${safeName(name)}`;
}
