/** The plan-export view: the plan as JSON for other programs, package objects left out (tools and services keep their names). */
import type { BuildPlan } from "../core/plan.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import type { Program } from "../program/fold.js";
import { compile, type CompileOptions } from "../program/compile.js";

/** The records whose `package` field holds a package reference. */
const WITH_PACKAGE: ReadonlySet<unknown> = new Set(["MetaBuilderTool", "MetaBuilderDependency", "MetaBuilderService"]);

/**
 * Drops the `package` field of tools, dependencies and services, and replaces any other package object (an argument)
 * by its path (or name, unresolved). Other data that merely has a `package` key (an env variable, options) is kept.
 */
function dropPackages(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropPackages);
  if (value !== null && typeof value === "object") {
    if (isPackageObject(value)) {
      const info = packageInfo(value);
      return info.outPath ?? info.packageName;
    }
    const record = WITH_PACKAGE.has((value as { _con?: unknown })._con);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (record && k === "package") continue;
      out[k] = dropPackages(v);
    }
    return out;
  }
  return value;
}

/** The exported plan: the BuildPlan fields, without package objects. */
export function planExportOf(plan: BuildPlan): Record<string, unknown> {
  return dropPackages(plan) as Record<string, unknown>;
}

/** Exports a program's plan as plain JSON data. */
export function planExport(program: Program, options: CompileOptions = {}): Record<string, unknown> {
  return planExportOf(compile(program, options));
}
