/** The operation alphabet (reference section 3): one closed union discriminated by `_con`, 11 build-time and 4 runtime constructors. */
import { z } from "zod";
import {
  Dependency, Descriptor, Evidence, Output, PackageRef, Source, Tool, Validation,
} from "./records.js";
import { CapabilityCategory, Protocol, Service } from "./runtime.js";

/** An argument of runTool: text, a number, or a package whose path is substituted. */
export const Arg = z.union([z.string(), z.number(), PackageRef]);
export type Arg = z.infer<typeof Arg>;

/** Read a source into the build. */
export const ReadSource = z.object({ _con: z.literal("readSource"), name: z.string(), source: Source });
/** Resolve a dependency; its package's libraries join the native paths. */
export const ResolveDependency = z.object({ _con: z.literal("resolveDependency"), dependency: Dependency });
/** Declare a tool; runTool may only use declared tools. */
export const DeclareTool = z.object({ _con: z.literal("declareTool"), tool: Tool });
/** An environment variable name: rendered as the `K=v` prefix of a command, so it must be a shell identifier. */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name must be a shell identifier ([A-Za-z_][A-Za-z0-9_]*)");
/** A runTool environment: names to text or numbers. */
export const Env = z.record(EnvName, z.union([z.string(), z.number()]));
export type Env = z.infer<typeof Env>;

/** Run a declared tool with arguments and environment. */
export const RunTool = z.object({
  _con: z.literal("runTool"),
  name: z.string(),
  tool: Tool,
  args: z.array(Arg).default([]),
  env: Env.default({}),
});
/** Write a text file at an output path. */
export const WriteFile = z.object({ _con: z.literal("writeFile"), output: Output, text: z.string() });
/** Copy a source to an output path. */
export const CopyPath = z.object({ _con: z.literal("copyPath"), source: Source, output: Output });
/** Declare an output of the build. */
export const TransformOutput = z.object({ _con: z.literal("transformOutput"), output: Output });
/** Validate a named value. */
export const ValidateValue = z.object({ _con: z.literal("validateValue"), validation: Validation });
/** Emit a descriptor alongside the artifact. */
export const EmitDescriptor = z.object({ _con: z.literal("emitDescriptor"), descriptor: Descriptor });
/** Name the artifact and pick its builder (only runCommand is realized). */
export const MaterializeDerivation = z.object({
  _con: z.literal("materializeDerivation"),
  name: z.string(),
  builder: z.string().default("runCommand"),
});
/** Attach evidence to the artifact. */
export const DeclareEvidence = z.object({ _con: z.literal("declareEvidence"), evidence: Evidence });

/** Declare a capability category offered at run time. */
export const DeclareCapability = z.object({ _con: z.literal("declareCapability"), category: CapabilityCategory });
/** Declare a wire protocol. */
export const DeclareProtocol = z.object({ _con: z.literal("declareProtocol"), protocol: Protocol });
/** Declare a service. */
export const DeclareService = z.object({ _con: z.literal("declareService"), service: Service });
/** Materialize a declared service as a runtime unit (a service descriptor artifact). */
export const MaterializeUnit = z.object({ _con: z.literal("materializeUnit"), name: z.string() });

/** Build-time operation schemas, by constructor. */
export const builderOperationSchemas = {
  readSource: ReadSource,
  resolveDependency: ResolveDependency,
  declareTool: DeclareTool,
  runTool: RunTool,
  writeFile: WriteFile,
  copyPath: CopyPath,
  transformOutput: TransformOutput,
  validateValue: ValidateValue,
  emitDescriptor: EmitDescriptor,
  materializeDerivation: MaterializeDerivation,
  declareEvidence: DeclareEvidence,
} as const;

/** Runtime operation schemas, by constructor. */
export const runtimeOperationSchemas = {
  declareCapability: DeclareCapability,
  declareProtocol: DeclareProtocol,
  declareService: DeclareService,
  materializeUnit: MaterializeUnit,
} as const;

/** The closed operation union. */
export const Operation = z.discriminatedUnion("_con", [
  ReadSource, ResolveDependency, DeclareTool, RunTool, WriteFile, CopyPath, TransformOutput,
  ValidateValue, EmitDescriptor, MaterializeDerivation, DeclareEvidence,
  DeclareCapability, DeclareProtocol, DeclareService, MaterializeUnit,
]);
export type Operation = z.infer<typeof Operation>;
/** Every constructor name. */
export type OpCon = Operation["_con"];
/** The operation with a given constructor. */
export type OpOf<K extends OpCon> = Extract<Operation, { _con: K }>;

/** The two families every operation belongs to. */
export type Family = "builder" | "runtime";
/** Build-time constructor names, in the reference's order. */
export const builderOperationNames = Object.keys(builderOperationSchemas) as (keyof typeof builderOperationSchemas)[];
/** Runtime constructor names, in the reference's order. */
export const runtimeOperationNames = Object.keys(runtimeOperationSchemas) as (keyof typeof runtimeOperationSchemas)[];

/** The family of a constructor. */
export function familyOf(con: OpCon): Family {
  return con in runtimeOperationSchemas ? "runtime" : "builder";
}
