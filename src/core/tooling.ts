/**
 * Records of the toolEnv and transform vocabularies (the original's ToolEnvSpec and TransformStep): a typed list of
 * tools, and one step of a sequential transform pipeline. They hold tools, so packages, hence their own module after
 * spec.ts.
 */
import { z } from "zod";
import { strictObject, uniqueNames } from "./strict.js";
import { Env, Tool } from "./spec.js";

/** A tool environment: the typed list of tools a builder puts on its PATH (no shell text lives in it). */
export const ToolEnv = strictObject({
  _con: z.literal("MetaBuilderToolEnv").default("MetaBuilderToolEnv"),
  tools: uniqueNames(Tool, "tool").default([]).describe("The tools, each a name and the package that provides it; names are unique."),
}).describe("A tool environment (the original's ToolEnvSpec): a typed list of tools.");
export type ToolEnv = z.infer<typeof ToolEnv>;

/** One step of a transform pipeline: a tool run with arguments and environment (it becomes a runTool operation). */
export const TransformStep = strictObject({
  _con: z.literal("MetaBuilderTransformStep").default("MetaBuilderTransformStep"),
  name: z.string().describe("The step's name (the runTool's name)."),
  tool: Tool.describe("The tool the step runs."),
  args: z.array(z.string()).default([]).describe("Its arguments."),
  env: Env.default({}).describe("Its environment variables."),
}).describe("One step of a transform pipeline (the original's TransformStep): it becomes a runTool operation.");
export type TransformStep = z.infer<typeof TransformStep>;
