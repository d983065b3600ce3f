/** What every command shares: the store location, the system, SOURCE_DATE_EPOCH, and resolving a loaded builder. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode, MbError } from "../core/errors.js";
import type { Resolution } from "../engine/resolve.js";
import type { Witness } from "../engine/identity.js";
import type { LoadedBuilder } from "./load.js";

/** The store directory: `--store`, else `$MB_STORE`, else `$XDG_CACHE_HOME/metabuilder/store` (`~/.cache/...`). */
export function storeDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.MB_STORE) return resolve(env.MB_STORE);
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(resolve(cache), "metabuilder", "store");
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
  readonly resolution: Resolution;
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
  arg: string,
  opts: { store?: string; strict: boolean; warn: (m: string) => void; witness?: boolean; persistIdentities?: boolean },
): Promise<Prepared> {
  const identity = await import("../engine/identity.js");
  const { loadBuilder } = await import("./load.js");
  const { resolveProgram } = await import("../engine/resolve.js");
  const { hostSystem } = await import("../engine/system.js");
  const storeDir = storeDirFrom(opts.store);
  const sourceDateEpoch = sourceDateEpochFrom();
  identity.useIdentityCache(join(storeDir, ".cache", "identity.json"));
  if (opts.witness) {
    identity.startWitnessing();
    // mb's own compiled files: a rebuilt mb never trusts a resolution made by an older one.
    identity.witness("tree", resolve(fileURLToPath(new URL("..", import.meta.url))));
  }
  try {
    const loaded = await loadBuilder(arg);
    const resolution = resolveProgram(loaded.program, { storeDir, system: hostSystem(), sourceDateEpoch, strict: opts.strict, warn: opts.warn });
    const witnessed = opts.witness ? identity.stopWitnessing() : undefined;
    return { loaded, resolution, storeDir, sourceDateEpoch, ...(witnessed ? { witnessed } : {}) };
  } finally {
    if (identity.witnessing()) identity.stopWitnessing();
    // Views read the identity cache but never create a store; commands that build keep what they hashed.
    if (opts.persistIdentities) identity.flushIdentityCache();
  }
}
