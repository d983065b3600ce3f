/**
 * Realization: runs a resolved build's rendered steps in its sandbox, keeps its output promises, seals the result into
 * canonical form and installs it in the store atomically. Dependencies first; independent builds in parallel (`-j N`).
 * A failure, an interrupt or a broken promise leaves nothing in the store.
 */
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { constants as osConstants } from "node:os";
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan, RuntimeArtifact } from "../core/plan.js";
import { packageInfo } from "../core/package.js";
import { planViewOf } from "../views/plan-view.js";
import { diffTrees } from "./diff.js";
import type { Difference, Emit } from "./events.js";
import { treeStamp } from "./identity.js";
import { interrupted, type Interrupt } from "./interrupt.js";
import { acquireLock, type Lock } from "./lock.js";
import { checkBlobPromises, checkOutputs, outputLocation, type BrokenPromise } from "./outputs.js";
import type { PathImport, Resolution, ResolvedBuild } from "./resolve.js";
import { createSandbox, type StepsExit } from "./sandbox.js";
import type { EntryMeta, StepRecord, Store, StorePath, ToolIdentity } from "./store.js";
import { CANONICAL_MTIME, copyTreeCanonical, copyTreePlain, hashTree, SpecialFileError, type SealResult } from "./tree-hash.js";
import { sealTree, Speculator } from "./seal.js";
import { HashPool } from "./hash-pool.js";

/** How realization behaves. */
export interface RealizeOptions {
  readonly store: Store;
  readonly sourceDateEpoch: number;
  /** Keep the build directory (and the partial output) of a failed build. */
  readonly keepFailed: boolean;
  /** How many builds may run at once. */
  readonly jobs: number;
  readonly emit: Emit;
  readonly interrupt: Interrupt;
  /** Worker threads that digest large output files; none: every file is hashed on the main thread, after the steps. */
  readonly hashPool?: HashPool;
}

const TAIL_LINES = 20;

function problem(code: string, message: string, hint?: string): MbError {
  return new MbError(code, message, { exitCode: ExitCode.problems, hint });
}

/** The last `n` lines a step wrote: the log's lines after the step's header line (within its last 256 KiB). */
export function tailLines(fd: number, header: string, n = TAIL_LINES): string[] {
  const size = fstatSync(fd).size;
  const len = Math.min(size, 256 * 1024);
  if (len <= 0) return [];
  const buf = Buffer.alloc(len);
  readSync(fd, buf, 0, len, size - len);
  let text = buf.toString("utf8");
  const at = header === "" ? -1 : text.lastIndexOf(`${header}\n`);
  if (at >= 0) text = text.slice(at + header.length + 1);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.slice(-n);
}

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

/** What one execution of a plan produced: its sealed output and step timings. */
interface Execution {
  readonly seal: SealResult;
  readonly steps: StepRecord[];
  readonly durationMs: number;
  /** How long sealing took after the last step (waiting for digests taken during the steps included). */
  readonly sealMs: number;
}

/** Thrown by `execute` when the failed build's directory and output were kept (--keep-failed). */
const KEPT = Symbol("kept");

/**
 * Runs a build's steps with `$out` = `tempOut` (claimed, not yet created) and seals the output so it reads as if built
 * at `finalPath`. Throws when a step fails, a promise breaks or a signal arrives; the build directory is removed
 * unless `keepFailed` (and then the error carries KEPT, so the caller keeps `tempOut` too).
 */
