/**
 * `mb render dockerfile <builder> --context DIR`: writes DIR/Dockerfile and everything it needs (the tools image of
 * the declared Debian packages, the step scripts, the imported inputs and runtime artifacts at their store entries'
 * names), so that BuildKit or buildah build it with no network into the tree `mb build` makes.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { renderDockerfileContext, STORE_DIR, TOOLS_TAR, type ContextBuild } from "../backends/dockerfile-context.js";
import { ExitCode, MbError } from "../core/errors.js";
import { mapPackages } from "../core/operations.js";
import type { ResolvedPackage } from "../core/records.js";
import { confinedShell } from "../engine/confine.js";
import { referencesOf, type ResolvedBuild } from "../engine/resolve.js";
import { packageOwning, readDpkgDatabase, toolsImagePackages, writeToolsImage, type DpkgDatabase } from "../engine/tools-image.js";
import { copyTreeCanonical, copyTreePlain } from "../engine/tree-hash.js";
import { prepare, resolutionOf } from "./context.js";
import type { Io } from "./io.js";

/** The file that marks a directory as a rendered context (so a later render may replace it). */
const MARKER = ".mb-context";

/** Empties `dir` for a render: absent, empty, or an earlier rendered context; anything else is exit 2. */
function claimContext(dir: string): void {
  if (!existsSync(dir)) return void mkdirSync(dir, { recursive: true });
  const names = readdirSync(dir);
  if (names.length > 0 && !names.includes(MARKER)) {
    throw new MbError("usage.context", `--context ${dir}: the directory is not empty and holds no earlier rendered context (${MARKER})`, { exitCode: ExitCode.usage, hint: "give an empty or new directory" });
  }
  for (const n of names) rmSync(join(dir, n), { recursive: true, force: true });
}

/** The Debian packages of every host package the builds name (tools and dependencies); a tool found on PATH by its owner. */
function hostPackages(builds: readonly ResolvedBuild[], db: DpkgDatabase): string[] {
  const found = new Map<string, ResolvedPackage>();
  for (const b of builds) {
    for (const op of b.program.operations) {
      mapPackages(op, (ref) => {
        if (typeof ref === "object" && ref._con === "resolvedPackage" && ref.origin === "host") found.set(ref.packageName, ref);
        return ref;
      });
    }
  }
  const names = new Set<string>();
  for (const pkg of found.values()) {
    if (db.resolve(pkg.packageName) && pkg.version !== null) {
      names.add(pkg.packageName);
      continue;
    }
    for (const [exe, path] of Object.entries(pkg.executables)) {
      const owner = packageOwning(path, db);
      if (owner === null) {
        throw new MbError("tools-image.unowned", `tool '${exe}' (${path}, package '${pkg.packageName}') belongs to no installed Debian package: the tools image holds Debian packages only`, { exitCode: ExitCode.problems, hint: "declare the tool by its Debian package (hostPackage(\"<package>\"))" });
      }
      names.add(owner);
    }
  }
  return [...names].sort();
}

/** Copies the store entries the builds read but no stage builds into `<dir>/store/`: imports, store inputs, artifacts. */
function writeEntries(dir: string, builds: readonly ResolvedBuild[], storeDir: string): void {
  const done = new Set<string>();
  const target = (p: string) => join(dir, STORE_DIR, p.split("/").pop()!);
  mkdirSync(join(dir, STORE_DIR));
  for (const b of builds) {
    for (const imp of b.imports) {
      if (done.has(imp.storePath)) continue;
      done.add(imp.storePath);
      const { hash } = copyTreeCanonical(imp.source, target(imp.storePath));
      if (hash !== imp.contentHash) throw new MbError("input.changed", `local input '${imp.source}' changed while the context was being written`, { exitCode: ExitCode.problems, hint: "run the render again" });
    }
    for (const e of b.storeInputs) {
      if (done.has(e)) continue;
      done.add(e);
      if (!existsSync(e)) throw new MbError("input.missing", `'${b.name}' reads the store entry ${e}, which is not in the store ${storeDir}`, { exitCode: ExitCode.problems, hint: "build or import it first (`mb build`)" });
      copyTreePlain(e, target(e));
    }
    for (const a of b.plan.runtimeArtifacts) {
      if (done.has(a.storePath)) continue;
      done.add(a.storePath);
      const file = target(a.storePath);
      writeFileSync(file, JSON.stringify(a.descriptor, null, 2) + "\n", { mode: 0o444 });
      chmodSync(file, 0o444);
    }
  }
}

/** The store entries a build reads that the context carries (everything it references but its dependencies). */
function entriesOf(b: ResolvedBuild): string[] {
  return referencesOf(b).filter((p) => !b.needs.includes(p));
}

/** Runs `mb render dockerfile --context DIR`; prints the Dockerfile's path (`--json`: what was written). */
export async function runRenderContext(backend: string | undefined, builderArg: string, flags: { readonly context: string; readonly store?: string; readonly json: boolean }, io: Io): Promise<number> {
  if (backend !== "dockerfile") throw new MbError("usage.context", "--context applies to render dockerfile only", { exitCode: ExitCode.usage, hint: "run `mb render --help` for usage" });
  if (flags.context === "") throw new MbError("usage.context", "--context needs a directory", { exitCode: ExitCode.usage });
  const p = await prepare(builderArg, { store: flags.store, sandbox: "bwrap", strict: true, warn: (m) => io.err(`mb: warning: ${m}\n`) });
  const { builds, root } = resolutionOf(p);
  const contextBuilds: ContextBuild[] = builds.map((b) => ({ plan: b.plan, storePath: b.storePath, needs: b.needs, entries: entriesOf(b), inputStore: b.inputStore }));
  const rendered = renderDockerfileContext(contextBuilds, { sourceDateEpoch: p.sourceDateEpoch, stepShell: confinedShell });
  const db = readDpkgDatabase();
  const closure = toolsImagePackages(hostPackages(builds, db), db);
  const dir = resolve(flags.context);
  claimContext(dir);
  writeFileSync(join(dir, MARKER), "a build context written by `mb render dockerfile --context`; a later render replaces everything here\n");
  for (const f of rendered.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.text, { mode: f.mode });
  }
  writeEntries(dir, builds, p.storeDir);
  const image = writeToolsImage(join(dir, TOOLS_TAR), closure);
  const dockerfile = join(dir, "Dockerfile");
  writeFileSync(dockerfile, rendered.dockerfile);
  if (flags.json) {
    io.out(JSON.stringify({ backend: "dockerfile", context: dir, dockerfile, storePath: root.storePath, stages: builds.map((b) => ({ name: b.name, storePath: b.storePath })), tools: image }, null, 2) + "\n");
  } else {
    io.err(`mb: tools image: ${image.packages.length} Debian packages, ${(image.bytes / 1e6).toFixed(1)} MB (${TOOLS_TAR})\n`);
    io.out(`${dockerfile}\n`);
  }
  return ExitCode.ok;
}
