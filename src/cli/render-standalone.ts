/** `mb render shell` and `mb render nix`: the resolved build and every builder it depends on, as one script or expression. */
import { basename } from "node:path";
import { renderNix } from "../backends/nix.js";
import { renderShell } from "../backends/shell.js";
import type { StandaloneGraph } from "../backends/shell-graph.js";
import { renderStandaloneShell } from "../backends/shell-standalone.js";
import { ExitCode, MbError } from "../core/errors.js";
import { lookupHost } from "../engine/host.js";
import { hostSystem } from "../engine/system.js";
import { compile } from "../program/compile.js";
import type { Prepared } from "./context.js";
import type { Io } from "./io.js";

/** The standalone graph of a prepared builder: its resolution's builds, dependencies first. */
export function standaloneGraph(p: Prepared): StandaloneGraph {
  if (!p.resolution) {
    // The program has no plan: rendering it alone throws that plan's error (a runTool before its declareTool, a
    // dependency path that is not a store path: exit 2, ...).
    renderShell(compile(p.program, { storeDir: p.storeDir }));
    throw new MbError("render.unresolved", "cannot render the builder: it could not be resolved", { exitCode: ExitCode.problems });
  }
  const builds = p.resolution.builds.map((b) => ({
    name: b.plan.name,
    storePath: b.storePath,
    plan: b.plan,
    needs: b.needs,
    imports: b.imports.map((i) => ({ storePath: i.storePath, source: i.source, name: basename(i.storePath).slice(33) })),
    localInputs: Object.entries(b.plan.pathMap).filter(([k, v]) => b.inputStore[k] !== undefined && b.inputStore[k] !== v).map(([, v]) => v),
    baseTools: b.baseTools.executables,
    complete: b.complete,
  }));
  const coreutils = lookupHost("coreutils")?.executables ?? {};
  return {
    builds,
    system: hostSystem(),
    sourceDateEpoch: p.sourceDateEpoch,
    coreutils: Object.fromEntries(["cp", "ln", "mkdir"].filter((n) => coreutils[n]).map((n) => [n, coreutils[n]!])),
  };
}

/** Prints the rendered script (`shell`) or expression (`nix`); `--json`: `{backend, text}`. */
export function runRenderStandalone(backend: "shell" | "nix", p: Prepared, json: boolean, io: Io): number {
  const graph = standaloneGraph(p);
  const text = backend === "shell" ? renderStandaloneShell(graph) : renderNix(graph);
  io.out(json ? JSON.stringify({ backend, text }, null, 2) + "\n" : text);
  return ExitCode.ok;
}
