/** Loading a builder: a `.ts`/`.js` module (default or `#name` export), a directory holding `builder.ts`, or a `.json` spec. */
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { isUtf8 } from "node:buffer";
import { homedir } from "node:os";
import { isBuiltin } from "node:module";
import { dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ExitCode, MbError } from "../core/errors.js";
import { markUncacheable, witness, witnessing } from "../engine/identity.js";
import { fromSpec, isProgram, sequence, type Program } from "../program/program.js";
import { locateBuilder } from "./locate.js";
import { ensureDir } from "../engine/dirs.js";
import { invalidUtf8Offset, jsonErrorOffset, lineCol } from "./json-position.js";
import { importCycle, metaOf, type BundleMeta } from "./import-cycle.js";
import { LoadFailure, importIsolated, loadTimeoutFrom } from "./load-isolated.js";

export { locateBuilder };

/** A loaded builder: the program and the file it came from. */
export interface LoadedBuilder {
  readonly program: Program;
  readonly file: string;
  /** The export used (`default` or the `#name`). */
  readonly exportName: string;
}

function usage(code: string, message: string, hint?: string): MbError {
  return new MbError(code, message, { exitCode: ExitCode.usage, hint });
}


function fromValue(value: unknown, file: string): Program {
  if (isProgram(value)) return sequence((value as Program).operations);
  if (value === null || typeof value !== "object") {
    // The callers prefix the file name.
    throw usage("builder.invalid", `the builder is ${value === null ? "null" : typeof value}, not a spec or a program`);
  }
  return fromSpec(value);
}

function loadJson(file: string): Program {
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
    return fromValue(value, file);
  } catch (e) {
    if (e instanceof MbError) throw new MbError(e.code, `${file}: ${e.message}`, { exitCode: e.exitCode, issues: e.issues });
    throw e;
  }
}

/** A bundled builder: its code and what it was made from. */
interface Bundled {
  readonly code: string;
  readonly meta: BundleMeta;
}

/** A bundled builder kept with the content hash of every source file it was made from. */
interface BundleRecord {
  readonly version: 1;
  readonly entry: string;
  readonly meta: BundleMeta;
  readonly hashes: Record<string, string>;
  readonly code: string;
}

/** Where bundled builders are kept between runs (`$XDG_CACHE_HOME/metabuilder/bundles`). */
function bundleCacheFile(file: string): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(resolve(cache), "metabuilder", "bundles", `${createHash("sha256").update(file).digest("hex").slice(0, 32)}.json`);
}

function hashOf(path: string): string | null {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return null;
  }
}

/** The bundle made last time, when every source file it was made from is unchanged: no esbuild at all. */
function cachedBundle(file: string): Bundled | null {
  let record: BundleRecord;
  try {
    record = JSON.parse(readFileSync(bundleCacheFile(file), "utf8")) as BundleRecord;
  } catch {
    return null;
  }
  if (record.version !== 1 || record.entry !== file) return null;
  for (const [path, hash] of Object.entries(record.hashes)) if (hashOf(path) !== hash) return null;
  if (witnessing()) witnessBundle(record.meta, file);
  return { code: record.code, meta: record.meta };
}

/** Bundles a builder with esbuild and keeps the result for the next run. */
async function bundle(file: string): Promise<Bundled> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [file],
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "silent",
    sourcemap: "inline",
    metafile: true,
  });
  const meta = result.metafile as BundleMeta;
  if (witnessing()) witnessBundle(meta, file);
  const code = result.outputFiles[0]!.text;
  const hashes: Record<string, string> = {};
  for (const input of Object.keys(meta.inputs)) {
    const h = hashOf(resolve(input));
    if (h === null) return { code, meta }; // an input we cannot read again: do not keep the bundle
    hashes[resolve(input)] = h;
  }
  try {
    const target = bundleCacheFile(file);
    ensureDir(dirname(target));
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: 1, entry: file, meta, hashes, code } satisfies BundleRecord));
    renameSync(temp, target);
  } catch {
    // a cache that cannot be written is only slower
  }
  return { code, meta };
}

