/** The shell backend: a standalone bash script from a plan. */
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import { needsGuard } from "./guards.js";
import { ldLibraryPathExport } from "../program/render.js";
import { comment, escapeShellArg } from "../program/quote.js";
import { renderStep } from "../program/steps.js";

/** Why a plan has no shell translation (empty when supported). */
export function shellUnsupportedReasons(plan: BuildPlan): string[] {
  return plan.builder === "runCommand" ? [] : [`builder '${plan.builder}' has no shell translation (only runCommand semantics)`];
}

/**
 * What the engine sets for every step, set the same way by the script: `$out` (the first argument, else `$out`, else
 * ./out; made absolute), SOURCE_DATE_EPOCH (the engine's default 1 unless given), LC_ALL=C, a HOME that does not
 * exist, and a private TMPDIR removed on exit.
 */
const ENGINE_ENVIRONMENT = [
  'out="${1:-${out:-$PWD/out}}"',
  'case "$out" in /*) ;; *) out="$PWD/$out" ;; esac',
  "export out",
  'export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1}"',
  "export LC_ALL=C",
  "export HOME=/homeless-shelter",
  'TMPDIR="$(mktemp -d)"',
  "export TMPDIR",
  "trap 'rm -rf \"$TMPDIR\"' EXIT",
  'mkdir -p "$out"',
];

/** Renders the plan as a standalone bash script, or throws (exit 1) naming every reason it cannot. */
export function renderShell(plan: BuildPlan): string {
  const reasons = shellUnsupportedReasons(plan);
  if (reasons.length > 0) {
    throw new MbError("backend.unsupported", `shell backend: plan '${plan.name}' is unsupported:\n${reasons.map((r) => `  - ${r}`).join("\n")}`, {
      exitCode: ExitCode.problems,
    });
  }
  const lines = ["#!/usr/bin/env bash", "set -euo pipefail", ...ENGINE_ENVIRONMENT];
  for (const t of plan.tools.filter((tool) => needsGuard(tool, plan))) {
    lines.push(`command -v ${escapeShellArg(t.name)} >/dev/null 2>&1 || { echo ${escapeShellArg(`backends.shell: missing tool on PATH: ${t.name}`)} >&2; exit 1; }`);
  }
  for (const [k, v] of Object.entries(plan.pathMap)) lines.push(`export ${k}=${escapeShellArg(v)}`);
  const ld = ldLibraryPathExport(plan.nativePaths);
  if (ld) lines.push(ld);
  for (const s of plan.steps) lines.push(renderStep(s));
  for (const a of plan.runtimeArtifacts) lines.push(comment(`runtime artifact ${a.kind}:${a.name} (built outside this script): ${a.storePath}`));
  return lines.join("\n") + "\n";
}
