/**
 * `mb check` (and the build API's `check`): builds if needed, then runs each evidence command against the result and
 * starts each service on a free port to call its health endpoint.
 */
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildEvent } from "../engine/events.js";
import type { RealizeOptions } from "../engine/options.js";
import type { ResolvedBuild } from "../engine/resolve.js";
import { engineRun, prepareForBuild, type BuildFlags, type RealizeFlags } from "./build.js";
import { resolutionOf } from "./context.js";
import type { Io } from "./io.js";
import type { BuilderArg } from "./load.js";
import { createProgress, type Progress } from "./progress.js";

/** One evidence outcome, as its event carries it. */
export type EvidenceOutcome = Omit<Extract<BuildEvent, { event: "evidence" }>, "event">;
/** One service health check, as its event carries it. */
export type ServiceOutcome = Omit<Extract<BuildEvent, { event: "service" }>, "event">;

/** What `check` found: the evidence and service outcomes, in order. */
export interface CheckOutcome {
  readonly name: string;
  readonly storePath: string;
  readonly evidence: readonly EvidenceOutcome[];
  readonly services: readonly ServiceOutcome[];
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

/**
 * Builds if needed, then runs the evidence and the service checks, reporting each outcome as it comes (`report`);
 * returns every outcome. Whether they passed is `checkFailure`'s to say.
 */
export async function checkBuilder(
  arg: BuilderArg,
  flags: Omit<RealizeFlags, "check" | "outLink">,
  progress: Progress,
  io: Io,
  report: { evidence(o: EvidenceOutcome): void; service(o: ServiceOutcome): void },
): Promise<CheckOutcome> {
  const prepared = await prepareForBuild(arg, flags.store, flags.sandbox, io, flags.sourceDateEpoch);
  const root = resolutionOf(prepared).root;
  const { realizeAll } = await import("../engine/schedule.js");
  const { runEvidence } = await import("../engine/evidence.js");
  return engineRun(prepared, flags, progress, async (opts) => {
    await realizeAll(resolutionOf(prepared), opts);
    await mustBeIntact(root, opts);
    progress.close();
    const evidence = await runEvidence(root, root.storePath, {
      confine: opts.confine,
      store: opts.store,
      sourceDateEpoch: prepared.sourceDateEpoch,
      interrupt: opts.interrupt,
      onOutcome: (o) => report.evidence({ name: o.name, status: o.status, detail: o.detail }),
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
      onOutcome: (o) => report.service({ name: o.name, status: o.status, port: o.port, detail: o.detail }),
    });
    opts.interrupt.check();
    return {
      name: root.name,
      storePath: root.storePath,
      evidence: evidence.map((o) => ({ name: o.name, status: o.status, detail: o.detail })),
      services: services.map((o) => ({ name: o.name, status: o.status, port: o.port, detail: o.detail })),
    };
  });
}

/** The error of a check whose evidence or services failed (exit 1), or null when all passed. */
export function checkFailure(c: CheckOutcome): MbError | null {
  const failed = c.evidence.filter((o) => o.status === "failed");
  const badServices = c.services.filter((s) => s.status === "failed");
  if (failed.length === 0 && badServices.length === 0) return null;
  const parts = [
    ...(failed.length > 0 ? [`evidence failed for '${c.name}': ${failed.map((f) => `'${f.name}' (${f.detail})`).join("; ")}`] : []),
    ...badServices.map((s) => s.detail),
  ];
  return new MbError("check.failed", parts.join("\n"), { exitCode: ExitCode.problems });
}

/** `mb check`: builds if needed, then runs each evidence command against the result; exit 1 naming failed evidence. */
export async function runCheck(arg: string, flags: BuildFlags, io: Io): Promise<number> {
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  try {
    const c = await checkBuilder(arg, flags, progress, io, {
      evidence: (o) => {
        if (flags.json) progress.emit({ event: "evidence", ...o });
        else io.out(`${o.status === "ok" ? "ok     " : o.status === "failed" ? "FAILED " : "skipped"} ${o.name}: ${o.detail}\n`);
      },
      service: (o) => {
        if (flags.json) progress.emit({ event: "service", ...o });
        else io.out(`${o.status === "ok" ? "ok     " : "FAILED "} service ${o.name}: ${o.detail}\n`);
      },
    });
    const ran = c.evidence.filter((o) => o.status !== "skipped").length;
    const failed = c.evidence.filter((o) => o.status === "failed").length;
    const badServices = c.services.filter((s) => s.status === "failed").length;
    if (flags.json) progress.emit({ event: "result", storePath: c.storePath });
    else {
      io.out(`${ran === 0 ? "no evidence has a command to run" : `${ran - failed}/${ran} evidence passed`} for ${c.storePath}\n`);
      if (c.services.length > 0) io.out(`${c.services.length - badServices}/${c.services.length} services answered their health check\n`);
    }
    const failure = checkFailure(c);
    if (failure) throw failure;
    return ExitCode.ok;
  } finally {
    progress.close();
  }
}