/** The root of the `metabuilder` package a builder in `dir` imports (self-reference or node_modules), or null. */
export function metabuilderRootFor(dir: string): string | null {
  let scoped = false;
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (!scoped && existsSync(join(d, "package.json"))) {
      scoped = true;
      try {
        if ((JSON.parse(readFileSync(join(d, "package.json"), "utf8")) as { name?: unknown }).name === "metabuilder") return d;
      } catch {
        // not a package we can read
      }
    }
    if (existsSync(join(d, "node_modules", "metabuilder", "package.json"))) return realpathSync(join(d, "node_modules", "metabuilder"));
    if (dirname(d) === d) return null;
  }
}

/** Witnesses what a bundled builder read: its source files, and the metabuilder package it imports. */
function witnessBundle(meta: BundleMeta, file: string): void {
  for (const [input, info] of Object.entries(meta.inputs)) {
    witness("file", resolve(input));
    for (const imp of info.imports) {
      if (!imp.external || isBuiltin(imp.path)) continue;
      if (imp.path === "metabuilder" || imp.path.startsWith("metabuilder/")) {
        const root = metabuilderRootFor(dirname(file));
        if (root) witness("tree", join(root, "dist"));
        else markUncacheable("the builder imports 'metabuilder' from an unknown place");
      } else {
        markUncacheable(`the builder imports the package '${imp.path}', whose files are not witnessed`);
      }
    }
  }
}

/**
 * Imports a module builder in a worker (see load-isolated.ts). A TypeScript builder is bundled with esbuild (its
 * relative imports included, packages left external) and the bundle is served in memory for the builder's own URL,
 * so `metabuilder`, other packages and `import.meta.url` resolve exactly as from the builder, and no file is written
 * beside it. JavaScript builders are imported as they are.
 */
async function loadModule(file: string, exportName: string): Promise<Program> {
  const timeoutMs = loadTimeoutFrom();
  const ts = /\.m?ts$/.test(file);
  if (!ts) markUncacheable("JavaScript builders are imported unbundled, so the files they read are not known");
  let bundled: Bundled | null = null;
  if (ts) {
    try {
      bundled = cachedBundle(file) ?? (await bundle(file));
    } catch (e) {
      const err = e as Error & { errors?: { text: string; location?: { line: number; column: number } }[] };
      if (Array.isArray(err.errors) && err.errors.length > 0) {
        const lines = err.errors.map((x) => `  - ${x.location ? `line ${x.location.line}, column ${x.location.column + 1}: ` : ""}${x.text}`);
        throw usage("builder.syntax", `${file}: cannot be compiled:\n${lines.join("\n")}`);
      }
      throw usage("builder.load-failed", `${file}: cannot be loaded: ${err.message ?? String(e)}`);
    }
  }
  let value: unknown;
  try {
    value = await importIsolated(file, { url: pathToFileURL(file).href, code: bundled?.code ?? null, exportName }, timeoutMs);
  } catch (e) {
    if (e instanceof LoadFailure && e.how !== "value") {
      const cycle = importCycle(bundled?.meta ?? (await metaOf(file)), file);
      if (cycle) e.message += ` (the builder's files import each other: ${cycle.join(" -> ")})`;
    }
    throw e;
  }
  try {
    return fromValue(value, file);
  } catch (e) {
    if (e instanceof MbError) throw new MbError(e.code, `${file}${exportName === "default" ? "" : `#${exportName}`}: ${e.message}`, { exitCode: e.exitCode, issues: e.issues });
    throw e;
  }
}

/** Loads the builder an argument names; every failure is an MbError with exit 2. */
export async function loadBuilder(arg: string): Promise<LoadedBuilder> {
  const { file, exportName } = locateBuilder(arg);
  const program = extname(file) === ".json" ? loadJson(file) : await loadModule(file, exportName);
  return { program, file, exportName };
}
