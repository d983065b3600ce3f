/**
 * The tool environment vocabulary (the original's toolEnv ornament): a ToolEnv holds only a typed tool list; every
 * derived form (the package list, the bin path, the PATH snippets) comes from an eliminator here. The snippets quote
 * the path as one shell word, so a path from a spec is only ever data.
 */
import { canonicalJson } from "../../core/hash.js";
import { ExitCode, MbError } from "../../core/errors.js";
import { packageInfo } from "../../core/package.js";
import type { PackageRef, Tool } from "../../core/spec.js";
import { ToolEnv } from "../../core/tooling.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import * as C from "../../program/constructors.js";
import { escapeShellArg } from "../../program/quote.js";
import type { z } from "zod";

/** Builds a typed tool environment from its tools. */
export function define(args: Omit<z.input<typeof ToolEnv>, "_con"> = {}): ToolEnv {
  return parseOrThrow(ToolEnv, args, "toolEnv", "constructor.invalid");
}

/** A tool environment from `{ name: package }`; a null package (the tool is unavailable here) is left out. */
export function create(packages: Readonly<Record<string, PackageRef | null>>): ToolEnv {
  const tools = Object.entries(packages).flatMap(([name, pkg]) => (pkg === null ? [] : [C.tool({ name, package: pkg })]));
  return define({ tools });
}

/** The environment without tools (the identity of `merge`). */
export const empty: ToolEnv = define({ tools: [] });

/** Both environments' tools; on a name in both, b's tool wins (a's others first, then all of b's). */
export function merge(a: ToolEnv, b: ToolEnv): ToolEnv {
  const bNames = new Set(b.tools.map((t) => t.name));
  return define({ tools: [...a.tools.filter((t) => !bNames.has(t.name)), ...b.tools] });
}

/** Whether the environment has no tools. */
export function isEmpty(env: ToolEnv): boolean {
  return env.tools.length === 0;
}

/** The tools' packages, each once (equal references are one), in order. */
export function toolInputs(env: ToolEnv): PackageRef[] {
  const seen = new Set<string>();
  return env.tools.map((t) => t.package).filter((p) => {
    const key = canonicalJson(p);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The packages by tool name. */
export function toolPackages(env: ToolEnv): Record<string, PackageRef> {
  return Object.fromEntries(env.tools.map((t: Tool) => [t.name, t.package]));
}

/** The `bin` directories of the tools' packages joined with `:`; every package must have a path (a store path or a resolved one). */
export function toolBinPath(env: ToolEnv): string {
  return toolInputs(env)
    .map((p) => {
      const info = packageInfo(p);
      if (info.outPath === null) {
        throw new MbError("toolEnv.unresolved", `toolEnv: package '${info.packageName}' has no path until it is resolved; give a store path or resolve the spec first`, { exitCode: ExitCode.usage });
      }
      return `${info.outPath.replace(/\/+$/, "")}/bin`;
    })
    .join(":");
}

/** `export PATH=<bin path>:"$PATH"` and a newline, or "" for an empty environment. */
export function toExportSnippet(env: ToolEnv): string {
  return isEmpty(env) ? "" : `export PATH=${escapeShellArg(toolBinPath(env))}:"$PATH"\n`;
}

/** The export snippet indented for inline use in a script, or "". */
export function toInlineSnippet(env: ToolEnv): string {
  return isEmpty(env) ? "" : `          ${toExportSnippet(env)}`;
}

/** A `--prefix PATH : <bin path> \` line for a wrapper command, or "". */
export function toWrapPrefix(env: ToolEnv): string {
  return isEmpty(env) ? "" : `          --prefix PATH : ${escapeShellArg(toolBinPath(env))} \\\n`;
}

/** The tool environment vocabulary under the original's names. */
export const toolEnv = { define, create, empty, merge, isEmpty, toolInputs, toolPackages, toolBinPath, toExportSnippet, toInlineSnippet, toWrapPrefix } as const;
