/** The builder spec (MetaBuilderSpec): the typed data a build is written as. */
import { z } from "zod";
import { Dependency, Evidence, Output, Parameter, Source, Tool, registerSpecSchema } from "./records.js";
import { Operation } from "./operations.js";

/** A builder spec: every field a list, operations in order, evidence lowered to trailing operations. */
export const BuilderSpec = z.object({
  _con: z.literal("MetaBuilderSpec").default("MetaBuilderSpec"),
  name: z.string(),
  parameters: z.array(Parameter),
  inputs: z.array(Source),
  dependencies: z.array(Dependency),
  tools: z.array(Tool),
  operations: z.array(Operation),
  outputs: z.array(Output),
  evidence: z.array(Evidence),
});
export type BuilderSpec = z.infer<typeof BuilderSpec>;
/** The spec as written, before defaults are filled in. */
export type BuilderSpecInput = z.input<typeof BuilderSpec>;

registerSpecSchema(BuilderSpec as unknown as z.ZodType<BuilderSpec>);