async function execute(build: ResolvedBuild, tempOut: string, finalPath: StorePath, logPath: string, opts: RealizeOptions, check: boolean): Promise<Execution> {
  const { emit, interrupt } = opts;
  const plan = build.plan;
  const view = planViewOf(plan);
  const total = view.steps.length;
  const sandbox = createSandbox({ plan, inputStore: build.inputStore, sourceDateEpoch: opts.sourceDateEpoch, out: tempOut, farmCache: join(opts.store.cacheDir, "farms") });
  const dropCleanup = interrupt.addCleanup(() => {
    sandbox.dispose();
    opts.store.releaseTemp(tempOut);
  });
  const logFd = openSync(logPath, "w+");
  let keep = false;
  let ok = false;
  const t0 = performance.now();
  try {
    writeSync(
      logFd,
      `mb: ${check ? "rebuilding (check)" : "building"} ${plan.name} -> ${finalPath}\n` +
        `mb: PATH holds: ${sandbox.path.join(" ") || "(nothing)"}\n` +
        `mb: steps run by ${sandbox.shell} in ${sandbox.cwd}\n`,
    );
    emit({ event: "build-start", name: plan.name, storePath: finalPath, steps: total, check });
    // $out exists before the first step, as in the shell and Dockerfile backends.
    mkdirSync(tempOut);
    const steps: StepRecord[] = [];
    // Large files finished by a step are digested on spare cores while the next steps run.
    const rewrite = { from: Buffer.from(tempOut), to: Buffer.from(finalPath) };
    // Blobs promised as oci-blobs are checked against their plain sha256, which chunked tree digests are not.
    const blobDirs = plan.outputs.filter((o) => o.format === "oci-blobs").flatMap((o) => {
      const loc = outputLocation(tempOut, o.path);
      return loc === null ? [] : [relative(tempOut, loc)];
    });
    const plainFor = (rel: string) => blobDirs.some((d) => d === "" || rel.startsWith(`${d}/`));
    const speculator = opts.hashPool && Speculator.worthwhile() ? new Speculator(tempOut, rewrite.from, opts.hashPool, plainFor) : null;
    const header = (i: number) => `--- step ${i + 1}/${total}: ${view.steps[i]!.name} (${view.steps[i]!.con})`;
    let startedAt = 0;
    interrupt.check();
    let exit: StepsExit;
    try {
      exit = await sandbox.runSteps(
      view.steps.map((s, i) => ({ shell: s.shell, header: `\n${header(i)}` })),
      logFd,
      interrupt,
      {
        onStart(i) {
          startedAt = performance.now();
          emit({ event: "step-start", name: plan.name, storePath: finalPath, index: i + 1, total, step: view.steps[i]!.name });
        },
        onDone(i, status) {
          const durationMs = Math.round(performance.now() - startedAt);
          steps.push({ name: view.steps[i]!.name, durationMs });
          emit({ event: "step-done", name: plan.name, storePath: finalPath, index: i + 1, total, step: view.steps[i]!.name, durationMs, status });
          if (status === 0 && i + 1 < total) speculator?.scan();
        },
      },
      );
    } finally {
      speculator?.stop();
    }
    interrupt.check();
    if (exit.problem !== undefined && exit.failed === null) {
      keep = opts.keepFailed;
      const tail = tailLines(logFd, "");
      throw problem(
        "build.shell-failed",
        `build of '${plan.name}' failed: ${exit.problem}${tail.length > 0 ? `\nlast ${tail.length} line${tail.length === 1 ? "" : "s"} of its output:\n${tail.map((l) => `  | ${l}`).join("\n")}` : ""}`,
        `full log: \`mb log ${finalPath}\`; ${keep ? `build directory kept at ${sandbox.top}, partial output at ${tempOut}` : "rerun with --keep-failed to keep the build directory"}`,
      );
    }
    if (exit.failed !== null) {
      const i = exit.failed;
      const s = view.steps[i]!;
      const tail = tailLines(logFd, header(i));
      writeSync(logFd, `--- step ${i + 1}/${total}: ${s.name} failed with exit status ${exit.status}\n`);
      const how = exit.problem !== undefined ? `failed: ${exit.problem}` : exit.signal ? `was killed by ${exit.signal}` : exit.status > 128 && signalName(exit.status - 128) ? `was killed by ${signalName(exit.status - 128)}` : `exited with status ${exit.status}`;
      const missing = exit.status === 127 ? notFound(tail) : null;
      const lines = tail.length > 0 ? `\nlast ${tail.length} line${tail.length === 1 ? "" : "s"} of its output:\n${tail.map((l) => `  | ${l}`).join("\n")}` : "\n(the step printed nothing)";
      const note = missing
        ? `\ncommand '${missing}' is not on the build PATH: PATH holds only the declared tools' executables (${plan.tools.map((t) => t.name).join(", ") || "no tools declared"})`
        : "";
      keep = opts.keepFailed;
      throw problem(
        "build.step-failed",
        `build of '${plan.name}' failed: step ${i + 1}/${total} '${s.name}' ${how}${note}${lines}`,
        `${missing ? `declare a tool whose package provides '${missing}'; ` : ""}full log: \`mb log ${finalPath}\`; ${
          keep ? `build directory kept at ${sandbox.top}, partial output at ${tempOut}` : "rerun with --keep-failed to keep the build directory"
        }`,
      );
    }
    if (!existsSync(tempOut)) throw problem("build.no-output", `build of '${plan.name}' removed $out: there is no output to store`);
    const brokenPromises = (broken: readonly BrokenPromise[]): MbError => {
      keep = opts.keepFailed;
      const lines = broken.map((b) => `  - output '${b.output.name}' (${b.output.path}, ${b.output.format}): ${b.reason}`);
      return problem(
        "build.broken-promise",
        `build of '${plan.name}' broke ${broken.length === 1 ? "an output promise" : `${broken.length} output promises`}:\n${lines.join("\n")}`,
        keep ? `build directory kept at ${sandbox.top}, output at ${tempOut}` : "rerun with --keep-failed to inspect the output",
      );
    };
    const broken = checkOutputs(tempOut, plan.outputs);
    if (broken.length > 0) throw brokenPromises(broken);
    let seal: SealResult;
    const sealStart = performance.now();
    try {
      seal = await sealTree(tempOut, { rewrite, known: speculator?.known, pool: opts.hashPool, plainFor });
    } catch (e) {
      if (e instanceof SpecialFileError) throw problem("build.special-file", `build of '${plan.name}' produced ${e.message}`);
      throw e;
    }
    const brokenBlobs = checkBlobPromises(tempOut, plan.outputs, seal.digests, seal.rewritten);
    if (brokenBlobs.length > 0) throw brokenPromises(brokenBlobs);
    const sealMs = Math.round(performance.now() - sealStart);
    writeSync(logFd, `\nmb: sealed ${seal.files} file${seal.files === 1 ? "" : "s"} (${seal.bytes} bytes)${seal.reused > 0 ? `, ${seal.reused} of them digested while the steps ran` : ""}, in ${sealMs} ms\n`);
    if (seal.rewritten.length > 0) writeSync(logFd, `\nmb: rewrote self-references to $out in: ${seal.rewritten.join(", ")}\n`);
    const durationMs = Math.round(performance.now() - t0);
    writeSync(logFd, `\nmb: done in ${(durationMs / 1000).toFixed(2)}s, output sha256:${seal.hash}\n`);
    ok = true;
    return { seal, steps, durationMs, sealMs };
  } catch (e) {
    if (interrupt.signal) {
      keep = false;
      try {
        writeSync(logFd, `\nmb: interrupted by ${interrupt.signal}\n`);
      } catch {
        // the log is best effort
      }
      throw interrupted(interrupt.signal);
    }
    if (keep && e instanceof Error) Object.assign(e, { [KEPT]: true });
    throw e;
  } finally {
    closeSync(logFd);
    if (ok || !keep) sandbox.dispose();
    dropCleanup();
  }
}

