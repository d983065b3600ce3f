/** Finding the file a builder argument names (no heavy imports: the cache-hit path of `mb build` uses it). */
import { existsSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";

const MODULE_EXTS = new Set([".ts", ".mts", ".js", ".mjs"]);

function usage(code: string, message: string, hint?: string): MbError {
  return new MbError(code, message, { exitCode: ExitCode.usage, hint });
}

/** Finds the builder file a CLI argument names: a file (optionally `file#export`) or a directory holding builder.ts. */
export function locateBuilder(arg: string): { file: string; exportName: string } {
  const hash = arg.lastIndexOf("#");
  const target = hash > 0 ? arg.slice(0, hash) : arg;
  const exportName = hash > 0 ? arg.slice(hash + 1) : "default";
  let file = resolve(target);
  if (!existsSync(file)) throw usage("builder.not-found", `builder '${target}' not found: no such file or directory`);
  if (statSync(file).isDirectory()) {
    const candidate = ["builder.ts", "builder.js", "builder.mjs", "builder.json"].map((f) => join(file, f)).find(existsSync);
    if (!candidate) throw usage("builder.not-found", `builder directory '${target}' holds no builder.ts (nor builder.js, builder.json)`);
    file = candidate;
  }
  const ext = extname(file);
  if (ext !== ".json" && !MODULE_EXTS.has(ext)) {
    throw usage("builder.unsupported", `builder '${target}' is a '${ext || "extensionless"}' file; expected .ts, .js or .json`);
  }
  return { file, exportName };
}
