/** Node module hooks that let `mb` import TypeScript builders: `.ts` files are transpiled with esbuild as they load. */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

type Next<A extends unknown[], R> = (...args: A) => Promise<R>;
interface ResolveResult { url: string; format?: string | null; shortCircuit?: boolean }
interface LoadResult { format: string; source?: string | Buffer; shortCircuit?: boolean }

const TS = /\.(?:ts|mts|cts)$/;

/** Lets `./x.js` find `./x.ts`, as TypeScript's NodeNext resolution does. */
export async function resolve(specifier: string, context: object, next: Next<[string, object], ResolveResult>): Promise<ResolveResult> {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (/^(\.{1,2}\/|\/|file:)/.test(specifier) && specifier.endsWith(".js")) {
      try {
        return await next(`${specifier.slice(0, -3)}.ts`, context);
      } catch {
        // fall through to the original error
      }
    }
    throw error;
  }
}

/** Transpiles TypeScript files to ES modules. */
export async function load(url: string, context: object, next: Next<[string, object], LoadResult>): Promise<LoadResult> {
  if (url.startsWith("file:") && TS.test(url)) {
    const file = fileURLToPath(url);
    const source = await readFile(file, "utf8");
    const out = await transform(source, { loader: "ts", format: "esm", target: "node20", sourcefile: file, sourcemap: "inline" });
    return { format: "module", source: out.code, shortCircuit: true };
  }
  return next(url, context);
}
