/**
 * Module hooks of the builder-loading worker: the builder's own URL loads as its bundled code (held in memory), so
 * `metabuilder`, other packages and relative files resolve exactly as from the builder, and nothing is written to disk.
 */
type Next<A extends unknown[], R> = (...args: A) => Promise<R>;
interface LoadResult { format: string; source?: string | Buffer; shortCircuit?: boolean }

let entryUrl = "";
let entryCode = "";

/** Receives the builder's URL and its bundled code from `register`. */
export function initialize(data: { url: string; code: string }): void {
  entryUrl = data.url;
  entryCode = data.code;
}

/** Serves the bundle for the builder's URL; everything else loads as usual. */
export async function load(url: string, context: object, next: Next<[string, object], LoadResult>): Promise<LoadResult> {
  if (url === entryUrl) return { format: "module", source: entryCode, shortCircuit: true };
  return next(url, context);
}
