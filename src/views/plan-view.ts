/** The plan view: the plan plus each step's rendered shell, runtime artifact summaries and the whole shell transcript. */
import type { BuildPlan, PlanViewStep, RuntimeArtifactView } from "../core/plan.js";
import { storeName } from "../core/package.js";
import { planShell, renderStep } from "../program/steps.js";
import type { Program } from "../program/fold.js";
import { compile, type CompileOptions } from "../program/compile.js";

/** What the plan view shows. */
export interface PlanViewResult {
  readonly name: string;
  readonly builder: string;
  readonly tools: BuildPlan["tools"];
  readonly outputs: BuildPlan["outputs"];
  readonly pathMap: Record<string, string>;
  readonly nativePaths: string[];
  readonly steps: PlanViewStep[];
  readonly runtimeArtifacts: RuntimeArtifactView[];
  /** pathMap assignments, the LD_LIBRARY_PATH export, then every step, joined by newlines. */
  readonly shell: string;
  readonly plan: BuildPlan;
}

/** The plan view of an already folded plan. */
export function planViewOf(plan: BuildPlan): PlanViewResult {
  const steps: PlanViewStep[] = plan.steps.map((step) => ({ con: step._con, name: step.name, shell: renderStep(step), step }));
  const runtimeArtifacts: RuntimeArtifactView[] = plan.runtimeArtifacts.map((a) => {
    const drvName = storeName(a.storePath);
    return { _con: "MetaBuilderRuntimeArtifactView", kind: a.kind, name: a.name, summary: `${a.kind}:${a.name} -> ${drvName}`, drvName };
  });
  return {
    name: plan.name,
    builder: plan.builder,
    tools: plan.tools,
    outputs: plan.outputs,
    pathMap: plan.pathMap,
    nativePaths: plan.nativePaths,
    steps,
    runtimeArtifacts,
    shell: planShell(plan, steps.map((s) => s.shell)),
    plan,
  };
}

/** The plan view of a program. */
export function planView(program: Program, options: CompileOptions = {}): PlanViewResult {
  return planViewOf(compile(program, options));
}
