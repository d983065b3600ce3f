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
import { markUncacheable, witness, witnessing } from "../engine/identity.js";
import { ensureDir } from "../engine/dirs.js";
import { witnessCode } from "../engine/eval-cache.js";
import { writeFileAtomic } from "../engine/store-fs.js";
import type { BundleMeta } from "./import-cycle.js";

/** A bundled builder: its code, what it was made from, and the package each rewritten import URL stands for. */
export interface Bundled {
  readonly code: string;
  readonly meta: BundleMeta;
  readonly packages: Record<string, string>;
}

/** A bundled builder kept with the content hash of every file it was made from (packages' entry files included). */
interface BundleRecord extends Bundled {
  readonly version: 2;
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
  if (record.version !== 2 || record.entry !== file) return null;
  for (const [path, hash] of Object.entries(record.hashes)) if (hashOf(path) !== hash) return null;
  const bundled = { code: record.code, meta: record.meta, packages: record.packages };
  if (witnessing()) witnessBundle(bundled, file);
  return bundled;
}

const META = { url: "__mbImportMetaUrl", dirname: "__mbImportMetaDirname", filename: "__mbImportMetaFilename" } as const;

/** Rewrites package imports to absolute URLs (as Node resolves them) and gives each file its own `import.meta`. */
function placed(packages: Record<string, string>): Plugin {
  return {
    name: "mb-placed",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined; // esbuild's own resolution
        if (isBuiltin(args.path) || /^[a-zA-Z][\w+.-]*:/.test(args.path)) return { path: args.path, external: true };
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (r.errors.length > 0) return { errors: r.errors };
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

async function bundle(file: string): Promise<Bundled> {
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
    plugins: [placed(packages)],
    write: false,
    logLevel: "silent",
    sourcemap: "inline",
    metafile: true,
  });
  const meta = result.metafile as BundleMeta;
  const bundled = { code: result.outputFiles[0]!.text, meta, packages };
  if (witnessing()) witnessBundle(bundled, file);
  const hashes: Record<string, string> = {};
  for (const path of [...Object.keys(meta.inputs).map((i) => resolve(i)), ...Object.keys(packages).map((u) => fileURLToPath(u))]) {
    const h = hashOf(path);
    if (h === null) return bundled; // a file we cannot read again: do not keep the bundle
    hashes[path] = h;
  }
  try {
    const target = bundleCacheFile(file);
    ensureDir(dirname(target));
    writeFileAtomic(target, JSON.stringify({ version: 2, entry: file, hashes, ...bundled } satisfies BundleRecord));
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

/** Witnesses what a bundled builder read: its source files, and the metabuilder package it imports. */
function witnessBundle(bundled: Bundled, file: string): void {
  for (const [input, info] of Object.entries(bundled.meta.inputs)) {
    witness("file", resolve(input));
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

