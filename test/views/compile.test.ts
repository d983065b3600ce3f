// The materialize view (reference section 5): the program folded into a BuildPlan, purely.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError } from "../../src/index.js";
import { ociStepNames } from "../support/oci-steps.js";

const echo = mb.tool({ name: "echo", package: mb.hostPackage("coreutils") });
const sh = mb.tool({ name: "sh", package: mb.hostPackage("dash") });
const key = (p: string) => `pathMap_${mb.sha256(p)}`;
const empty = {
  _con: "MetaBuilderPlan",
  name: "metabuilder-output",
  builder: "runCommand",
  tools: [],
  outputs: [],
  pathMap: {},
  nativePaths: [],
  steps: [],
  declaredCapabilities: [],
  declaredProtocols: [],
  declaredServices: [],
  runtimeArtifacts: [],
};

describe("the plan's name and builder", () => {
  it("is metabuilder-output / runCommand for the empty program", () => {
    expect(mb.compile(mb.sequence([]))).toEqual(empty);
  });

  it("is set by materializeDerivation (the last one wins)", () => {
    const plan = mb.compile(mb.sequence([mb.materializeDerivation({ name: "first" }), mb.materializeDerivation({ name: "second", builder: "make" })]));
    expect([plan.name, plan.builder]).toEqual(["second", "make"]);
  });

  it("validateValue, emitDescriptor and declareEvidence change nothing", () => {
    const plan = mb.compile(
      mb.sequence([
        mb.validateValue({ validation: mb.validation({ name: "v", value: 1 }) }),
        mb.emitDescriptor({ descriptor: mb.descriptor({ name: "d", payload: { a: 1 } }) }),
        mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) }),
      ]),
    );
    expect(plan).toEqual(empty);
  });
});

describe("pathMap: local paths are registered under pathMap_<sha256 of the path>", () => {
  it("readSource of a local source", () => {
    const plan = mb.compile(mb.sequence([mb.readSource({ name: "s", source: mb.localSource({ name: "s", path: "/home/me/schema.proto" }) })]));
    expect(plan.pathMap).toEqual({ [key("/home/me/schema.proto")]: "/home/me/schema.proto" });
    // sha256 of the path string, as `printf '%s' /home/me/schema.proto | sha256sum` prints it.
    expect(Object.keys(plan.pathMap)).toEqual(["pathMap_9d3465b4d3be31576b980245f003344081f4d0cf2509af1abb1ce1dafa6c55e4"]);
  });

  it("readSource of a generated source registers nothing", () => {
    expect(mb.compile(mb.sequence([mb.readSource({ name: "g", source: mb.generatedSource({ name: "g", producer: "/usr/bin/gen" }) })])).pathMap).toEqual({});
  });

  it("runTool arguments: absolute paths only (store paths too: resolution maps those to themselves), not $-paths, not relative ones", () => {
    const stored = `${mb.DEFAULT_STORE_DIR}/00000000000000000000000000000000-x/bin`;
    const args = ["/abs/in.txt", stored, "$out/cpp", "$HOME/x", "rel/path", "./x", "--flag=/abs/flag", 5, "/abs/in.txt"];
    const plan = mb.compile(mb.sequence([mb.declareTool({ tool: echo }), mb.runTool({ name: "r", tool: echo, args })]));
    expect(plan.pathMap).toEqual(Object.fromEntries([["/abs/in.txt", "/abs/in.txt"], [stored, stored]].map(([k, v]) => [key(k!), v]).sort(([a], [b]) => (a! < b! ? -1 : 1))));
    expect(mb.isLocalPath("/abs/in.txt")).toBe(true);
    for (const notLocal of ["$out/x", "$PWD/x", "rel", "", 5, null]) expect(mb.isLocalPath(notLocal)).toBe(false);
  });

  it("copyPath registers its local source", () => {
    const plan = mb.compile(mb.sequence([mb.copyPath({ source: mb.localSource({ name: "c", path: "/etc/motd" }), output: mb.output({ name: "m", path: "motd" }) })]));
    expect(plan.pathMap).toEqual({ [key("/etc/motd")]: "/etc/motd" });
  });

  it("keys are sorted, each path registered once", () => {
    const paths = ["/z", "/a", "/m", "/a"];
    const plan = mb.compile(mb.sequence(paths.map((p, i) => mb.readSource({ name: `s${i}`, source: mb.localSource({ name: `s${i}`, path: p }) }))));
    expect(Object.keys(plan.pathMap)).toEqual(["/z", "/a", "/m"].map(key).sort());
    expect(Object.values(plan.pathMap).sort()).toEqual(["/a", "/m", "/z"]);
  });
});

