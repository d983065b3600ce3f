/**
 * The code-gen ornament (reference section 6): `generator` and `languages` over the base spec, and `codeGen`, which
 * lowers one config record into readSource per input, resolveDependency per dependency, one declareTool, a runTool
 * `<generator>-<i>` per invocation, a transformOutput per language (`$out/<lang>`, a tree), the `<name>-codegen`
 * descriptor and materializeDerivation `<name>-generated`, in that order (the original's `codeGen`).
 */
import { z } from "zod";
import * as C from "../../program/constructors.js";
import type { Operation } from "../../core/operations.js";
import { Dependency, Env, Arg, PackageRef, Tool } from "../../core/spec.js";
import { Evidence, Output, Parameter, Source } from "../../core/records.js";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { ExitCode, MbError, formatPath, type Issue } from "../../core/errors.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";

/** A language name: it names the output `$out/<lang>`, so it is one path segment. */
export const Language = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "a language names its output directory $out/<lang>: letters, digits, '.', '_', '+' and '-', starting with a letter or digit");

/** The directories under `$out` a text writes into (`$out/<dir>/...`, `$out/<dir>` or `${out}/<dir>`). */
export function outDirsOf(text: string): string[] {
  const dirs: string[] = [];
  for (const m of text.matchAll(/\$(?:out|\{out\})\/([^/\s'"=:;,]+)/g)) dirs.push(m[1]!);
  return dirs;
}

/**
 * The ornament's cross-field checks: its generator names one of its tools (the one runTool runs), and every
 * runTool of that generator writes only into the output directory of one of its languages (each of which a
 * transformOutput declares).
 */
function checkCodeGen(spec: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const s = spec as { generator: string; languages: string[]; tools: Tool[]; operations: Operation[]; outputs: Output[] };
  const tools = s.tools.map((t) => t.name);
  if (!tools.includes(s.generator)) {
    ctx.addIssue({ code: "custom", path: ["generator"], message: `generator '${s.generator}' is not a declared tool (tools: ${tools.map((t) => `'${t}'`).join(", ") || "none"})` });
  }
  const declared = new Set(s.operations.flatMap((op) => (op._con === "transformOutput" ? [op.output.path.split("/")[0]!] : [])));
  s.operations.forEach((op, i) => {
    if (op._con !== "runTool" || op.tool.name !== s.generator) return;
    op.args.forEach((a, j) => {
      if (typeof a !== "string") return;
      for (const dir of outDirsOf(a)) {
        if (!s.languages.includes(dir) || !declared.has(dir)) {
          ctx.addIssue({
            code: "custom",
            path: ["operations", i, "args", j],
            message: `runTool '${op.name}' writes into $out/${dir}, but '${dir}' is not an output language with a transformOutput (languages: ${s.languages.map((l) => `'${l}'`).join(", ") || "none"})`,
          });
        }
      }
    });
  });
}

/** CodeGenBuilder: the base spec plus the generator's name and the languages it generates. */
export const CodeGenBuilder = defineOrnament({
  name: "MetaBuilderCodeGen",
  fields: {
    generator: z.string().min(1).describe("the generator's name: the declared tool each invocation runs"),
    languages: z.array(Language).describe("the languages generated, one output tree $out/<lang> each"),
  },
  refine: checkCodeGen,
});
export type CodeGenSpec = z.output<typeof CodeGenBuilder.schema>;

/** One run of the generator: its arguments and environment. */
export const Invocation = strictObject({
  args: z.array(Arg).default([]).describe("the generator's arguments"),
  env: Env.default({}).describe("environment of this run"),
});
export type Invocation = z.input<typeof Invocation>;

/** Arguments of `codeGen`, with the original's defaults. */
export const CodeGenArgs = strictObject({
  name: storeNamed("-generated".length).min(1),
  generator: z.string().min(1),
  languages: z.array(Language),
  /** The generator's tool: a tool record, or `{name, package}`. */
  tool: strictObject({ _con: z.literal("MetaBuilderTool").optional(), name: z.string().min(1), package: PackageRef }),
  invocations: z.array(Invocation),
  inputs: z.array(Source).default([]),
  dependencies: z.array(Dependency).default([]),
  parameters: z.array(Parameter).default([]),
  evidence: z.array(Evidence).default([]),
});
export type CodeGenArgs = z.input<typeof CodeGenArgs>;

/** The output tree of one language: `$out/<lang>`, a tree (the original's `perLanguageOutput`). */
export function perLanguageOutput(lang: string): Output {
  return C.output({ name: lang, path: `$out/${lang}`, format: "tree" });
}

/** Invocations writing into `$out/<dir>` where `<dir>` is not one of the languages (each has the transformOutput of its tree). */
function invocationProblems(languages: readonly string[], invocations: readonly { args: readonly unknown[] }[]): Issue[] {
  return invocations.flatMap((inv, i) =>
    inv.args.flatMap((arg, j) =>
      typeof arg !== "string"
        ? []
        : outDirsOf(arg)
            .filter((dir) => !languages.includes(dir))
            .map((dir) => ({
              path: ["invocations", i, "args", j],
              message: `writes into $out/${dir}, but '${dir}' is not an output language (no transformOutput declares it; languages: ${languages.map((l) => `'${l}'`).join(", ") || "none"})`,
            })),
    ),
  );
}

/** The original's `codeGen`: a typed code-generation spec from one config record. */
export function codeGen(args: CodeGenArgs): CodeGenSpec {
  const a = parseOrThrow(CodeGenArgs, args, "codeGen", "constructor.invalid");
  const problems = invocationProblems(a.languages, a.invocations);
  if (a.generator !== a.tool.name) problems.unshift({ path: ["generator"], message: `generator '${a.generator}' is not the declared tool '${a.tool.name}'` });
  if (problems.length > 0) {
    throw new MbError("constructor.invalid", `codeGen does not match its schema (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${formatPath(p.path)}: ${p.message}`).join("\n")}`, {
      exitCode: ExitCode.usage,
      issues: problems,
    });
  }
  const toolOp = C.tool({ name: a.tool.name, package: a.tool.package });
  const outputs = a.languages.map(perLanguageOutput);
  const operations: Operation[] = [
    ...a.inputs.map((src) => C.readSource({ name: src.name, source: src })),
    ...a.dependencies.map((dependency) => C.resolveDependency({ dependency })),
    C.declareTool({ tool: toolOp }),
    ...a.invocations.map((inv, i) => C.runTool({ name: `${a.generator}-${i}`, tool: toolOp, args: inv.args, env: inv.env })),
    ...outputs.map((output) => C.transformOutput({ output })),
    C.emitDescriptor({ descriptor: C.descriptor({ name: `${a.name}-codegen`, payload: { kind: "codegen", generator: a.generator, languages: a.languages } }) }),
    C.materializeDerivation({ name: `${a.name}-generated`, builder: "runCommand" }),
  ];
  const spec = {
    _con: "MetaBuilderSpec" as const,
    name: a.name,
    generator: a.generator,
    languages: a.languages,
    parameters: a.parameters,
    inputs: a.inputs,
    dependencies: a.dependencies,
    tools: [toolOp],
    operations,
    outputs,
    evidence: a.evidence,
  };
  return markOrnamented(parseOrThrow(CodeGenBuilder.schema, spec, "codeGen", "constructor.invalid"), CodeGenBuilder.inserted);
}

/** The code-gen ornament as the registry loads it: the original's two-language demo (one invocation). */
export const codeGenOrnament: LoadedOrnament<typeof CodeGenBuilder.schema> = {
  ornament: CodeGenBuilder,
  example: () =>
    codeGen({
      name: "demo",
      generator: "demo-gen",
      languages: ["a", "b"],
      tool: { name: "demo-gen", package: C.hostPackage("demo-gen") },
      invocations: [{ args: ["--ok", "--a_out=$out/a", "--b_out=$out/b"] }],
    }),
};
