/**
 * Executable evidence (`mb check`): each evidence entry with a `command` runs against the built result, with `$out`
 * set to its store path, in the build's environment (the declared tools on PATH, no HOME, LC_ALL=C); its trimmed
 * stdout is compared with `expectedOutput` when given. OCI image layouts are run by the OCI runner instead.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Evidence } from "../core/records.js";
import type { Interrupt } from "./interrupt.js";
import { killGroup } from "./interrupt.js";
import type { ResolvedBuild } from "./resolve.js";
import { ExitCode, MbError } from "../core/errors.js";
import { createSandbox } from "./sandbox.js";

/** What running a command produced. */
export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The verdict on one evidence entry. */
export interface EvidenceOutcome {
  readonly name: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly detail: string;
  readonly result?: CommandResult;
}

type OciRunner = (layoutDir: string, command: string) => Promise<CommandResult>;

/** True when a store entry is an OCI image layout (it holds an `oci-layout` file). */
export function isOciLayout(dir: string): boolean {
  try {
    return statSync(join(dir, "oci-layout")).isFile();
  } catch {
    return false;
  }
}

/** The OCI runner, loaded only when an OCI image's evidence runs (it unpacks the image, refusing any layer whose digest or diff_id does not match, and runs the command isolated inside it). */
async function ociRunner(): Promise<OciRunner> {
  return (await import("../oci/engine/run.js")).runOciEvidence;
}

/** The evidence entries of a build, in order. */
export function evidenceOf(build: ResolvedBuild): Evidence[] {
  return build.program.operations.flatMap((op) => (op._con === "declareEvidence" ? [op.evidence] : []));
}

/** Runs a command with bash in the build's environment, `$out` = the store path; stdout and stderr captured. */
async function runInSandbox(build: ResolvedBuild, storePath: string, command: string, sourceDateEpoch: number, interrupt: Interrupt): Promise<CommandResult> {
  const sb = createSandbox({ plan: build.plan, inputStore: build.inputStore, sourceDateEpoch, out: storePath });
  try {
    const script = join(sb.top, "steps", "evidence.sh");
    writeFileSync(script, `${command}\n`);
    return await new Promise<CommandResult>((resolve, reject) => {
      const child = spawn(sb.shell, [script], { cwd: sb.cwd, env: sb.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
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

/** Runs every evidence entry that has a command against the result at `storePath`. */
export async function runEvidence(
  build: ResolvedBuild,
  storePath: string,
  opts: { readonly sourceDateEpoch: number; readonly interrupt: Interrupt; readonly onOutcome?: (o: EvidenceOutcome) => void },
): Promise<EvidenceOutcome[]> {
  const outcomes: EvidenceOutcome[] = [];
  const oci = existsSync(storePath) && isOciLayout(storePath);
  let runner: OciRunner | null = null;
  for (const ev of evidenceOf(build)) {
    opts.interrupt.check();
    const command = ev.payload.command;
    let outcome: EvidenceOutcome;
    if (typeof command !== "string" || command.trim() === "") {
      outcome = { name: ev.name, status: "skipped", detail: "no command" };
    } else {
      if (oci) runner ??= await ociRunner();
      let result: CommandResult;
      try {
        result = runner ? await runner(storePath, command) : await runInSandbox(build, storePath, command, opts.sourceDateEpoch, opts.interrupt);
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
