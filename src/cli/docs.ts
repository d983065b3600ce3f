/**
 * `mb docs`: tour pages. Gathers the facts a page needs (the builder's files, the spec as JSON, the dependency graph
 * drawn by graphviz, the store entry when it exists: never building) and writes what the pure renderer
 * (src/views/tour/) makes: `index.md` and a self-contained `index.html` per builder, and with `--all` an index.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { isUtf8 } from "node:buffer";
import { ExitCode, MbError } from "../core/errors.js";
import { isProgram } from "../program/program.js";
import { deps } from "../views/deps.js";
import { depsDot } from "../views/dot.js";
import type { TourFacts, TourResult } from "../views/tour/model.js";
import { type SiteEntry, siteIndex, tourHtml } from "../views/tour/html.js";
import { tourMarkdown } from "../views/tour/markdown.js";
import { tourPage } from "../views/tour/page.js";
import type { SandboxMode } from "../engine/bwrap.js";
import { prepare, type Prepared } from "./context.js";
import { dotToSvg } from "./graphviz.js";
import type { Io } from "./io.js";

/** Flags `mb docs` reads. */
export interface DocsFlags {
  readonly out: string;
  readonly all: boolean;
  readonly store?: string;
  readonly sandbox: SandboxMode;
  readonly json: boolean;
}

const BUILDER_FILES = ["builder.ts", "builder.js", "builder.mjs", "builder.json"];
/** Files beside a builder larger than this are named, not shown. */
const SOURCE_MAX = 64 * 1024;
/** The spec's JSON is cut at this length on the page. */
const SPEC_MAX = 256 * 1024;
/** At most this many entries of a built result are listed. */
const LISTING_MAX = 200;

