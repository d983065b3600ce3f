/**
 * The base tools: the executables the engine itself provides for the built-in steps (writeFile's `mkdir`, `dirname`
 * and `cat`, copyPath's `cp`), from the host's coreutils, so a spec that declares no tool can still write a file.
 * Their package's identity (version and content hash) is part of the fingerprint of every build that uses them.
 */
import type { BaseToolsIdentity } from "../program/fingerprint.js";
import { lookupHost, type HostLookup } from "./host.js";

/** The executables the engine provides for writeFile and copyPath steps. */
export const BASE_TOOLS = ["cat", "cp", "dirname", "mkdir"] as const;

/** The package the base tools come from. */
export const BASE_TOOLS_PACKAGE = "coreutils";

/** The engine's base tools of one build: their package's identity (in the fingerprint) and their executables. */
export interface BaseTools {
  readonly identity: BaseToolsIdentity | null;
  readonly executables: Record<string, string>;
}

/** No base tools (a plan of runTool steps only). */
export const NO_BASE_TOOLS: BaseTools = { identity: null, executables: {} };

/** Looks the base tools up on this machine (or takes the lookup of their package made already); null when it is not installed. */
export function lookupBaseTools(found: HostLookup | null = lookupHost(BASE_TOOLS_PACKAGE)): BaseTools | null {
  if (!found) return null;
  const executables: Record<string, string> = {};
  for (const name of BASE_TOOLS) {
    const exe = found.executables[name];
    if (exe) executables[name] = exe;
  }
  return { identity: { package: found.packageName, version: found.version, contentHash: found.contentHash }, executables };
}
