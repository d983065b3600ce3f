// The deps view (reference section 5): nodes unique by id in first-seen order, uses-tool edges, services.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError } from "../../src/index.js";

const storeProtoc = "/nix/store/00000000000000000000000000000000-protobuf-3.21";
const protoc = mb.tool({ name: "protoc", package: storeProtoc });
const sh = mb.tool({ name: "sh", package: mb.hostPackage("dash") });

describe("nodes", () => {
  it("resolveDependency adds <role>:<name> with its role and package", () => {
    const g = mb.deps(
      mb.sequence([
        mb.resolveDependency({ dependency: mb.dependency({ name: "zlib", package: mb.hostPackage("zlib1g") }) }),
        mb.resolveDependency({ dependency: mb.dependency({ name: "protobuf", role: "tool", package: storeProtoc }) }),
      ]),
    );
    expect(g.nodes).toEqual([
      { id: "runtime:zlib", name: "zlib", role: "runtime", packageName: "zlib1g", packageOutPath: null },
      { id: "tool:protobuf", name: "protobuf", role: "tool", packageName: "protobuf-3.21", packageOutPath: storeProtoc },
    ]);
    expect(g.edges).toEqual([]);
  });

  it("declareTool adds tool:<name> with role tool and the package name", () => {
    expect(mb.deps(mb.sequence([mb.declareTool({ tool: sh })])).nodes).toEqual([
      { id: "tool:sh", name: "sh", role: "tool", packageName: "dash", packageOutPath: null },
    ]);
  });

  it("a resolved package gives its package name and out path", () => {
    const resolved = mb.ResolvedPackage.parse({ _con: "resolvedPackage", name: "bash", packageName: "bash", origin: "host", outPath: "/usr" });
    expect(mb.deps(mb.sequence([mb.declareTool({ tool: mb.tool({ name: "bash", package: resolved }) })])).nodes[0]).toEqual({
      id: "tool:bash",
      name: "bash",
      role: "tool",
      packageName: "bash",
      packageOutPath: "/usr",
    });
  });

  it("runTool adds operation:<name> via its tool, and a uses-tool edge", () => {
    const g = mb.deps(mb.sequence([mb.declareTool({ tool: protoc }), mb.runTool({ name: "generate", tool: protoc, args: ["--version"] })]));
    expect(g.nodes.map((n) => n.id)).toEqual(["tool:protoc", "operation:generate"]);
    expect(g.nodes[1]).toEqual({ id: "operation:generate", name: "generate", role: "operation", tool: "protoc" });
    expect(g.edges).toEqual([{ from: "tool:protoc", to: "operation:generate", kind: "uses-tool" }]);
  });

  it("are unique by id, in first-seen order (edges are not deduplicated)", () => {
    const g = mb.deps(
      mb.sequence([
        mb.declareTool({ tool: sh }),
        mb.declareTool({ tool: protoc }),
        mb.runTool({ name: "a", tool: sh }),
        mb.declareTool({ tool: mb.tool({ name: "sh", package: "other" }) }),
        mb.runTool({ name: "a", tool: sh }),
        mb.resolveDependency({ dependency: mb.dependency({ name: "sh", role: "tool", package: "x" }) }),
      ]),
    );
    expect(g.nodes.map((n) => `${n.id} ${n.packageName ?? ""}`)).toEqual(["tool:sh dash", "tool:protoc protobuf-3.21", "operation:a "]);
    expect(g.edges).toHaveLength(2);
  });

  it("every other build operation adds nothing; declareCapability and declareProtocol add their nodes", () => {
    const src = mb.localSource({ name: "s", path: "/tmp/s" });
    const o = mb.output({ name: "o", path: "o" });
    const g = mb.deps(
      mb.sequence([
        mb.readSource({ name: "s", source: src }),
        mb.writeFile({ output: o, text: "" }),
        mb.copyPath({ source: src, output: o }),
        mb.transformOutput({ output: o }),
        mb.validateValue({ validation: mb.validation({ name: "v", value: 0 }) }),
        mb.emitDescriptor({ descriptor: mb.descriptor({ name: "d" }) }),
        mb.materializeDerivation({ name: "m" }),
        mb.declareEvidence({ evidence: mb.evidence({ name: "e" }) }),
        mb.declareCapability({ category: mb.capabilityCategory({ name: "c" }) }),
        mb.declareProtocol({ protocol: mb.protocol({ name: "p", transport: "TCP", serialization: "JSON" }) }),
      ]),
    );
    expect(g).toEqual({
      nodes: [
        { id: "capability:c", name: "c", role: "capability" },
        { id: "protocol:p", name: "p", role: "protocol" },
      ],
      edges: [],
      services: {},
    });
  });
});

