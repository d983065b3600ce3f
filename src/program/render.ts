/** Rendering plan steps to shell (reference section 5): shared by plan-view, the backends and the engine, so the plan you read is the plan that runs. */
import { absurd } from "../core/errors.js";
import { sha256 } from "../core/hash.js";
import type { Arg } from "../core/operations.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import type { PlanStep } from "../core/plan.js";

const BARE = /^[A-Za-z0-9,._+:@%/-]+$/;

/** Shell-escapes a word: bare when made only of `[A-Za-z0-9,._+:@%/-]`, else single-quoted with `'` as `'\''`. */
export function escapeShellArg(s: string): string {
  return BARE.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A local path: absolute, not a store path, not starting with `$`. */
export function isLocalPath(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("/nix/store/");
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

function renderEnvValue(v: string | number): string {
  const s = String(v);
  return s.includes("$out") ? splitAroundOut(s) : escapeShellArg(s);
}

/** Escapes text for the inside of a double-quoted shell string. */
function dq(s: string): string {
  return s.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

/** The heredoc marker of a text: `METABUILDER_HEREDOC_<sha256 of the text>`. */
export function heredocMarker(text: string): string {
  return `METABUILDER_HEREDOC_${sha256(text)}`;
}

/** Renders a step as shell: run, write (heredoc) or copy. */
export function renderStep(step: PlanStep): string {
  switch (step._con) {
    case "runStep": {
      const env = Object.keys(step.env)
        .sort()
        .map((k) => `${k}=${renderEnvValue(step.env[k]!)}`);
      const args = step.args.map(renderArg);
      return [...env, escapeShellArg(step.tool.name), ...args].join(" ");
    }
    case "writeStep": {
      const marker = heredocMarker(step.text);
      return [`mkdir -p "$(dirname "$out/${dq(step.path)}")"`, `cat > "$out/${dq(step.path)}" <<'${marker}'`, step.text, marker].join("\n");
    }
    case "copyStep": {
      const src = step.source._con === "localSource" ? step.source.path : "";
      const from = isLocalPath(src) ? `"$${pathMapKey(src)}"` : escapeShellArg(src);
      return [`mkdir -p "$(dirname "$out/${dq(step.path)}")"`, `cp -r ${from} "$out/${dq(step.path)}"`].join("\n");
    }
    default:
      return absurd(step);
  }
}

/** `LD_LIBRARY_PATH` text for native paths: each path's `lib` directory, colon-joined. */
export function libraryPath(nativePaths: readonly string[]): string {
  return nativePaths.map((p) => `${p}/lib`).join(":");
}

/** The LD_LIBRARY_PATH export line, or null when there are no native paths. */
export function ldLibraryPathExport(nativePaths: readonly string[]): string | null {
  return nativePaths.length === 0 ? null : `export LD_LIBRARY_PATH=${libraryPath(nativePaths)}:\${LD_LIBRARY_PATH:-}`;
}
