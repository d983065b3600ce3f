/**
 * The build environment: a fresh temporary directory per build, and exactly this environment for every step: `out`,
 * `TMPDIR`, `HOME` (a directory that does not exist), `SOURCE_DATE_EPOCH`, `LC_ALL=C`, `PATH` (a symlink farm of the
 * declared tools' executables, nothing else) and `pathMap_*` (store copies of the local inputs).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { isExecutableFile } from "./host.js";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildPlan } from "../core/plan.js";
import type { PackageRef } from "../core/records.js";
import { safeName } from "../program/fingerprint.js";
import { ldLibraryPathExport } from "../program/render.js";
import { killGroup, type Interrupt } from "./interrupt.js";
import { forceRemove } from "./store.js";
import { ensureDir } from "./dirs.js";

/** How a step ended. */
export interface StepExit {
  /** The exit status; 128 + n when killed by signal n. */
  readonly status: number;
  readonly signal: NodeJS.Signals | null;
}

/** A prepared build environment. */
export interface Sandbox {
  /** The temporary build directory holding everything below. */
  readonly top: string;
  /** The working directory of every step. */
  readonly cwd: string;
  /** The complete environment of every step. */
  readonly env: Readonly<Record<string, string>>;
  /** The bash that interprets each rendered step: the declared `bash` tool when there is one, else the host's. */
  readonly shell: string;
  /** Executable names on PATH. */
  readonly path: readonly string[];
  /** Runs one rendered step (with the plan's LD_LIBRARY_PATH export before it), its output appended to `logFd`. */
  run(stepShell: string, index: number, logFd: number, interrupt: Interrupt): Promise<StepExit>;
  /** Removes the build directory. */
  dispose(): void;
}


/** The executables a tool's package puts on PATH: a host package's own, else the `bin` directory of its store path. */
export function executablesOf(pkg: PackageRef, toolName: string): Record<string, string> {
  if (typeof pkg !== "object" || pkg._con !== "resolvedPackage") return {};
  if (pkg.origin === "host") return pkg.executables;
  const out: Record<string, string> = {};
  const bin = join(pkg.outPath, "bin");
  try {
    for (const name of readdirSync(bin).sort()) if (isExecutableFile(join(bin, name))) out[name] = join(bin, name);
  } catch {
    if (isExecutableFile(pkg.outPath)) out[toolName] = pkg.outPath;
  }
  return out;
}

function hostBash(): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && isExecutableFile(join(dir, "bash"))) return join(dir, "bash");
  }
  return "/bin/bash";
}

function writeFarm(dir: string, farm: Readonly<Record<string, string>>): void {
  for (const [name, target] of Object.entries(farm)) symlinkSync(target, join(dir, name));
}

/**
 * The PATH farm for exactly these executables, made once and reused: creating symlinks costs about 1.5 ms each on
 * some file systems, and a farm of coreutils holds over a hundred. The directory is named by the hash of its
 * mapping, so it holds exactly the declared tools and nothing else; it is built aside and renamed into place.
 */
function cachedFarm(root: string, farm: Readonly<Record<string, string>>): string {
  const names = Object.keys(farm).sort();
  const hash = createHash("sha256").update(names.map((n) => `${n}\0${farm[n]}`).join("\n")).digest("hex").slice(0, 32);
  const dir = join(root, hash);
  if (existsSync(dir)) return dir;
  ensureDir(root);
  const temp = mkdtempSync(join(root, ".tmp-"));
  writeFarm(temp, farm);
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another build made the same farm first
  }
  return dir;
}

/** Creates the build directory, the PATH farm and the environment for one build whose output goes to `out`. */
export function createSandbox(opts: {
  readonly plan: BuildPlan;
  readonly inputStore: Readonly<Record<string, string>>;
  readonly sourceDateEpoch: number;
  readonly out: string;
  /** Where PATH farms are kept and reused across builds (one per distinct set of tools); none: a farm per build. */
  readonly farmCache?: string;
}): Sandbox {
  const top = mkdtempSync(join(tmpdir(), `mb-build-${safeName(opts.plan.name).slice(0, 40)}-`));
  const cwd = join(top, "build");
  const tmp = join(top, "tmp");
  const bin = join(top, "bin");
  const steps = join(top, "steps");
  for (const d of [cwd, tmp, bin, steps]) mkdirSync(d);
  const farm: Record<string, string> = {};
  for (const t of opts.plan.tools) {
    for (const [name, target] of Object.entries(executablesOf(t.package, t.name))) {
      if (name in farm || name.includes("/") || name.startsWith(".")) continue;
      farm[name] = target;
    }
  }
  const pathDir = opts.farmCache ? cachedFarm(opts.farmCache, farm) : (writeFarm(bin, farm), bin);
  const env: Record<string, string> = {
    out: opts.out,
    TMPDIR: tmp,
    HOME: join(top, "homeless-shelter"),
    SOURCE_DATE_EPOCH: String(opts.sourceDateEpoch),
    LC_ALL: "C",
    PATH: pathDir,
    ...opts.inputStore,
  };
  const shell = "bash" in farm ? join(pathDir, "bash") : hostBash();
  const prelude = ["set -euo pipefail"];
  const ld = ldLibraryPathExport(opts.plan.nativePaths);
  if (ld) prelude.push(ld);

  return {
    top,
    cwd,
    env,
    shell,
    path: Object.keys(farm).sort(),
    run(stepShell, index, logFd, interrupt) {
      const script = join(steps, `${index}.sh`);
      writeFileSync(script, `${prelude.join("\n")}\n${stepShell}\n`);
      return new Promise<StepExit>((resolve, reject) => {
        if (interrupt.signal) return resolve({ status: 130, signal: interrupt.signal });
        const child = spawn(shell, [script], { cwd, env, detached: true, stdio: ["ignore", logFd, logFd] });
        const pid = child.pid;
        if (pid !== undefined) interrupt.addGroup(pid);
        child.once("error", (e) => {
          if (pid !== undefined) interrupt.removeGroup(pid);
          reject(e);
        });
        child.once("exit", (code, signal) => {
          if (pid !== undefined) {
            killGroup(pid); // a step leaves nothing running behind it
            interrupt.removeGroup(pid);
          }
          const n = signal ? 128 + (osConstants.signals[signal] ?? 0) : (code ?? 1);
          resolve({ status: n, signal });
        });
      });
    },
    dispose() {
      if (existsSync(top)) forceRemove(top);
    },
  };
}
