// The plan view (reference section 5): the plan plus each step's rendered shell, artifact summaries and the whole shell.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const echo = mb.tool({ name: "echo", package: mb.hostPackage("coreutils") });
const zlib = "/nix/store/00000000000000000000000000000000-zlib-1.3";

describe("planView", () => {
  it("an empty program has an empty shell", () => {
    const pv = mb.planView(mb.sequence([]));
    expect(pv.shell).toBe("");
    expect(pv.steps).toEqual([]);
    expect(pv.runtimeArtifacts).toEqual([]);
    expect([pv.name, pv.builder]).toEqual(["metabuilder-output", "runCommand"]);
  });

  it("programs without steps, local inputs or native paths have an empty shell too", () => {
    expect(mb.planView(mb.sequence([mb.declareTool({ tool: echo }), mb.materializeDerivation({ name: "x" })])).shell).toBe("");
  });

  it("composes pathMap assignments, the LD_LIBRARY_PATH export, then every step, joined by newlines", () => {
    const program = mb.sequence([
      mb.readSource({ name: "in", source: mb.localSource({ name: "in", path: "/data/in put.txt" }) }),
      mb.resolveDependency({ dependency: mb.dependency({ name: "zlib", package: zlib }) }),
      mb.declareTool({ tool: echo }),
      mb.runTool({ name: "say", tool: echo, args: ["/data/in put.txt", "it's", "$out/x y"], env: { B: "2", A: "$out" } }),
      mb.writeFile({ output: mb.output({ name: "r", path: "docs/README" }), text: "line 1\nline 2" }),
      mb.copyPath({ source: mb.localSource({ name: "in", path: "/data/in put.txt" }), output: mb.output({ name: "c", path: "in.txt" }) }),
      mb.materializeDerivation({ name: "composed" }),
    ]);
    const pv = mb.planView(program);
    expect(pv.shell).toMatchInlineSnapshot(`
      "pathMap_df1263221d205b7b9121b75f2f1781491971910e94f89e11901279054cfc2cb9='/data/in put.txt'
      export LD_LIBRARY_PATH=/nix/store/00000000000000000000000000000000-zlib-1.3/lib:\${LD_LIBRARY_PATH:-}
      A=''"$out"'' B=2 echo "$pathMap_df1263221d205b7b9121b75f2f1781491971910e94f89e11901279054cfc2cb9" 'it'\\''s' ''"$out"'/x y'
      mkdir -p "$(dirname "$out/docs/README")"
      cat > "$out/docs/README" <<'METABUILDER_HEREDOC_e266782c2841ee29d8f5aafc686abc45e9f119998a6b5c12fcbba5b19010cba4'
      line 1
      line 2
      METABUILDER_HEREDOC_e266782c2841ee29d8f5aafc686abc45e9f119998a6b5c12fcbba5b19010cba4
      mkdir -p "$(dirname "$out/in.txt")"
      cp -r "$pathMap_df1263221d205b7b9121b75f2f1781491971910e94f89e11901279054cfc2cb9" "$out/in.txt""
    `);
    expect(pv.steps.map(({ con, name }) => ({ con, name }))).toEqual([
      { con: "runStep", name: "say" },
      { con: "writeStep", name: "write:docs/README" },
      { con: "copyStep", name: "copy:in.txt" },
    ]);
    expect(pv.steps.map((s) => s.step)).toEqual(pv.plan.steps);
    expect(pv.steps.map((s) => s.shell)).toEqual(pv.plan.steps.map(mb.renderStep));
    expect(pv.shell.split("\n").slice(2).join("\n")).toBe(pv.steps.map((s) => s.shell).join("\n"));
    expect(pv.name).toBe("composed");
  });

  it("summarizes runtime artifacts as <kind>:<name> -> <artifact name>", () => {
    const svc = mb.service({ name: "api", package: "api" });
    const pv = mb.planView(mb.sequence([mb.declareService({ service: svc }), mb.materializeUnit({ name: "api" })]), { storeDir: "/s" });
    expect(pv.runtimeArtifacts).toEqual([
      { _con: "MetaBuilderRuntimeArtifactView", kind: "service", name: "api", summary: "service:api -> service-api.json", drvName: "service-api.json" },
    ]);
    expect(pv.shell).toBe("");
  });

  it("planViewOf gives the same view as planView", () => {
    const program = mb.sequence([mb.declareTool({ tool: echo }), mb.runTool({ name: "a", tool: echo, args: ["x"] })]);
    expect(mb.planViewOf(mb.compile(program))).toEqual(mb.planView(program));
  });
});
