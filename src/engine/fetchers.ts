/**
 * Store-input fetchers: how a store input that no build of this machine makes, but a source outside it provides (a
 * registry base image pinned by the lock stage), reaches the store before the build that reads it. A table, like the
 * evidence runners (runners.ts): the generic engine names no kind of input, and each entry's code is loaded only when
 * a build has store inputs.
 */
import type { RealizeOptions } from "./options.js";

/** Brings into the store those of `storeInputs` this fetcher provides and the store lacks; leaves the others. */
export type StoreInputFetch = (storeInputs: readonly string[], opts: RealizeOptions) => Promise<void>;

/** One source of store inputs. */
export interface FetcherEntry {
  readonly name: string;
  /** The fetch, loaded on first use. */
  load(): Promise<StoreInputFetch>;
}

/** Every source of store inputs, in the order they are asked. */
export const fetchers: readonly FetcherEntry[] = [
  { name: "oci-registry-base", load: async () => (await import("../oci/engine/base-registry.js")).pullPinned },
];

/** Asks each fetcher for the store inputs of a build (the caller then checks every input is in the store). */
export async function fetchStoreInputs(storeInputs: readonly string[], opts: RealizeOptions): Promise<void> {
  if (storeInputs.length === 0) return;
  for (const f of fetchers) await (await f.load())(storeInputs, opts);
}
