/**
 * `mb build` and `mb check`: realize a builder and its dependencies in the store, link the result, check
 * reproducibility (`--check`) or run the evidence (`mb check`). A cache hit whose resolution is in the evaluation
 * cache loads nothing heavy: neither the builder, nor zod, nor esbuild.
 */
import { lstatSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { evalCacheEnabled, lookupEval, storeEval, type EvalKey } from "../engine/eval-cache.js";
import { addRoot, addTempRoot } from "../engine/roots.js";
import { storeErrno, storeFault } from "../engine/store-errors.js";
import type { SandboxMode } from "../engine/bwrap.js";
import type { RealizeOptions } from "../engine/options.js";
import { Store } from "../engine/store.js";
import { hostSystem } from "../engine/system.js";
import { prepare, sourceDateEpochFrom, storeDirFrom, type Prepared, resolutionOf } from "./context.js";
import type { Io } from "./io.js";
import type { BuilderArg } from "./load.js";
import { locateBuilder } from "./locate.js";
import { createProgress, type Progress } from "./progress.js";

/** How `mb build` and `mb check` (and the build API) realize a builder. */
export interface RealizeFlags {
  readonly store?: string;
  /** The out-link path; null for none. */
  readonly outLink: string | null;
  readonly keepFailed: boolean;
  /** How steps are confined (`--no-sandbox`: none). */
  readonly sandbox: SandboxMode;
  readonly check: boolean;
  readonly jobs: number;
  /** SOURCE_DATE_EPOCH; default from the environment. */
  readonly sourceDateEpoch?: number;
  /** Cancels the run like SIGINT (the build API); without it, SIGINT and SIGTERM of the process are caught. */
  readonly signal?: AbortSignal;
  /** Binary caches to fetch from (`--substituter`; default `MB_SUBSTITUTERS`), and the keys they must sign with. */
  readonly substituters?: readonly string[];
  readonly trustedKeys?: readonly string[];
}

/** Flags of `mb build` and `mb check`. */
export interface BuildFlags extends RealizeFlags {
  readonly json: boolean;
}

function evalKeyOf(file: string, exportName: string, storeDir: string, sandbox: SandboxMode, sde = sourceDateEpochFrom()): EvalKey {
  return { builder: file, exportName, storeDir, sourceDateEpoch: sde, system: hostSystem(), path: process.env.PATH ?? "", cwd: process.cwd(), sandbox };
}

/** The root store path from the evaluation cache when its entry is complete; null to take the full path. */
export function cachedRoot(arg: BuilderArg, storeDir: string, needValid: boolean, sandbox: SandboxMode, sde?: number): { name: string; storePath: string } | null {
  if (!evalCacheEnabled() || typeof arg !== "string") return null;
  let loc;
  try {
    loc = locateBuilder(arg);
  } catch {
    return null; // the full path reports it
  }
  const rec = lookupEval(evalKeyOf(loc.file, loc.exportName, storeDir, sandbox, sde));
  if (!rec) return null;
  if (needValid) {
    const store = new Store(storeDir);
    const e = store.entry(rec.root.storePath);
    if (!e || !store.isValid(e)) return null;
  }
  return rec.root;
}

/** Loads and resolves strictly, witnessing everything read, and keeps the resolution in the evaluation cache. */
export async function prepareForBuild(arg: BuilderArg, storeFlag: string | undefined, sandbox: SandboxMode, io: Io, sde?: number): Promise<Prepared> {
  const witness = evalCacheEnabled() && typeof arg === "string";
  const prepared = await prepare(arg, {
    store: storeFlag,
    sandbox,
    strict: true,
    warn: (m) => io.err(`mb: warning: ${m}\n`),
    witness,
    persistIdentities: true,
    sourceDateEpoch: sde,
    lock: "build",
    preload: () => Promise.all([import("../engine/realize.js"), import("../engine/schedule.js"), import("../engine/bwrap.js"), import("../engine/hash-pool.js")]),
  });
  const w = prepared.witnessed;
  if (w && w.uncacheable === null) {
    const { file, exportName } = prepared.loaded;
    storeEval({
      v: 1,
      key: evalKeyOf(file, exportName, prepared.storeDir, sandbox, prepared.sourceDateEpoch),
      witnesses: w.witnesses,
      root: { name: resolutionOf(prepared).root.name, storePath: resolutionOf(prepared).root.storePath },
      storePaths: resolutionOf(prepared).builds.map((b) => b.storePath),
    });
  }
  return prepared;
}

/** Points `link` at `target` (atomically) and records it as a gc root; refuses to replace anything but a symlink. */
export async function makeOutLink(store: Store, link: string, target: string, io: Io): Promise<void> {
  const abs = resolve(link);
  let current: string | null = null;
  try {
    const st = lstatSync(abs);
    if (!st.isSymbolicLink()) {
      throw new MbError("build.out-link", `cannot create the out-link '${link}': a ${st.isDirectory() ? "directory" : "file"} of that name exists`, {
        exitCode: ExitCode.problems,
        hint: "remove it, or pass --out-link <other path> or --no-out-link",
      });
    }
    current = readlinkSync(abs);
  } catch (e) {
    if (e instanceof MbError) throw e;
  }
  if (current !== target) {
    const tmp = `${abs}.mb-${process.pid}`;
    try {
      unlinkSync(tmp);
    } catch {
      // none
    }
    symlinkSync(target, tmp);
    renameSync(tmp, abs);
  }
  try {
    await addRoot(store, abs);
  } catch (e) {
    if (!readOnly(e)) throw storeFault(e, store.dir, `register the out-link '${link}' as a gc root`);
    io.err(`mb: warning: the store ${store.dir} is read-only: the out-link '${link}' is not registered as a gc root\n`);
  }
}

/** True for the errors of a store mounted or made read-only (a cache hit still works there, registering nothing). */
function readOnly(e: unknown): boolean {
  const code = storeErrno(e);
  return code === "EROFS" || code === "EACCES" || code === "EPERM";
}

/**
 * Runs `body` with `paths` held by a temporary gc root, taken before `body` looks at the store, so a concurrent
 * `mb gc` either ran before (and `body` sees what it removed) or keeps them until `body` has made its out-link. A
 * read-only store takes no root (nothing can collect through this mount either).
 */
async function underTempRoot<T>(store: Store, paths: readonly string[], body: () => Promise<T>): Promise<T> {
  let drop = (): void => {};
  try {
    drop = await addTempRoot(store, [...new Set(paths)]);
  } catch (e) {
    if (!readOnly(e)) throw storeFault(e, store.dir, "record a temporary gc root");
  }
  try {
    return await body();
  } finally {
    drop();
  }
}

/** Runs `body` with the engine set up for `prepared`: the store laid out, signals handled, a temporary gc root held. */
export async function engineRun<T>(
  prepared: Prepared,
  flags: { keepFailed: boolean; jobs: number; sandbox: SandboxMode; signal?: AbortSignal; substituters?: readonly string[]; trustedKeys?: readonly string[] },
  progress: Progress,
  body: (opts: RealizeOptions) => Promise<T>,
): Promise<T> {
  const { requireBwrap } = await import("../engine/bwrap.js");
  const confine = flags.sandbox === "bwrap" ? requireBwrap() : null;
  const settings = usesCache(flags) ? (await import("../cache/settings.js")).cacheSettings(flags) : null;
  const substituter = settings ? new (await import("../cache/substitute.js")).CacheSubstituter(settings) : null;
  const { Interrupt } = await import("../engine/interrupt.js");
  const store = new Store(prepared.storeDir);
  store.ensureLayout();
  const interrupt = new Interrupt();
  // A caller's AbortSignal stands for the process's signals (a library must not take over SIGINT of its host).
  const signal = flags.signal;
  const onAbort = (): void => interrupt.trigger("SIGINT");
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const uninstall = signal ? () => signal.removeEventListener("abort", onAbort) : interrupt.install();
  // Everything this run may use stays alive while it runs, whatever a concurrent `mb gc` decides.
  const used = resolutionOf(prepared).builds.flatMap((b) => [b.storePath, ...b.imports.map((i) => i.storePath), ...b.storeInputs, ...b.plan.runtimeArtifacts.map((a) => a.storePath)]);
  const { HashPool } = await import("../engine/hash-pool.js");
  const hashPool = new HashPool();
  try {
    return await underTempRoot(store, used, () => body({ store, sourceDateEpoch: prepared.sourceDateEpoch, keepFailed: flags.keepFailed, jobs: flags.jobs, emit: progress.emit, interrupt, hashPool, confine, ...(substituter ? { substituter } : {}) }));
  } finally {
    await hashPool.close();
    uninstall();
  }
}

/** True when a build is given binary caches (`--substituter` or MB_SUBSTITUTERS; as cache/settings.ts reads them). */
function usesCache(flags: { substituters?: readonly string[] }): boolean {
  return (flags.substituters?.length ?? 0) > 0 || (process.env.MB_SUBSTITUTERS ?? "").trim() !== "";
}

/**
 * Realizes a builder (and, with `check`, compares a rebuild), links the out-link, emits progress; returns the root's
 * store path. `mb build` and the build API's `build` both run this.
 */
export async function buildBuilder(arg: BuilderArg, flags: RealizeFlags, progress: Progress, io: Io): Promise<{ name: string; storePath: string }> {
  const storeDir = storeDirFrom(flags.store);
  if (usesCache(flags)) (await import("../cache/settings.js")).cacheSettings(flags); // bad settings are exit 2, even on a hit
  // The out-link is made while the entry is still held by this run's temporary root (see underTempRoot).
  const link = async (store: Store, storePath: string): Promise<void> => {
    progress.close();
    if (flags.outLink !== null) await makeOutLink(store, flags.outLink, storePath, io);
  };
  if (!flags.check && !flags.signal?.aborted) {
    const hit = cachedRoot(arg, storeDir, false, flags.sandbox, flags.sourceDateEpoch);
    if (hit) {
      const store = new Store(storeDir);
      const handed = await underTempRoot(store, [hit.storePath], async () => {
        const e = store.entry(hit.storePath);
        if (!e || !store.isValid(e)) return false;
        progress.emit({ event: "cached", name: hit.name, storePath: hit.storePath });
        await link(store, hit.storePath);
        return true;
      });
      if (handed) return hit;
    }
  }
  const prepared = await prepareForBuild(arg, flags.store, flags.sandbox, io, flags.sourceDateEpoch);
  const root = resolutionOf(prepared).root;
  const { checkBuild } = await import("../engine/realize.js");
  const { realizeAll } = await import("../engine/schedule.js");
  await engineRun(prepared, flags, progress, async (opts) => {
    await realizeAll(resolutionOf(prepared), opts, flags.check);
    if (flags.check) {
      const outcome = await checkBuild(root, opts);
      progress.emit({ event: "check", storePath: root.storePath, reproducible: outcome.differences.length === 0, differences: outcome.differences });
      if (outcome.differences.length > 0) {
        const shown = outcome.differences.slice(0, 50).map((d) => `  ${d.kind.padEnd(12)} ${d.path}`);
        const more = outcome.differences.length > 50 ? [`  ... and ${outcome.differences.length - 50} more`] : [];
        throw new MbError(
          "build.not-reproducible",
          `'${root.name}' is not reproducible: a rebuild differs from the stored entry ${root.storePath} in ${outcome.differences.length} place${outcome.differences.length === 1 ? "" : "s"}:\n${[...shown, ...more].join("\n")}`,
          { exitCode: ExitCode.problems, hint: outcome.keptAt ? `the rebuild is kept at ${outcome.keptAt}` : "rerun with --keep-failed to keep the rebuild for inspection" },
        );
      }
    }
    await link(opts.store, root.storePath);
  });
  return { name: root.name, storePath: root.storePath };
}

/** `mb build`: realizes the builder; prints the store path last on stdout (with --json, the last event carries it). */
export async function runBuild(arg: string, flags: BuildFlags, io: Io): Promise<number> {
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  try {
    const { name, storePath } = await buildBuilder(arg, flags, progress, io);
    if (flags.json) progress.emit({ event: "result", storePath });
    else {
      if (flags.check) io.err(`mb: ${name} is reproducible: a rebuild matches the stored entry\n`);
      io.out(`${storePath}\n`);
    }
    return ExitCode.ok;
  } finally {
    progress.close();
  }
}
