/**
 * The builder spec (MetaBuilderSpec) and everything that holds a package reference: packages, dependencies, tools,
 * services, and the schema of each operation. One module, because these schemas are mutually recursive (a package may
 * be another builder's whole spec), so no import order can leave one of them undefined.
 */
import { z } from "zod";
import { storeNamed, strictObject, uniqueNames } from "./strict.js";
import { Descriptor, Evidence, HostPackage, Output, Parameter, PathPackage, ResolvedPackage, Source, Validation } from "./records.js";
import type { Evidence as EvidenceT, Output as OutputT, Parameter as ParameterT, Source as SourceT } from "./records.js";
import { CapabilityCategory, CapabilitySet, Param, Protocol, serviceProblem } from "./runtime.js";
import { SandboxProfile } from "./sandbox.js";

const nameField = z.string();
const emptySet = { _con: "MetaBuilderCapabilitySet" as const, categories: [], custom: [] };

/** The output of another builder: realized first, its store path known from its description. */
export const BuilderPackage = strictObject({
  _con: z.literal("builderPackage"),
  get spec(): z.ZodType<BuilderSpec> {
    return BuilderSpec as unknown as z.ZodType<BuilderSpec>;
  },
});
export type BuilderPackage = { _con: "builderPackage"; spec: BuilderSpec };

/** Any package reference a spec may hold; a plain string names a host package (or, when absolute, a store path). */
export const PackageRef = z.union([z.string().min(1), HostPackage, PathPackage, BuilderPackage, ResolvedPackage]);
export type PackageRef = string | HostPackage | PathPackage | BuilderPackage | ResolvedPackage;

/** A dependency of the build: its package's library paths become native paths. */
export const Dependency = strictObject({
  _con: z.literal("MetaBuilderDependency").default("MetaBuilderDependency"),
  name: nameField,
  role: z.string().default("runtime"),
  package: PackageRef,
});
export type Dependency = z.infer<typeof Dependency>;

/** A tool the build runs, provided by a package. */
export const Tool = strictObject({
  _con: z.literal("MetaBuilderTool").default("MetaBuilderTool"),
  name: nameField,
  package: PackageRef,
});
export type Tool = z.infer<typeof Tool>;

/** A service: a package offering capabilities over protocols. Checked on construction (see `serviceProblem`). */
export const Service = strictObject({
    _con: z.literal("MetaBuilderService").default("MetaBuilderService"),
    name: storeNamed("service-.json".length).describe("The service's name; its runtime artifact is `<hash>-service-<name>.json`."),
    description: z.string().default("").describe("What the service is."),
    package: PackageRef.describe("The package that runs the service."),
    capabilities: CapabilitySet.default(emptySet).describe("The capabilities the service offers."),
    protocols: z.array(Protocol).default([]).describe("The protocols it speaks; one of them must carry every capability it offers."),
    config: z.array(Param).default([]).describe("Its configuration parameters."),
    /** The sandbox the service runs under; absent, `serviceProfile` (src/ornaments/sandbox/) derives a default. */
    sandbox: SandboxProfile.optional().describe("The sandbox profile the service runs under (`mb run`, systemd hardening); absent: a default derived from the service."),
  })
  .superRefine((svc, ctx) => {
    const problem = serviceProblem(svc);
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["protocols"] });
  })
  .describe("A service: a package offering capabilities over protocols.");
export type Service = z.infer<typeof Service>;

/** An argument of runTool: text, a number, or a package whose path is substituted. */
export const Arg = z.union([z.string(), z.number(), PackageRef]);
export type Arg = z.infer<typeof Arg>;
/** An environment variable name: rendered as the `K=v` prefix of a command, so it must be a shell identifier. */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name must be a shell identifier ([A-Za-z_][A-Za-z0-9_]*)");
/** A runTool environment: names to text or numbers. */
export const Env = z.record(EnvName, z.union([z.string(), z.number()]));
export type Env = z.infer<typeof Env>;

const op = <C extends string, F extends z.ZodRawShape>(con: C, fields: F) => strictObject({ _con: z.literal(con), ...fields });

