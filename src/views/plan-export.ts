/** The plan-export view: the plan as JSON for other programs, package objects left out (tools and services keep their names). */
import type { BuildPlan } from "../core/plan.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import type { Program } from "../program/program.js";
import { materialize, type MaterializeOptions } from "./materialize.js";

/** Drops every `package` field and replaces package-valued arguments by their path (or name, unresolved). */
function dropPackages(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropPackages);
  if (value !== null && typeof value === "object") {
    if (isPackageObject(value)) {
      const info = packageInfo(value);
      return info.outPath ?? info.packageName;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "package") continue;
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
export function planExport(program: Program, options: MaterializeOptions = {}): Record<string, unknown> {
  return planExportOf(materialize(program, options));
}
