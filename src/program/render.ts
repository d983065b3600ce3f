/** Shell text for plan steps (reference section 5): escaping, arguments, `$out`, heredoc markers and library paths. */
import { sha256 } from "../core/hash.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import type { Arg } from "../core/spec.js";

const BARE = /^[A-Za-z0-9,._+:@%/-]+$/;

/** Shell-escapes a word: bare when made only of `[A-Za-z0-9,._+:@%/-]`, else single-quoted with `'` as `'\''`. */
export function escapeShellArg(s: string): string {
  return BARE.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

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

/** Splits on `$out`, escapes each piece and joins them with `"$out"`. */
export function splitAroundOut(s: string): string {
  return s.split("$out").map(escapeShellArg).join(`"$out"`);
}

/** Renders one runTool argument. */
export function renderArg(arg: Arg): string {
  if (typeof arg === "number") return escapeShellArg(String(arg));
  if (isPackageObject(arg)) {
    const info = packageInfo(arg);
    return escapeShellArg(info.outPath ?? info.packageName);
  }
  if (isLocalPath(arg)) return `"$${pathMapKey(arg as string)}"`;
  if (arg.includes("$out")) return splitAroundOut(arg);
  return escapeShellArg(arg);
}

/** Renders a runTool environment value. */
export function renderEnvValue(v: string | number): string {
  const s = String(v);
  return s.includes("$out") ? splitAroundOut(s) : escapeShellArg(s);
}

/** Escapes text for the inside of a double-quoted shell string. */
export function dq(s: string): string {
  return s.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

/** The heredoc marker of a text: `METABUILDER_HEREDOC_<sha256 of the text>`. */
export function heredocMarker(text: string): string {
  return `METABUILDER_HEREDOC_${sha256(text)}`;
}

/** `LD_LIBRARY_PATH` text for native paths: each path's `lib` directory, colon-joined. */
export function libraryPath(nativePaths: readonly string[]): string {
  return nativePaths.map((p) => `${p}/lib`).join(":");
}

/** The LD_LIBRARY_PATH export line, or null when there are no native paths. */
export function ldLibraryPathExport(nativePaths: readonly string[]): string | null {
  return nativePaths.length === 0 ? null : `export LD_LIBRARY_PATH=${libraryPath(nativePaths)}:\${LD_LIBRARY_PATH:-}`;
}
