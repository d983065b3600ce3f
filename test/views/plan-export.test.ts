// The plan-export view (reference section 5): the plan as JSON, package objects left out (tools and services keep names).
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const resolved = mb.ResolvedPackage.parse({
  _con: "resolvedPackage",
  name: "busybox",
  packageName: "busybox-static",
  origin: "builder",
  outPath: "/store/00000000000000000000000000000000-busybox-rootfs",
});
const bash = mb.tool({ name: "bash", package: mb.hostPackage("bash") });

describe("planExport", () => {
  it("drops the package of every tool, dependency and service; the rest of the plan stays", () => {
    const svc = mb.service({ name: "api", package: mb.hostPackage("api-server") });
    const program = mb.sequence([
      mb.declareTool({ tool: bash }),
      mb.runTool({ name: "copy-in", tool: bash, args: ["-c", 'cp -a "$1" "$out"', "copy-in", resolved, mb.hostPackage("tzdata"), 7] }),
      mb.declareService({ service: svc }),
      mb.materializeUnit({ name: "api" }),
      mb.materializeDerivation({ name: "exported" }),
    ]);
    const exported = mb.planExport(program, { storeDir: "/store" });
    const plan = mb.compile(program, { storeDir: "/store" });
    expect(exported).toEqual({
      _con: "MetaBuilderPlan",
      name: "exported",
      builder: "runCommand",
      tools: [{ _con: "MetaBuilderTool", name: "bash" }],
      outputs: [],
      pathMap: {},
      nativePaths: [],
      steps: [
        {
          _con: "runStep",
          name: "copy-in",
          tool: { _con: "MetaBuilderTool", name: "bash" },
          args: ["-c", 'cp -a "$1" "$out"', "copy-in", "/store/00000000000000000000000000000000-busybox-rootfs", "tzdata", 7],
          env: {},
        },
      ],
      declaredCapabilities: [],
      declaredProtocols: [],
      declaredServices: [{ _con: "MetaBuilderService", name: "api", description: "", capabilities: { _con: "MetaBuilderCapabilitySet", categories: [], custom: [] }, protocols: [], config: [] }],
      runtimeArtifacts: [{ ...plan.runtimeArtifacts[0] }],
    });
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
  });

  it("keeps data that merely uses the word package: an env variable, protocol options, a dependency's role", () => {
    const proto = mb.protocol({ name: "p", transport: "TCP", serialization: "JSON", options: { package: "com.example", nested: { package: 1 } } });
    const program = mb.sequence([
      mb.declareTool({ tool: bash }),
      mb.runTool({ name: "r", tool: bash, env: { package: "x", PACKAGE: "y" } }),
      mb.declareProtocol({ protocol: proto }),
    ]);
    const exported = mb.planExport(program) as { steps: { env: unknown }[]; declaredProtocols: { options: unknown }[] };
    expect(exported.steps[0]!.env).toEqual({ package: "x", PACKAGE: "y" });
    expect(exported.declaredProtocols[0]!.options).toEqual({ package: "com.example", nested: { package: 1 } });
  });

  it("planExportOf exports an already folded plan the same way", () => {
    const program = mb.sequence([mb.declareTool({ tool: bash }), mb.runTool({ name: "r", tool: bash, args: [resolved] })]);
    expect(mb.planExportOf(mb.compile(program))).toEqual(mb.planExport(program));
  });

  it("a copy step keeps its source (sources are no packages)", () => {
    const src = mb.localSource({ name: "motd", path: "/etc/motd" });
    const exported = mb.planExport(mb.sequence([mb.copyPath({ source: src, output: mb.output({ name: "m", path: "motd" }) })]));
    expect(exported.steps).toEqual([{ _con: "copyStep", name: "copy:motd", source: src, path: "motd" }]);
    expect(exported.pathMap).toEqual({ [`pathMap_${mb.sha256("/etc/motd")}`]: "/etc/motd" });
  });
});
