/**
 * What the standalone backends (the shell script and the Nix expression) render: a build and every build it depends
 * on, dependencies first. A store path a step names (a dependency's output, an imported input) is relocated to a
 * shell variable (`mb_dep_<i>`, `mb_input_<j>`), since neither backend builds into the mb store: the script builds
 * each dependency into its own directory, Nix into its own store. Steps that name no relocated path render exactly as
 * the plan view shows them.
 */
import type { BuildPlan, PlanStep } from "../core/plan.js";
import { isPackageObject, packageInfo } from "../core/package.js";
import { outputRelative } from "../core/output-path.js";
import { comment, dq, escapeShellArg, oneLine } from "../program/quote.js";
import { isLocalPath, libraryPath, pathMapKey } from "../program/render.js";
import { renderStep } from "../program/steps.js";

/** An input imported into the store by content (a path package or a local input): where it lies on the host. */
export interface StandaloneImport {
  readonly storePath: string;
  readonly source: string;
  /** The store entry's name (its base name after the hash). */
  readonly name: string;
}

/** One build of the graph, as resolution computed it. */
export interface StandaloneBuild {
  /** The plan's (derivation's) name. */
  readonly name: string;
  readonly storePath: string;
  readonly plan: BuildPlan;
  /** Store paths of the builds it needs first. */
  readonly needs: readonly string[];
  readonly imports: readonly StandaloneImport[];
  /** The pathMap values that are local inputs (imported by content), not store entries. */
  readonly localInputs: readonly string[];
  /** The engine's base tools of this build (name -> host executable): writeFile and copyPath steps use them. */
  readonly baseTools: Readonly<Record<string, string>>;
  /** False when some package or input could not be resolved. */
  readonly complete: boolean;
}

/** A build and its dependencies, dependencies first (the root build is last). */
export interface StandaloneGraph {
  readonly builds: readonly StandaloneBuild[];
  /** The Nix-style system string (`x86_64-linux`). */
  readonly system: string;
  readonly sourceDateEpoch: number;
  /** Host coreutils executables the Nix builder script calls by path before PATH is set (`cp`, `ln`, `mkdir`). */
  readonly coreutils: Readonly<Record<string, string>>;
}

/** Store path -> the variable holding where that entry is when the backend runs. */
export type Relocation = ReadonlyMap<string, string>;

/** The variable of the i-th build's output. */
export const depVar = (i: number) => `mb_dep_${i}`;

/** An imported input a plan names by its store path, and the variable holding where it is. */
export interface RelocatedInput {
  readonly variable: string;
  readonly input: StandaloneImport;
}

