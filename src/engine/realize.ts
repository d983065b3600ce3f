/**
 * Realization of single entries: a local path imported into the store, a runtime artifact written as its own entry,
 * and a build executed and installed; each enters the store through `installOnce`, so a failure, an interrupt or a
 * broken promise leaves nothing there. `checkBuild` rebuilds an entry aside to compare. Scheduling is schedule.ts's.
 */
import { chmodSync, existsSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { BuildPlan, RuntimeArtifact } from "../core/plan.js";
import { packageInfo } from "../core/package.js";
import { diffTrees } from "./diff.js";
import type { Difference } from "./events.js";
import { execute, wasKept } from "./execute.js";
import { fetchStoreInputs } from "./fetchers.js";
import { treeStamp } from "./identity.js";
import { installOnce } from "./install.js";
import type { RealizeOptions } from "./options.js";
import { problem } from "./reports.js";
import { referencesOf, type PathImport, type ResolvedBuild } from "./resolve.js";
import type { ToolIdentity } from "./store.js";
import { CANONICAL_MTIME, copyTreeCanonical, copyTreePlain, hashTree } from "./tree-hash.js";

/** What a build's entry records of each declared tool. */
function toolIdentities(plan: BuildPlan): ToolIdentity[] {
  return plan.tools.map((t) => {
    const p = t.package;
    const resolved = typeof p === "object" && p._con === "resolvedPackage" ? p : null;
    return {
      name: t.name,
      package: packageInfo(p).packageName,
      origin: resolved?.origin ?? "unresolved",
      version: resolved?.version ?? null,
      contentHash: resolved?.contentHash ?? null,
      executables: resolved?.executables ?? {},
    };
  });
}

/** Copies a local input or path package into the store (by content), unless it is there already. */
export async function importPath(imp: PathImport, opts: RealizeOptions): Promise<void> {
  const p = opts.store.mustEntry(imp.storePath);
  let t0 = 0;
  await installOnce(p, opts, {
    name: basename(imp.source),
    prepare: () => opts.emit({ event: "import", source: imp.source, storePath: p }),
    produce(temp) {
      t0 = performance.now();
      // While the source keeps the stamp its hash was taken under, a plain (kernel) copy is the hashed content;
      // otherwise the copy is hashed as it is made and must match.
      let copied: { files: number; bytes: number; hash?: string };
      if (imp.stamp !== null && treeStamp(imp.source) === imp.stamp) {
        copied = copyTreePlain(imp.source, temp);
        if (treeStamp(imp.source) !== imp.stamp) copied = { ...copied, hash: "changed" };
      } else {
        copied = copyTreeCanonical(imp.source, temp);
      }
      if (copied.hash !== undefined && copied.hash !== imp.contentHash) {
        throw problem("input.changed", `local input '${imp.source}' changed while the build was being prepared`, "run the build again");
      }
      return copied;
    },
    describe(_temp, copied) {
      opts.interrupt.check();
      return {
        version: 2,
        storePath: p,
        kind: "import",
        name: basename(imp.source),
        planHash: planHashOf(p),
        outputHash: `sha256:${imp.contentHash}`,
        references: [],
        source: imp.source,
        builtAt: new Date().toISOString(),
        durationMs: Math.round(performance.now() - t0),
        files: copied.files,
        bytes: copied.bytes,
      };
    },
  });
}

/** Writes a runtime artifact (a service descriptor) as its own store entry, unless it is there already. */
export async function writeArtifact(a: RuntimeArtifact, opts: RealizeOptions): Promise<void> {
  const { store } = opts;
  const p = store.entry(a.storePath);
  if (!p) throw problem("artifact.path", `runtime artifact '${a.name}' has store path '${a.storePath}', which is not an entry name of ${store.dir}`);
  const written = await installOnce(p, opts, {
    name: a.name,
    produce(temp) {
      writeFileSync(temp, JSON.stringify(a.descriptor, null, 2) + "\n");
      chmodSync(temp, 0o444);
      utimesSync(temp, CANONICAL_MTIME, CANONICAL_MTIME);
    },
    describe: (temp) => ({
      version: 2,
      storePath: p,
      kind: "artifact",
      name: basename(p).slice(33),
      planHash: basename(p).slice(0, 32),
      outputHash: `sha256:${hashTree(temp)}`,
      references: [],
      builtAt: new Date().toISOString(),
      files: 1,
      bytes: statSync(temp).size,
    }),
  });
  if (written) opts.emit({ event: "artifact", name: a.name, storePath: p });
}

/** Writes a build's runtime artifacts that are not in the store yet. */
async function ensureArtifacts(build: ResolvedBuild, opts: RealizeOptions): Promise<void> {
  for (const a of build.plan.runtimeArtifacts) await writeArtifact(a, opts);
}

/** The plan hash a store path begins with (the 32 characters of its base name before `-name`). */
export const planHashOf = (storePath: string): string => basename(storePath).slice(0, 32);

/** Realizes one build whose dependencies are in the store: a hit runs nothing; otherwise one process builds, others wait. */
export async function realizeBuild(build: ResolvedBuild, opts: RealizeOptions): Promise<"cached" | "built" | "substituted"> {
  const { store, emit } = opts;
  const p = store.mustEntry(build.storePath);
  // The one seam of the binary cache: an entry a substituter puts in the store (checked) is not built.
  if (opts.substituter && !store.isValid(p) && (await opts.substituter.substitute(build, opts))) return "substituted";
  const built = await installOnce(p, opts, {
    name: build.name,
    async prepare() {
      if (existsSync(p)) store.remove(p); // left by a crash between rename and metadata
      for (const imp of build.imports) await importPath(imp, opts);
      await fetchStoreInputs(build.storeInputs, opts);
      for (const s of [...build.needs, ...build.storeInputs]) {
        const e = store.entry(s);
        if (!e || !store.isValid(e)) throw problem("build.missing-input", `build of '${build.name}' needs ${s}, which is not in the store`);
      }
    },
    produce: (temp) => execute(build, temp, p, store.logPath(p), opts, false),
    keep: wasKept,
    failed: (e) => emit({ event: "build-failed", name: build.name, storePath: p, message: (e as Error).message.split("\n")[0]! }),
    async describe(_temp, run) {
      await ensureArtifacts(build, opts);
      opts.interrupt.check();
      return {
        version: 2,
        storePath: p,
        kind: "build",
        name: build.name,
        planHash: planHashOf(p),
        fingerprint: build.fingerprint,
        tools: toolIdentities(build.plan),
        steps: run.steps,
        outputHash: `sha256:${run.seal.hash}`,
        references: referencesOf(build),
        builtAt: new Date().toISOString(),
        durationMs: run.durationMs,
        sealMs: run.sealMs,
        files: run.seal.files,
        bytes: run.seal.bytes,
      };
    },
  });
  if (built === null) {
    await ensureArtifacts(build, opts);
    emit({ event: "cached", name: build.name, storePath: p });
    return "cached";
  }
  emit({ event: "build-done", name: build.name, storePath: p, durationMs: built.made.durationMs, check: false });
  return "built";
}

/** The verdict of a reproducibility check. */
export interface CheckOutcome {
  readonly storePath: string;
  readonly differences: Difference[];
  /** Where the rebuild was kept (with --keep-failed), or null. */
  readonly keptAt: string | null;
}

/** Rebuilds an entry already in the store in a temporary location and compares the two, file by file. */
export async function checkBuild(build: ResolvedBuild, opts: RealizeOptions): Promise<CheckOutcome> {
  const { store } = opts;
  const p = store.mustEntry(build.storePath);
  for (const imp of build.imports) await importPath(imp, opts);
  const temp = store.claimTemp(p);
  const logPath = `${store.logPath(p)}.check`;
  let keep = false;
  try {
    const run = await execute(build, temp, p, logPath, opts, true);
    const differences = diffTrees(p, temp);
    opts.emit({ event: "build-done", name: build.name, storePath: p, durationMs: run.durationMs, check: true });
    keep = differences.length > 0 && opts.keepFailed;
    return { storePath: p, differences, keptAt: keep ? temp : null };
  } catch (e) {
    keep = wasKept(e);
    throw e;
  } finally {
    store.releaseTemp(temp, keep);
  }
}
