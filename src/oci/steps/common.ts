/** What the oci-image steps share: the bash tool and digest command they run with, tar's fixed flags, and JSON text for scripts. */
import { escapeShellArg } from "../../program/render.js";
import * as C from "../../program/constructors.js";
import type { Arg, Operation } from "../../core/operations.js";
import type { Tool } from "../../core/spec.js";

/** What every step is rendered with: the bash that runs its script and the sha256 command line (`sha256sum` or openssl's). */
export interface StepContext {
  readonly bash: Tool;
  readonly hash: string;
}

/** The sha256 command line of a digest tool: coreutils' sha256sum (the original's), or openssl. */
export function digestCommand(digestTool: "coreutils" | "openssl"): string {
  return digestTool === "openssl" ? "openssl dgst -sha256 -r" : "sha256sum";
}

/** A step that runs `script` with bash (`bash -c script name extra...`), named `name`. */
export function bashStep(ctx: StepContext, name: string, script: string, extra: readonly Arg[] = []): Operation {
  return C.runTool({ name, tool: ctx.bash, args: ["-c", script, name, ...extra] });
}

/** tar flags that make an archive depend only on the files' contents, names and modes. */
export const DETERMINISTIC_TAR_FLAGS = [
  "--sort=name",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
  '--mtime="@$SOURCE_DATE_EPOCH"',
  "--owner=0",
  "--group=0",
  "--numeric-owner",
].join(" ");

/** A piece of JSON text written by a step: literal text, or a shell variable holding a value computed at build time. */
export type JsonPiece = string | { readonly shellVar: string };

/** `printf "%s" ... > file` writing the pieces one after another; literals are JSON text without `$` (see `jsonText`). */
export function printfPieces(pieces: readonly JsonPiece[], dest: string): string {
  const args = pieces.map((p) => (typeof p === "string" ? escapeShellArg(p) : `"$${p.shellVar}"`));
  return `printf "%s" ${args.join(" ")} \\\n  > ${dest}`;
}

/**
 * JSON text that never contains `$`: runTool arguments are split on `$out`, so a `$` in a label or
 * command is written as the JSON escape `\u0024`, which decodes to the same string.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replaceAll("$", "\\u0024");
}
