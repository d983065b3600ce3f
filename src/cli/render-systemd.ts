/** `mb render systemd`: the systemd backend over the resolved build, printed (units separated by `# <unit>.service`) or written with `--dir`. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { joinUnits, renderSystemd } from "../backends/systemd.js";
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import { serviceProfile, toSystemd } from "../ornaments/sandbox/index.js";
import { resolutionOf, type Prepared } from "./context.js";
import type { Io } from "./io.js";

/** Renders every materialized service of the builder as a unit; with `dir`, one file per unit (their paths printed). */
export function runRenderSystemd(plan: BuildPlan, p: Prepared, flags: { readonly json: boolean; readonly dir?: string }, io: Io): number {
  const root = resolutionOf(p).root;
  if (!root.complete) throw new MbError("path.unresolved", `cannot render systemd units of '${root.name}': its store path is unknown while some packages or inputs are missing (see the warnings above)`, { exitCode: ExitCode.problems });
  const storePath = root.storePath;
  const units = renderSystemd(plan, { storePath, hardening: (service, port) => toSystemd(serviceProfile(service, { storePath, port, tools: plan.tools })) });
  if (flags.dir !== undefined) {
    const dir = resolve(flags.dir);
    mkdirSync(dir, { recursive: true });
    const written = units.map((u) => {
      const file = join(dir, u.file);
      writeFileSync(file, u.text);
      return file;
    });
    if (flags.json) io.out(JSON.stringify({ backend: "systemd", files: written }, null, 2) + "\n");
    else for (const f of written) io.out(`${f}\n`);
    return ExitCode.ok;
  }
  if (flags.json) io.out(JSON.stringify({ backend: "systemd", storePath, units }, null, 2) + "\n");
  else io.out(joinUnits(units));
  return ExitCode.ok;
}
