/**
 * Failure reports of a build: the messages (and hints) of a failed step, a shell that broke off outside any step, and
 * broken output promises, with the last lines of the build's log and what was kept for inspection.
 */
import { fstatSync, readSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { ExitCode, MbError } from "../core/errors.js";
import type { StepsExit } from "./driver.js";
import type { BrokenPromise } from "./outputs.js";

const TAIL_LINES = 20;

/** An error of the build itself (exit status 1: problems), with an optional hint. */
export function problem(code: string, message: string, hint?: string): MbError {
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

/** What a failed build kept for inspection (--keep-failed): its build directory and its output; null: nothing. */
export interface Kept {
  readonly top: string;
  readonly out: string;
}

/** A failed build, as its reports name it. */
export interface FailedBuild {
  readonly name: string;
  /** The store path it was to be installed at (its log is `mb log <finalPath>`). */
  readonly finalPath: string;
  readonly kept: Kept | null;
}

/** The lines of output shown under a failure message, or "" when there are none. */
function tailBlock(tail: readonly string[]): string {
  return tail.length > 0 ? `\nlast ${tail.length} line${tail.length === 1 ? "" : "s"} of its output:\n${tail.map((l) => `  | ${l}`).join("\n")}` : "";
}

/** The end of a failed step's or shell's hint: where the log is and what was kept. */
function logHint(b: FailedBuild): string {
  const kept = b.kept ? `build directory kept at ${b.kept.top}, partial output at ${b.kept.out}` : "rerun with --keep-failed to keep the build directory";
  return `full log: \`mb log ${b.finalPath}\`; ${kept}`;
}

/** The error of a build whose shell broke off outside any step (`problem` says how); `tail` ends its log. */
export function shellFailed(b: FailedBuild, problemText: string, tail: readonly string[]): MbError {
  return problem("build.shell-failed", `build of '${b.name}' failed: ${problemText}${tailBlock(tail)}`, logHint(b));
}

/** The name of signal number `n` (SIGKILL for 9), or null. */
function signalName(n: number): string | null {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? null;
}

/** The command a `command not found` line names, if the step's output has one. */
function notFound(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /(?:^|: )([^\s:]+): command not found$/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  return null;
}

/** The error of a build whose step `step` (`index` of `total`, 0-based) failed as `exit` says; `tail` is its output. */
export function stepFailed(b: FailedBuild, step: { readonly index: number; readonly total: number; readonly name: string; readonly tools: readonly string[] }, exit: StepsExit, tail: readonly string[]): MbError {
  const killer = exit.status > 128 ? signalName(exit.status - 128) : null;
  const how = exit.problem !== undefined ? `failed: ${exit.problem}` : exit.signal ? `was killed by ${exit.signal}` : killer ? `was killed by ${killer}` : `exited with status ${exit.status}`;
  const missing = exit.status === 127 ? notFound(tail) : null;
  const lines = tail.length > 0 ? tailBlock(tail) : "\n(the step printed nothing)";
  const note = missing ? `\ncommand '${missing}' is not on the build PATH: PATH holds only the declared tools' executables (${step.tools.join(", ") || "no tools declared"})` : "";
  return problem(
    "build.step-failed",
    `build of '${b.name}' failed: step ${step.index + 1}/${step.total} '${step.name}' ${how}${note}${lines}`,
    `${missing ? `declare a tool whose package provides '${missing}'; ` : ""}${logHint(b)}`,
  );
}

/** The error of a build that broke output promises. */
export function promisesBroken(b: FailedBuild, broken: readonly BrokenPromise[]): MbError {
  const lines = broken.map((p) => `  - output '${p.output.name}' (${p.output.path}, ${p.output.format}): ${p.reason}`);
  return problem(
    "build.broken-promise",
    `build of '${b.name}' broke ${broken.length === 1 ? "an output promise" : `${broken.length} output promises`}:\n${lines.join("\n")}`,
    b.kept ? `build directory kept at ${b.kept.top}, output at ${b.kept.out}` : "rerun with --keep-failed to inspect the output",
  );
}
