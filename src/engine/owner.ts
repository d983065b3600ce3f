/** Process identities that survive pid reuse: a pid plus the process's start time, and whether such an owner still runs. */
import { readFileSync } from "node:fs";

/** A process, as lock and owner files record it. */
export interface Owner {
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where /proc is missing. */
  readonly start: string | null;
}

function startOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (rest[0] === "Z" || rest[0] === "X") return null; // a zombie has exited
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

let self: Owner | undefined;
/** This process. */
export function selfOwner(): Owner {
  self ??= { pid: process.pid, start: startOf(process.pid) };
  return self;
}

/** The owner as one line of text: `<pid> <start>`. */
export function formatOwner(o: Owner): string {
  return `${o.pid} ${o.start ?? "-"}\n`;
}

/** Parses `formatOwner` text; null when torn or empty. */
export function parseOwner(text: string): Owner | null {
  const m = /^(\d+) (\S+)\n?$/.exec(text);
  if (!m) return null;
  return { pid: Number(m[1]), start: m[2] === "-" ? null : m[2]! };
}

/** True while the process that wrote `o` still runs (same pid and same start time). */
export function ownerAlive(o: Owner): boolean {
  if (o.start !== null) {
    const now = startOf(o.pid);
    if (now !== null) return now === o.start;
    try {
      readFileSync(`/proc/${process.pid}/stat`);
      return false; // /proc works, and the pid is gone or a zombie
    } catch {
      // no /proc: fall back to signal 0
    }
  }
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when a pid is gone or a zombie (for tests and diagnostics). */
export function pidGone(pid: number): boolean {
  return startOf(pid) === null;
}
