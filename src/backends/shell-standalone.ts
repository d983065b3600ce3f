/**
 * The standalone shell script (`mb render shell`): `bash build.sh [--deps DIR] [--dep NAME=PATH]... [OUT]` builds the
 * builder into OUT and, first, each builder it depends on into `DIR/<store entry name>` (default: OUT's sibling
 * `.mb-deps`), unless given with `--dep`. Every build runs as the engine runs it: in a fresh working directory, with
 * `out`, a private `TMPDIR`, `SOURCE_DATE_EPOCH`, `LC_ALL=C` and a `HOME` that does not exist, and its output is then
 * sealed as a store entry is (files 0444 or 0555, directories 0555, mtime 1), so what reads it sees what it would see
 * in the store. Imported inputs are copied from where they lay when the script was rendered into the same directory,
 * under their store entry's name (a compiler records the name of the file it compiled).
 */
import { ExitCode, MbError } from "../core/errors.js";
import { comment, dq, escapeShellArg, oneLine } from "../program/quote.js";
import { needsGuard } from "./guards.js";
import { shellUnsupportedReasons } from "./shell.js";
import {
  artifactComments, depVar, markedSteps, relocatedLibraryPath, relocatedWord, relocationOf, reportFunction, type Relocation, type StandaloneBuild, type StandaloneGraph,
} from "./shell-graph.js";

const base = (storePath: string) => storePath.slice(storePath.lastIndexOf("/") + 1);

/** Throws (exit 1) naming every build of the graph the shell backend cannot translate. */
export function assertShellSupported(graph: StandaloneGraph, backend: string): void {
  const root = graph.builds[graph.builds.length - 1]!;
  const reasons = graph.builds.flatMap((b) => shellUnsupportedReasons(b.plan).map((r) => (b === root ? r : `dependency '${oneLine(b.name)}': ${r}`)));
  if (reasons.length > 0) {
    throw new MbError("backend.unsupported", `${backend} backend: plan '${root.name}' is unsupported:\n${reasons.map((r) => `  - ${r}`).join("\n")}`, { exitCode: ExitCode.problems });
  }
}

// The script's own helpers: usage errors, path checks, taking a dependency's output, making a fresh directory, sealing.
const HELPERS = [
  "mb_usage() { printf '%s\\n' \"build.sh: $1\" 'usage: bash build.sh [--deps DIR] [--dep NAME=PATH]... [OUT]' >&2; exit 2; }",
  "mb_abs() { case \"$1\" in /*) printf '%s' \"$1\" ;; *) printf '%s' \"$PWD/$1\" ;; esac; }",
  "# A path a step's own script may embed, as it embeds a store path: only [A-Za-z0-9._+@,=~/-].",
  "mb_check_path() { case \"$1\" in *[!A-Za-z0-9._+@,=~/-]*) printf '%s\\n' \"build.sh: $2 '$1' holds a character outside [A-Za-z0-9._+@,=~/-], which a step's script cannot embed\" >&2; exit 2 ;; esac; }",
  "mb_fresh() { if [ -e \"$1\" ] || [ -L \"$1\" ]; then chmod -R u+w \"$1\"; rm -rf \"$1\"; fi; mkdir -p \"$(dirname \"$1\")\"; }",
  "mb_seal() {",
  "  find \"$1\" -type f -perm /111 -exec chmod 0555 {} +",
  "  find \"$1\" -type f ! -perm /111 -exec chmod 0444 {} +",
  "  find \"$1\" -type d -exec chmod 0555 {} +",
  "  find \"$1\" -exec touch -h -d @1 {} +",
  "}",
];

const SCRIPT_TOOLS = ["chmod", "cp", "dirname", "find", "mkdir", "mktemp", "rm", "touch"];

/** One build as a function running in a subshell: `mb_build_<i> OUT`. */
function buildFunction(fn: string, b: StandaloneBuild, relocation: Relocation): string[] {
  const plan = b.plan;
  const lines = [`${fn}() (`, `  mb_name=${escapeShellArg(oneLine(b.name))}`, "  mb_step='(setup)'", '  out="$1"', "  export out", '  mb_top="$(mktemp -d)"', "  trap mb_report EXIT"];
  lines.push('  mkdir "$mb_top/tmp" "$mb_top/build"', '  TMPDIR="$mb_top/tmp"', "  export TMPDIR", '  cd "$mb_top/build"');
  for (const t of plan.tools.filter((tool) => needsGuard(tool, plan))) {
    lines.push(`  command -v ${escapeShellArg(t.name)} >/dev/null 2>&1 || { echo ${escapeShellArg(`backends.shell: missing tool on PATH: ${t.name}`)} >&2; exit 1; }`);
  }
  for (const [k, v] of Object.entries(plan.pathMap)) lines.push(`  export ${k}=${relocatedWord(v, relocation, false)}`);
  const ld = relocatedLibraryPath(plan, relocation);
  if (ld) lines.push(`  ${ld}`);
  lines.push('  mkdir -p "$out"');
  for (const l of markedSteps(plan, relocation)) lines.push(l.replace(/^/gm, (_m, offset: number) => (offset === 0 ? "  " : "")));
  lines.push("  mb_step='(seal)'", '  mb_seal "$out"', ")");
  return lines;
}

