/**
 * The evaluation cache: loading a builder (bundling TypeScript, importing zod and the whole library) and resolving
 * its packages costs far more than a cache hit should. After a resolution, the store paths it computed are kept with
 * the witnesses of everything it read (builder sources, the library's own files, dpkg's database, tool executables,
 * PATH directories, local inputs); while every witness holds, the same builder resolves to the same store paths
 * without being loaded. Builders are taken to be pure functions of their source files, as Nix flakes' evaluation
 * cache assumes; `MB_EVAL_CACHE=0` turns the cache off.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, sha256 } from "../core/hash.js";
import { witness, witnessed, witnessesHold, witnessing, type Witness } from "./identity.js";
import { writeFileAtomic } from "./store.js";
import { ensureDir } from "./dirs.js";

/** Everything outside the witnessed files that a resolution depends on. */
export interface EvalKey {
  readonly builder: string;
  readonly exportName: string;
  readonly storeDir: string;
  readonly sourceDateEpoch: number;
  readonly system: string;
  /** The host PATH (where executables of host packages are looked up). */
  readonly path: string;
  /** The working directory (relative path packages resolve against it). */
  readonly cwd: string;
  /** How steps are confined (part of every store path). */
  readonly sandbox: string;
}

/** A cached resolution. */
export interface EvalRecord {
  readonly v: 1;
  readonly key: EvalKey;
  readonly witnesses: readonly Witness[];
  readonly root: { readonly name: string; readonly storePath: string };
  /** Every build of the DAG (dependencies first). */
  readonly storePaths: readonly string[];
}

/** True unless `MB_EVAL_CACHE=0` (or `off`, `false`). */
export function evalCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !["0", "off", "false", "no"].includes((env.MB_EVAL_CACHE ?? "").toLowerCase());
}

function recordPath(storeDir: string, key: EvalKey): string {
  return join(storeDir, ".cache", "eval", `${sha256(canonicalJson(key)).slice(0, 40)}.json`);
}

/** The cached resolution for `key` if every witness still holds, else null. */
export function lookupEval(key: EvalKey): EvalRecord | null {
  let rec: EvalRecord;
  try {
    rec = JSON.parse(readFileSync(recordPath(key.storeDir, key), "utf8")) as EvalRecord;
  } catch {
    return null;
  }
  if (rec.v !== 1 || canonicalJson(rec.key) !== canonicalJson(key)) return null;
  return witnessesHold(rec.witnesses) ? rec : null;
}

/** Keeps a resolution for next time (best effort). */
export function storeEval(rec: EvalRecord): void {
  try {
    const file = recordPath(rec.key.storeDir, rec.key);
    ensureDir(join(rec.key.storeDir, ".cache", "eval"));
    writeFileAtomic(file, JSON.stringify(rec));
  } catch {
    // a cache that cannot be written is only slower
  }
}

/**
 * Witnesses a tree of code (mb's own compiled files, or those of the metabuilder package a builder imports) so that a
 * hit checks it with one stat per path and never lists or hashes it: the stamp of every directory (adding, removing
 * or renaming an entry moves it) and of every file but TypeScript declarations and source maps, which never run.
 */
export function witnessCode(root: string): void {
  // Walked once per resolution (mb's own dist is also the metabuilder a builder in this repository imports).
  if (!witnessing() || witnessed("dir", root)) return;
  const walk = (dir: string): void => {
    witness("dir", dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // absent: its null stamp is the witness
    }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (!e.name.endsWith(".d.ts") && !e.name.endsWith(".map")) witness("file", path);
    }
  };
  walk(root);
}
