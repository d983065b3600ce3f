/**
 * The operation table: one row per constructor, the single source of truth for the alphabet. Each row gives the
 * constructor's schema, its family, a package lens (every package reference it carries), what it declares or uses
 * in scope, and its lowering into plan parts. The union (`spec.ts`), smart constructors, families, runtime kinds,
 * resolution's package rewriting and the compile pass are all derived from it: a new constructor fails compilation
 * here until its row exists, and in every view until handled.
 */
import { canonicalJson, storeHash } from "./hash.js";
import { packageInfo, safeName } from "./package.js";
import type { Family, PlanStep, RuntimeArtifact } from "./plan.js";
import type { Output } from "./records.js";
import type { CapabilityCategory, Protocol } from "./runtime.js";
import { operationSchemas, type Arg, type OpCon, type OpOf, type Operation, type PackageRef, type Service, type Tool } from "./spec.js";

export { OPERATION_NAMES, Operation, operationSchemas, type OpCon, type OpOf, Arg, Env, EnvName } from "./spec.js";
export { Family } from "./plan.js";

/** Rewrites one package reference; `field` names where it sits in the operation (e.g. `tool.package`). */
export type PackageMap = (ref: PackageRef, field: string) => PackageRef;

/** A name an operation declares or uses: a tool (declareTool/runTool) or a service (declareService/materializeUnit). */
export interface ScopeName {
  readonly kind: "tool" | "service";
  readonly name: string;
}

/** What lowering may ask of the compile pass. */
export interface LowerScope {
  /** The declared service of that name (the compile pass checks scope before lowering, so it exists). */
  service(name: string): Service;
  /** The store directory runtime artifacts are named in. */
  readonly storeDir: string;
}

/** What one operation contributes to the plan; the compile pass appends the parts in program order. */
export interface PlanPart {
  readonly steps?: readonly PlanStep[];
  readonly tools?: readonly Tool[];
  readonly outputs?: readonly Output[];
  readonly nativePaths?: readonly string[];
  /** Values that are local inputs when they are absolute paths (`pathMap`). */
  readonly inputs?: readonly unknown[];
  readonly derivation?: { readonly name: string; readonly builder: string };
  readonly capabilities?: readonly CapabilityCategory[];
  readonly protocols?: readonly Protocol[];
  readonly services?: readonly Service[];
  readonly runtimeArtifacts?: readonly RuntimeArtifact[];
}

/** One row of the operation table. */
export interface OperationDef<K extends OpCon> {
  readonly schema: (typeof operationSchemas)[K];
  readonly family: Family;
  /** Applies `f` to every package reference the operation carries, returning the rewritten operation. */
  readonly packages: (op: OpOf<K>, f: PackageMap) => OpOf<K>;
  /** The name the operation brings into scope, if any. */
  readonly declares?: (op: OpOf<K>) => ScopeName;
  /** The name the operation needs declared before it, if any. */
  readonly uses?: (op: OpOf<K>) => ScopeName;
  /** Lowers the operation to its part of the plan. */
  readonly lower: (op: OpOf<K>, scope: LowerScope) => PlanPart;
}

/** The table's type: a row for every constructor, and nothing else. */
export type OperationTable = { readonly [K in OpCon]: OperationDef<K> };

const none = () => ({});
const keep = <T>(op: T): T => op;
const isPackageObject = (a: unknown): a is Exclude<PackageRef, string> =>
  typeof a === "object" && a !== null && ["hostPackage", "pathPackage", "builderPackage", "resolvedPackage"].includes((a as { _con: string })._con);
const tool = (t: Tool, f: PackageMap, field: string): Tool => ({ ...t, package: f(t.package, field) });
const localOf = (source: { _con: string; path?: string }) => (source._con === "localSource" ? [source.path] : []);

/** The service as JSON: packages dropped, enums as plain strings (they are strings already). */
export function serviceDescriptor(svc: Service): Record<string, unknown> {
  const { package: _pkg, ...rest } = svc;
  return rest;
}

// A service's artifact depends only on the service, so its hash is computed once per service value.
const artifactHashes = new WeakMap<Service, string>();
/** The runtime artifact of a service: its descriptor, written as its own store file named by its content (and its name, kept to the store's safe set). */
export function serviceArtifact(svc: Service, storeDir: string): RuntimeArtifact {
  const descriptor = serviceDescriptor(svc);
  let hash = artifactHashes.get(svc);
  if (hash === undefined) {
    hash = storeHash(`service-artifact:${canonicalJson(descriptor)}`);
    artifactHashes.set(svc, hash);
  }
  return { _con: "MetaBuilderRuntimeArtifact", kind: "service", name: svc.name, descriptor, storePath: `${storeDir}/${hash}-service-${safeName(svc.name)}.json` };
}

