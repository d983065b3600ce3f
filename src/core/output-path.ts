/**
 * The one type of an output path: where inside `$out` a build writes or promises something. Normalised once, so `x`,
 * `./x`, `$out/x` and `${out}/x` are the same path (`$out/x`), and `$out` (or `.`) is the output itself; `..`, other
 * absolute paths, NUL and empty segments are validation errors at the path's place in the spec.
 */
import { z } from "zod";

/** A normalised output path: `$out` (the output itself) or `<segments>` relative to `$out`, no `.`, `..` or empty segment. */
export type OutputPath = string & { readonly __brand: "OutputPath" };

/** Why `path` is not an output path, or null when it is one. */
export function outputPathProblem(path: string): string | null {
  if (path === "") return "an output path is not empty (use `$out` for the output itself)";
  if (path.includes("\0")) return "an output path holds no NUL character";
  const rel = relativeOf(path);
  if (rel === null) return `an output path lies inside $out: '${path}' is absolute (write it relative, or as '$out/...')`;
  const segments = rel === "" ? [] : rel.split("/");
  if (segments.some((s) => s === "..")) return `an output path never leaves $out: '${path}' holds '..'`;
  if (segments.some((s) => s === "")) return `an output path has no empty segment: '${path}' holds '//' or ends in '/'`;
  return null;
}

// The part after `$out/` (or the whole path when it is relative); "" for the output itself; null when absolute.
function relativeOf(path: string): string | null {
  for (const root of ["$out", "${out}"]) {
    if (path === root) return "";
    if (path.startsWith(`${root}/`)) return path.slice(root.length + 1);
  }
  return path.startsWith("/") ? null : path;
}

/** Normalises a valid output path: `$out/` and `.` segments dropped; `$out` for the output itself. */
export function normaliseOutputPath(path: string): OutputPath {
  const segments = (relativeOf(path) ?? "").split("/").filter((s) => s !== "" && s !== ".");
  return (segments.length === 0 ? "$out" : segments.join("/")) as OutputPath;
}

/** An output path relative to `$out`: "" for the output itself, else `a/b`. */
export function outputRelative(path: OutputPath | string): string {
  const n = normaliseOutputPath(path);
  return n === "$out" ? "" : n;
}

/** The output path schema: validated (with the spec path of any problem), then normalised. */
export const OutputPath = z
  .string()
  .superRefine((p, ctx) => {
    const problem = outputPathProblem(p);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform(normaliseOutputPath);
