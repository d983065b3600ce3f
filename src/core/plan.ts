/** The plan (BuildPlan), its steps, runtime artifacts and the documentation model (reference section 5), one zod schema each. */
import { z } from "zod";
import { OutputPath } from "./output-path.js";
import { strictObject } from "./strict.js";
import { Arg, Dependency, Env, Service, Tool } from "./spec.js";
import { CapabilityCategory, Protocol } from "./runtime.js";
import { Descriptor, Evidence, Output, Source } from "./records.js";

/** Run a tool: `[K=v ...] <tool> <args...>`. */
export const RunStep = strictObject({
  _con: z.literal("runStep"),
  name: z.string(),
  tool: Tool,
  args: z.array(Arg),
  env: Env,
});
export type RunStep = z.infer<typeof RunStep>;

/** Write a file through a heredoc. */
export const WriteStep = strictObject({
  _con: z.literal("writeStep"),
  name: z.string(),
  path: OutputPath,
  text: z.string(),
});
export type WriteStep = z.infer<typeof WriteStep>;

/** Copy a source into the output. */
export const CopyStep = strictObject({
  _con: z.literal("copyStep"),
  name: z.string(),
  source: Source,
  path: OutputPath,
});
export type CopyStep = z.infer<typeof CopyStep>;

/** The schema of every plan step kind, by constructor: the schema column of the step table (`program/steps.ts`). */
export const planStepSchemas = { runStep: RunStep, writeStep: WriteStep, copyStep: CopyStep } as const;
/** Every plan step constructor. */
export type StepCon = keyof typeof planStepSchemas;
/** The plan step with a given constructor. */
export type StepOf<K extends StepCon> = z.output<(typeof planStepSchemas)[K]>;
/** Every plan step constructor, in table order. */
export const STEP_KINDS = Object.keys(planStepSchemas) as StepCon[];
/** One step of a plan. */
export type PlanStep = { [K in StepCon]: StepOf<K> }[StepCon];
type StepSchema = (typeof planStepSchemas)[StepCon];
/** The plan step union's schema, derived from the step table. */
export const PlanStep = z.discriminatedUnion("_con", Object.values(planStepSchemas) as unknown as [StepSchema, ...StepSchema[]]) as unknown as z.ZodType<PlanStep>;

/** A runtime artifact: a service descriptor written as its own store file. */
export const RuntimeArtifact = strictObject({
  _con: z.literal("MetaBuilderRuntimeArtifact").default("MetaBuilderRuntimeArtifact"),
  kind: z.literal("service"),
  name: z.string(),
  descriptor: z.record(z.string(), z.unknown()),
  storePath: z.string(),
});
export type RuntimeArtifact = z.infer<typeof RuntimeArtifact>;

/** The plan a program folds into: what materialization realizes. */
export const BuildPlan = strictObject({
  _con: z.literal("MetaBuilderPlan").default("MetaBuilderPlan"),
  name: z.string(),
  builder: z.string(),
  tools: z.array(Tool),
  outputs: z.array(Output),
  pathMap: z.record(z.string(), z.string()),
  nativePaths: z.array(z.string()),
  steps: z.array(PlanStep),
  declaredCapabilities: z.array(CapabilityCategory),
  declaredProtocols: z.array(Protocol),
  declaredServices: z.array(Service),
  runtimeArtifacts: z.array(RuntimeArtifact),
});
export type BuildPlan = z.infer<typeof BuildPlan>;

/** A plan step as the plan view shows it: constructor, name and rendered shell. */
export const PlanViewStep = strictObject({
  con: z.enum(STEP_KINDS as [StepCon, ...StepCon[]]),
  name: z.string(),
  shell: z.string(),
  step: PlanStep,
});
export type PlanViewStep = z.infer<typeof PlanViewStep>;

/** A runtime artifact as the plan view summarizes it. */
export const RuntimeArtifactView = strictObject({
  _con: z.literal("MetaBuilderRuntimeArtifactView").default("MetaBuilderRuntimeArtifactView"),
  kind: z.string(),
  name: z.string(),
  summary: z.string(),
  drvName: z.string(),
});
export type RuntimeArtifactView = z.infer<typeof RuntimeArtifactView>;

/** The two families every operation belongs to: build-time (`builder`) and runtime. */
export const Family = z.enum(["builder", "runtime"]);
export type Family = z.infer<typeof Family>;

/** One documented operation. */
export const DocOperation = strictObject({
  _con: z.literal("MetaBuilderDocOperation").default("MetaBuilderDocOperation"),
  family: Family,
  constructor: z.string(),
  name: z.string(),
  summary: z.string(),
});
export type DocOperation = z.infer<typeof DocOperation>;

/** The documentation model the describe view folds a program into. */
export const Documentation = strictObject({
  _con: z.literal("MetaBuilderDocumentation").default("MetaBuilderDocumentation"),
  name: z.string(),
  builder: z.string(),
  inputs: z.array(Source),
  dependencies: z.array(Dependency),
  tools: z.array(Tool),
  outputs: z.array(Output),
  descriptors: z.array(Descriptor),
  evidence: z.array(Evidence),
  operations: z.array(DocOperation),
  runtimeCapabilities: z.array(CapabilityCategory),
  runtimeProtocols: z.array(Protocol),
  runtimeServices: z.array(Service),
  materializedUnits: z.array(z.string()),
});
export type Documentation = z.infer<typeof Documentation>;
