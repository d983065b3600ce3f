/**
 * `mb lock [--update] <builder>`: pins the builder's registry base images in `mb.lock.json` beside it, without
 * building. Without --update only unpinned references (or platforms) are resolved, and a lock that disagrees with the
 * spec is an error; with --update every tag is resolved again and the lock is rewritten to exactly the spec's bases.
 */
import { dirname } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import type { Io } from "./io.js";
import { storeDirFrom } from "./context.js";

/** Runs `mb lock`; prints the lock file's path and each reference it (re)pinned (`--json`: `{file, changed, bases}`). */
export async function runLock(rest: readonly string[], values: { update?: boolean; json: boolean; store?: string }, io: Io): Promise<number> {
  const [arg, ...more] = rest;
  if (arg === undefined) throw new MbError("usage", "lock needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec", { exitCode: ExitCode.usage });
  if (more.length > 0) throw new MbError("usage", `unexpected argument '${more[0]}'`, { exitCode: ExitCode.usage });
  const { loadBuilder } = await import("./load.js");
  const { lockStage } = await import("../oci/engine/base-registry.js");
  const loaded = await loadBuilder(arg);
  const stage = await lockStage(loaded.program, dirname(loaded.file), storeDirFrom(values.store), values.update ? "update" : "build", (m) => io.err(`mb: warning: ${m}\n`));
  const bases = [...new Set([...stage.pulls.values()].map((p) => p.reference))].sort();
  if (values.json) io.out(`${JSON.stringify({ file: stage.file, changed: stage.changed, bases })}\n`);
  else {
    for (const c of stage.changed) io.err(`mb: pinned ${c}\n`);
    if (bases.length === 0) io.err("mb: the builder uses no registry base image\n");
    io.out(`${stage.file}\n`);
  }
  return ExitCode.ok;
}
