/**
 * `mb store verify --repair`: every entry that failed verification is removed under its lock (record first), then
 * rebuilt where a builder known to the evaluation cache makes it (imports and artifacts come back with the builds
 * that reference them). Each entry is reported as rebuilt, removed (no known builder makes it now), or busy.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listDir } from "../engine/dirs.js";
import type { SandboxMode } from "../engine/bwrap.js";
import type { EvalRecord } from "../engine/eval-cache.js";
import { tryLock } from "../engine/lock.js";
import type { Store, StorePath } from "../engine/store.js";
import type { VerifyProblem } from "../engine/verify.js";
import { engineRun, prepareForBuild } from "./build.js";
import { resolutionOf } from "./context.js";
import type { Io } from "./io.js";
import { createProgress } from "./progress.js";

/** What repair did to one entry. */
export interface RepairOutcome {
  readonly storePath: string;
  readonly action: "rebuilt" | "removed" | "busy";
  readonly detail: string;
}

const quiet: Io = { out: () => {}, err: () => {}, isTTY: false };

/** The evaluation-cache records of this store whose builder file still exists. */
function knownBuilders(store: Store): EvalRecord[] {
  const dir = join(store.cacheDir, "eval");
  const out: EvalRecord[] = [];
  for (const n of listDir(dir).filter((n) => n.endsWith(".json"))) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, n), "utf8")) as EvalRecord;
      if (rec.key.storeDir === store.dir && existsSync(rec.key.builder) && Array.isArray(rec.storePaths)) out.push(rec);
    } catch {
      // a torn cache record names nothing
    }
  }
  return out;
}

/** Builds one known builder again, as it was resolved (its working directory and SOURCE_DATE_EPOCH), realizing its whole closure. */
async function rebuild(rec: EvalRecord, store: Store): Promise<void> {
  const arg = rec.key.exportName === "default" ? rec.key.builder : `${rec.key.builder}#${rec.key.exportName}`;
  const cwd = process.cwd();
  const epoch = process.env.SOURCE_DATE_EPOCH;
  try {
    if (existsSync(rec.key.cwd)) process.chdir(rec.key.cwd);
    process.env.SOURCE_DATE_EPOCH = String(rec.key.sourceDateEpoch);
    const sandbox: SandboxMode = rec.key.sandbox === "none" ? "none" : "bwrap";
    const prepared = await prepareForBuild(arg, store.dir, sandbox, quiet);
    const { realizeAll } = await import("../engine/schedule.js");
    await engineRun(prepared, { keepFailed: false, jobs: 1, sandbox }, createProgress("plain", quiet), (opts) => realizeAll(resolutionOf(prepared), opts, true));
  } finally {
    process.chdir(cwd);
    if (epoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = epoch;
  }
}

/** Removes every entry of `problems`, then rebuilds what known builders make; one outcome per entry. */
export async function repairStore(store: Store, problems: readonly VerifyProblem[]): Promise<RepairOutcome[]> {
  const removed: StorePath[] = [];
  const outcomes = new Map<string, RepairOutcome>();
  for (const pr of problems) {
    const p = store.mustEntry(pr.storePath);
    const lock = tryLock(store.lockPath(p));
    if (!lock) {
      outcomes.set(p, { storePath: p, action: "busy", detail: "another process is building it; run verify again later" });
      continue;
    }
    try {
      store.remove(p);
    } finally {
      lock.release();
    }
    removed.push(p);
  }
  if (removed.length === 0) return [...outcomes.values()];
  const records = knownBuilders(store);
  const listed = new Set(records.flatMap((r) => r.storePaths));
  // Imports and artifacts are not listed: any known builder may reference them.
  const wanted = removed.every((p) => listed.has(p)) ? records.filter((r) => r.storePaths.some((s) => removed.includes(s as StorePath))) : records;
  const failures: string[] = [];
  for (const rec of wanted) {
    try {
      await rebuild(rec, store);
    } catch (e) {
      failures.push(`${rec.key.builder}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  for (const p of removed) {
    outcomes.set(
      p,
      store.isValid(p)
        ? { storePath: p, action: "rebuilt", detail: "removed and built again" }
        : { storePath: p, action: "removed", detail: `no known builder makes it now${failures.length > 0 ? ` (${failures.join("; ")})` : ""}; build it again with mb build` },
    );
  }
  return [...outcomes.values()];
}
