/**
 * Output promises: after the last step each declared output must exist in its declared format, and once the output is
 * sealed the formats that check digests (formats.ts) check them. What each format promises is the formats table's.
 */
import { join, relative } from "node:path";
import { outputPathProblem, outputRelative } from "../core/output-path.js";
import type { Output } from "../core/records.js";
import { formatPromise, promiseProblem } from "./formats.js";

/** A broken promise: the output and what is wrong with it. */
export interface BrokenPromise {
  readonly output: Output;
  readonly path: string;
  readonly reason: string;
}

/**
 * Where an output lives inside `out`, by the one output path type (`$out`, `$out/x` and `x` are accepted); null for a
 * path that is no output path (a plan made without validation).
 */
export function outputLocation(out: string, path: string): string | null {
  if (outputPathProblem(path) !== null) return null;
  const rel = outputRelative(path);
  return rel === "" ? out : join(out, rel);
}

/** Checks every declared output of a build whose result is at `out`. */
export function checkOutputs(out: string, outputs: readonly Output[]): BrokenPromise[] {
  const broken: BrokenPromise[] = [];
  for (const o of outputs) {
    const loc = outputLocation(out, o.path);
    if (loc === null) {
      broken.push({ output: o, path: o.path, reason: "its path is outside $out" });
      continue;
    }
    const reason = promiseProblem(loc, o.format);
    if (reason) broken.push({ output: o, path: loc, reason });
  }
  return broken;
}

/**
 * Which files of the output at `out` need their plain sha256 taken when it is sealed (by path relative to `out`):
 * those below an output whose format checks plain digests, which chunked tree digests are not.
 */
export function plainDigestsWanted(out: string, outputs: readonly Output[]): (rel: string) => boolean {
  const dirs = outputs.filter((o) => formatPromise(o.format).needsPlainDigests === true).flatMap((o) => {
    const loc = outputLocation(out, o.path);
    return loc === null ? [] : [relative(out, loc)];
  });
  return (rel: string) => dirs.some((d) => d === "" || rel.startsWith(`${d}/`));
}

/** The promises checked from the digests of a sealed output, after `checkOutputs` passed. */
export function checkSealedPromises(out: string, outputs: readonly Output[], digests: ReadonlyMap<string, string>, rewritten: readonly string[] = []): BrokenPromise[] {
  const broken: BrokenPromise[] = [];
  for (const o of outputs) {
    const sealed = formatPromise(o.format).sealed;
    if (sealed === undefined) continue;
    const loc = outputLocation(out, o.path);
    if (loc === null) continue; // reported by checkOutputs
    const reason = sealed(loc, relative(out, loc), digests, rewritten);
    if (reason) broken.push({ output: o, path: loc, reason });
  }
  return broken;
}
