/**
 * Executing a build: its rendered steps run in a fresh sandbox with `$out` at a temporary path, its output promises
 * are checked, and the output is sealed (canonical form, self-references rewritten, tree hash) so that it reads as if
 * built at its final store path. Large files are digested by the Speculator while later steps still run.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { MbError } from "../core/errors.js";
import { planViewOf } from "../views/plan-view.js";
import { interrupted } from "./interrupt.js";
import type { RealizeOptions } from "./options.js";
import { confinedShell } from "./confine.js";
import { checkOutputs, checkSealedPromises, plainDigestsWanted } from "./outputs.js";
import { problem, promisesBroken, shellFailed, stepFailed, tailLines, type FailedBuild } from "./reports.js";
import { referencesOf, type ResolvedBuild } from "./resolve.js";
import { createSandbox, type StepsExit } from "./sandbox.js";
import { buildInfoOf, wantsBuildInfo } from "./build-info.js";
import { sealTree } from "./seal.js";
import { Speculator } from "./speculator.js";
import type { StepRecord, StorePath } from "./store.js";
import { SpecialFileError, type SealResult } from "./tree-hash.js";

/** What one execution of a plan produced: its sealed output and step timings. */
export interface Execution {
  readonly seal: SealResult;
  readonly steps: StepRecord[];
  readonly durationMs: number;
  /** How long sealing took after the last step (waiting for digests taken during the steps included). */
  readonly sealMs: number;
}

/** Marks an error thrown by `execute` when the failed build's directory and output were kept (--keep-failed). */
const KEPT = Symbol("kept");

/** True when `e` was thrown by `execute` for a build whose directory and output were kept (--keep-failed). */
export function wasKept(e: unknown): boolean {
  return e instanceof Error && (e as unknown as Record<symbol, unknown>)[KEPT] === true;
}

/**
 * Runs a build's steps with `$out` = `tempOut` (claimed, not yet created) and seals the output so it reads as if built
 * at `finalPath`. Throws when a step fails, a promise breaks or a signal arrives; the build directory is removed
 * unless `keepFailed` (and then the error carries KEPT, so the caller keeps `tempOut` too).
 */
export async function execute(build: ResolvedBuild, tempOut: string, finalPath: StorePath, logPath: string, opts: RealizeOptions, check: boolean): Promise<Execution> {
  const { emit, interrupt } = opts;
  const plan = build.plan;
  const view = planViewOf(plan);
  const total = view.steps.length;
  const sandbox = createSandbox({
    plan,
    inputStore: build.inputStore,
    sourceDateEpoch: opts.sourceDateEpoch,
    out: tempOut,
    farmCache: join(opts.store.cacheDir, "farms"),
    baseTools: build.baseTools.executables,
    buildRoot: dirname(tempOut),
    confine: opts.confine,
    readOnly: referencesOf(build),
    storeDir: opts.store.dir,
    ...(wantsBuildInfo(view.steps) ? { buildInfo: JSON.stringify(buildInfoOf(build, opts.store)) } : {}),
  });
  const dropCleanup = interrupt.addCleanup(() => {
    sandbox.dispose();
    opts.store.releaseTemp(tempOut);
  });
  const logFd = openSync(logPath, "w+");
  let keep = false;
  let ok = false;
  // A failure the build's directory and output are kept for (with --keep-failed).
  const failure = (report: (b: FailedBuild) => MbError): MbError => {
    keep = opts.keepFailed;
    return report({ name: plan.name, finalPath, kept: keep ? { top: sandbox.top, out: tempOut } : null });
  };
  const t0 = performance.now();
  try {
    writeSync(
      logFd,
      `mb: ${check ? "rebuilding (check)" : "building"} ${plan.name} -> ${finalPath}\n` +
        `mb: PATH holds: ${sandbox.path.join(" ") || "(nothing)"}\n` +
        `mb: steps run by ${sandbox.shell} in ${sandbox.cwd}${opts.confine ? ", in a bubblewrap sandbox" : ", unconfined (--no-sandbox)"}\n`,
    );
    emit({ event: "build-start", name: plan.name, storePath: finalPath, steps: total, check });
    // $out exists before the first step, as in the shell and Dockerfile backends.
    mkdirSync(tempOut);
    const steps: StepRecord[] = [];
    // Large files finished by a step are digested on spare cores while the next steps run.
    const rewrite = { from: Buffer.from(tempOut), to: Buffer.from(finalPath) };
    const plainFor = plainDigestsWanted(tempOut, plan.outputs);
    const speculator = opts.hashPool && Speculator.worthwhile() ? new Speculator(tempOut, rewrite.from, opts.hashPool, plainFor) : null;
    const header = (i: number) => `--- step ${i + 1}/${total}: ${view.steps[i]!.name} (${view.steps[i]!.con})`;
    let startedAt = 0;
    interrupt.check();
    let exit: StepsExit;
    try {
      exit = await sandbox.runSteps(
        view.steps.map((s, i) => ({ shell: confinedShell(plan.steps[i]!, s.shell), header: `\n${header(i)}` })),
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
    const shellProblem = exit.failed === null ? exit.problem : undefined;
    if (shellProblem !== undefined) {
      const tail = tailLines(logFd, "");
      throw failure((b) => shellFailed(b, shellProblem, tail));
    }
    if (exit.failed !== null) {
      const i = exit.failed;
      const s = view.steps[i]!;
      const tail = tailLines(logFd, header(i));
      writeSync(logFd, `--- step ${i + 1}/${total}: ${s.name} failed with exit status ${exit.status}\n`);
      const step = { index: i, total, name: s.name, tools: plan.tools.map((t) => t.name) };
      throw failure((b) => stepFailed(b, step, exit, tail));
    }
    if (!existsSync(tempOut)) throw problem("build.no-output", `build of '${plan.name}' removed $out: there is no output to store`);
    const broken = checkOutputs(tempOut, plan.outputs);
    if (broken.length > 0) throw failure((b) => promisesBroken(b, broken));
    let seal: SealResult;
    const sealStart = performance.now();
    try {
      seal = await sealTree(tempOut, { rewrite, known: speculator?.known, pool: opts.hashPool, plainFor });
    } catch (e) {
      if (e instanceof SpecialFileError) throw problem("build.special-file", `build of '${plan.name}' produced ${e.message}`);
      throw e;
    }
    const brokenSealed = checkSealedPromises(tempOut, plan.outputs, seal.digests, seal.rewritten);
    if (brokenSealed.length > 0) throw failure((b) => promisesBroken(b, brokenSealed));
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
