// The original's node-service example: a Node HTTP service (/health, /version, /metrics) built into a store entry
// holding lib/<name>/server.js and a bin/<name> wrapper, plus its runtime side: the lifecycle capabilities, the http
// protocol (TCP/JSON, PORT, default port 3000), the service and its unit. `mb run examples/node-service` starts it.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  capabilities,
  capabilitySet,
  declareCapability,
  declareProtocol,
  declareService,
  declareTool,
  defineOrnament,
  descriptor,
  emitDescriptor,
  escapeShellArg,
  evidence,
  fromOrnamentedSpec,
  generatedSource,
  hostPackage,
  materializeDerivation,
  materializeUnit,
  output,
  param,
  parameter,
  pathPackage,
  protocol,
  readSource,
  runTool,
  Service,
  service,
  tool,
  transformOutput,
  writeFile,
  type PackageRef,
} from "metabuilder";

/** NodeServiceBuilder: the base spec plus runtimeVersion, entrypoint, packageManager, scripts, testCommand and service. */
export const NodeServiceBuilder = defineOrnament({
  name: "MetaBuilderNodeService",
  fields: {
    runtimeVersion: z.string().describe("the Node runtime's version (or 'node' when the host's is used)"),
    entrypoint: z.string().describe("the service's entry file, as installed under lib/<name>/"),
    packageManager: z.string().describe("the package manager the project names (npm)"),
    scripts: z.record(z.string(), z.string()).describe("package.json scripts: start and test"),
    testCommand: z.string().describe("the self-test command, run in lib/<name>/ by `mb check`"),
    service: Service.describe("the runnable service this builder produces"),
  },
});
export type NodeServiceSpec = z.output<typeof NodeServiceBuilder.schema>;

// The built-in lifecycle category (start, stop, health), as the original's mb.ornaments.capabilities.builtins.lifecycle.
const lifecycle = capabilities.builtins.lifecycle;

// Installs the entry file and a bin/<name> wrapper that execs node on it. Every value comes in as a positional
// argument (out, source, runtime package, name, entrypoint); printf %q quotes what the wrapper holds.
const INSTALL_SCRIPT = [
  "set -eu",
  'out_dir="$1"; src="$2"; runtime="$3"; name="$4"; entry="$5"',
  'mkdir -p "$out_dir/bin" "$out_dir/lib/$name" "$out_dir/share/$name"',
  'cp "$src" "$out_dir/lib/$name/$entry"',
  "printf '#!/bin/bash\\nexec %q %q \"$@\"\\n' \"$runtime/bin/node\" \"$out_dir/lib/$name/$entry\" > \"$out_dir/bin/$name\"",
  'node -e \'require("node:fs").chmodSync(process.argv[1], 0o555)\' "$out_dir/bin/$name"',
].join("\n");

/** Arguments of `nodeService`, with the original's defaults. */
export interface NodeServiceArgs {
  readonly name: string;
  /** The absolute path of the entry file (imported into the store by content, so store paths do not depend on where the file lies). */
  readonly source: string;
  readonly version?: string;
  readonly runtimePackage?: PackageRef;
  readonly runtimeVersion?: string;
  readonly entrypoint?: string;
  readonly packageManager?: string;
  readonly port?: number;
  readonly healthPath?: string;
}

/** The original's nodeService: the spec of a Node service, its build operations first, then its runtime declarations. */
export function nodeService(args: NodeServiceArgs): NodeServiceSpec {
  const {
    name,
    source,
    version = "0.1.0",
    runtimePackage = hostPackage("nodejs"),
    runtimeVersion = "node",
    entrypoint = basename(source),
    packageManager = "npm",
    port = 3000,
    healthPath = "/health",
  } = args;
  const sourcePackage = pathPackage(source, entrypoint);
  const sourceFile = generatedSource({ name: entrypoint, producer: `pathPackage ${entrypoint}` });
  const nodeTool = tool({ name: "node", package: runtimePackage });
  const bashTool = tool({ name: "bash", package: hostPackage("bash") });

  const lifecycleSet = capabilitySet({ categories: [lifecycle] });
  const http = protocol({
    name: "http",
    description: "HTTP service protocol",
    transport: "TCP",
    serialization: "JSON",
    defaultPort: port,
    portEnvVar: "PORT",
    capabilities: lifecycleSet,
    options: { healthPath },
  });
  const svc = service({
    name: `${name}-service`,
    description: "Runnable Node service artifact",
    package: runtimePackage,
    capabilities: lifecycleSet,
    protocols: [http],
    config: [
      param({ name: "port", description: "TCP port for the HTTP server", type: "RTInt", required: false }),
      param({ name: "healthPath", description: "HTTP path used for health checks", type: "RTString", required: false }),
    ],
  });

  const testCommand = `node --check ${escapeShellArg(entrypoint)}`;
  const scripts = { start: `node ${escapeShellArg(entrypoint)}`, test: testCommand };
  const appOutput = output({ name: "service-tree", path: "$out", format: "tree" });
  const packageOutput = output({ name: "package-json", path: `share/${name}/package.json`, format: "json" });
  const packageJson = JSON.stringify({ name, version, type: "module", main: entrypoint, private: true, scripts });

  const operations = [
    readSource({ name: entrypoint, source: sourceFile }),
    declareTool({ tool: nodeTool }),
    declareTool({ tool: bashTool }),
    writeFile({ output: packageOutput, text: packageJson }),
    runTool({ name: "syntax-check", tool: nodeTool, args: ["--check", sourcePackage] }),
    runTool({ name: "install-service", tool: bashTool, args: ["-c", INSTALL_SCRIPT, "install-node-service", "$out", sourcePackage, runtimePackage, name, entrypoint] }),
    emitDescriptor({
      descriptor: descriptor({ name: `${name}-metadata`, payload: { kind: "node-service", entrypoint, packageManager, runtimeVersion, port, healthPath } }),
    }),
    transformOutput({ output: appOutput }),
    transformOutput({ output: packageOutput }),
    materializeDerivation({ name: `${name}-artifact`, builder: "runCommand" }),
    ...lifecycleSet.categories.map((category) => declareCapability({ category })),
    declareProtocol({ protocol: http }),
    declareService({ service: svc }),
    materializeUnit({ name: svc.name }),
  ];

  return {
    _con: "MetaBuilderSpec",
    name,
    runtimeVersion,
    entrypoint,
    packageManager,
    scripts,
    testCommand,
    service: svc,
    parameters: [parameter({ name: "port", value: port }), parameter({ name: "healthPath", value: healthPath })],
    inputs: [sourceFile],
    dependencies: [],
    tools: [nodeTool, bashTool],
    operations,
    outputs: [appOutput, packageOutput],
    // The self-test runs where the entry file is installed (evidence runs with `$out` set to the store path).
    evidence: [evidence({ name: "self-test", payload: { command: `cd "$out"/lib/${escapeShellArg(name)} && ${testCommand}` } })],
  };
}

export const spec = nodeService({ name: "node-service-demo", source: fileURLToPath(new URL("./server.js", import.meta.url)) });

export default fromOrnamentedSpec(NodeServiceBuilder, spec);