/** Every relocated store path of a graph: each dependency build's output, and each imported input a plan names. */
export function relocationOf(graph: StandaloneGraph): { relocation: Map<string, string>; inputs: RelocatedInput[] } {
  const relocation = new Map<string, string>();
  graph.builds.slice(0, -1).forEach((b, i) => relocation.set(b.storePath, depVar(i)));
  const inputs: RelocatedInput[] = [];
  for (const b of graph.builds) {
    const text = JSON.stringify(b.plan);
    for (const input of b.imports) {
      if (relocation.has(input.storePath) || !text.includes(input.storePath)) continue;
      const variable = `mb_input_${inputs.length}`;
      relocation.set(input.storePath, variable);
      inputs.push({ variable, input });
    }
  }
  return { relocation, inputs };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function pattern(relocation: Relocation, withOut: boolean): RegExp | null {
  const paths = [...relocation.keys()].sort((a, b) => b.length - a.length).map(escapeRe);
  const parts = [...(withOut ? ["\\$out(?![A-Za-z0-9_])|\\$\\{out\\}"] : []), ...(paths.length > 0 ? [`(?:${paths.join("|")})(?![A-Za-z0-9+._?=-])`] : [])];
  return parts.length === 0 ? null : new RegExp(parts.join("|"), "g");
}

/**
 * One shell word for `s` in which each relocated store path becomes `"$<variable>"` and (with `withOut`) each
 * whole-word `$out`/`${out}` becomes `"$out"`; everything else is literal.
 */
export function relocatedWord(s: string, relocation: Relocation, withOut: boolean): string {
  const re = pattern(relocation, withOut);
  if (re === null) return escapeShellArg(s);
  const pieces: string[] = [];
  let at = 0;
  for (const m of s.matchAll(re)) {
    if (m.index > at) pieces.push(escapeShellArg(s.slice(at, m.index)));
    pieces.push(m[0].startsWith("$") ? `"$out"` : `"$${relocation.get(m[0])}"`);
    at = m.index + m[0].length;
  }
  if (at < s.length) pieces.push(escapeShellArg(s.slice(at)));
  return pieces.length === 0 ? "''" : pieces.join("");
}

/** True when a value (a step, a path) names one of the relocated store paths. */
export function namesRelocated(value: unknown, relocation: Relocation): boolean {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return [...relocation.keys()].some((p) => text.includes(p));
}

const target = (path: string) => {
  const rel = outputRelative(path);
  return rel === "" ? `"$out"` : `"$out/${dq(rel)}"`;
};

/** A step as shell with its relocated store paths read from their variables (the plan view's text when it names none). */
export function renderRelocatedStep(step: PlanStep, relocation: Relocation): string {
  const plain = renderStep(step); // validates the step (a NUL byte is exit 2) whatever it names
  if (!namesRelocated(step, relocation)) return plain;
  switch (step._con) {
    case "runStep": {
      const env = Object.keys(step.env)
        .sort()
        .map((k) => `${k}=${relocatedWord(String(step.env[k]!), relocation, true)}`);
      const args = step.args.map((arg) => {
        if (typeof arg === "number") return escapeShellArg(String(arg));
        if (isPackageObject(arg)) {
          const info = packageInfo(arg);
          return relocatedWord(info.outPath ?? info.packageName, relocation, false);
        }
        if (isLocalPath(arg)) return `"$${pathMapKey(arg as string)}"`;
        return relocatedWord(arg as string, relocation, true);
      });
      return [...env, escapeShellArg(step.tool.name), ...args].join(" ");
    }
    case "writeStep":
      return [`mkdir -p "$(dirname ${target(step.path)})"`, `printf '%s\\n' ${relocatedWord(step.text, relocation, false)} > ${target(step.path)}`].join("\n");
    case "copyStep":
      return plain; // its source is a pathMap variable (relocated where it is exported) or a relative path
  }
}

/** The LD_LIBRARY_PATH export of a plan's native paths, relocated; null when there are none. */
export function relocatedLibraryPath(plan: BuildPlan, relocation: Relocation): string | null {
  if (plan.nativePaths.length === 0) return null;
  return `export LD_LIBRARY_PATH=${relocatedWord(`${libraryPath(plan.nativePaths)}:`, relocation, false)}\${LD_LIBRARY_PATH:-}`;
}

/**
 * The steps of a build, each preceded by its marker: `mb_step` names it (the exit trap reports a failing step by it)
 * and a `--- step i/n: <name>` line goes to stderr, as `mb build`'s log shows it.
 */
export function markedSteps(plan: BuildPlan, relocation: Relocation): string[] {
  const lines: string[] = [];
  plan.steps.forEach((s, i) => {
    lines.push(`mb_step=${escapeShellArg(`${i + 1}/${plan.steps.length} ${oneLine(s.name)} (${s._con})`)}`);
    lines.push(`printf '%s\\n' "--- step $mb_step" >&2`);
    lines.push(renderRelocatedStep(s, relocation));
  });
  return lines;
}

/** The shell function that reports a failing build by its step (`mb_name`, `mb_step`), installed as the EXIT trap. */
export function reportFunction(cleanup: string): string {
  return [
    "mb_report() {",
    "  mb_status=$?",
    ...(cleanup ? [`  ${cleanup}`] : []),
    '  if [ "$mb_status" -ne 0 ]; then printf \'%s\\n\' "mb: $mb_name: step $mb_step failed with exit status $mb_status" >&2; fi',
    "}",
  ].join("\n");
}

/** `# runtime artifact ...` comments of a plan (built outside the script or expression). */
export function artifactComments(plan: BuildPlan, where: string): string[] {
  return plan.runtimeArtifacts.map((a) => comment(`runtime artifact ${a.kind}:${a.name} (built outside this ${where}): ${a.storePath}`));
}