/** The name of signal number `n` (SIGKILL for 9), or null. */
function signalName(n: number): string | null {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? null;
}

function wasKept(e: unknown): boolean {
  return e instanceof Error && (e as unknown as Record<symbol, unknown>)[KEPT] === true;
}

/** The command a `command not found` line names, if the step's output has one. */
function notFound(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /(?:^|: )([^\s:]+): command not found$/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  return null;
}

async function lockEntry(p: StorePath, name: string, opts: RealizeOptions): Promise<Lock> {
  const lock = await acquireLock(opts.store.lockPath(p), {
    onWait: (owner) => opts.emit({ event: "waiting", name, storePath: p, pid: owner?.pid ?? null }),
    shouldStop: () => opts.interrupt.signal !== null,
  });
  if (!lock) throw interrupted(opts.interrupt.signal ?? "SIGINT");
  return lock;
}

/** Copies a local input or path package into the store (by content), unless it is there already. */
export async function importPath(imp: PathImport, opts: RealizeOptions): Promise<void> {
  const { store } = opts;
  const p = store.mustEntry(imp.storePath);
  if (store.isValid(p)) return;
  const lock = await lockEntry(p, basename(imp.source), opts);
  try {
    if (store.isValid(p)) return;
    opts.emit({ event: "import", source: imp.source, storePath: p });
    const temp = store.claimTemp(p);
    const drop = opts.interrupt.addCleanup(() => store.releaseTemp(temp));
    try {
      const t0 = performance.now();
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
      opts.interrupt.check();
      store.install(temp, p, {
        version: 2,
        storePath: p,
        kind: "import",
        name: basename(imp.source),
        planHash: basename(p).slice(0, 32),
        outputHash: `sha256:${imp.contentHash}`,
        references: [],
        source: imp.source,
        builtAt: new Date().toISOString(),
        durationMs: Math.round(performance.now() - t0),
        files: copied.files,
        bytes: copied.bytes,
      });
    } finally {
      store.releaseTemp(temp);
      drop();
    }
  } finally {
    lock.release();
  }
}

