/**
 * Interrupts: SIGINT and SIGTERM kill the whole process group of every running step, and the build unwinds, removing
 * its temporary output so no partial entry is left; a second signal exits at once after the same removals.
 */
import { ExitCode, MbError } from "../core/errors.js";

/** The interrupt state of one engine run. */
export class Interrupt {
  private caught: NodeJS.Signals | null = null;
  private readonly groups = new Set<number>();
  private readonly cleanups = new Set<() => void>();
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);

  /** Starts catching SIGINT and SIGTERM; returns the function that stops it. */
  install(): () => void {
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
    return () => {
      process.off("SIGINT", this.handler);
      process.off("SIGTERM", this.handler);
    };
  }

  /** The signal caught, or null. */
  get signal(): NodeJS.Signals | null {
    return this.caught;
  }

  /** Registers a running step's process group. */
  addGroup(pgid: number): void {
    this.groups.add(pgid);
    if (this.caught) killGroup(pgid);
  }

  /** Forgets a process group. */
  removeGroup(pgid: number): void {
    this.groups.delete(pgid);
  }

  /** Registers a synchronous cleanup to run if a second signal forces an immediate exit; returns its remover. */
  addCleanup(fn: () => void): () => void {
    this.cleanups.add(fn);
    return () => this.cleanups.delete(fn);
  }

  /** Throws the interrupted error if a signal was caught. */
  check(): void {
    if (this.caught) throw interrupted(this.caught);
  }

  /** Simulates a signal (tests and programmatic cancellation). */
  trigger(sig: NodeJS.Signals = "SIGINT"): void {
    this.onSignal(sig);
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.caught) {
      for (const fn of this.cleanups) {
        try {
          fn();
        } catch {
          // best effort on the way out
        }
      }
      process.stderr.write(`\nmb: ${sig} again: stopped\n`);
      process.exit(ExitCode.interrupted);
    }
    this.caught = sig;
    for (const g of this.groups) killGroup(g);
  }
}

/** Kills a whole process group; quiet when it is already gone. */
export function killGroup(pgid: number, sig: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // no such group any more
  }
}

/** The error an interrupted run ends with (exit 130). */
export function interrupted(sig: NodeJS.Signals): MbError {
  return new MbError("build.interrupted", `interrupted by ${sig}: running steps were killed and nothing partial entered the store`, {
    exitCode: ExitCode.interrupted,
  });
}
