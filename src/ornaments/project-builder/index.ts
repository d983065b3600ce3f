/**
 * The project-builder ornament: `langName` over the base spec, the super-base of the project-level ornaments
 * (implementations, vendoring, testing). It adds no operations (the original's ProjectBuilder).
 */
import { z } from "zod";
import { BuilderSpec } from "../../core/spec.js";
import { markOrnamented } from "../../core/ornamented.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";

/** ProjectBuilder: the base spec plus the project's language identifier. */
export const ProjectBuilder = defineOrnament({
  name: "MetaBuilderProject",
  fields: { langName: z.string().min(1).describe("the project's language identifier (per-impl selection, vendoring contracts, test-suite names)") },
});
export type ProjectSpec = z.output<typeof ProjectBuilder.schema>;

/** The base spec's list fields, which every `define` of an ornament takes, each an empty list unless given. */
export const BASE_LISTS = ["parameters", "inputs", "dependencies", "tools", "operations", "outputs", "evidence"] as const;
/** The base spec's list fields as optional constructor arguments. */
export const baseListArgs = Object.fromEntries(BASE_LISTS.map((k) => [k, BuilderSpec.shape[k].optional()])) as {
  [K in (typeof BASE_LISTS)[number]]: z.ZodOptional<(typeof BuilderSpec.shape)[K]>;
};
/** A spec from constructor arguments: the base lists empty unless given, `_con` set, then the ornament's fields. */
export function withBaseLists(args: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  return { ...Object.fromEntries(BASE_LISTS.map((k) => [k, []])), ...args, _con: "MetaBuilderSpec", ...fields };
}

/** A spec of ProjectBuilder: `langName` and the base fields (empty lists unless given). */
export function defineProject(args: { langName: string; name?: string } & Partial<Omit<BuilderSpec, "_con" | "name">>): ProjectSpec {
  const spec = { parameters: [], inputs: [], dependencies: [], tools: [], operations: [], outputs: [], evidence: [], ...args, _con: "MetaBuilderSpec", name: args.name ?? `${args.langName}Project` };
  return markOrnamented(ProjectBuilder.schema.parse(spec), ProjectBuilder.inserted);
}

/** The project-builder ornament as the registry loads it. */
export const projectBuilderOrnament: LoadedOrnament<typeof ProjectBuilder.schema> = {
  ornament: ProjectBuilder,
  example: () => defineProject({ langName: "alpha" }),
};
