/** What every command shares: the store location, the system, SOURCE_DATE_EPOCH, and resolving a loaded builder. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { hostSystem, resolveProgram, type Resolution } from "../engine/resolve.js";
import { loadBuilder, type LoadedBuilder } from "./load.js";

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
}

/** Loads a builder and resolves its packages; `strict` for building, lenient (warnings) for views. */
export async function prepare(arg: string, opts: { store?: string; strict: boolean; warn: (m: string) => void }): Promise<Prepared> {
  const loaded = await loadBuilder(arg);
  const storeDir = storeDirFrom(opts.store);
  const sourceDateEpoch = sourceDateEpochFrom();
  const resolution = resolveProgram(loaded.program, { storeDir, system: hostSystem(), sourceDateEpoch, strict: opts.strict, warn: opts.warn });
  return { loaded, resolution, storeDir, sourceDateEpoch };
}