function usage(message: string): MbError {
  return new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb --help` for usage" });
}

const shown = (p: string) => {
  const r = relative(process.cwd(), p);
  return r === "" ? "." : r.startsWith("..") ? p : r;
};

/** Writes one file of a page (its directory made first); a file-system failure is exit 1 naming the path. */
function writeOut(file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new MbError("docs.write", `cannot write '${file}': ${err.code ?? ""} ${err.message}`.replace(/\s+/g, " "), { exitCode: ExitCode.problems });
  }
}

/** The builder module and, for a builder directory, the other files in it (text ones in full). */
function sourcesOf(file: string): TourFacts["sources"] {
  const read = (p: string) => {
    const bytes = readFileSync(p);
    if (bytes.length > SOURCE_MAX) return `(${bytes.length} bytes, not shown)`;
    return isUtf8(bytes) ? bytes.toString("utf8") : `(${bytes.length} bytes of binary data, not shown)`;
  };
  const out = [{ path: shown(file), text: read(file) }];
  if (!BUILDER_FILES.includes(basename(file))) return out;
  const dir = dirname(file);
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (p === file || name.startsWith(".") || !lstatSync(p).isFile()) continue;
    out.push({ path: shown(p), text: read(p) });
  }
  return out;
}

function specJsonOf(value: unknown): string | null {
  if (value === undefined || isProgram(value)) return null;
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? "null";
  } catch (e) {
    return `(the spec cannot be written as JSON: ${(e as Error).message})`;
  }
  return text.length > SPEC_MAX ? `${text.slice(0, SPEC_MAX)}\n… (${text.length - SPEC_MAX} more characters)` : text;
}

/** The ornament whose inserted fields the spec carries (as `programOfSpec` finds it), or null. */
async function ornamentOf(value: unknown): Promise<string | null> {
  if (value === null || typeof value !== "object" || isProgram(value)) return null;
  const { BuilderSpec } = await import("../core/spec.js");
  const { ornamentOfKeys } = await import("../ornaments/registry.js");
  const base = new Set(Object.keys(BuilderSpec.shape));
  const extra = Object.keys(value).filter((k) => !base.has(k));
  return (await ornamentOfKeys(extra))?.entry.name ?? null;
}

/** Lists a store entry: one line per file, directory (`/`) and link (`-> target`), sorted, capped. */
function listing(entry: string): { lines: string[]; more: number } {
  const lines: string[] = [];
  let total = 0;
  const add = (line: string) => {
    total++;
    if (lines.length < LISTING_MAX) lines.push(line);
  };
  const walk = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) add(`${rel} -> ${readlinkSync(abs)}`);
    else if (st.isDirectory()) {
      if (rel !== ".") add(`${rel}/`);
      for (const name of readdirSync(abs).sort()) walk(join(abs, name), rel === "." ? name : `${rel}/${name}`);
    } else add(`${rel} (${st.size} bytes)`);
  };
  walk(entry, statSync(entry).isDirectory() ? "." : basename(entry));
  return { lines, more: total - lines.length };
}

function resultOf(p: Prepared): TourResult {
  const root = p.resolution?.root;
  if (!root || !root.complete) return { storePath: null, built: false, listing: [], more: 0 };
  if (!existsSync(root.storePath)) return { storePath: root.storePath, built: false, listing: [], more: 0 };
  const l = listing(root.storePath);
  return { storePath: root.storePath, built: true, listing: l.lines, more: l.more };
}

/** `examples/oci-image` -> `oci image example`; a file builder by its stem. */
function titleOf(file: string): string {
  const stem = BUILDER_FILES.includes(basename(file)) ? basename(dirname(file)) : basename(file, extname(file));
  return `${stem.replace(/[-_]+/g, " ")} example`;
}

interface Written {
  readonly dir: string;
  readonly entry: SiteEntry;
  readonly files: string[];
  readonly storePath: string | null;
}

async function writePage(arg: string, outDir: string, flags: DocsFlags, io: Io): Promise<Written> {
  const prepared = await prepare(arg, { store: flags.store, sandbox: flags.sandbox, strict: false, warn: (m) => io.err(`mb: warning: ${m}\n`) });
  const program = prepared.program;
  const facts: TourFacts = {
    title: titleOf(prepared.loaded.file),
    builderArg: arg,
    sources: sourcesOf(prepared.loaded.file),
    specJson: specJsonOf(prepared.loaded.value),
    ornament: await ornamentOf(prepared.loaded.value),
    svg: dotToSvg(depsDot(deps(program))),
    result: resultOf(prepared),
  };
  const page = tourPage(program, facts, { storeDir: prepared.storeDir });
  const md = join(outDir, "index.md");
  const html = join(outDir, "index.html");
  writeOut(md, tourMarkdown(page));
  writeOut(html, tourHtml(page));
  const { describe } = await import("../views/describe.js");
  const model = describe(program).model;
  const { compile } = await import("../program/compile.js");
  const plan = compile(program, { storeDir: prepared.storeDir });
  return {
    dir: outDir,
    entry: { dir: basename(outDir), title: facts.title, derivation: plan.name, outputs: plan.outputs.length, operations: model.operations.length, built: facts.result.built },
    files: [md, html],
    storePath: facts.result.storePath,
  };
}

/** The builders of an examples directory: each subdirectory holding a builder file, by name. */
function buildersIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usage(`--all needs a directory of builders, got '${dir}'`);
  const found = readdirSync(dir)
    .sort()
    .filter((name) => !name.startsWith(".") && statSync(join(dir, name)).isDirectory() && BUILDER_FILES.some((f) => existsSync(join(dir, name, f))));
  if (found.length === 0) throw new MbError("docs.no-builders", `'${dir}' holds no builder directories (a folder with builder.ts, builder.js or builder.json)`, { exitCode: ExitCode.problems });
  return found;
}

/** Runs `mb docs <builder> --out DIR` or `mb docs --all <dir> --out DIR`; returns the exit code. */
export async function runDocs(arg: string, flags: DocsFlags, io: Io): Promise<number> {
  const out = resolve(flags.out);
  const written: Written[] = [];
  let files: string[] = [];
  if (!flags.all) {
    const w = await writePage(arg, out, flags, io);
    written.push(w);
    files = w.files;
  } else {
    for (const name of buildersIn(arg)) {
      const w = await writePage(join(arg, name), join(out, name), flags, io);
      written.push(w);
      files.push(...w.files);
    }
    const index = siteIndex(`${basename(resolve(arg))}: tour pages`, written.map((w) => w.entry));
    const md = join(out, "index.md");
    const html = join(out, "index.html");
    writeOut(md, index.markdown);
    writeOut(html, index.html);
    files.push(md, html);
  }
  if (flags.json) {
    io.out(JSON.stringify({ out, pages: written.map((w) => ({ dir: w.dir, title: w.entry.title, derivation: w.entry.derivation, storePath: w.storePath, built: w.entry.built, files: w.files })), files }, null, 2) + "\n");
  } else for (const f of files) io.out(`${f}\n`);
  return ExitCode.ok;
}

/** `mb docs` from its positionals and flags (after main.ts checked which flags apply): usage errors are exit 2. */
export function docsCommand(rest: readonly string[], values: { out?: string; all: boolean; store?: string; "no-sandbox": boolean; json: boolean }, io: Io): Promise<number> {
  const target = rest[0];
  if (target === undefined) throw usage(values.all ? "docs --all needs a directory of builders (e.g. examples)" : "docs needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec");
  if (rest.length > 1) throw usage(`unexpected argument '${rest[1]}'`);
  if (values.out === undefined || values.out === "") throw usage("docs needs --out DIR: the directory the page is written to");
  return runDocs(target, { out: values.out, all: values.all, store: values.store, sandbox: values["no-sandbox"] ? "none" : "bwrap", json: values.json }, io);
}