/** Renders the graph as one standalone bash script; throws (exit 1) when a plan has no shell translation. */
export function renderStandaloneShell(graph: StandaloneGraph): string {
  assertShellSupported(graph, "shell");
  const { relocation, inputs } = relocationOf(graph);
  const root = graph.builds[graph.builds.length - 1]!;
  const deps = graph.builds.slice(0, -1);
  const index = new Map(graph.builds.map((b, i) => [b.storePath, i]));
  const lines = ["#!/usr/bin/env bash", comment(`mb render shell: ${root.name}${deps.length > 0 ? `, after ${deps.map((d) => d.name).join(", ")}` : ""}`)];
  lines.push("# usage: bash build.sh [--deps DIR] [--dep NAME=PATH]... [OUT]   (OUT: else $out, else ./out; DIR: else OUT/../.mb-deps)");
  lines.push("set -euo pipefail", ...HELPERS);
  lines.push(`for mb_tool in ${SCRIPT_TOOLS.join(" ")}; do command -v "$mb_tool" >/dev/null 2>&1 || { echo "build.sh: missing tool on PATH: $mb_tool" >&2; exit 1; }; done`);
  lines.push(reportFunction('rm -rf "$mb_top"'));
  deps.forEach((_, i) => lines.push(`${depVar(i)}=''`));
  const known = oneLine(deps.map((d) => d.name).join(", "));
  if (deps.length > 0) lines.push("mb_given() {", '  mb_path="$(mb_abs "${1#*=}")"', '  [ -e "$mb_path" ] || mb_usage "--dep ${1%%=*}: $mb_path does not exist"', '  mb_check_path "$mb_path" "--dep ${1%%=*}"', '  case "${1%%=*}" in');
  for (const [i, d] of deps.entries()) lines.push(`    ${escapeShellArg(d.name)}|${escapeShellArg(base(d.storePath))}) ${depVar(i)}="$mb_path" ;;`);
  if (deps.length > 0) lines.push(`    *) mb_usage "--dep \${1%%=*}: no such dependency (known: ${dq(known)})" ;;`, "  esac", "}");
  lines.push("mb_deps_dir=''", 'while [ "$#" -gt 0 ]; do', '  case "$1" in');
  lines.push('    --deps) [ "$#" -ge 2 ] || mb_usage "--deps needs a directory"; mb_deps_dir="$2"; shift 2 ;;', '    --deps=*) mb_deps_dir="${1#--deps=}"; shift ;;');
  if (deps.length > 0) lines.push('    --dep) [ "$#" -ge 2 ] || mb_usage "--dep needs NAME=PATH"; mb_given "$2"; shift 2 ;;', '    --dep=*) mb_given "${1#--dep=}"; shift ;;');
  else lines.push(`    --dep|--dep=*) mb_usage "--dep: ${dq(oneLine(root.name))} depends on no builder" ;;`);
  lines.push("    --) shift; break ;;", '    -?*) mb_usage "unknown option $1" ;;', "    *) break ;;", "  esac", "done");
  lines.push('[ "$#" -le 1 ] || mb_usage "unexpected argument $2"');
  lines.push('mb_out="$(mb_abs "${1:-${out:-out}}")"');
  lines.push('if [ -L "$mb_out" ] || { [ -e "$mb_out" ] && { [ ! -d "$mb_out" ] || [ -n "$(ls -A "$mb_out")" ]; }; }; then echo "build.sh: $mb_out exists and is not an empty directory" >&2; exit 1; fi');
  lines.push('mb_deps_dir="$(mb_abs "${mb_deps_dir:-$(dirname "$mb_out")/.mb-deps}")"');
  lines.push(`export SOURCE_DATE_EPOCH="\${SOURCE_DATE_EPOCH:-${graph.sourceDateEpoch}}"`, "export LC_ALL=C", "export HOME=/homeless-shelter");
  // Each imported input is copied under its store entry's name (a tool may record the name it was given), sealed.
  for (const { variable, input } of inputs) {
    const source = escapeShellArg(input.source);
    lines.push(`[ -e ${source} ] || { echo ${escapeShellArg(`build.sh: input ${oneLine(input.source)} (${input.name}) does not exist`)} >&2; exit 1; }`);
    lines.push(`${variable}="$mb_deps_dir/${base(input.storePath)}"`, `mb_check_path "$${variable}" input`);
    lines.push(`mb_fresh "$${variable}"`, `cp -R ${source} "$${variable}"`, `mb_seal "$${variable}"`);
  }
  graph.builds.forEach((b, i) => lines.push(...buildFunction(`mb_build_${i}`, b, relocation)));
  const needsOf = (b: StandaloneBuild) => [...new Set(b.needs)].map((p) => index.get(p)).filter((i): i is number => i !== undefined && i < deps.length);
  for (const [i, d] of deps.entries()) {
    const v = depVar(i);
    lines.push(`mb_need_${i}() {`, `  [ -z "$${v}" ] || return 0`, `  ${v}="$mb_deps_dir/${base(d.storePath)}"`, `  mb_check_path "$${v}" dependency`);
    lines.push(`  if [ ! -e "$${v}.done" ]; then`, ...needsOf(d).map((j) => `    mb_need_${j}`));
    lines.push(`    echo ${escapeShellArg(`build.sh: building ${oneLine(d.name)}`)}" into $${v}" >&2`, `    mb_fresh "$${v}"`, `    mb_build_${i} "$${v}"`, `    : > "$${v}.done"`, "  fi", "}");
  }
  lines.push(...needsOf(root).map((j) => `mb_need_${j}`));
  lines.push('mkdir -p "$(dirname "$mb_out")"', `mb_build_${graph.builds.length - 1} "$mb_out"`);
  lines.push(...artifactComments(root.plan, "script"));
  return lines.join("\n") + "\n";
}