describe("nativePaths", () => {
  it("resolveDependency appends the package's path, or its name while unresolved", () => {
    const store = "/nix/store/00000000000000000000000000000000-zlib-1.3";
    const plan = mb.compile(
      mb.sequence([
        mb.resolveDependency({ dependency: mb.dependency({ name: "zlib", package: store }) }),
        mb.resolveDependency({ dependency: mb.dependency({ name: "ssl", role: "native", package: mb.hostPackage("libssl3") }) }),
      ]),
    );
    expect(plan.nativePaths).toEqual([store, "libssl3"]);
  });
});

describe("tools and steps", () => {
  it("declareTool appends the tool; runTool adds runStep {name, tool, args, env}", () => {
    const plan = mb.compile(
      mb.sequence([mb.declareTool({ tool: sh }), mb.declareTool({ tool: echo }), mb.runTool({ name: "say", tool: echo, args: ["hi", 1], env: { A: "b" } })]),
    );
    expect(plan.tools).toEqual([sh, echo]);
    expect(plan.steps).toEqual([{ _con: "runStep", name: "say", tool: echo, args: ["hi", 1], env: { A: "b" } }]);
  });

  it("runTool before its declareTool throws the reference's message (exit 1)", () => {
    const program = mb.sequence([mb.declareTool({ tool: sh }), mb.runTool({ name: "hello", tool: echo }), mb.declareTool({ tool: echo })]);
    let caught: unknown;
    try {
      mb.compile(program);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MbError);
    expect((caught as MbError).code).toBe("plan.undeclared-tool");
    expect((caught as MbError).exitCode).toBe(mb.ExitCode.problems);
    expect((caught as MbError).message).toBe(
      "runTool 'hello' references undeclared tool 'echo'. Declared so far: [sh]. Add a declareTool operation for this tool before runTool.",
    );
  });

  it("Declared so far lists every tool declared before, and [] when none", () => {
    expect(() => mb.compile(mb.sequence([mb.runTool({ name: "r", tool: echo })]))).toThrow("runTool 'r' references undeclared tool 'echo'. Declared so far: [].");
    const t = (name: string) => mb.declareTool({ tool: mb.tool({ name, package: "p" }) });
    expect(() => mb.compile(mb.sequence([t("b"), t("a"), mb.runTool({ name: "r", tool: echo })]))).toThrow("Declared so far: [b, a].");
  });

  it("writeFile adds writeStep write:<path>; copyPath adds copyStep copy:<path>", () => {
    const src = mb.localSource({ name: "c", path: "/etc/motd" });
    const plan = mb.compile(
      mb.sequence([mb.writeFile({ output: mb.output({ name: "r", path: "doc/README" }), text: "hi\n" }), mb.copyPath({ source: src, output: mb.output({ name: "m", path: "etc/motd" }) })]),
    );
    expect(plan.steps).toEqual([
      { _con: "writeStep", name: "write:doc/README", path: "doc/README", text: "hi\n" },
      { _con: "copyStep", name: "copy:etc/motd", source: src, path: "etc/motd" },
    ]);
  });

  it("transformOutput appends the output (writeFile does not)", () => {
    const o = mb.output({ name: "cpp", path: "$out/cpp", format: "tree" });
    const plan = mb.compile(mb.sequence([mb.writeFile({ output: mb.output({ name: "w", path: "w" }), text: "" }), mb.transformOutput({ output: o })]));
    expect(plan.outputs).toEqual([o]);
  });
});

