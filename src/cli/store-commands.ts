/** `mb log`, `mb store verify [--repair]` and `mb gc`: reading and tending the store. */
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { collectGarbage } from "../engine/gc.js";
import { isEntryName, Store } from "../engine/store.js";
import { storeFault } from "../engine/store-errors.js";
import { cachedRoot } from "./build.js";
import { prepare, storeDirFrom, resolutionOf } from "./context.js";
import type { Io } from "./io.js";
import type { RepairOutcome } from "./repair.js";
import type { VerifyProblem } from "../engine/verify.js";

/** The store path an argument names directly (a store path, or an out-link to one), or null when it names a builder. */
export function storePathArg(arg: string): string | null {
  const abs = resolve(arg);
  if (isEntryName(basename(abs))) return abs;
  try {
    if (lstatSync(abs).isSymbolicLink()) {
      const target = readlinkSync(abs);
      if (isEntryName(basename(target))) return resolve(dirname(abs), target);
    }
  } catch {
    // not a path at all: a builder argument
  }
  return null;
}

/** `mb log <builder|store path>`: prints the build log of the entry. */
export async function runLog(arg: string, flags: { store?: string }, io: Io): Promise<number> {
  let p = storePathArg(arg);
  if (p === null) {
    const storeDir = storeDirFrom(flags.store);
    p = cachedRoot(arg, storeDir, false, "bwrap")?.storePath ?? null;
    if (p === null) {
      const prepared = await prepare(arg, { store: flags.store, strict: false, warn: (m) => io.err(`mb: warning: ${m}\n`) });
      if (!resolutionOf(prepared).root.complete) {
        throw new MbError("log.unresolved", `cannot tell the store path of '${resolutionOf(prepared).root.name}': some packages or inputs are missing`, { exitCode: ExitCode.problems });
      }
      p = resolutionOf(prepared).root.storePath;
    }
  }
  const log = join(dirname(p), ".logs", `${basename(p)}.log`);
  if (!existsSync(log)) {
    throw new MbError("log.missing", `no build log for ${p}`, {
      exitCode: ExitCode.problems,
      hint: existsSync(p) ? "entries imported by content and runtime artifacts are not built, so they have no log" : "it has not been built in this store; run `mb build` first",
    });
  }
  io.out(readFileSync(log, "utf8"));
  return ExitCode.ok;
}

/**
 * `mb store verify [--repair]`: re-hashes every entry; exit 1 when any is missing, corrupt or incomplete. With
 * --repair, each is removed and rebuilt where it can be (repair.ts); exit 1 unless every one was rebuilt.
 */
export async function runStoreVerify(flags: { store?: string; json: boolean; repair: boolean }, io: Io): Promise<number> {
  const { store, checked, ok, problems, repairs } = await verifyStoreDir(flags);
  const r = { checked, problems };
  if (flags.json) {
    io.out(JSON.stringify({ store, checked: r.checked, ok, problems: r.problems, ...(flags.repair ? { repairs } : {}) }, null, 2) + "\n");
  } else {
    for (const p of r.problems) io.out(`${p.kind} ${p.storePath}: ${p.detail}\n`);
    for (const o of repairs) io.out(`${o.action} ${o.storePath}: ${o.detail}\n`);
    io.out(`verified ${r.checked} entr${r.checked === 1 ? "y" : "ies"} in ${store}: ${r.problems.length === 0 ? "ok" : `${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}`}\n`);
  }
  return ok ? ExitCode.ok : ExitCode.problems;
}

/** What `mb store verify` found: the entries checked, the problems, and (with repair) what became of each. */
export interface VerifyOutcome {
  readonly store: string;
  readonly checked: number;
  /** No problem, or (with repair) every problem entry rebuilt. */
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
  readonly repairs: readonly RepairOutcome[];
}

/** Re-hashes every entry of a store and, with `repair`, removes and rebuilds what fails (`mb store verify` and the API). */
export async function verifyStoreDir(flags: { store?: string; repair: boolean }): Promise<VerifyOutcome> {
  const store = new Store(storeDirFrom(flags.store));
  const { verifyStore } = await import("../engine/verify.js");
  const r = store.exists() ? verifyStore(store) : { checked: 0, problems: [] };
  let repairs: RepairOutcome[] = [];
  if (flags.repair && r.problems.length > 0) {
    const { repairStore } = await import("./repair.js");
    repairs = await repairStore(store, r.problems).catch((e: unknown) => {
      throw storeFault(e, store.dir, "repair entries");
    });
  }
  const ok = r.problems.length === 0 || (flags.repair && repairs.every((o) => o.action === "rebuilt"));
  return { store: store.dir, checked: r.checked, ok, problems: r.problems, repairs };
}

/** What `mb gc` removed (or would remove, with dryRun). */
export interface GcOutcome {
  readonly store: string;
  /** False when the store does not exist (nothing to collect). */
  readonly existed: boolean;
  readonly dryRun: boolean;
  readonly removed: readonly string[];
  readonly freedBytes: number;
  readonly kept: number;
  /** Out-links recorded as roots that no longer point into the store (their records are dropped). */
  readonly deadRoots: readonly string[];
  /** Temporary build directories of runs that are gone (removed). */
  readonly abandonedTemps: readonly string[];
}

/** Removes the entries of a store not reachable from live out-links (`mb gc` and the API). */
export async function gcStore(flags: { store?: string; dryRun: boolean }): Promise<GcOutcome> {
  const store = new Store(storeDirFrom(flags.store));
  if (!store.exists()) return { store: store.dir, existed: false, dryRun: flags.dryRun, removed: [], freedBytes: 0, kept: 0, deadRoots: [], abandonedTemps: [] };
  const r = await collectGarbage(store, { dryRun: flags.dryRun }).catch((e: unknown) => {
    throw storeFault(e, store.dir, "collect garbage");
  });
  return { store: store.dir, existed: true, dryRun: flags.dryRun, ...r };
}

/** `mb gc [--dry-run]`: removes entries not reachable from live out-links. */
export async function runGc(flags: { store?: string; json: boolean; dryRun: boolean }, io: Io): Promise<number> {
  const { existed, ...g } = await gcStore(flags);
  const store = { dir: g.store };
  if (!existed) {
    if (flags.json) io.out(JSON.stringify({ store: store.dir, removed: [], freedBytes: 0, kept: 0 }, null, 2) + "\n");
    else io.out(`store ${store.dir} does not exist: nothing to collect\n`);
    return ExitCode.ok;
  }
  const { store: _dir, dryRun: _dry, ...r } = g;
  if (flags.json) io.out(JSON.stringify({ store: store.dir, dryRun: flags.dryRun, ...r }, null, 2) + "\n");
  else {
    const verb = flags.dryRun ? "would remove" : "removed";
    for (const p of r.removed) io.out(`${verb} ${p}\n`);
    io.out(`${verb} ${r.removed.length} entr${r.removed.length === 1 ? "y" : "ies"} (${(r.freedBytes / 1048576).toFixed(1)} MiB), kept ${r.kept}\n`);
  }
  return ExitCode.ok;
}
