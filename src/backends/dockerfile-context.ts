/**
 * The Dockerfile backend with a build context (`mb render dockerfile --context DIR`): a multi-stage Dockerfile that
 * BuildKit and buildah build with no network. Stage `tools` unpacks the tools image (tools.tar, made by the engine
 * from the declared Debian packages); each build of the DAG is a stage that copies in the store entries it reads
 * (dependency stages' outputs, imported inputs, runtime artifacts) at their store paths, runs every step as
 * `bash /mb/step.sh <stage> <index>` with the environment the engine sets, and seals `$out` as the engine does; the
 * last stage is `FROM scratch` holding only the output. No string from a spec is on an instruction line: scripts,
 * names and paths are files of the context, and what must be written inline goes through the quoting module.
 */
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import { comment, dockerCopy, dockerEnv, dockerNameProblem, oneLine } from "../program/quote.js";
import { ldLibraryPathExport } from "../program/render.js";
import { renderStep } from "../program/steps.js";

/** One build of the DAG as the context renders it (dependencies come before the builds that need them). */
export interface ContextBuild {
  readonly plan: BuildPlan;
  readonly storePath: string;
  /** Store paths of the builds this one reads, each built by an earlier stage. */
  readonly needs: readonly string[];
  /** Store entries this build reads that the context carries under `store/` (imports, store inputs, artifacts). */
  readonly entries: readonly string[];
  /** The value of each `pathMap_*` variable: a store path. */
  readonly inputStore: Readonly<Record<string, string>>;
}

/** One file the backend puts in the context: its path relative to the context, its text and mode. */
export interface ContextFile {
  readonly path: string;
  readonly text: string;
  readonly mode: number;
}

/** A rendered context: the Dockerfile and the files it runs. The caller adds tools.tar and `store/<entry>`. */
export interface RenderedContext {
  readonly dockerfile: string;
  readonly files: readonly ContextFile[];
}

/** How the context is rendered. */
export interface ContextOptions {
  readonly sourceDateEpoch: number;
  /** The shell a step runs as, from its rendered text (the engine's guard for writes and copies); default: as rendered. */
  readonly stepShell?: (step: BuildPlan["steps"][number], rendered: string) => string;
}

/** The context's tools image file. */
export const TOOLS_TAR = "tools.tar";
/** Where the context holds store entries a build reads but no stage builds. */
export const STORE_DIR = "store";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Runs step `$2` of stage `$1` as the engine's driver does: a subshell under `set -euo pipefail`, no positional
 * parameters, in the empty working directory; the step's name (read from a file, never spliced) is printed before it
 * and, if it fails, with its status, so the builder's output names the step.
 */
const STEP_SH = `# mb: runs one step of a stage as the engine does; its name is printed before it and when it fails.
stage=$1 i=$2
dir=/mb/$stage
name=$(<"$dir/steps/$i.name")
total=$(<"$dir/steps/count")
printf 'mb: step %s/%s: %s\\n' "$((i + 1))" "$total" "$name"
cd /mb/build || exit 1
set --
( set -euo pipefail; [ ! -f "$dir/env.sh" ] || . "$dir/env.sh"; . "$dir/steps/$i.sh" )
status=$?
if [ "$status" -ne 0 ]; then
  printf 'mb: step %s/%s: %s failed with exit status %d\\n' "$((i + 1))" "$total" "$name" "$status" >&2
  exit "$status"
fi
`;

/**
 * Puts store paths in the engine's canonical form (files 0444 or 0555, directories 0555, mtime 1): \`prepare <stage>\`
 * for the entries a stage copied in (then it makes \`$out\` and \`$TMPDIR\`), \`seal\` for \`$out\` after the last step.
 */
const SEAL_SH = `# mb: the engine's canonical form for store paths (files 0444 or 0555, directories 0555, mtime 1).
set -euo pipefail
canon() {
  find "$1" -type d -exec chmod 00555 {} +
  find "$1" -type f -perm /111 -exec chmod 0555 {} +
  find "$1" -type f ! -perm /111 -exec chmod 0444 {} +
  find "$1" -exec touch -h -d @1 {} +
}
case $1 in
prepare)
  while IFS= read -r p; do [ -z "$p" ] || canon "$p"; done < "/mb/$2/entries"
  mkdir -p "$out" "$TMPDIR"
  ;;
seal) canon "$out" ;;
esac
`;

function unsupported(reasons: string[]): never {
  throw new MbError("backend.unsupported", `dockerfile backend (--context): unsupported:\n${reasons.map((r) => `  - ${r}`).join("\n")}`, { exitCode: ExitCode.problems });
}

/** Why a store path cannot be written in a COPY instruction (a glob or control character in a segment), or null. */
function pathProblem(p: string): string | null {
  for (const seg of p.split("/").slice(1)) {
    const problem = dockerNameProblem(seg);
    if (problem !== null) return `store path ${JSON.stringify(p)}: ${problem}`;
  }
  return null;
}

