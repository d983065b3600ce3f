/** What every command shares: the store location, the system, SOURCE_DATE_EPOCH, and resolving a loaded builder. */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode, MbError } from "../core/errors.js";
import type { SandboxMode } from "../engine/bwrap.js";
import type { Resolution } from "../engine/resolve.js";
import type { Program } from "../program/program.js";
import type { Witness } from "../engine/identity.js";
import type { BuilderArg, LoadedBuilder } from "./load.js";

/** The store directory: `--store`, else `$MB_STORE`, else `$XDG_CACHE_HOME/metabuilder/store` (`~/.cache/...`). */
export function storeDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return checkedStoreDir(resolve(flag), "--store");
  if (env.MB_STORE) return checkedStoreDir(resolve(env.MB_STORE), "MB_STORE");
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return checkedStoreDir(join(resolve(cache), "metabuilder", "store"), env.XDG_CACHE_HOME ? "XDG_CACHE_HOME" : "the home directory");
}

/**
 * The characters a store directory may hold. Store paths reach step scripts as the value of `$out` and of dependency
 * paths, and a script may hand them to a second shell (`bash -c "… $out …"`), which would read `$`, quotes, spaces or
 * backslashes in them as code, and `:` would split the PATH of a build (its tools live under the store directory);
 * like Nix's store directory, ours is restricted to characters no shell or PATH reads specially.
 */
const STORE_DIR = /^\/[A-Za-z0-9._+@,=%\/-]*$/;

function checkedStoreDir(dir: string, from: string): string {
  if (STORE_DIR.test(dir)) return dir;
  const bad = [...dir].find((c) => !/[A-Za-z0-9._+@,=%\/-]/.test(c)) ?? "";
  throw new MbError("usage.store-dir", `the store directory ${JSON.stringify(dir)} (from ${from}) holds ${JSON.stringify(bad)}: a store directory uses only letters, digits and . _ + @ , = % / -`, {
    exitCode: ExitCode.usage,
    hint: "store paths reach build scripts, where a shell would read such a character as code; pass --store <dir> with a plain path",
  });
}

/** SOURCE_DATE_EPOCH from the environment, default 1. */
export function sourceDateEpochFrom(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return 1;
  if (!/^\d+$/.test(raw)) throw new MbError("usage.source-date-epoch", `SOURCE_DATE_EPOCH must be a whole number of seconds, got '${raw}'`, { exitCode: ExitCode.usage });
  return Number(raw);
}

/** A loaded and resolved builder. */
export interface Prepared {
  readonly loaded: LoadedBuilder;
  /** Null only when `tolerantPlan` was asked and the program has no plan (a runTool before its declareTool, ...). */
  readonly resolution: Resolution | null;
  /** The program the views read: resolved, or as loaded when it has no plan. */
  readonly program: Program;
  readonly storeDir: string;
  readonly sourceDateEpoch: number;
  /** What the load and resolution read (when asked to witness), or why it cannot be cached. */
  readonly witnessed?: { readonly witnesses: Witness[]; readonly uncacheable: string | null };
}

/**
 * Loads a builder and resolves its packages; `strict` for building, lenient (warnings) for views. Content hashes go
 * through the store's identity cache (`persistIdentities` writes it back); with `witness`, everything read is
 * recorded for the evaluation cache.
 */
export async function prepare(
  arg: BuilderArg,
  opts: {
    store?: string;
    sandbox?: SandboxMode;
    strict: boolean;
    warn: (m: string) => void;
    witness?: boolean;
    persistIdentities?: boolean;
    tolerantPlan?: boolean;
    sourceDateEpoch?: number;
    /** How registry bases' lock file is used: read only (default), or pinned where missing (`build`; see src/oci/engine/base-registry.ts). */
    lock?: "read" | "build";
    /** Loads what the caller needs next (the engine's modules) while a module builder loads in its worker. */
    preload?: () => Promise<unknown>;
  },
): Promise<Prepared> {
  const identity = await import("../engine/identity.js");
  const { witnessCode } = await import("../engine/eval-cache.js");
  const { loadBuilder } = await import("./load.js");
  const storeDir = storeDirFrom(opts.store);
  const sourceDateEpoch = opts.sourceDateEpoch ?? sourceDateEpochFrom();
  identity.useIdentityCache(join(storeDir, ".cache", "identity.json"));
  if (opts.witness) {
    identity.startWitnessing();
    // mb's own compiled files: a rebuilt mb never trusts a resolution made by an older one.
    witnessCode(resolve(fileURLToPath(new URL("..", import.meta.url))));
  }
  try {
    // A module builder loads in a worker thread: the engine's modules load here meanwhile.
    const loading = loadBuilder(arg);
    loading.catch(() => {}); // awaited just below
    const { resolveProgram } = await import("../engine/resolve.js");
    const { hostSystem } = await import("../engine/system.js");
    const { lockStage } = await import("../oci/engine/base-registry.js");
    await opts.preload?.();
    const loaded = await loading;
    // Registry bases are pinned by the lock file beside the builder before anything is resolved.
    const locked = await lockStage(loaded.program, dirname(loaded.file), storeDir, opts.lock ?? "read", opts.warn, opts.strict);
    if (opts.witness) identity.witness("file", locked.file);
    let resolution: Resolution | null = null;
    try {
      resolution = resolveProgram(locked.program, {
        storeDir,
        system: hostSystem(),
        sourceDateEpoch,
        strict: opts.strict,
        warn: opts.warn,
        sandbox: opts.sandbox ?? "bwrap",
        baseDir: dirname(loaded.file),
      });
    } catch (e) {
      // Views that need no plan (validate, deps, dry-run, describe) still read a program that cannot be planned;
      // the plan's own error surfaces in the views that need it.
      if (!opts.tolerantPlan || !(e instanceof MbError) || !e.code.startsWith("plan.")) throw e;
    }
    const witnessed = opts.witness ? identity.stopWitnessing() : undefined;
    const program = resolution ? resolution.root.program : loaded.program;
    return { loaded, resolution, program, storeDir, sourceDateEpoch, ...(witnessed ? { witnessed } : {}) };
  } finally {
    if (identity.witnessing()) identity.stopWitnessing();
    // Views read the identity cache but never create a store; commands that build keep what they hashed.
    if (opts.persistIdentities) identity.flushIdentityCache();
  }
}

/** The resolution of a strictly prepared builder (strict preparation always has one). */
export function resolutionOf(p: Prepared): Resolution {
  if (!p.resolution) throw new MbError("internal.no-resolution", "internal: the builder was prepared without a resolution", { exitCode: ExitCode.problems });
  return p.resolution;
}

/** The store path of a prepared builder's root; exit 1 when packages or inputs are missing (`mb path` and the API). */
export function rootStorePath(p: Prepared): string {
  const root = resolutionOf(p).root;
  if (!root.complete) throw new MbError("path.unresolved", `cannot compute the store path of '${root.name}': some packages or inputs are missing (see the warnings above)`, { exitCode: ExitCode.problems });
  return root.storePath;
}