describe("services", () => {
  const api = mb.service({ name: "api", package: "/nix/store/00000000000000000000000000000000-api-1.0" });

  it("declareService records the service; materializeUnit adds service:<name>", () => {
    const g = mb.deps(mb.sequence([mb.declareService({ service: api }), mb.materializeUnit({ name: "api" })]));
    expect(g.services).toEqual({ api });
    expect(g.nodes).toEqual([
      { id: "service:api", name: "api", role: "service", packageName: "api-1.0", packageOutPath: "/nix/store/00000000000000000000000000000000-api-1.0" },
    ]);
  });

  it("a unit's service speaks its protocols, which carry their capabilities, and provides its capabilities", () => {
    const lifecycle = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "health" })] });
    const set = mb.capabilitySet({ categories: [lifecycle], custom: [mb.capability({ name: "reload" })] });
    const http = mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", capabilities: set });
    const web = mb.service({ name: "web", package: "p", capabilities: mb.capabilitySet({ categories: [lifecycle] }), protocols: [http] });
    const g = mb.deps(
      mb.sequence([
        mb.declareCapability({ category: lifecycle }),
        mb.declareProtocol({ protocol: http }),
        mb.declareService({ service: web }),
        mb.materializeUnit({ name: "web" }),
      ]),
    );
    expect(g.nodes.map((n) => `${n.id} (${n.role})`)).toEqual(["capability:lifecycle (capability)", "protocol:http (protocol)", "capability:reload (capability)", "service:web (service)"]);
    expect(g.edges).toEqual([
      { from: "protocol:http", to: "capability:lifecycle", kind: "carries" },
      { from: "protocol:http", to: "capability:reload", kind: "carries" },
      { from: "service:web", to: "protocol:http", kind: "speaks" },
      { from: "service:web", to: "capability:lifecycle", kind: "provides" },
    ]);
  });

  it("a declared service without a unit is recorded but is no node", () => {
    const g = mb.deps(mb.sequence([mb.declareService({ service: api })]));
    expect(Object.keys(g.services)).toEqual(["api"]);
    expect(g.nodes).toEqual([]);
  });

  it("materializeUnit of an undeclared service throws (exit 1), naming what was declared", () => {
    const program = mb.sequence([mb.declareService({ service: api }), mb.materializeUnit({ name: "ghost" })]);
    expect(() => mb.deps(program)).toThrow(MbError);
    expect(() => mb.deps(program)).toThrow(
      expect.objectContaining({
        code: "deps.undeclared-service",
        exitCode: mb.ExitCode.problems,
        message: "materializeUnit 'ghost' references undeclared service 'ghost'. Declared so far: [api]. Add a declareService operation for this service before materializeUnit.",
      }),
    );
  });

  it("services may have any name, including those of Object.prototype properties", () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const svc = mb.service({ name, package: "p" });
      const g = mb.deps(mb.sequence([mb.declareService({ service: svc }), mb.materializeUnit({ name })]));
      expect(Object.keys(g.services)).toEqual([name]);
      expect(g.nodes.map((n) => n.id)).toEqual([`service:${name}`]);
    }
    expect(() => mb.deps(mb.sequence([mb.materializeUnit({ name: "constructor" })]))).toThrow("references undeclared service");
  });
});

describe("drawings", () => {
  const g = mb.deps(mb.sequence([mb.declareTool({ tool: protoc }), mb.runTool({ name: "gen \"cpp\"", tool: protoc })]));

  it("Graphviz dot", () => {
    expect(mb.depsToDot(g)).toMatchInlineSnapshot(`
      "digraph deps {
        rankdir=LR;
        graph [fontname="Helvetica", fontsize=10];
        node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];
        edge [fontname="Helvetica", fontsize=9, color="#607d8b"];
        "tool:protoc" [label="tool:protoc\\n(tool)", fillcolor="#e3f2fd", tooltip="tool:protoc package protobuf-3.21"];
        "operation:gen \\"cpp\\"" [label="operation:gen \\"cpp\\"\\n(operation)", fillcolor="#f1f8e9", tooltip="operation:gen \\"cpp\\" via protoc"];
        "tool:protoc" -> "operation:gen \\"cpp\\"" [label="uses-tool"];
      }
      "
    `);
  });

  it("Mermaid", () => {
    expect(mb.depsToMermaid(g)).toMatchInlineSnapshot(`
      "flowchart LR
        n0["tool:protoc (tool)"]
        n1["operation:gen #quot;cpp#quot; (operation)"]
        n0 -->|uses-tool| n1
      "
    `);
  });
});