/** The operation table (reference sections 3 and 5). */
export const operations = {
  readSource: { schema: operationSchemas.readSource, family: "builder", packages: keep, lower: (op) => ({ inputs: localOf(op.source) }) },
  resolveDependency: {
    schema: operationSchemas.resolveDependency,
    family: "builder",
    packages: (op, f) => ({ ...op, dependency: { ...op.dependency, package: f(op.dependency.package, "dependency.package") } }),
    lower: (op) => {
      const info = packageInfo(op.dependency.package);
      return { nativePaths: [info.outPath ?? info.packageName] };
    },
  },
  declareTool: {
    schema: operationSchemas.declareTool,
    family: "builder",
    packages: (op, f) => ({ ...op, tool: tool(op.tool, f, "tool.package") }),
    declares: (op) => ({ kind: "tool", name: op.tool.name }),
    lower: (op) => ({ tools: [op.tool] }),
  },
  runTool: {
    schema: operationSchemas.runTool,
    family: "builder",
    packages: (op, f) => ({ ...op, tool: tool(op.tool, f, "tool.package"), args: op.args.map((a: Arg, i) => (isPackageObject(a) ? f(a, `args[${i}]`) : a)) }),
    uses: (op) => ({ kind: "tool", name: op.tool.name }),
    lower: (op) => ({ inputs: op.args, steps: [{ _con: "runStep", name: op.name, tool: op.tool, args: op.args, env: op.env }] }),
  },
  writeFile: {
    schema: operationSchemas.writeFile,
    family: "builder",
    packages: keep,
    lower: (op) => ({ steps: [{ _con: "writeStep", name: `write:${op.output.path}`, path: op.output.path, text: op.text }] }),
  },
  copyPath: {
    schema: operationSchemas.copyPath,
    family: "builder",
    packages: keep,
    lower: (op) => ({ inputs: localOf(op.source), steps: [{ _con: "copyStep", name: `copy:${op.output.path}`, source: op.source, path: op.output.path }] }),
  },
  transformOutput: { schema: operationSchemas.transformOutput, family: "builder", packages: keep, lower: (op) => ({ outputs: [op.output] }) },
  validateValue: { schema: operationSchemas.validateValue, family: "builder", packages: keep, lower: none },
  emitDescriptor: { schema: operationSchemas.emitDescriptor, family: "builder", packages: keep, lower: none },
  materializeDerivation: {
    schema: operationSchemas.materializeDerivation,
    family: "builder",
    packages: keep,
    lower: (op) => ({ derivation: { name: op.name, builder: op.builder } }),
  },
  declareEvidence: { schema: operationSchemas.declareEvidence, family: "builder", packages: keep, lower: none },
  declareCapability: { schema: operationSchemas.declareCapability, family: "runtime", packages: keep, lower: (op) => ({ capabilities: [op.category] }) },
  declareProtocol: { schema: operationSchemas.declareProtocol, family: "runtime", packages: keep, lower: (op) => ({ protocols: [op.protocol] }) },
  declareService: {
    schema: operationSchemas.declareService,
    family: "runtime",
    packages: (op, f) => ({ ...op, service: { ...op.service, package: f(op.service.package, "service.package") } }),
    declares: (op) => ({ kind: "service", name: op.service.name }),
    lower: (op) => ({ services: [op.service] }),
  },
  materializeUnit: {
    schema: operationSchemas.materializeUnit,
    family: "runtime",
    packages: keep,
    uses: (op) => ({ kind: "service", name: op.name }),
    lower: (op, scope) => ({ runtimeArtifacts: [serviceArtifact(scope.service(op.name), scope.storeDir)] }),
  },
} as const satisfies OperationTable;

/** Looks up the row of an operation's constructor (typed for that operation). */
export function operationDef<K extends OpCon>(con: K): OperationDef<K> {
  return (operations as OperationTable)[con];
}

/** The family of a constructor. */
export function familyOf(con: OpCon): Family {
  return operations[con].family;
}

/** Rewrites every package reference of an operation through its row's lens. */
export function mapPackages(op: Operation, f: PackageMap): Operation {
  return (operationDef(op._con).packages as (op: Operation, f: PackageMap) => Operation)(op, f);
}

/** Constructor names of one family, in the reference's order. */
export function operationNamesOf(family: Family): OpCon[] {
  return (Object.keys(operations) as OpCon[]).filter((k) => operations[k].family === family);
}
/** Build-time constructor names, in the reference's order. */
export const builderOperationNames = operationNamesOf("builder");
/** Runtime constructor names, in the reference's order. */
export const runtimeOperationNames = operationNamesOf("runtime");
