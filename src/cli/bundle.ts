/**
 * Bundling a TypeScript builder with esbuild: its own files in one ES module, every package import rewritten to the
 * absolute URL Node would resolve from the file that imports it, and `import.meta.url`/`dirname`/`filename` fixed
 * per file, so the bundle runs from memory (a data: URL) exactly as the builder would from its place. Bundles are
 * kept in `$XDG_CACHE_HOME/metabuilder/bundles` with the hash of every file they were made from.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { isBuiltin } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";
import { fileStamp, markUncacheable, witness, witnessing } from "../engine/identity.js";
import { ensureDir, isWithin } from "../engine/dirs.js";
import { witnessCode } from "../engine/eval-cache.js";
import { writeFileAtomic } from "../engine/store-fs.js";
import type { BundleMeta } from "./import-cycle.js";

/** A bundled builder: its code, what it was made from, and the package each rewritten import URL stands for. */
export interface Bundled {
  readonly code: string;
  readonly meta: BundleMeta;
  readonly packages: Record<string, string>;
  /** Set when metabuilder is bundled in: where it came from (see `bundle`). */
  readonly inlined?: Inlined;
  /** A new inlined bundle's source map, written beside the cached bundle (its code links it there). */
  readonly map?: string;
}

/** The metabuilder package a bundle holds: its root, and the directories of its files (`dist`, its dependencies). */
interface Inlined {
  readonly root: string;
  readonly dirs: readonly string[];
}

/** A bundled builder kept with the content hash of every file it was made from (packages' entry files included). */
interface BundleRecord extends Bundled {
  readonly version: 3;
  readonly entry: string;
  readonly hashes: Record<string, string>;
}

/** The bundle of a builder file: the cached one when every file it was made from is unchanged, else a new one. */
export async function bundleBuilder(file: string): Promise<Bundled> {
  return cachedBundle(file) ?? (await bundle(file));
}

/** The URL a bundle is imported from: a data: URL, named after the builder in stack traces. */
export function bundleUrl(code: string, file: string): string {
  const source = `${code}\n//# sourceURL=${pathToFileURL(file).href}\n`;
  return `data:text/javascript;base64,${Buffer.from(source).toString("base64")}`;
}

/** Where bundled builders are kept between runs (`$XDG_CACHE_HOME/metabuilder/bundles`). */
function bundleCacheFile(file: string): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(resolve(cache), "metabuilder", "bundles", `${createHash("sha256").update(file).digest("hex").slice(0, 32)}.json`);
}

/**
 * What stands for a file a bundle was made from: its content hash; for metabuilder's own files bundled in (hundreds
 * of them, and the same for every builder), their stamp (fileStamp), as the evaluation cache takes mb's own code.
 */
function idOf(path: string, inlined: Inlined | undefined): string | null {
  if (!inlined || !inlined.dirs.some((d) => isWithin(path, d))) return hashOf(path);
  const stamp = fileStamp(path);
  return stamp === null ? null : `stamp:${stamp}`;
}

function hashOf(path: string): string | null {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return null;
  }
}

function cachedBundle(file: string): Bundled | null {
  let record: BundleRecord;
  try {
    record = JSON.parse(readFileSync(bundleCacheFile(file), "utf8")) as BundleRecord;
  } catch {
    return null;
  }
  if (record.version !== 3 || record.entry !== file) return null;
  for (const [path, hash] of Object.entries(record.hashes)) if (idOf(path, record.inlined) !== hash) return null;
  const bundled = { code: record.code, meta: record.meta, packages: record.packages, ...(record.inlined ? { inlined: record.inlined } : {}) };
  if (witnessing()) witnessBundle(bundled, file);
  return bundled;
}

const META = { url: "__mbImportMetaUrl", dirname: "__mbImportMetaDirname", filename: "__mbImportMetaFilename" } as const;

