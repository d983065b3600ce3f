// The introspect view (reference section 5): all views at once, as data and as markdown with fixed sections in order.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { INTROSPECT_SECTIONS } from "../support/seed-sections.js";

const SECTIONS = INTROSPECT_SECTIONS;
const headings = (md: string) => md.split("\n").filter((l) => l.startsWith("### ")).map((l) => l.slice(4));

const sh = mb.tool({ name: "sh", package: mb.hostPackage("dash") });
const cap = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" }), mb.capability({ name: "stop" })] });
const set = mb.capabilitySet({ categories: [cap] });
const http = mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT", capabilities: set });
const mixed = mb.sequence([
  mb.readSource({ name: "server", source: mb.localSource({ name: "server", path: "/home/dev/app/server.js" }) }),
  mb.resolveDependency({ dependency: mb.dependency({ name: "ssl", role: "native", package: "/nix/store/00000000000000000000000000000000-openssl-3" }) }),
  mb.declareTool({ tool: sh }),
  mb.runTool({ name: "check", tool: sh, args: ["-c", "test -f \"$1\"\necho checked", "check", "/home/dev/app/server.js"] }),
  mb.writeFile({ output: mb.output({ name: "package.json", path: "package.json", format: "json" }), text: '{"name":"app"}' }),
  mb.transformOutput({ output: mb.output({ name: "app", path: "$out", format: "directory" }) }),
  mb.emitDescriptor({ descriptor: mb.descriptor({ name: "app-service", payload: { port: 3000, kind: "node", entry: "server.js" } }) }),
  mb.emitDescriptor({ descriptor: mb.descriptor({ name: "empty" }) }),
  mb.materializeDerivation({ name: "" }),
  mb.declareEvidence({ evidence: mb.evidence({ name: "self-test", payload: { command: "node --check server.js" } }) }),
  mb.declareCapability({ category: cap }),
  mb.declareProtocol({ protocol: http }),
  mb.declareService({ service: mb.service({ name: "app", package: "nodejs", capabilities: set, protocols: [http] }) }),
  mb.materializeUnit({ name: "app" }),
]);