/** Writes a runtime artifact (a service descriptor) as its own store entry, unless it is there already. */
export async function writeArtifact(a: RuntimeArtifact, opts: RealizeOptions): Promise<void> {
  const { store } = opts;
  const p = store.entry(a.storePath);
  if (!p) throw problem("artifact.path", `runtime artifact '${a.name}' has store path '${a.storePath}', which is not an entry name of ${store.dir}`);
  if (store.isValid(p)) return;
  const lock = await lockEntry(p, a.name, opts);
  try {
    if (store.isValid(p)) return;
    const temp = store.claimTemp(p);
    try {
      writeFileSync(temp, JSON.stringify(a.descriptor, null, 2) + "\n");
      chmodSync(temp, 0o444);
      utimesSync(temp, CANONICAL_MTIME, CANONICAL_MTIME);
      store.install(temp, p, {
        version: 2,
        storePath: p,
        kind: "artifact",
        name: basename(p).slice(33),
        planHash: basename(p).slice(0, 32),
        outputHash: `sha256:${hashTree(temp)}`,
        references: [],
        builtAt: new Date().toISOString(),
      });
      opts.emit({ event: "artifact", name: a.name, storePath: p });
    } finally {
      store.releaseTemp(temp);
    }
  } finally {
    lock.release();
  }
}

/** Everything a build's entry keeps alive. */
function referencesOf(build: ResolvedBuild): string[] {
  return [...new Set([...build.needs, ...build.imports.map((i) => i.storePath), ...build.storeInputs, ...build.plan.runtimeArtifacts.map((a) => a.storePath)])].sort();
}

async function ensureArtifacts(build: ResolvedBuild, opts: RealizeOptions): Promise<void> {
  for (const a of build.plan.runtimeArtifacts) await writeArtifact(a, opts);
}