/**
 * Where the metabuilder package a builder imports is bundled into it (see `bundle`): its root, and what the bundle
 * took in besides the builder's own files (the package directories of metabuilder's dependencies; `foreign` names
 * any other package the builder imports, which makes the bundle fall back to importing metabuilder from its place).
 */
interface Inlining {
  readonly root: string;
  readonly packageDirs: Set<string>;
  readonly foreign: Set<string>;
}

/** The directory of the package a file resolved into `node_modules` belongs to (`…/node_modules/name` or `…/@scope/name`). */
function packageDirOf(path: string): string | null {
  const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
  return m ? m[1]! : null;
}

/**
 * Rewrites package imports to absolute URLs (as Node resolves them) and gives each file its own `import.meta`. With
 * `inline`, metabuilder itself and what it imports are bundled in instead of imported from their place.
 */
function placed(packages: Record<string, string>, inline: Inlining | null): Plugin {
  return {
    name: "mb-placed",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined; // esbuild's own resolution
        if (isBuiltin(args.path) || /^[a-zA-Z][\w+.-]*:/.test(args.path)) return { path: args.path, external: true };
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (r.errors.length > 0) return { errors: r.errors };
        const fromInlined = inline !== null && (isWithin(args.importer, inline.root) || [...inline.packageDirs].some((d) => isWithin(args.importer, d)));
        // metabuilder's own lazy imports (esbuild, for one) stay imports from their place, loaded only when used.
        if (inline && fromInlined && args.kind === "dynamic-import") return { path: pathToFileURL(r.path).href, external: true };
        if (inline && (isWithin(r.path, inline.root) || fromInlined)) {
          const dir = isWithin(r.path, inline.root) ? null : packageDirOf(r.path);
          if (dir) inline.packageDirs.add(dir);
          return { path: r.path };
        }
        if (inline) inline.foreign.add(args.path);
        const url = pathToFileURL(r.path).href;
        packages[url] = args.path;
        return { path: url, external: true };
      });
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        let text = await readFile(args.path, "utf8");
        if (text.includes("import.meta")) {
          // On the first line (after a #! line), so line numbers stay the builder's own.
          const at = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
          const decl = `var ${META.url} = ${JSON.stringify(pathToFileURL(args.path).href)}, ${META.dirname} = ${JSON.stringify(dirname(args.path))}, ${META.filename} = ${JSON.stringify(args.path)};`;
          text = text.slice(0, at) + decl + text.slice(at);
        }
        const ext = /\.([cm]?)([jt]sx?)$/.exec(args.path)![2]!;
        return { contents: text, loader: ext as "ts" | "tsx" | "js" | "jsx" };
      });
    },
  };
}

/**
 * Bundles a builder. Where the builder imports no package but metabuilder, metabuilder is bundled in too (its used
 * modules and zod in one module: the worker then compiles one file instead of resolving and loading a hundred, about
 * 50 ms less per evaluation); a builder that imports other packages imports metabuilder from its place, so that those
 * packages and the builder share one copy of it.
 */
async function bundle(file: string): Promise<Bundled> {
  const root = metabuilderRootFor(dirname(file));
  if (root && existsSync(join(root, "dist"))) {
    const inline: Inlining = { root, packageDirs: new Set(), foreign: new Set() };
    const first = await bundleWith(file, inline);
    if (inline.foreign.size === 0) return keep(file, first);
  }
  return keep(file, await bundleWith(file, null));
}