describe("introspect markdown", () => {
  it("has the reference's sections, in order; empty ones say None.", () => {
    const md = mb.introspect(mb.sequence([])).markdown;
    expect(md.split("\n")[0]).toBe("The same internalized program is interpreted several ways.");
    // The shell excerpt of an empty plan is empty, so its section is left out.
    expect(headings(md)).toEqual(SECTIONS.filter((s) => s !== "Plan Shell Excerpt"));
    expect(md).toMatchInlineSnapshot(`
      "The same internalized program is interpreted several ways.

      ### Validation

      - result: \`ok\`

      ### Dependency Graph

      - nodes: \`0\`
      - edges: \`0\`
      - services: \`0\`

      ### Dry Run - Builder

      None.

      ### Dry Run - Runtime

      None.

      ### Plan View

      None.

      ### Runtime Services

      None.

      ### Descriptors

      None.

      ### Builder Self-Documentation

      - documented operations: \`0\`
      - runtime services: \`0\`

      ### Materialized Outputs

      None.

      ### Materialization

      - derivation: \`metabuilder-output\`
      - outputs: \`0\`
      - runtime artifacts: \`0\`

      ### Substrates

      - dockerfile: \`supported\`
      - shell: \`supported\`
      "
    `);
  });

  it("renders every view of a program with diagnostics, local inputs, native paths and a runtime service", () => {
    const r = mb.introspect(mixed, { storeDir: "/store" });
    expect(headings(r.markdown)).toEqual(SECTIONS);
    expect(r.markdown).toMatchInlineSnapshot(`
      "The same internalized program is interpreted several ways.

      ### Validation

      - result: \`1 diagnostic(s)\`
      - error:builder.required-non-empty materialize-derivation.name must be a non-empty string

      ### Dependency Graph

      - nodes: \`6\`
      - edges: \`4\`
      - services: \`1\`
      - node \`native:ssl\` (native) package \`openssl-3\`
      - node \`tool:sh\` (tool) package \`dash\`
      - node \`operation:check\` (operation) via \`sh\`
      - node \`capability:lifecycle\` (capability)
      - node \`protocol:http\` (protocol)
      - node \`service:app\` (service) package \`nodejs\`
      - edge \`tool:sh\` -> \`operation:check\` (uses-tool)
      - edge \`protocol:http\` -> \`capability:lifecycle\` (carries)
      - edge \`service:app\` -> \`protocol:http\` (speaks)
      - edge \`service:app\` -> \`capability:lifecycle\` (provides)

      ### Dry Run - Builder

      - source \`server\`
      - dependency \`native:ssl\`
      - tool \`sh\`
      - run \`check\` with \`sh\`
      - write \`package.json\`
      - transform \`app\` (directory)
      - descriptor \`app-service\`
      - descriptor \`empty\`
      - materialize \`\` with \`runCommand\`
      - evidence \`self-test\`

      ### Dry Run - Runtime

      - runtime capability \`lifecycle\`
      - runtime protocol \`http\`
      - runtime service \`app\`
      - runtime unit \`app\`

      ### Plan View

      - run \`check\`
      - write \`write:package.json\`
      - \`check\`: \`sh -c 'test -f "$1"\`
      - \`write:package.json\`: \`mkdir -p "$(dirname "$out/package.json")"\`

      ### Plan Shell Excerpt

      \`\`\`sh
      pathMap_b28a6a95b1803e68c6f4953e4c15f10650b56bce32a47804018dc886aef6d235=<source:server.js>
      export LD_LIBRARY_PATH=/nix/store/00000000000000000000000000000000-openssl-3/lib:\${LD_LIBRARY_PATH:-}
      sh -c 'test -f "$1"
      echo checked' check "$pathMap_b28a6a95b1803e68c6f4953e4c15f10650b56bce32a47804018dc886aef6d235"
      mkdir -p "$(dirname "$out/package.json")"
      cat > "$out/package.json" <<'METABUILDER_HEREDOC_5c7cdc25294eea469831a8a4d0070ba8d984a2d01ac4bcf0b502a0e5e5fe6e96'
      {"name":"app"}
      METABUILDER_HEREDOC_5c7cdc25294eea469831a8a4d0070ba8d984a2d01ac4bcf0b502a0e5e5fe6e96
      \`\`\`

      ### Runtime Services

      - service \`app\` exposes \`http/TCP/JSON PORT:3000\`; capabilities \`start\`, \`stop\`

      ### Descriptors

      - descriptor \`app-service\` (payload keys \`entry\`, \`kind\`, \`port\`)
      - descriptor \`empty\` (no payload keys)

      ### Builder Self-Documentation

      - documented operations: \`14\`
      - runtime services: \`1\`

      ### Materialized Outputs

      - app -> $out (directory)

      ### Materialization

      - derivation: \`\`
      - outputs: \`1\`
      - runtime artifacts: \`1\`
      - service \`app\`

      ### Substrates

      - dockerfile: unsupported (nativePaths reference host store paths that do not exist inside an image build)
      - shell: \`supported\`
      "
    `);
  });

  it("the excerpt is the first 10 lines of the plan shell, local paths shown as <source:basename>", () => {
    const longer = mb.sequence([...mixed.operations, mb.writeFile({ output: mb.output({ name: "n", path: "notes" }), text: "a\nb\nc\nd" })]);
    const shell = mb.planView(longer).shell.split("\n");
    expect(shell.length).toBeGreaterThan(10);
    const excerpt = mb.introspect(longer).plan.shellExcerpt.split("\n");
    expect(excerpt).toHaveLength(10);
    expect(excerpt[0]).toBe(`pathMap_${mb.sha256("/home/dev/app/server.js")}=<source:server.js>`);
    expect(shell[0]).toBe(`pathMap_${mb.sha256("/home/dev/app/server.js")}=/home/dev/app/server.js`);
    expect(excerpt.join("\n")).not.toContain("/home/dev");
    expect(excerpt.slice(1)).toEqual(shell.slice(1, 10));
  });

  it("a diagnostic turns the result into N diagnostic(s), one line each", () => {
    const r = mb.introspect(mixed);
    expect(r.validation.ok).toBe(false);
    expect(r.validation.diagnosticCount).toBe(1);
    expect(r.markdown).toContain(
      "### Validation\n\n- result: `1 diagnostic(s)`\n- error:builder.required-non-empty materialize-derivation.name must be a non-empty string\n",
    );
  });
});

describe("introspect data", () => {
  it("composes the other views", () => {
    const r = mb.introspect(mixed, { storeDir: "/store" });
    expect(r.validation.diagnostics).toEqual(mb.validate(mixed).diagnostics);
    expect(r.dependencies.nodes.map((n) => n.id)).toEqual(mb.deps(mixed).nodes.map((n) => n.id));
    expect(r.dependencies.edges).toEqual(mb.deps(mixed).edges);
    expect(r.dryRun.steps).toEqual(mb.dryRun(mixed).steps);
    expect(r.plan.shell).toBe(mb.planView(mixed, { storeDir: "/store" }).shell);
    expect(r.documentation.markdown).toBe(mb.describe(mixed).markdown);
    expect(r.materialization.runtimeArtifacts).toEqual([{ kind: "service", name: "app" }]);
    expect(r.substrates.shell).toEqual({ supported: true, reasons: [] });
    expect(r.substrates.dockerfile).toEqual({ supported: false, reasons: ["nativePaths reference host store paths that do not exist inside an image build"] });
    expect(r.dryRun.builderLines).toHaveLength(10);
    expect(r.dryRun.runtimeLines).toEqual(["runtime capability `lifecycle`", "runtime protocol `http`", "runtime service `app`", "runtime unit `app`"]);
  });

  it("a foreign builder is unsupported by both substrates", () => {
    const r = mb.introspect(mb.sequence([mb.materializeDerivation({ name: "x", builder: "make" })]));
    expect(r.substrates.lines).toEqual([
      "dockerfile: unsupported (builder 'make' has no Dockerfile translation (only runCommand semantics))",
      "shell: unsupported (builder 'make' has no shell translation (only runCommand semantics))",
    ]);
  });
});
