/** The Dockerfile backend: a Dockerfile that runs the plan's steps in an image build. */
import { ExitCode, MbError } from "../core/errors.js";
import { sha256 } from "../core/hash.js";
import type { BuildPlan } from "../core/plan.js";
import { comment, dockerCopy, dockerEnv, dockerNameProblem, escapeShellArg } from "../program/quote.js";
import { renderStep } from "../program/steps.js";
import { needsGuard } from "./guards.js";

function basename(p: string): string {
  return p.replace(/\/+$/, "").split("/").pop() ?? p;
}

/** Why a plan has no Dockerfile translation (empty when supported). */
export function dockerfileUnsupportedReasons(plan: BuildPlan): string[] {
  const reasons: string[] = [];
  if (plan.builder !== "runCommand") reasons.push(`builder '${plan.builder}' has no Dockerfile translation (only runCommand semantics)`);
  if (plan.nativePaths.length > 0) reasons.push("nativePaths reference host store paths that do not exist inside an image build");
  const bases = Object.values(plan.pathMap).map(basename);
  if (new Set(bases).size !== bases.length) reasons.push("pathMap source basenames clash; a flat build context cannot hold both");
  for (const v of Object.values(plan.pathMap)) {
    const problem = dockerNameProblem(basename(v));
    if (problem !== null) reasons.push(`input ${JSON.stringify(v)}: ${problem}`);
  }
  return reasons;
}

/**
 * One RUN instruction; a command that a Dockerfile line cannot hold (a line break, a carriage return, a trailing
 * backslash that would continue the line) becomes a heredoc whose marker is derived from the body.
 */
export function runLine(cmd: string): string {
  if (!/[\n\r]|\\$/.test(cmd)) return `RUN ${cmd}`;
  const marker = `METABUILDER_RUN_${sha256(cmd)}`;
  return `RUN <<'${marker}'\n${cmd}\n${marker}`;
}

/** Renders the plan as a Dockerfile, or throws (exit 1) naming every reason it cannot. */
export function renderDockerfile(plan: BuildPlan): string {
  const reasons = dockerfileUnsupportedReasons(plan);
  if (reasons.length > 0) {
    throw new MbError("backend.unsupported", `dockerfile backend: plan '${plan.name}' is unsupported:\n${reasons.map((r) => `  - ${r}`).join("\n")}`, {
      exitCode: ExitCode.problems,
    });
  }
  const lines = ["# syntax=docker/dockerfile:1", "ARG base=debian:stable-slim", "FROM ${base}"];
  for (const t of plan.tools.filter((tool) => needsGuard(tool, plan))) lines.push(runLine(`command -v ${escapeShellArg(t.name)} >/dev/null`));
  lines.push("ENV out=/out", "RUN mkdir -p /out");
  for (const [k, v] of Object.entries(plan.pathMap)) {
    const base = basename(v);
    lines.push(dockerCopy(base, `/inputs/${base}`), dockerEnv(k, `/inputs/${base}`));
  }
  for (const s of plan.steps) lines.push(runLine(renderStep(s)));
  for (const a of plan.runtimeArtifacts) lines.push(comment(`runtime artifact ${a.kind}:${a.name} (built outside this image): ${a.storePath}`));
  return lines.join("\n") + "\n";
}
