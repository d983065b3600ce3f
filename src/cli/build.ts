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
import type { ResolvedBuild } from "../engine/resolve.js";
import { Store } from "../engine/store.js";
import { hostSystem } from "../engine/system.js";
import { prepare, sourceDateEpochFrom, storeDirFrom, type Prepared, resolutionOf } from "./context.js";
import type { Io } from "./io.js";
import { locateBuilder } from "./locate.js";
import { createProgress, type Progress } from "./progress.js";

/** Flags of `mb build` and `mb check`. */
export interface BuildFlags {
  readonly store?: string;
  /** The out-link path; null for none. */
  readonly outLink: string | null;
  readonly keepFailed: boolean;
  /** How steps are confined (`--no-sandbox`: none). */
  readonly sandbox: SandboxMode;
  readonly check: boolean;
  readonly jobs: number;
  readonly json: boolean;
}

function evalKeyOf(file: string, exportName: string, storeDir: string, sandbox: SandboxMode): EvalKey {
  return { builder: file, exportName, storeDir, sourceDateEpoch: sourceDateEpochFrom(), system: hostSystem(), path: process.env.PATH ?? "", cwd: process.cwd(), sandbox };
}

/** The root store path from the evaluation cache when its entry is complete; null to take the full path. */
export function cachedRoot(arg: string, storeDir: string, needValid: boolean, sandbox: SandboxMode): { name: string; storePath: string } | null {
  if (!evalCacheEnabled()) return null;
  let loc;
  try {
    loc = locateBuilder(arg);
  } catch {
    return null; // the full path reports it
  }
  const rec = lookupEval(evalKeyOf(loc.file, loc.exportName, storeDir, sandbox));
  if (!rec) return null;
  if (needValid) {
    const store = new Store(storeDir);
    const e = store.entry(rec.root.storePath);
    if (!e || !store.isValid(e)) return null;
  }
  return rec.root;
}

