/**
 * Defence in depth for output paths. Validation already keeps `..` and absolute paths out of every output path; at run
 * time the engine also refuses a write or copy whose destination resolves outside `$out` through a symbolic link an
 * earlier step made (`$out/sub -> /etc`). Before such a step runs, a guard in the step's own shell (bash builtins only,
 * so it needs no tool) walks the destination from `$out`: a link to a directory must resolve inside `$out`, any other
 * link on the way is refused, and `$out` itself must not be a link.
 */
import { outputPathProblem, outputRelative } from "../core/output-path.js";
import type { PlanStep } from "../core/plan.js";
import { escapeShellArg } from "../program/render.js";
import { problem } from "./reports.js";

/** The guard, a bash function: `mb_confine <path relative to $out>` fails (status 1) when the path leaves `$out`. */
const GUARD = [
  "mb_confine() {",
  'local rest=$1 here=$out root phys part',
  'mb_refuse() { printf "mb: refusing to write \'%s\': %s\\n" "$out${1:+/$1}" "$2" >&2; return 1; }',
  'if [[ -L $out ]]; then mb_refuse "$1" "\\$out is a symbolic link"; return 1; fi',
  'root=$(cd -P -- "$out" 2>/dev/null && pwd -P) || return 0',
  'while [[ -n $rest ]]; do',
  'part=${rest%%/*}',
  'if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=; fi',
  'here=$here/$part',
  'if [[ -L $here && -d $here ]]; then',
  'phys=$(cd -P -- "$here" && pwd -P)',
  'case $phys/ in "$root"/*) ;; *) mb_refuse "$1" "$here is a symbolic link to $phys, outside \\$out"; return 1 ;; esac',
  'elif [[ -L $here ]]; then mb_refuse "$1" "$here is a symbolic link"; return 1',
  'elif [[ ! -e $here ]]; then return 0',
  "fi",
  "done",
  "}",
].join("\n");

/**
 * A step's shell as the engine runs it: write and copy steps first check that their destination stays inside `$out`.
 * A destination that is no output path at all (a plan made without validation) is refused before anything runs.
 */
export function confinedShell(step: PlanStep, shell: string): string {
  if (step._con === "runStep") return shell;
  const bad = outputPathProblem(step.path);
  if (bad !== null) throw problem("build.path-outside-out", `step '${step.name}': ${bad}`);
  return `${GUARD}\nmb_confine ${escapeShellArg(outputRelative(step.path))} || exit 1\n${shell}`;
}
