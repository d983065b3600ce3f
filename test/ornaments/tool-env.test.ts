// The tool environment vocabulary against the original's tests (src/ornaments/toolEnv.nix): constructors, merge
// (b wins), the eliminators, and snippets that quote the bin path as one shell word.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const { toolEnv } = mb;
const store = (name: string) => `/nix/store/00000000000000000000000000000000-${name}`;
const alphaBeta = toolEnv.create({ alpha: store("tool-alpha"), beta: store("tool-beta") });
const betaGamma = toolEnv.create({ beta: store("tool-beta"), gamma: store("tool-gamma") });

describe("constructors", () => {
  it("define, empty, create (null packages left out)", () => {
    expect(toolEnv.define({ tools: [] })._con).toBe("MetaBuilderToolEnv");
    expect([toolEnv.empty.tools, toolEnv.isEmpty(toolEnv.empty)]).toEqual([[], true]);
    expect(alphaBeta.tools.map((t) => [t._con, t.name])).toEqual([["MetaBuilderTool", "alpha"], ["MetaBuilderTool", "beta"]]);
    expect(toolEnv.create({ alpha: store("tool-alpha"), beta: null }).tools.map((t) => t.name)).toEqual(["alpha"]);
  });

  it("define rejects a malformed tool and a tool name given twice", () => {
    expect(() => toolEnv.define({ tools: [{ name: 42, package: "x" } as never] })).toThrow("toolEnv does not match its schema (1 problem):\n  - tools[0].name: Invalid input: expected string, received number");
    expect(() => toolEnv.define({ tools: [mb.tool({ name: "a", package: "x" }), mb.tool({ name: "a", package: "y" })] })).toThrow("- tools[1].name: duplicate tool name 'a' (first at [0])");
  });
});

describe("merge", () => {
  it("b wins on a name collision", () => {
    const b = toolEnv.create({ beta: store("other-beta") });
    const merged = toolEnv.merge(alphaBeta, b);
    expect(merged.tools.map((t) => [t.name, t.package])).toEqual([["alpha", store("tool-alpha")], ["beta", store("other-beta")]]);
    expect(toolEnv.merge(alphaBeta, betaGamma).tools.map((t) => t.name).sort()).toEqual(["alpha", "beta", "gamma"]);
  });

  it("empty is its identity", () => {
    expect(toolEnv.merge(alphaBeta, toolEnv.empty)).toEqual(alphaBeta);
    expect(toolEnv.merge(toolEnv.empty, alphaBeta)).toEqual(alphaBeta);
  });
});

describe("eliminators", () => {
  it("toolInputs deduplicates equal packages; toolPackages by name", () => {
    const shared = toolEnv.create({ cc: store("gcc"), "c++": store("gcc") });
    expect(toolEnv.toolInputs(shared)).toEqual([store("gcc")]);
    expect(toolEnv.toolInputs(alphaBeta)).toHaveLength(2);
    expect(toolEnv.toolPackages(alphaBeta)).toEqual({ alpha: store("tool-alpha"), beta: store("tool-beta") });
  });

  it("toolBinPath joins the bin directories; an unresolved package is an error naming it", () => {
    expect(toolEnv.toolBinPath(alphaBeta)).toBe(`${store("tool-alpha")}/bin:${store("tool-beta")}/bin`);
    expect(() => toolEnv.toolBinPath(toolEnv.create({ sh: mb.hostPackage("bash") }))).toThrow("toolEnv: package 'bash' has no path until it is resolved");
  });

  it("snippets: empty for an empty environment, else the PATH line", () => {
    for (const f of [toolEnv.toExportSnippet, toolEnv.toInlineSnippet, toolEnv.toWrapPrefix]) expect(f(toolEnv.empty)).toBe("");
    const path = toolEnv.toolBinPath(alphaBeta);
    expect(toolEnv.toExportSnippet(alphaBeta)).toBe(`export PATH=${path}:"$PATH"\n`);
    expect(toolEnv.toInlineSnippet(alphaBeta)).toBe(`          export PATH=${path}:"$PATH"\n`);
    expect(toolEnv.toWrapPrefix(alphaBeta)).toBe(`          --prefix PATH : ${path} \\\n`);
  });

  it("a hostile store path stays data when the snippet runs in bash", () => {
    const evil = toolEnv.create({ x: "/tmp/a b'$(touch pwned)\"`id`;x" });
    const r = spawnSync("bash", ["-c", `PATH=/usr/bin:/bin; ${toolEnv.toExportSnippet(evil)} printf '%s' "$PATH"`], { encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(`/tmp/a b'$(touch pwned)"\`id\`;x/bin:/usr/bin:/bin`);
  });
});
