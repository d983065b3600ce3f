/**
 * Executable evidence (`mb check`): each evidence entry with a `command` runs against the built result, with `$out`
 * set to its store path, in the build's environment (the declared tools on PATH, no HOME, LC_ALL=C) and in the
 * build's bubblewrap sandbox: the result and the entries it and the build reference are bound read-only, nothing else
 * of the store, no /root or /home, a private /tmp and a writable scratch directory (unconfined only with
 * `--no-sandbox`); its trimmed stdout is compared with `expectedOutput` when given. A result some entry of the runner table (runners.ts) detects,
 * such as an OCI image layout, is run by that entry's runner instead.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Evidence } from "../core/records.js";
import type { Interrupt } from "./interrupt.js";
import { killGroup } from "./interrupt.js";
import type { Confinement } from "./bwrap.js";
import { referencesOf, type ResolvedBuild } from "./resolve.js";
import { closureOf } from "./roots.js";
import type { Store } from "./store.js";
import { ExitCode, MbError } from "../core/errors.js";
import { createSandbox } from "./sandbox.js";
import { runnerFor, type CommandResult, type EvidenceRunner } from "./runners.js";

export type { CommandResult } from "./runners.js";

/** The verdict on one evidence entry. */
export interface EvidenceOutcome {
  readonly name: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly detail: string;
  readonly result?: CommandResult;
}

/** The evidence entries of a build, in order. */
export function evidenceOf(build: ResolvedBuild): Evidence[] {
  return build.program.operations.flatMap((op) => (op._con === "declareEvidence" ? [op.evidence] : []));
}

/**
 * What evidence run against the result at `storePath` may read of the store: the result, what it and its build
 * reference (dependencies, imports, store inputs, runtime artifacts; evidence runs with the build's tools),
 * transitively, and those references themselves where they lie outside this store. (A started service sees less:
 * its entry, its runtime artifact and the build's dependencies; see src/cli/run.ts.)
 */
function readableBeside(store: Store, build: ResolvedBuild, storePath: string): string[] {
  const refs = referencesOf(build);
  return [...new Set([...closureOf(store, [storePath, ...refs]), ...refs])];
}

/** How evidence commands are confined: the build's sandbox (null: unconfined, `--no-sandbox`) and its store. */
export interface EvidenceConfinement {
  readonly confine: Confinement | null;
  readonly store: Store;
}

/**
 * Runs a command with bash in the build's environment, `$out` = the store path (read-only), confined as the build's
 * steps are; stdout and stderr captured.
 */
async function runInSandbox(build: ResolvedBuild, storePath: string, command: string, opts: EvidenceOptions): Promise<CommandResult> {
  const { store, confine, sourceDateEpoch, interrupt } = opts;
  const sb = createSandbox({
    plan: build.plan,
    inputStore: build.inputStore,
    sourceDateEpoch,
    out: storePath,
    confine,
    readOnly: readableBeside(store, build, storePath),
    storeDir: store.dir,
    outReadOnly: true,
  });
  try {
    const script = join(sb.top, "steps", "evidence.sh");
    writeFileSync(script, `${command}\n`, { mode: 0o444 });
    const [file, argv] = sb.commandFor(script);
    return await new Promise<CommandResult>((resolve, reject) => {
      const child = spawn(file, argv, { cwd: sb.cwd, env: sb.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      const pid = child.pid;
      if (pid !== undefined) interrupt.addGroup(pid);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.once("error", reject);
      child.once("close", (code, signal) => {
        if (pid !== undefined) {
          killGroup(pid);
          interrupt.removeGroup(pid);
        }
        resolve({ status: signal ? 128 : (code ?? 1), stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
    });
  } finally {
    sb.dispose();
  }
}

/** What `runEvidence` needs beyond the build. */
export interface EvidenceOptions extends EvidenceConfinement {
  readonly sourceDateEpoch: number;
  readonly interrupt: Interrupt;
  readonly onOutcome?: (o: EvidenceOutcome) => void;
}

/** Runs every evidence entry that has a command against the result at `storePath`. */
export async function runEvidence(build: ResolvedBuild, storePath: string, opts: EvidenceOptions): Promise<EvidenceOutcome[]> {
  const outcomes: EvidenceOutcome[] = [];
  const special = runnerFor(storePath);
  let runner: EvidenceRunner | null = null;
  for (const ev of evidenceOf(build)) {
    opts.interrupt.check();
    const command = ev.payload.command;
    let outcome: EvidenceOutcome;
    if (typeof command !== "string" || command.trim() === "") {
      outcome = { name: ev.name, status: "skipped", detail: "no command" };
    } else {
      if (special) runner ??= await special.load();
      let result: CommandResult;
      try {
        result = runner ? await runner(storePath, command) : await runInSandbox(build, storePath, command, opts);
      } catch (e) {
        // An image that cannot be unpacked, or no isolation tool: this evidence fails, naming why.
        if (!(e instanceof MbError) || e.exitCode !== ExitCode.problems) throw e;
        outcome = { name: ev.name, status: "failed", detail: `could not run: ${e.message}${e.hint ? ` (${e.hint})` : ""}` };
        outcomes.push(outcome);
        opts.onOutcome?.(outcome);
        continue;
      }
      opts.interrupt.check();
      const expected = ev.payload.expectedOutput;
      if (result.status !== 0) {
        const err = result.stderr.trim().split("\n").slice(-5).join(" | ");
        outcome = { name: ev.name, status: "failed", detail: `exit status ${result.status}${err ? `: ${err}` : ""}`, result };
      } else if (expected !== undefined && String(expected).trim() !== result.stdout.trim()) {
        outcome = { name: ev.name, status: "failed", detail: `expected output ${JSON.stringify(String(expected).trim())}, got ${JSON.stringify(result.stdout.trim())}`, result };
      } else {
        outcome = { name: ev.name, status: "ok", detail: expected !== undefined ? `output ${JSON.stringify(result.stdout.trim())}` : "exit status 0", result };
      }
    }
    outcomes.push(outcome);
    opts.onOutcome?.(outcome);
  }
  return outcomes;
}
