/** The view commands: validate, deps, dry-run, plan, describe, introspect, export, render, path. */
import { renderDockerfile } from "../backends/dockerfile.js";
import { ExitCode, MbError } from "../core/errors.js";
import { deps, depsToMermaid } from "../views/deps.js";
import { depsDot } from "../views/dot.js";
import { describe } from "../views/describe.js";
import { dryRun } from "../views/dry-run.js";
import { dryStepLabel, introspect } from "../views/introspect.js";
import { compile } from "../program/compile.js";
import { comment } from "../program/quote.js";
import { planExportOf } from "../views/plan-export.js";
import { planViewOf } from "../views/plan-view.js";
import { validate } from "../views/validate.js";
import { resolutionOf, rootStorePath, type Prepared } from "./context.js";
import { runRenderSystemd } from "./render-systemd.js";
import { runRenderStandalone } from "./render-standalone.js";
import { dotToSvg } from "./graphviz.js";
import type { Io } from "./io.js";

/** Flags the view commands read. */
export interface ViewFlags {
  readonly json: boolean;
  readonly format?: string;
  /** render systemd: write one file per unit into this directory. */
  readonly dir?: string;
}

const plain = (s: string) => s.replaceAll("`", "");

/** Runs one view command; returns the exit code. */
export function runView(command: string, positional: readonly string[], p: Prepared, flags: ViewFlags, io: Io): number {
  const program = p.program;
  const storeDir = p.storeDir;
  const json = (value: unknown) => io.out(JSON.stringify(value, null, 2) + "\n");
  switch (command) {
    case "validate": {
      const r = validate(program);
      if (flags.json) json(r);
      else if (r.ok) io.out("ok\n");
      else {
        for (const d of r.diagnostics) io.out(`${d.severity} ${d.code} at operation ${d.operation} (${d.path.join(".")}): ${d.message}\n`);
        io.out(`${r.diagnostics.length} diagnostic(s)\n`);
      }
      return r.ok ? ExitCode.ok : ExitCode.problems;
    }
    case "deps": {
      const g = deps(program);
      const format = flags.format ?? (flags.json ? "json" : "text");
      if (flags.json || format === "json") json(g);
      else if (format === "dot") io.out(depsDot(g));
      else if (format === "svg") io.out(dotToSvg(depsDot(g)));
      else if (format === "mermaid") io.out(depsToMermaid(g));
      else if (format === "text") {
        for (const n of g.nodes) io.out(`node ${n.id} (${n.role})${n.tool ? ` via ${n.tool}` : ""}${n.packageName ? ` package ${n.packageName}` : ""}\n`);
        for (const e of g.edges) io.out(`edge ${e.from} -> ${e.to} (${e.kind})\n`);
        io.out(`${g.nodes.length} nodes, ${g.edges.length} edges, ${Object.keys(g.services).length} services\n`);
      } else throw new MbError("usage.format", `unknown --format '${format}' for deps; expected text, json, dot, svg or mermaid`, { exitCode: ExitCode.usage });
      return ExitCode.ok;
    }
    case "dry-run": {
      const r = dryRun(program);
      if (flags.json) json(r);
      else for (const s of r.steps) io.out(`${plain(dryStepLabel(s))}\n`);
      return ExitCode.ok;
    }
    case "plan": {
      const pv = planViewOf(compile(program, { storeDir }));
      if (flags.json) {
        json({
          name: pv.name,
          builder: pv.builder,
          tools: pv.tools,
          outputs: pv.outputs,
          pathMap: pv.pathMap,
          nativePaths: pv.nativePaths,
          steps: pv.steps.map((s) => ({ con: s.con, name: s.name, shell: s.shell })),
          runtimeArtifacts: pv.runtimeArtifacts,
          shell: pv.shell,
        });
      } else {
        // Every name goes through the quoting module's comment(): a newline in a name cannot end its `#` line.
        io.out(`${comment(`plan ${pv.name} (builder ${pv.builder}), ${pv.steps.length} step(s)`)}\n`);
        io.out(`${comment(`tools: ${pv.tools.map((t) => t.name).join(", ") || "none"}`)}\n`);
        io.out(`${comment(`outputs: ${pv.outputs.map((o) => `${o.name} -> ${o.path} (${o.format})`).join(", ") || "none"}`)}\n`);
        for (const [k, v] of Object.entries(pv.pathMap)) io.out(`${comment(`${k} = ${v}`)}\n`);
        for (const a of pv.runtimeArtifacts) io.out(`${comment(`runtime artifact ${a.summary}`)}\n`);
        pv.steps.forEach((s, i) => io.out(`\n${comment(`step ${i + 1}/${pv.steps.length}: ${s.name}`)}\n${s.shell}\n`));
      }
      return ExitCode.ok;
    }
    case "describe": {
      const r = describe(program);
      if (flags.json) json(r);
      else io.out(r.markdown);
      return ExitCode.ok;
    }
    case "introspect": {
      const r = introspect(program, { storeDir });
      if (flags.json) json(r);
      else io.out(r.markdown);
      return r.validation.ok ? ExitCode.ok : ExitCode.problems;
    }
    case "export": {
      io.out(JSON.stringify(planExportOf(compile(program, { storeDir })), null, 2) + "\n");
      return ExitCode.ok;
    }
    case "render": {
      const target = positional[0];
      if (target === "shell" || target === "nix") return runRenderStandalone(target, p, flags.json, io);
      const plan = compile(program, { storeDir });
      if (target === "systemd") return runRenderSystemd(plan, p, flags, io);
      const text = renderDockerfile(plan);
      if (flags.json) json({ backend: target, text });
      else io.out(text);
      return ExitCode.ok;
    }
    case "path": {
      const root = resolutionOf(p).root;
      rootStorePath(p);
      if (flags.json) json({ name: root.name, storePath: root.storePath, needs: root.needs });
      else io.out(`${root.storePath}\n`);
      return ExitCode.ok;
    }
    default:
      throw new MbError("usage.command", `unknown view '${command}'`, { exitCode: ExitCode.usage });
  }
}