/** Realizes one build whose dependencies are in the store: a hit runs nothing; otherwise one process builds, others wait. */
export async function realizeBuild(build: ResolvedBuild, opts: RealizeOptions): Promise<"cached" | "built"> {
  const { store, emit } = opts;
  const p = store.mustEntry(build.storePath);
  if (store.isValid(p)) {
    await ensureArtifacts(build, opts);
    emit({ event: "cached", name: build.name, storePath: p });
    return "cached";
  }
  const lock = await lockEntry(p, build.name, opts);
  try {
    if (store.isValid(p)) {
      await ensureArtifacts(build, opts);
      emit({ event: "cached", name: build.name, storePath: p });
      return "cached";
    }
    if (existsSync(p)) store.remove(p); // left by a crash between rename and metadata
    for (const imp of build.imports) await importPath(imp, opts);
    for (const s of [...build.needs, ...build.storeInputs]) {
      const e = store.entry(s);
      if (!e || !store.isValid(e)) throw problem("build.missing-input", `build of '${build.name}' needs ${s}, which is not in the store`);
    }
    const temp = store.claimTemp(p);
    let run: Execution;
    try {
      run = await execute(build, temp, p, store.logPath(p), opts, false);
    } catch (e) {
      store.releaseTemp(temp, wasKept(e));
      emit({ event: "build-failed", name: build.name, storePath: p, message: (e as Error).message.split("\n")[0]! });
      throw e;
    }
    try {
      await ensureArtifacts(build, opts);
      opts.interrupt.check();
      const meta: EntryMeta = {
        version: 2,
        storePath: p,
        kind: "build",
        name: build.name,
        planHash: basename(p).slice(0, 32),
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
      store.install(temp, p, meta);
    } finally {
      store.releaseTemp(temp);
    }
    emit({ event: "build-done", name: build.name, storePath: p, durationMs: run.durationMs, check: false });
    return "built";
  } finally {
    lock.release();
  }
}

/** The builds that must run for `root`: those not in the store, reached through builds not in the store (all of them with `closure`). */
export function pendingBuilds(res: Resolution, store: Store, closure = false): ResolvedBuild[] {
  const byPath = new Map(res.builds.map((b) => [b.storePath, b]));
  const wanted = new Set<string>();
  const visit = (b: ResolvedBuild) => {
    if (wanted.has(b.storePath)) return;
    const e = store.entry(b.storePath);
    if (!closure && e && store.isValid(e)) return; // a hit needs nothing below it
    wanted.add(b.storePath);
    for (const n of b.needs) {
      const dep = byPath.get(n);
      if (dep) visit(dep);
    }
  };
  visit(res.root);
  return res.builds.filter((b) => wanted.has(b.storePath));
}

/**
 * Realizes a resolution: every pending build once its needs are in the store, up to `jobs` at a time. On a failure no
 * new build starts; running ones finish; then the first failure is thrown.
 */
export async function realizeAll(res: Resolution, opts: RealizeOptions, closure = false): Promise<void> {
  const { store } = opts;
  store.ensureLayout();
  const builds = pendingBuilds(res, store, closure);
  for (const b of builds) {
    if (b.plan.builder !== "runCommand") {
      throw problem("build.unsupported-builder", `'${b.name}' uses the builder '${b.plan.builder}'; the engine realizes only runCommand plans (the steps as \`mb plan\` renders them)`);
    }
  }
  const planned = builds.filter((b) => !store.isValid(store.mustEntry(b.storePath)));
  opts.emit({ event: "plan", builds: planned.map((b) => ({ name: b.name, storePath: b.storePath, steps: b.plan.steps.length })) });
  if (builds.length === 0) {
    await realizeBuild(res.root, opts);
    return;
  }
  const inSet = new Set(builds.map((b) => b.storePath));
  const done = new Set<string>();
  const started = new Set<string>();
  let running = 0;
  let failure: unknown = null;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failure === null && opts.interrupt.signal === null) {
        for (const b of builds) {
          if (running >= Math.max(1, opts.jobs)) break;
          if (started.has(b.storePath)) continue;
          if (!b.needs.every((n) => !inSet.has(n) || done.has(n))) continue;
          started.add(b.storePath);
          running++;
          realizeBuild(b, opts).then(
            () => {
              done.add(b.storePath);
              running--;
              pump();
            },
            (e: unknown) => {
              failure ??= e;
              running--;
              pump();
            },
          );
        }
      }
      if (running > 0) return;
      if (failure !== null) reject(failure);
      else if (opts.interrupt.signal) reject(interrupted(opts.interrupt.signal));
      else if (done.size === builds.length) resolve();
      else reject(problem("internal.schedule", "internal: the build graph has a build whose needs never complete"));
    };
    pump();
  });
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
