/**
 * The compile pass: a program lowered to its BuildPlan (pure; the engine realizes it). Each operation's lowering comes
 * from the operation table; this pass checks scope once, appends the parts in program order and collects the local
 * inputs into the pathMap.
 */
import { operationDef, type LowerScope, type PlanPart } from "../core/operations.js";
import type { BuildPlan } from "../core/plan.js";
import type { Operation, Service } from "../core/spec.js";
import type { Program } from "./fold.js";
import { isLocalPath, pathMapKey } from "./render.js";
import { assertInScope } from "./scope.js";

/** Where runtime artifacts would live when no store is given (views never read the machine). */
export const DEFAULT_STORE_DIR = "/metabuilder/store";

/** Options of the compile pass. */
export interface CompileOptions {
  /** The store directory used to name runtime artifacts. */
  readonly storeDir?: string;
}

const PLAN_CODES = { tool: "plan.undeclared-tool", service: "plan.undeclared-service" } as const;

/** Compiles a program into its BuildPlan; a runTool before its declareTool, or a unit of an undeclared service, is an error (exit 1). */
export function compile(program: Program, options: CompileOptions = {}): BuildPlan {
  assertInScope(program, "compile", (used) => PLAN_CODES[used.kind]);
  const plan: BuildPlan = {
    _con: "MetaBuilderPlan",
    name: "metabuilder-output",
    builder: "runCommand",
    tools: [],
    outputs: [],
    pathMap: {},
    nativePaths: [],
    steps: [],
    declaredCapabilities: [],
    declaredProtocols: [],
    declaredServices: [],
    runtimeArtifacts: [],
  };
  const services = new Map<string, Service>();
  const pathMap = new Map<string, string>();
  const scope: LowerScope = { service: (name) => services.get(name)!, storeDir: options.storeDir ?? DEFAULT_STORE_DIR };
  for (const op of program.operations) {
    const part: PlanPart = (operationDef(op._con).lower as (op: Operation, scope: LowerScope) => PlanPart)(op, scope);
    for (const p of part.inputs ?? []) if (isLocalPath(p)) pathMap.set(pathMapKey(p as string), p as string);
    for (const svc of part.services ?? []) services.set(svc.name, svc);
    if (part.derivation) {
      plan.name = part.derivation.name;
      plan.builder = part.derivation.builder;
    }
    if (part.steps) plan.steps.push(...part.steps);
    if (part.tools) plan.tools.push(...part.tools);
    if (part.outputs) plan.outputs.push(...part.outputs);
    if (part.nativePaths) plan.nativePaths.push(...part.nativePaths);
    if (part.capabilities) plan.declaredCapabilities.push(...part.capabilities);
    if (part.protocols) plan.declaredProtocols.push(...part.protocols);
    if (part.services) plan.declaredServices.push(...part.services);
    if (part.runtimeArtifacts) plan.runtimeArtifacts.push(...part.runtimeArtifacts);
  }
  for (const k of [...pathMap.keys()].sort()) plan.pathMap[k] = pathMap.get(k)!;
  return plan;
}