/** Loads and resolves strictly, witnessing everything read, and keeps the resolution in the evaluation cache. */
export async function prepareForBuild(arg: string, storeFlag: string | undefined, sandbox: SandboxMode, io: Io): Promise<Prepared> {
  const prepared = await prepare(arg, { store: storeFlag, sandbox, strict: true, warn: (m) => io.err(`mb: warning: ${m}\n`), witness: evalCacheEnabled(), persistIdentities: true });
  const w = prepared.witnessed;
  if (w && w.uncacheable === null) {
    const { file, exportName } = prepared.loaded;
    storeEval({
      v: 1,
      key: evalKeyOf(file, exportName, prepared.storeDir, sandbox),
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
export async function engineRun<T>(prepared: Prepared, flags: { keepFailed: boolean; jobs: number; sandbox: SandboxMode }, progress: Progress, body: (opts: RealizeOptions) => Promise<T>): Promise<T> {
  const { requireBwrap } = await import("../engine/bwrap.js");
  const confine = flags.sandbox === "bwrap" ? requireBwrap() : null;
  const { Interrupt } = await import("../engine/interrupt.js");
  const store = new Store(prepared.storeDir);
  store.ensureLayout();
  const interrupt = new Interrupt();
  const uninstall = interrupt.install();
  // Everything this run may use stays alive while it runs, whatever a concurrent `mb gc` decides.
  const used = resolutionOf(prepared).builds.flatMap((b) => [b.storePath, ...b.imports.map((i) => i.storePath), ...b.storeInputs, ...b.plan.runtimeArtifacts.map((a) => a.storePath)]);
  const { HashPool } = await import("../engine/hash-pool.js");
  const hashPool = new HashPool();
  try {
    return await underTempRoot(store, used, () => body({ store, sourceDateEpoch: prepared.sourceDateEpoch, keepFailed: flags.keepFailed, jobs: flags.jobs, emit: progress.emit, interrupt, hashPool, confine }));
  } finally {
    await hashPool.close();
    uninstall();
  }
}

/** `mb build`: realizes the builder; prints the store path last on stdout (with --json, the last event carries it). */
export async function runBuild(arg: string, flags: BuildFlags, io: Io): Promise<number> {
  const storeDir = storeDirFrom(flags.store);
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  // The out-link is made while the entry is still held by this run's temporary root (see underTempRoot).
  const link = async (store: Store, storePath: string): Promise<void> => {
    progress.close();
    if (flags.outLink !== null) await makeOutLink(store, flags.outLink, storePath, io);
  };
  const finish = (storePath: string): number => {
    if (flags.json) progress.emit({ event: "result", storePath });
    else io.out(`${storePath}\n`);
    return ExitCode.ok;
  };
  try {
    if (!flags.check) {
      const hit = cachedRoot(arg, storeDir, false, flags.sandbox);
      if (hit) {
        const store = new Store(storeDir);
        const handed = await underTempRoot(store, [hit.storePath], async () => {
          const e = store.entry(hit.storePath);
          if (!e || !store.isValid(e)) return false;
          progress.emit({ event: "cached", name: hit.name, storePath: hit.storePath });
          await link(store, hit.storePath);
          return true;
        });
        if (handed) return finish(hit.storePath);
      }
    }
    const prepared = await prepareForBuild(arg, flags.store, flags.sandbox, io);
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
        if (!flags.json) io.err(`mb: ${root.name} is reproducible: a rebuild matches the stored entry\n`);
      }
      await link(opts.store, root.storePath);
    });
    return finish(root.storePath);
  } finally {
    progress.close();
  }
}

/**
 * Re-hashes the entry evidence is about to run against; a corrupt one is exit 1 naming the entry and, from a rebuild
 * aside compared file by file, the files that differ.
 */
async function mustBeIntact(root: ResolvedBuild, opts: RealizeOptions): Promise<void> {
  const { verifyEntry } = await import("../engine/verify.js");
  const bad = verifyEntry(opts.store, opts.store.mustEntry(root.storePath));
  if (!bad) return;
  let files = "";
  try {
    const { checkBuild } = await import("../engine/realize.js");
    const diff = (await checkBuild(root, { ...opts, emit: () => {} })).differences;
    if (diff.length > 0) files = `; a rebuild differs in ${diff.slice(0, 10).map((d) => `'${d.path}' (${d.kind})`).join(", ")}${diff.length > 10 ? ` and ${diff.length - 10} more` : ""}`;
  } catch {
    // the rebuild only names the files; the entry is corrupt regardless
  }
  throw new MbError("check.corrupt-entry", `the store entry ${root.storePath} of '${root.name}' is corrupt: ${bad.detail}${files}; no evidence was run`, {
    exitCode: ExitCode.problems,
    hint: "run `mb store verify --repair` to remove and rebuild it",
  });
}

/** `mb check`: builds if needed, then runs each evidence command against the result; exit 1 naming failed evidence. */
export async function runCheck(arg: string, flags: BuildFlags, io: Io): Promise<number> {
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  try {
    const prepared = await prepareForBuild(arg, flags.store, flags.sandbox, io);
    const root = resolutionOf(prepared).root;
    const { realizeAll } = await import("../engine/schedule.js");
    const { runEvidence } = await import("../engine/evidence.js");
    const { outcomes, services } = await engineRun(prepared, flags, progress, async (opts) => {
      await realizeAll(resolutionOf(prepared), opts);
      await mustBeIntact(root, opts);
      progress.close();
      const outcomes = await runEvidence(root, root.storePath, {
        confine: opts.confine,
        store: opts.store,
        sourceDateEpoch: prepared.sourceDateEpoch,
        interrupt: opts.interrupt,
        onOutcome: (o) => {
          if (flags.json) progress.emit({ event: "evidence", name: o.name, status: o.status, detail: o.detail });
          else io.out(`${o.status === "ok" ? "ok     " : o.status === "failed" ? "FAILED " : "skipped"} ${o.name}: ${o.detail}\n`);
        },
      });
      // After the evidence, each service is started on a free loopback port and its health endpoint called.
      const { checkServices } = await import("../engine/service-check.js");
      const { healthTimeoutMs } = await import("../engine/service-select.js");
      const services = await checkServices(root.plan, root.storePath, {
        confine: opts.confine ?? null,
        storeDir: prepared.storeDir,
        readOnly: [...root.needs, ...root.plan.runtimeArtifacts.map((a) => a.storePath)],
        timeoutMs: healthTimeoutMs(),
        interrupted: () => opts.interrupt.signal !== null,
        track: (pgid) => (opts.interrupt.addGroup(pgid), () => opts.interrupt.removeGroup(pgid)),
        onOutcome: (o) => {
          if (flags.json) progress.emit({ event: "service", name: o.name, status: o.status, port: o.port, detail: o.detail });
          else io.out(`${o.status === "ok" ? "ok     " : "FAILED "} service ${o.name}: ${o.detail}\n`);
        },
      });
      opts.interrupt.check();
      return { outcomes, services };
    });
    const failed = outcomes.filter((o) => o.status === "failed");
    const ran = outcomes.filter((o) => o.status !== "skipped").length;
    const badServices = services.filter((s) => s.status === "failed");
    if (flags.json) progress.emit({ event: "result", storePath: root.storePath });
    else {
      io.out(`${ran === 0 ? "no evidence has a command to run" : `${ran - failed.length}/${ran} evidence passed`} for ${root.storePath}\n`);
      if (services.length > 0) io.out(`${services.length - badServices.length}/${services.length} services answered their health check\n`);
    }
    if (failed.length > 0 || badServices.length > 0) {
      const parts = [
        ...(failed.length > 0 ? [`evidence failed for '${root.name}': ${failed.map((f) => `'${f.name}' (${f.detail})`).join("; ")}`] : []),
        ...badServices.map((s) => s.detail),
      ];
      throw new MbError("check.failed", parts.join("\n"), { exitCode: ExitCode.problems });
    }
    return ExitCode.ok;
  } finally {
    progress.close();
  }
}
