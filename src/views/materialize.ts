/** The materialize view: folds a program into a BuildPlan (pure; the engine realizes it). */
import { ExitCode, MbError } from "../core/errors.js";
import { canonicalJson, storeHash } from "../core/hash.js";
import { packageInfo } from "../core/package.js";
import type { BuildPlan, PlanStep, RuntimeArtifact } from "../core/plan.js";
import type { Output, Tool } from "../core/records.js";
import type { CapabilityCategory, Protocol, Service } from "../core/runtime.js";
import { isLocalPath, pathMapKey } from "../program/render.js";
import { type Program, type OpHandlers, fold } from "../program/fold.js";

/** Where runtime artifacts would live when no store is given (views never read the machine). */
export const DEFAULT_STORE_DIR = "/metabuilder/store";

/** Options of the plan fold. */
export interface MaterializeOptions {
  /** The store directory used to name runtime artifacts. */
  readonly storeDir?: string;
}

interface State {
  name: string;
  builder: string;
  tools: Tool[];
  outputs: Output[];
  pathMap: Map<string, string>;
  nativePaths: string[];
  steps: PlanStep[];
  declaredCapabilities: CapabilityCategory[];
  declaredProtocols: Protocol[];
  declaredServices: Service[];
  runtimeArtifacts: RuntimeArtifact[];
  declaredTools: Set<string>;
  serviceIndex: Map<string, Service>;
  storeDir: string;
}

function registerLocal(s: State, p: unknown): void {
  if (isLocalPath(p)) s.pathMap.set(pathMapKey(p as string), p as string);
}

/** The service as JSON: packages dropped, enums as plain strings (they are strings already). */
export function serviceDescriptor(svc: Service): Record<string, unknown> {
  const { package: _pkg, ...rest } = svc;
  return rest;
}

// A service's artifact depends only on the service, so its hash is computed once per service value.
const artifactHashes = new WeakMap<Service, string>();
function artifactHash(svc: Service, descriptor: Record<string, unknown>): string {
  let h = artifactHashes.get(svc);
  if (h === undefined) {
    h = storeHash(`service-artifact:${canonicalJson(descriptor)}`);
    artifactHashes.set(svc, h);
  }
  return h;
}

const same = <S>(_op: unknown, s: S): S => s;

const handlers = {
  readSource: (op, s) => {
    if (op.source._con === "localSource") registerLocal(s, op.source.path);
    return s;
  },
  resolveDependency: (op, s) => {
    const info = packageInfo(op.dependency.package);
    s.nativePaths.push(info.outPath ?? info.packageName);
    return s;
  },
  declareTool: (op, s) => {
    s.tools.push(op.tool);
    s.declaredTools.add(op.tool.name);
    return s;
  },
  runTool: (op, s) => {
    if (!s.declaredTools.has(op.tool.name)) {
      throw new MbError(
        "plan.undeclared-tool",
        `runTool '${op.name}' references undeclared tool '${op.tool.name}'. Declared so far: [${[...s.declaredTools].join(", ")}]. Add a declareTool operation for this tool before runTool.`,
        { exitCode: ExitCode.problems },
      );
    }
    for (const a of op.args) registerLocal(s, a);
    s.steps.push({ _con: "runStep", name: op.name, tool: op.tool, args: op.args, env: op.env });
    return s;
  },
  writeFile: (op, s) => {
    s.steps.push({ _con: "writeStep", name: `write:${op.output.path}`, path: op.output.path, text: op.text });
    return s;
  },
  copyPath: (op, s) => {
    if (op.source._con === "localSource") registerLocal(s, op.source.path);
    s.steps.push({ _con: "copyStep", name: `copy:${op.output.path}`, source: op.source, path: op.output.path });
    return s;
  },
  transformOutput: (op, s) => {
    s.outputs.push(op.output);
    return s;
  },
  validateValue: same,
  emitDescriptor: same,
  materializeDerivation: (op, s) => {
    s.name = op.name;
    s.builder = op.builder;
    return s;
  },
  declareEvidence: same,
  declareCapability: (op, s) => {
    s.declaredCapabilities.push(op.category);
    return s;
  },
  declareProtocol: (op, s) => {
    s.declaredProtocols.push(op.protocol);
    return s;
  },
  declareService: (op, s) => {
    s.declaredServices.push(op.service);
    s.serviceIndex.set(op.service.name, op.service);
    return s;
  },
  materializeUnit: (op, s) => {
    const svc = s.serviceIndex.get(op.name);
    if (!svc) {
      throw new MbError(
        "plan.undeclared-service",
        `materializeUnit '${op.name}' references undeclared service. Declared so far: [${[...s.serviceIndex.keys()].join(", ")}]. Add a declareService operation for this service before materializeUnit.`,
        { exitCode: ExitCode.problems },
      );
    }
    const descriptor = serviceDescriptor(svc);
    const file = `service-${op.name}.json`;
    s.runtimeArtifacts.push({
      _con: "MetaBuilderRuntimeArtifact",
      kind: "service",
      name: op.name,
      descriptor,
      storePath: `${s.storeDir}/${artifactHash(svc, descriptor)}-${file}`,
    });
    return s;
  },
} satisfies OpHandlers<State>;

/** Folds a program into its BuildPlan; a runTool before its declareTool, or a unit of an undeclared service, is an error (exit 1). */
export function materialize(program: Program, options: MaterializeOptions = {}): BuildPlan {
  const s = fold<State>(
    program,
    handlers,
    {
      name: "metabuilder-output",
      builder: "runCommand",
      tools: [],
      outputs: [],
      pathMap: new Map(),
      nativePaths: [],
      steps: [],
      declaredCapabilities: [],
      declaredProtocols: [],
      declaredServices: [],
      runtimeArtifacts: [],
      declaredTools: new Set(),
      serviceIndex: new Map(),
      storeDir: options.storeDir ?? DEFAULT_STORE_DIR,
    },
    "materialize",
  );
  const pathMap: Record<string, string> = {};
  for (const k of [...s.pathMap.keys()].sort()) pathMap[k] = s.pathMap.get(k)!;
  return {
    _con: "MetaBuilderPlan",
    name: s.name,
    builder: s.builder,
    tools: s.tools,
    outputs: s.outputs,
    pathMap,
    nativePaths: s.nativePaths,
    steps: s.steps,
    declaredCapabilities: s.declaredCapabilities,
    declaredProtocols: s.declaredProtocols,
    declaredServices: s.declaredServices,
    runtimeArtifacts: s.runtimeArtifacts,
  };
}