describe("runtime", () => {
  const cap = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" })] });
  const set = mb.capabilitySet({ categories: [cap] });
  const http = mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT", capabilities: set });
  const svc = mb.service({ name: "web", package: mb.hostPackage("nodejs"), capabilities: set, protocols: [http], config: [mb.param({ name: "port", type: "RTInt" })] });

  it("capabilities, protocols and services are appended", () => {
    const plan = mb.compile(mb.sequence([mb.declareCapability({ category: cap }), mb.declareProtocol({ protocol: http }), mb.declareService({ service: svc })]));
    expect(plan.declaredCapabilities).toEqual([cap]);
    expect(plan.declaredProtocols).toEqual([http]);
    expect(plan.declaredServices).toEqual([svc]);
    expect(plan.runtimeArtifacts).toEqual([]);
  });

  it("materializeUnit adds a service artifact: descriptor without packages, enums as strings, a service-<name>.json store file", () => {
    const plan = mb.compile(mb.sequence([mb.declareService({ service: svc }), mb.materializeUnit({ name: "web" })]), { storeDir: "/var/mb/store" });
    expect(plan.runtimeArtifacts).toHaveLength(1);
    const artifact = plan.runtimeArtifacts[0]!;
    expect(artifact.storePath).toMatch(/^\/var\/mb\/store\/[0-9a-df-np-sv-z]{32}-service-web\.json$/);
    expect({ ...artifact, storePath: "<store path>" }).toEqual({
      _con: "MetaBuilderRuntimeArtifact",
      kind: "service",
      name: "web",
      descriptor: {
        _con: "MetaBuilderService",
        name: "web",
        description: "",
        capabilities: set,
        protocols: [http],
        config: [{ _con: "MetaBuilderParam", name: "port", description: "", type: "RTInt", required: true }],
      },
      storePath: "<store path>",
    });
    expect(JSON.stringify(artifact.descriptor)).not.toContain("nodejs");
    expect(JSON.stringify(artifact.descriptor)).toContain('"transport":"TCP","serialization":"JSON"');
  });

  it("the artifact's store path depends on the descriptor and the store, and defaults to DEFAULT_STORE_DIR", () => {
    const program = mb.sequence([mb.declareService({ service: svc }), mb.materializeUnit({ name: "web" })]);
    const a = mb.compile(program).runtimeArtifacts[0]!.storePath;
    expect(a.startsWith(`${mb.DEFAULT_STORE_DIR}/`)).toBe(true);
    expect(mb.compile(program).runtimeArtifacts[0]!.storePath).toBe(a);
    const other = mb.service({ name: "web", package: mb.hostPackage("nodejs"), description: "changed" });
    const b = mb.compile(mb.sequence([mb.declareService({ service: other }), mb.materializeUnit({ name: "web" })])).runtimeArtifacts[0]!.storePath;
    expect(b).not.toBe(a);
    expect(b.endsWith("-service-web.json")).toBe(true);
  });

  it("materializeUnit of an undeclared service throws (exit 1)", () => {
    expect(() => mb.compile(mb.sequence([mb.declareService({ service: svc }), mb.materializeUnit({ name: "ghost" })]))).toThrow(
      expect.objectContaining({
        code: "plan.undeclared-service",
        exitCode: mb.ExitCode.problems,
        message: "materializeUnit 'ghost' references undeclared service 'ghost'. Declared so far: [web]. Add a declareService operation for this service before materializeUnit.",
      }),
    );
  });
});

describe("the plan is an instance of the BuildPlan schema", () => {
  it("for the oci-image example", () => {
    const image = mb.ociImage({ name: "img", layers: [{ name: "root", source: mb.hostPackage("busybox-static") }] });
    const plan = mb.compile(mb.fromSpec(image));
    expect(mb.BuildPlan.parse(plan)).toEqual(plan);
    expect(plan.name).toBe("img-oci-image");
    expect(plan.steps.map((s) => s.name)).toEqual(ociStepNames("root"));
  });
});
