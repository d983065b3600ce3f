/**
 * The step driver: the bash script that runs every step of a build from one shell, and a pure reader of the markers
 * it writes on fd 3 (`S <index> <process group>` before a step, `D <index> <status>` after it) that says what each
 * marker means and how the steps ended. The reader runs nothing; the sandbox acts on what it reports.
 */
import { constants as osConstants } from "node:os";
import { escapeShellArg } from "../program/render.js";

/** How a build's steps ended. */
export interface StepsExit {
  /**
   * The 0-based index of the step that failed (or was running when the shell stopped); null when every step passed,
   * or when the shell failed outside any step (then `problem` says how).
   */
  readonly failed: number | null;
  /** The failed step's exit status (128 + n when killed by signal n); 0 when every step passed. */
  readonly status: number;
  /** The signal that killed the shell itself, if one did. */
  readonly signal: NodeJS.Signals | null;
  /** Set when the shell broke off outside a step or its step reports were not what it was given to run. */
  readonly problem?: string;
}

/**
 * The driver: one bash process runs every step of a build, as one `runCommand` script does in the original. Each
 * step is its own file, sourced by a subshell under `set -euo pipefail` that runs as a job in its own process group
 * (so nothing a step sets or changes reaches the next, a syntax error fails that step alone with status 2, and
 * whatever the step left running is killed with SIGKILL when it ends). Before and after each step the driver writes
 * a marker on fd 3, which steps do not inherit: `S <index> <process group>`, then `D <index> <status>`. The whole
 * driver is one function, parsed before anything runs, so nothing a step writes can change what the driver does.
 * In a step, `$$` is the driver's process id (as in any subshell); `$BASHPID` is the step's own.
 */
export function driverScript(headers: readonly string[], stepsDir: string, prelude: readonly string[]): string {
  return [
    // mb_step <index> <header>: runs steps/<index>.sh (with no positional parameters) and reports it on fd 3.
    "mb_step() {",
    `printf '%s\\n' "$2"`,
    `( set -euo pipefail; mb_file=${escapeShellArg(stepsDir)}/"$1".sh; set --; . "$mb_file" ) 3>&- &`,
    "mb_pid=$!",
    `printf 'S %d %d\\n' "$1" "$mb_pid" >&3`,
    `wait "$mb_pid"`,
    "mb_status=$?",
    `kill -KILL -- "-$mb_pid" 2>/dev/null`,
    `printf 'D %d %d\\n' "$1" "$mb_status" >&3`,
    `return "$mb_status"`,
    "}",
    "mb_run() {",
    "set -m",
    "set -uo pipefail",
    ...prelude.filter((l) => !l.startsWith("set ")),
    `mb_headers=(${headers.map(escapeShellArg).join(" ")})`,
    // Not `mb_step ... || return`: in a || list bash ignores `set -e`, in the step's subshell too.
    `for mb_i in "\${!mb_headers[@]}"; do`,
    `mb_step "$mb_i" "\${mb_headers[$mb_i]}"`,
    "mb_status=$?",
    `if [ "$mb_status" -ne 0 ]; then return "$mb_status"; fi`,
    "done",
    "return 0",
    "}",
    "mb_run",
    "exit $?",
    "",
  ].join("\n");
}

/** A step the driver reported started and not yet ended: its index and its process group. */
export interface OpenStep {
  readonly index: number;
  readonly group: number;
}

/** What one marker line means. */
export type MarkerEvent =
  /** The next step started in process group `group`. */
  | { readonly kind: "start"; readonly index: number; readonly group: number }
  /** The open step ended with `status`; its process group `group` is to be ended. */
  | { readonly kind: "done"; readonly index: number; readonly status: number; readonly group: number }
  /** The first line that is not the next step's start or end; `group` is the step open at the time, if any. */
  | { readonly kind: "violation"; readonly line: string; readonly group: number | null };

/** How the shell's exit reads in the light of its markers. */
export interface DriverVerdict {
  readonly exit: StepsExit;
  /** The step the shell stopped inside (its process group still to end), or null. */
  readonly stopped: OpenStep | null;
  /** True when the stopped step ends here, failed with `exit.status`, since it never reported its end. */
  readonly stoppedFails: boolean;
}

/**
 * Reads the driver's markers for a build of `steps` steps. They must come exactly as S 0, D 0, S 1, D 1, ...:
 * anything else is a violation, reported once (the first), which stops the build.
 */
export class MarkerParser {
  private next = 0;
  private current: OpenStep | null = null;
  private failed: { index: number; status: number } | null = null;
  private violation: string | null = null;
  private pending = "";

  constructor(private readonly steps: number) {}

  /** The step running now, or null. */
  get open(): OpenStep | null {
    return this.current;
  }

  /** Takes a chunk of the marker stream and returns what its complete lines mean, in order. */
  feed(chunk: string): MarkerEvent[] {
    this.pending += chunk;
    const events: MarkerEvent[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const e = this.line(line);
      if (e) events.push(e);
    }
    return events;
  }

  /** What one complete marker line (without its newline) means; null for a violation after the first. */
  line(line: string): MarkerEvent | null {
    const m = /^([SD]) (\d+) (\d+)$/.exec(line);
    const i = m ? Number(m[2]) : NaN;
    const n = m ? Number(m[3]) : NaN;
    const open = this.current;
    if (m && m[1] === "S" && open === null && i === this.next && i < this.steps && n > 0) {
      this.current = { index: i, group: n };
      return { kind: "start", index: i, group: n };
    }
    if (m && m[1] === "D" && open !== null && open.index === i && this.failed === null) {
      this.current = null;
      this.next = i + 1;
      if (n !== 0) this.failed = { index: i, status: n };
      return { kind: "done", index: i, status: n, group: open.group };
    }
    if (this.violation !== null) return null;
    this.violation = line.length > 80 ? `${line.slice(0, 80)}...` : line;
    return { kind: "violation", line: this.violation, group: open?.group ?? null };
  }

  /** How the steps ended, once the shell exited with `code` or by `signal` and the marker stream closed. */
  finish(code: number | null, signal: NodeJS.Signals | null): DriverVerdict {
    const status = signal ? 128 + (osConstants.signals[signal] ?? 0) : (code ?? 1);
    const stopped = this.current;
    const failedStatus = status === 0 ? 1 : status;
    const shell = signal ? `was killed by ${signal}` : `exited with status ${status}`;
    if (this.pending !== "" && this.violation === null) this.violation = this.pending.slice(0, 80);
    const verdict = (exit: StepsExit, stoppedFails = false): DriverVerdict => ({ exit, stopped, stoppedFails });
    if (this.violation !== null) {
      const problem = `the build's shell reported '${this.violation}', which is not the next step's start or end: a step wrote to the shell's marker pipe`;
      return verdict({ failed: stopped?.index ?? null, status: failedStatus, signal, problem });
    }
    if (this.failed) return verdict({ failed: this.failed.index, status: this.failed.status, signal });
    // The shell stopped inside a step (killed, or it could not go on): that step failed.
    if (stopped) return verdict({ failed: stopped.index, status: failedStatus, signal }, true);
    if (this.next < this.steps) {
      const problem = `the build's shell ${shell} after ${this.next} of ${this.steps} steps, before starting step ${this.next + 1}`;
      return verdict({ failed: null, status: failedStatus, signal, problem });
    }
    if (status !== 0) return verdict({ failed: null, status, signal, problem: `the build's shell ${shell} after its last step` });
    return verdict({ failed: null, status: 0, signal: null });
  }
}
