/**
 * The plan step table: one row per step kind, giving the verb views label it with and the shell it renders to. Shared
 * by the plan view, introspect, the backends, the fingerprint and the engine, so the plan you read is the plan that runs.
 */
import { outputRelative } from "../core/output-path.js";
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan, PlanStep, StepCon, StepOf } from "../core/plan.js";
import { oneLine, shellTextProblem } from "./quote.js";
import { dq, escapeShellArg, heredocMarker, isLocalPath, ldLibraryPathExport, pathMapKey, renderArg, renderEnvValue } from "./render.js";

/** One row of the step table. */
export interface StepDef<K extends StepCon> {
  /** The word views use for the step (`run`, `write`, `copy`). */
  readonly verb: string;
  /** The step as shell. */
  readonly render: (step: StepOf<K>) => string;
}

// The destination of a write or copy: "$out" itself, or "$out/<path relative to $out>".
const target = (path: string) => {
  const rel = outputRelative(path);
  return rel === "" ? `"$out"` : `"$out/${dq(rel)}"`;
};
const mkdirParent = (path: string) => `mkdir -p "$(dirname ${target(path)})"`;

/** The step table's type: a row for every plan step kind, and nothing else. */
export type StepTable = { readonly [K in StepCon]: StepDef<K> };

/** The step table: a row for every plan step kind. */
export const planSteps = {
  runStep: {
    verb: "run",
    render: (step) => {
      const env = Object.keys(step.env)
        .sort()
        .map((k) => `${k}=${renderEnvValue(step.env[k]!)}`);
      return [...env, escapeShellArg(step.tool.name), ...step.args.map(renderArg)].join(" ");
    },
  },
  writeStep: {
    verb: "write",
    render: (step) => {
      const marker = heredocMarker(step.text);
      return [mkdirParent(step.path), `cat > ${target(step.path)} <<'${marker}'`, step.text, marker].join("\n");
    },
  },
  copyStep: {
    verb: "copy",
    render: (step) => {
      const src = step.source._con === "localSource" ? step.source.path : "";
      // A relative source starting with `-` is written `./-...`: a source of cp, never an option.
      const from = isLocalPath(src) ? `"$${pathMapKey(src)}"` : escapeShellArg(src.startsWith("-") ? `./${src}` : src);
      return [mkdirParent(step.path), `cp -r ${from} ${target(step.path)}`].join("\n");
    },
  },
} as const satisfies StepTable;

/** The verb of a step kind (`run`, `write`, `copy`). */
export function stepVerb(con: StepCon): string {
  return (planSteps as StepTable)[con].verb;
}

/** Renders a step as shell through its row of the step table; a NUL byte anywhere in the step is an error (exit 2). */
export function renderStep(step: PlanStep): string {
  const problem = shellTextProblem(step);
  if (problem !== null) throw new MbError("plan.nul", `step '${oneLine(step.name)}': ${problem}`, { exitCode: ExitCode.usage });
  return ((planSteps as StepTable)[step._con].render as (s: PlanStep) => string)(step);
}

/** The whole plan as one shell transcript: pathMap assignments, the LD_LIBRARY_PATH export, then every step. */
export function planShell(plan: BuildPlan, rendered: readonly string[] = plan.steps.map(renderStep)): string {
  const lines: string[] = Object.entries(plan.pathMap).map(([k, v]) => `${k}=${escapeShellArg(v)}`);
  const ld = ldLibraryPathExport(plan.nativePaths);
  if (ld) lines.push(ld);
  lines.push(...rendered);
  return lines.join("\n");
}
