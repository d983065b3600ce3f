/** Loading a builder: a `.ts`/`.js` module (default or `#name` export), a directory holding `builder.ts`, or a `.json` spec. */
import { readFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ExitCode, MbError } from "../core/errors.js";
import { markUncacheable, witness } from "../engine/identity.js";
import type { Program } from "../program/program.js";
import { locateBuilder } from "./locate.js";
import { invalidUtf8Offset, jsonErrorOffset, lineCol } from "./json-position.js";
import { importCycle, metaOf } from "./import-cycle.js";
import { bundleBuilder, bundleUrl, ownMeta, type Bundled } from "./bundle.js";
import { LoadFailure, importIsolated, loadTimeoutFrom } from "./load-isolated.js";

export { locateBuilder };
export { metabuilderRootFor } from "./bundle.js";

/** A loaded builder: the program and the file it came from. */
export interface LoadedBuilder {
  readonly program: Program;
  /** The exported value as loaded (a spec, or a program), for pages that show the spec as data (`mb docs`). */
  readonly value?: unknown;
  readonly file: string;
  /** The export used (`default` or the `#name`). */
  readonly exportName: string;
}

function usage(code: string, message: string, hint?: string): MbError {
  return new MbError(code, message, { exitCode: ExitCode.usage, hint });
}

/** The program of an exported value; the schemas (zod) load only here, while a module builder loads in its worker. */
async function fromValue(value: unknown): Promise<Program> {
  const { isProgram, sequence } = await import("../program/program.js");
  const { programOfSpec } = await import("./spec-program.js");
  if (isProgram(value)) return sequence((value as Program).operations);
  if (value === null || typeof value !== "object") {
    // The callers prefix the file name.
    throw usage("builder.invalid", `the builder is ${value === null ? "null" : typeof value}, not a spec or a program`);
  }
  return programOfSpec(value);
}

async function loadJson(file: string): Promise<{ program: Program; value: unknown }> {
  witness("file", file);
  const bytes = readFileSync(file);
  if (!isUtf8(bytes)) {
    const at = invalidUtf8Offset(bytes) ?? 0;
    const before = bytes.subarray(0, at).toString("utf8");
    const hex = bytes.subarray(at, at + 4).toString("hex").replace(/(..)/g, "0x$1 ").trim();
    throw usage("builder.invalid-utf8", `${file}: not valid UTF-8 at byte offset ${at} (${lineCol(before, before.length)}): bytes ${hex}`);
  }
  const text = bytes.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8 may quote the offending text, newlines and all: keep the message on one line.
    const msg = (e as Error).message.replace(/\s*\n\s*/g, " ");
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? Number(pos[1]) : jsonErrorOffset(text);
    throw usage("builder.invalid-json", `${file}: invalid JSON${at !== null ? ` at ${lineCol(text, at)}` : ""}: ${msg}`);
  }
  try {
    return { program: await fromValue(value), value };
  } catch (e) {
    if (e instanceof MbError) throw new MbError(e.code, `${file}: ${e.message}`, { exitCode: e.exitCode, issues: e.issues });
    throw e;
  }
}

/**
 * Imports a module builder in a worker (see load-isolated.ts). A TypeScript builder is bundled (see bundle.ts) and
 * imported from memory, so no file is ever written beside it; JavaScript builders are imported as they are.
 */
async function loadModule(file: string, exportName: string): Promise<{ program: Program; value: unknown }> {
  const timeoutMs = loadTimeoutFrom();
  const ts = /\.m?ts$/.test(file);
  if (!ts) markUncacheable("JavaScript builders are imported unbundled, so the files they read are not known");
  let bundled: Bundled | null = null;
  if (ts) {
    try {
      bundled = await bundleBuilder(file);
    } catch (e) {
      const err = e as Error & { errors?: { text: string; location?: { line: number; column: number } }[] };
      if (Array.isArray(err.errors) && err.errors.length > 0) {
        const lines = err.errors.map((x) => `  - ${x.location ? `line ${x.location.line}, column ${x.location.column + 1}: ` : ""}${x.text}`);
        throw usage("builder.syntax", `${file}: cannot be compiled:\n${lines.join("\n")}`);
      }
      throw usage("builder.load-failed", `${file}: cannot be loaded: ${err.message ?? String(e)}`);
    }
  }
  const url = bundled ? bundleUrl(bundled.code, file) : pathToFileURL(file).href;
  const loading = importIsolated(file, { url, exportName }, timeoutMs);
  loading.catch(() => {}); // awaited below, after the schemas have loaded alongside the worker
  await Promise.all([import("../program/program.js"), import("./spec-program.js")]);
  let value: unknown;
  try {
    value = await loading;
  } catch (e) {
    if (e instanceof LoadFailure && e.how !== "value") {
      const cycle = importCycle(bundled ? ownMeta(bundled) : await metaOf(file), file);
      if (cycle) e.message += ` (the builder's files import each other: ${cycle.join(" -> ")})`;
    }
    throw e;
  }
  try {
    return { program: await fromValue(value), value };
  } catch (e) {
    if (e instanceof MbError) throw new MbError(e.code, `${file}${exportName === "default" ? "" : `#${exportName}`}: ${e.message}`, { exitCode: e.exitCode, issues: e.issues });
    throw e;
  }
}

/** A builder given as a value (a spec or a program) instead of a file; its relative paths resolve from `baseDir`. */
export interface InlineBuilder {
  readonly inline: unknown;
  readonly baseDir: string;
}

/** What names a builder: a CLI argument (a file, `file#export`, a directory), or a value. */
export type BuilderArg = string | InlineBuilder;

/** Loads the builder an argument names; every failure is an MbError with exit 2. */
export async function loadBuilder(arg: BuilderArg): Promise<LoadedBuilder> {
  if (typeof arg !== "string") {
    try {
      return { program: await fromValue(arg.inline), value: arg.inline, file: join(arg.baseDir, "(inline builder)"), exportName: "default" };
    } catch (e) {
      if (e instanceof MbError) throw new MbError(e.code, `inline builder: ${e.message}`, { exitCode: e.exitCode, issues: e.issues });
      throw e;
    }
  }
  const { file, exportName } = locateBuilder(arg);
  const { program, value } = extname(file) === ".json" ? await loadJson(file) : await loadModule(file, exportName);
  return { program, value, file, exportName };
}
