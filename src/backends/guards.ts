/** Which declared tools a backend checks for before running the steps. */
import type { BuildPlan } from "../core/plan.js";
import type { Tool } from "../core/spec.js";

/**
 * A declared tool is guarded (`command -v <name>`) unless it is known not to be an executable: a resolved package
 * whose executables do not include the tool's name and that no run step invokes (Debian's coreutils has no
 * `coreutils` command; its tools are used inside scripts).
 */
export function needsGuard(tool: Tool, plan: BuildPlan): boolean {
  const pkg = tool.package;
  if (typeof pkg !== "object" || pkg._con !== "resolvedPackage" || Object.keys(pkg.executables).length === 0) return true;
  if (Object.hasOwn(pkg.executables, tool.name)) return true;
  return plan.steps.some((s) => s._con === "runStep" && s.tool.name === tool.name);
}

