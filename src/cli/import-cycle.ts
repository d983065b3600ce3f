/** Import cycles among a builder's own files (from esbuild's metafile), named when a load fails because of one. */
import { dirname, relative, resolve } from "node:path";

/** What esbuild's metafile says a bundle read. */
export type BundleMeta = { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> };

/** The first import cycle reachable from the entry, as file names relative to the entry's directory, or null. */
export function importCycle(meta: BundleMeta | null, entry?: string): string[] | null {
  if (!meta) return null;
  const inputs = meta.inputs;
  const keys = Object.keys(inputs);
  const start = (entry && keys.find((k) => resolve(k) === entry)) ?? keys[keys.length - 1];
  if (start === undefined) return null;
  const base = entry ? dirname(entry) : process.cwd();
  const name = (k: string) => relative(base, resolve(k)) || k;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const seen = new Set<string>();
  const visit = (k: string): string[] | null => {
    if (onStack.has(k)) return [...stack.slice(stack.indexOf(k)), k].map(name);
    if (seen.has(k) || !inputs[k]) return null;
    seen.add(k);
    stack.push(k);
    onStack.add(k);
    for (const imp of inputs[k]!.imports) {
      if (imp.external) continue;
      const found = visit(imp.path);
      if (found) return found;
    }
    stack.pop();
    onStack.delete(k);
    return null;
  };
  return visit(start);
}

/** esbuild's metafile for a module builder (JavaScript is imported unbundled, so only asked for after a failure). */
export async function metaOf(file: string): Promise<BundleMeta | null> {
  try {
    const { build } = await import("esbuild");
    const result = await build({ entryPoints: [file], bundle: true, packages: "external", format: "esm", platform: "node", write: false, logLevel: "silent", metafile: true });
    return result.metafile as BundleMeta;
  } catch {
    return null;
  }
}