async function bundleWith(file: string, inline: Inlining | null): Promise<Bundled> {
  const { build } = await import("esbuild");
  const packages: Record<string, string> = {};
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Node's own resolution: the import condition, the main field.
    conditions: [],
    mainFields: ["main"],
    define: { "import.meta.url": META.url, "import.meta.dirname": META.dirname, "import.meta.filename": META.filename },
    plugins: [placed(packages, inline)],
    write: false,
    logLevel: "silent",
    // A bundle with metabuilder in it keeps its source map in a file beside the cached bundle (linked, for
    // --enable-source-maps): inline, the map would be parsed with the code at every load.
    sourcemap: inline ? "external" : "inline",
    // Not written: names the map's place, so that its sources are relative to it.
    ...(inline ? { outfile: `${bundleCacheFile(file)}.js` } : {}),
    // The mappings name the files; their text is not copied in.
    sourcesContent: false,
    metafile: true,
  });
  const meta = result.metafile as BundleMeta;
  const js = result.outputFiles.find((f) => !f.path.endsWith(".map"))!;
  if (!inline) return { code: js.text, meta, packages };
  const map = result.outputFiles.find((f) => f.path.endsWith(".map"));
  const mapFile = `${bundleCacheFile(file)}.map`;
  const code = map ? `${js.text}//# sourceMappingURL=${pathToFileURL(mapFile).href}\n` : js.text;
  return { code, meta, packages, inlined: inlinedOf(inline), ...(map ? { map: map.text } : {}) };
}

/** The directories whose files an inlined bundle took from metabuilder: its `dist`, and its dependencies' packages. */
function inlinedOf(inline: Inlining): Inlined {
  return { root: inline.root, dirs: [join(inline.root, "dist"), ...[...inline.packageDirs].sort()] };
}

/** Witnesses a new bundle and keeps it in the bundle cache with the hash of every file it was made from. */
function keep(file: string, bundled: Bundled): Bundled {
  const { meta, packages } = bundled;
  if (witnessing()) witnessBundle(bundled, file);
  const hashes: Record<string, string> = {};
  for (const path of [...Object.keys(meta.inputs).map((i) => resolve(i)), ...Object.keys(packages).map((u) => fileURLToPath(u))]) {
    const h = idOf(path, bundled.inlined);
    if (h === null) return bundled; // a file we cannot read again: do not keep the bundle
    hashes[path] = h;
  }
  try {
    const target = bundleCacheFile(file);
    ensureDir(dirname(target));
    const { map, ...kept } = bundled;
    if (map !== undefined) writeFileAtomic(`${target}.map`, map);
    writeFileAtomic(target, JSON.stringify({ version: 3, entry: file, hashes, ...kept } satisfies BundleRecord));
  } catch {
    // a cache that cannot be written is only slower
  }
  return bundled;
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

/** What a bundle read of the builder's own files (metabuilder's, bundled in, left out): where import cycles are looked for. */
export function ownMeta(bundled: Bundled): BundleMeta {
  const dirs = bundled.inlined?.dirs ?? [];
  const own = (p: string) => !dirs.some((d) => isWithin(resolve(p), d));
  return { inputs: Object.fromEntries(Object.entries(bundled.meta.inputs).filter(([p]) => own(p)).map(([p, i]) => [p, { imports: i.imports.filter((x) => x.external || own(x.path)) }])) };
}

/** Witnesses what a bundled builder read: its source files, and the metabuilder package it imports. */
function witnessBundle(bundled: Bundled, file: string): void {
  const inlined = bundled.inlined;
  // metabuilder's own code, bundled in, stands as its dist directory does when imported (by stamps); its
  // dependencies are not witnessed, as they are not when metabuilder is imported from its place.
  if (inlined) witnessCode(join(inlined.root, "dist"));
  for (const [input, info] of Object.entries(bundled.meta.inputs)) {
    const path = resolve(input);
    if (inlined && inlined.dirs.some((d) => isWithin(path, d))) continue;
    witness("file", path);
    for (const imp of info.imports) {
      if (!imp.external || isBuiltin(imp.path)) continue;
      const name = bundled.packages[imp.path] ?? imp.path;
      if (name === "metabuilder" || name.startsWith("metabuilder/")) {
        const root = metabuilderRootFor(dirname(file));
        if (root) witnessCode(join(root, "dist"));
        else markUncacheable("the builder imports 'metabuilder' from an unknown place");
      } else {
        markUncacheable(`the builder imports the package '${name}', whose files are not witnessed`);
      }
    }
  }
}