/** The stage name of build `i` of `n` (the last one is `build`). */
const stageName = (i: number, n: number) => (i === n - 1 ? "build" : `dep${i}`);

/** Renders the builds (dependencies first, the root last) as a Dockerfile and its context files. */
export function renderDockerfileContext(builds: readonly ContextBuild[], opts: ContextOptions): RenderedContext {
  const root = builds[builds.length - 1];
  if (!root) unsupported(["there is no build to render"]);
  const reasons: string[] = [];
  for (const b of builds) {
    if (b.plan.builder !== "runCommand") reasons.push(`builder '${b.plan.builder}' of '${b.plan.name}' has no Dockerfile translation (only runCommand semantics)`);
    for (const p of [b.storePath, ...b.needs, ...b.entries, ...Object.values(b.inputStore)]) {
      const problem = pathProblem(p);
      if (problem !== null) reasons.push(problem);
    }
  }
  if (reasons.length > 0) unsupported([...new Set(reasons)]);
  const stageOf = new Map(builds.map((b, i) => [b.storePath, stageName(i, builds.length)]));
  const files: ContextFile[] = [
    { path: "mb/step.sh", text: STEP_SH, mode: 0o444 },
    { path: "mb/seal.sh", text: SEAL_SH, mode: 0o444 },
  ];
  const lines = [
    comment(`metabuilder: ${root.plan.name} -> ${root.storePath}`),
    "# Built by: DOCKER_BUILDKIT=1 docker build --output type=local,dest=OUT .  or  buildah build --output type=local,dest=OUT .",
    "FROM scratch AS tools",
    `ADD [${JSON.stringify(TOOLS_TAR)}, "/"]`,
    'COPY ["mb/step.sh", "mb/seal.sh", "/mb/"]',
    `ENV PATH="${PATH}" LC_ALL="C" SOURCE_DATE_EPOCH="${opts.sourceDateEpoch}" HOME="/homeless-shelter" TMPDIR="/mb/tmp"`,
    "WORKDIR /mb/build",
  ];
  builds.forEach((b, i) => {
    const stage = stageName(i, builds.length);
    const plan = b.plan;
    lines.push("", comment(`stage ${i + 1}/${builds.length}: ${plan.name} -> ${b.storePath}`), `FROM tools AS ${stage}`, `COPY ["mb/${i}/", "/mb/${i}/"]`);
    for (const need of b.needs) {
      const from = stageOf.get(need);
      if (from === undefined) throw new MbError("backend.dockerfile", `dockerfile backend: '${plan.name}' needs ${need}, which no earlier stage builds`);
      lines.push(`COPY --from=${from} ${dockerCopy(need, need).slice("COPY ".length)}`);
    }
    for (const e of b.entries) lines.push(dockerCopy(`${STORE_DIR}/${e.split("/").pop()}`, e));
    lines.push(dockerEnv("out", b.storePath));
    for (const [k, v] of Object.entries(b.inputStore).sort(([x], [y]) => (x < y ? -1 : 1))) lines.push(dockerEnv(k, v));
    lines.push(`RUN ["bash", "/mb/seal.sh", "prepare", "${i}"]`);
    const dir = `mb/${i}`;
    files.push({ path: `${dir}/entries`, text: [...b.needs, ...b.entries].map((p) => `${p}\n`).join(""), mode: 0o444 });
    files.push({ path: `${dir}/steps/count`, text: `${plan.steps.length}\n`, mode: 0o444 });
    const ld = ldLibraryPathExport(plan.nativePaths);
    if (ld) files.push({ path: `${dir}/env.sh`, text: `${ld}\n`, mode: 0o444 });
    plan.steps.forEach((s, j) => {
      const rendered = renderStep(s);
      files.push({ path: `${dir}/steps/${j}.sh`, text: `${opts.stepShell ? opts.stepShell(s, rendered) : rendered}\n`, mode: 0o444 });
      files.push({ path: `${dir}/steps/${j}.name`, text: `${oneLine(s.name)}\n`, mode: 0o444 });
      lines.push(`RUN ["bash", "/mb/step.sh", "${i}", "${j}"]`);
    });
    lines.push(`RUN ["bash", "/mb/seal.sh", "seal"]`);
    for (const a of plan.runtimeArtifacts) lines.push(comment(`runtime artifact ${a.kind}:${a.name} (copied into the stages that read it): ${a.storePath}`));
  });
  lines.push("", comment(`the output: ${root.storePath}, and nothing else`), "FROM scratch", `COPY --from=build ${dockerCopy(`${root.storePath}/`, "/").slice("COPY ".length)}`);
  return { dockerfile: `${lines.join("\n")}\n`, files };
}
