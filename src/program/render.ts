/**
 * Shell text for plan steps (reference section 5): arguments, env values, heredoc markers and library paths, all
 * quoted through the one quoting module (`quote.ts`).
 */
import { sha256 } from "../core/hash.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import type { Arg } from "../core/spec.js";
import { assertDependencyPath, dq, escapeShellArg, splitAroundOut } from "./quote.js";

export { dq, escapeShellArg, splitAroundOut };

/**
 * A local path: text that is an absolute path. The plan maps each one to a `pathMap_*` variable; resolution then
 * points it at the path's store copy (or, for a path inside the store, at the path itself).
 */
export function isLocalPath(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("/");
}

/** The pathMap variable of a local path: `pathMap_<sha256 of the path string>`. */
export function pathMapKey(path: string): string {
  return `pathMap_${sha256(path)}`;
}

/** Renders one runTool argument. */
export function renderArg(arg: Arg): string {
  if (typeof arg === "number") return escapeShellArg(String(arg));
  if (isPackageObject(arg)) {
    const info = packageInfo(arg);
    return escapeShellArg(info.outPath ?? info.packageName);
  }
  if (isLocalPath(arg)) return `"$${pathMapKey(arg as string)}"`;
  return splitAroundOut(arg);
}

/** Renders a runTool environment value. */
export function renderEnvValue(v: string | number): string {
  return splitAroundOut(String(v));
}

/** The heredoc marker of a text: `METABUILDER_HEREDOC_<sha256 of the text>`. */
export function heredocMarker(text: string): string {
  return `METABUILDER_HEREDOC_${sha256(text)}`;
}

/**
 * `LD_LIBRARY_PATH` text for native paths: each path's `lib` directory, colon-joined. An absolute path must have the
 * store path form (else exit 2); a package name (unresolved) is kept as text.
 */
export function libraryPath(nativePaths: readonly string[]): string {
  return nativePaths.map((p) => `${assertDependencyPath(p, "native dependency")}/lib`).join(":");
}

/** The LD_LIBRARY_PATH export line (its paths one quoted word; an assignment does not split the rest), or null when there are no native paths. */
export function ldLibraryPathExport(nativePaths: readonly string[]): string | null {
  return nativePaths.length === 0 ? null : `export LD_LIBRARY_PATH=${escapeShellArg(`${libraryPath(nativePaths)}:`)}\${LD_LIBRARY_PATH:-}`;
}
