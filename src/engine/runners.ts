/**
 * Evidence runners: how `mb check` runs an evidence command against a result of a particular kind (an OCI image
 * layout is run inside its image). A table of entries, each detecting its kind and loading its runner only when one
 * is needed; a result no entry detects runs in the bash sandbox of its build (evidence.ts).
 */
import { existsSync } from "node:fs";
import { ociEvidenceRunner } from "../oci/engine/evidence-runner.js";

/** What running a command produced. */
export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an evidence command against the result at `dir`. */
export type EvidenceRunner = (dir: string, command: string) => Promise<CommandResult>;

/** One kind of result with a runner of its own. */
export interface RunnerEntry {
  readonly name: string;
  /** True when the result at `dir` is of this kind. */
  detects(dir: string): boolean;
  /** The runner, loaded on first use. */
  load(): Promise<EvidenceRunner>;
}

/** Every kind of result with a runner of its own, in the order they are tried. */
export const runners: readonly RunnerEntry[] = [ociEvidenceRunner];

/** The entry whose runner runs evidence against the result at `dir`, or null when the bash sandbox does. */
export function runnerFor(dir: string): RunnerEntry | null {
  if (!existsSync(dir)) return null;
  return runners.find((r) => r.detects(dir)) ?? null;
}
