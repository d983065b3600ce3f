/**
 * The transform ornament (the original's transform): a sequential pipeline of tool runs over a builder's inputs. The
 * spec keeps its typed `steps` beside the operations they lower to: one readSource per input, one declareTool per
 * distinct tool (in first use order), one runTool per step, one transformOutput per output, then a descriptor and
 * the derivation `<name>-transformed`.
 */
import { z } from "zod";
import { ExitCode, MbError } from "../../core/errors.js";
import { canonicalJson } from "../../core/hash.js";
import { markOrnamented } from "../../core/ornamented.js";
import { Evidence, Output, Parameter, Source } from "../../core/records.js";
import type { Operation } from "../../core/operations.js";
import { storeNamed, strictObject, uniqueNames } from "../../core/strict.js";
import { Dependency, Env, PackageRef, type Tool } from "../../core/spec.js";
import { TransformStep } from "../../core/tooling.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import * as C from "../../program/constructors.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";

/** TransformBuilder: the base spec plus its typed `steps`. */
export const TransformBuilder = defineOrnament({ name: "MetaBuilderTransform", fields: { steps: z.array(TransformStep) } });
export type TransformSpec = z.output<typeof TransformBuilder.schema>;

/** A step as `transform` takes it: the tool as a Tool record or as `{ name, package }`. */
const StepArg = strictObject({
  _con: z.literal("MetaBuilderTransformStep").optional(),
  name: z.string(),
  tool: strictObject({ _con: z.literal("MetaBuilderTool").optional(), name: z.string(), package: PackageRef }),
  args: z.array(z.string()).default([]),
  env: Env.default({}),
});

/** Arguments of `transform`. */
export const TransformArgs = strictObject({
  name: storeNamed("-transformed".length).min(1),
  inputs: z.array(Source).default([]),
  steps: z.array(StepArg),
  outputs: uniqueNames(Output, "output").default([]),
  parameters: z.array(Parameter).default([]),
  dependencies: z.array(Dependency).default([]),
  evidence: z.array(Evidence).default([]),
});
export type TransformArgs = z.input<typeof TransformArgs>;

/** Builds the transform spec; one tool name used with two different packages is an error naming the step. */
export function transform(args: TransformArgs): TransformSpec {
  const a = parseOrThrow(TransformArgs, args, "transform", "constructor.invalid");
  const steps: TransformStep[] = a.steps.map((s) => TransformStep.parse({ ...s, _con: "MetaBuilderTransformStep", tool: C.tool({ name: s.tool.name, package: s.tool.package }) }));
  const tools: Tool[] = [];
  steps.forEach((s, i) => {
    const known = tools.find((t) => t.name === s.tool.name);
    if (known === undefined) tools.push(s.tool);
    else if (canonicalJson(known.package) !== canonicalJson(s.tool.package)) {
      const message = `tool '${s.tool.name}' is used with two different packages; give each its own name`;
      throw new MbError("constructor.invalid", `transform does not match its schema (1 problem):\n  - steps[${i}].tool.package: ${message}`, {
        exitCode: ExitCode.usage,
        issues: [{ path: ["steps", i, "tool", "package"], message }],
      });
    }
  });
  const operations: Operation[] = [
    ...a.inputs.map((source) => C.readSource({ name: source.name, source })),
    ...tools.map((tool) => C.declareTool({ tool })),
    ...steps.map((s) => C.runTool({ name: s.name, tool: s.tool, args: s.args, env: s.env })),
    ...a.outputs.map((output) => C.transformOutput({ output })),
    C.emitDescriptor({ descriptor: C.descriptor({ name: `${a.name}-transform`, payload: { kind: "transform", stepCount: steps.length } }) }),
    C.materializeDerivation({ name: `${a.name}-transformed`, builder: "runCommand" }),
  ];
  return markOrnamented(
    {
      _con: "MetaBuilderSpec",
      name: a.name,
      parameters: a.parameters,
      inputs: a.inputs,
      dependencies: a.dependencies,
      tools,
      operations,
      outputs: a.outputs,
      evidence: a.evidence,
      steps,
    } satisfies TransformSpec,
    TransformBuilder.inserted,
  );
}

/** The transform ornament as the registry loads it, with a two-step sample spec. */
export const transformOrnament: LoadedOrnament<typeof TransformBuilder.schema> = {
  ornament: TransformBuilder,
  example: () =>
    transform({
      name: "example",
      steps: [
        { name: "preprocess", tool: { name: "pp", package: C.hostPackage("cpp") }, args: ["-i", "src"] },
        { name: "compile", tool: { name: "cc", package: C.hostPackage("gcc") }, args: ["-O2"] },
      ],
      outputs: [C.output({ name: "result", path: "$out/result" })],
    }),
};