/**
 * The schema of every operation (reference section 3), by constructor, in the reference's order: 11 build-time, then
 * 4 runtime. This record is the schema column of the operation table (`operations.ts`); the union is derived from it.
 */
export const operationSchemas = {
  /** Read a source into the build. */
  readSource: op("readSource", { name: z.string(), source: Source }),
  /** Resolve a dependency; its package's libraries join the native paths. */
  resolveDependency: op("resolveDependency", { dependency: Dependency }),
  /** Declare a tool; runTool may only use declared tools. */
  declareTool: op("declareTool", { tool: Tool }),
  /** Run a declared tool with arguments and environment. */
  runTool: op("runTool", { name: z.string(), tool: Tool, args: z.array(Arg).default([]), env: Env.default({}) }),
  /** Write a text file at an output path. */
  writeFile: op("writeFile", { output: Output, text: z.string() }),
  /** Copy a source to an output path. */
  copyPath: op("copyPath", { source: Source, output: Output }),
  /** Declare an output of the build. */
  transformOutput: op("transformOutput", { output: Output }),
  /** Validate a named value. */
  validateValue: op("validateValue", { validation: Validation }),
  /** Emit a descriptor alongside the artifact. */
  emitDescriptor: op("emitDescriptor", { descriptor: Descriptor }),
  /** Name the artifact and pick its builder (only runCommand is realized). */
  materializeDerivation: op("materializeDerivation", { name: storeNamed(), builder: z.string().default("runCommand") }),
  /** Attach evidence to the artifact. */
  declareEvidence: op("declareEvidence", { evidence: Evidence }),
  /** Declare a capability category offered at run time. */
  declareCapability: op("declareCapability", { category: CapabilityCategory }),
  /** Declare a wire protocol. */
  declareProtocol: op("declareProtocol", { protocol: Protocol }),
  /** Declare a service. */
  declareService: op("declareService", { service: Service }),
  /** Materialize a declared service as a runtime unit (a service descriptor artifact). */
  materializeUnit: op("materializeUnit", { name: z.string() }),
} as const;

type Schemas = typeof operationSchemas;
/** Every constructor name. */
export type OpCon = keyof Schemas;
/** The operation with a given constructor. */
export type OpOf<K extends OpCon> = z.output<Schemas[K]>;
/** The closed operation union, derived from the schema table. */
export type Operation = { [K in OpCon]: OpOf<K> }[OpCon];
/** The operation union's schema, derived from the schema table. */
export const Operation = z.discriminatedUnion("_con", Object.values(operationSchemas) as unknown as [Schemas[OpCon], ...Schemas[OpCon][]]);
/** Every constructor name, in the reference's order. */
export const OPERATION_NAMES = Object.keys(operationSchemas) as OpCon[];

/** A builder spec: every field a list, operations in order, evidence lowered to trailing operations. */
export const BuilderSpec = strictObject({
  _con: z.literal("MetaBuilderSpec").default("MetaBuilderSpec"),
  name: storeNamed(),
  parameters: z.array(Parameter),
  inputs: z.array(Source),
  dependencies: z.array(Dependency),
  tools: uniqueNames(Tool, "tool"),
  operations: z.array(Operation),
  outputs: uniqueNames(Output, "output"),
  evidence: z.array(Evidence),
});
/**
 * A parsed builder spec. Written out as an interface (checked against the schema below) because the type is recursive
 * through builder packages, and only an interface lets TypeScript defer it.
 */
export interface BuilderSpec {
  _con: "MetaBuilderSpec";
  name: string;
  parameters: ParameterT[];
  inputs: SourceT[];
  dependencies: Dependency[];
  tools: Tool[];
  operations: Operation[];
  outputs: OutputT[];
  evidence: EvidenceT[];
}
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time proof that the interface is exactly what the schema parses to. */
export const builderSpecMatchesSchema: Same<z.output<typeof BuilderSpec>, BuilderSpec> = true;
/** The spec as written, before defaults are filled in. */
export type BuilderSpecInput = z.input<typeof BuilderSpec>;
