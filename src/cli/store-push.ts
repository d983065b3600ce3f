/**
 * `mb store push docker://host/repo <path|out-link|builder>... --key K.sec`: uploads the builds of the closure of each
 * argument (the entry and every build it references, references first) to a binary cache, one signed artifact per
 * entry, skipping entries the cache already has. Imported inputs and runtime artifacts in the closure are not pushed
 * (a machine that builds the builder makes them from what it has; substitution fetches builds only), unless named.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { readSecretKeyFile } from "../cache/keys.js";
import { BinaryCache } from "../cache/remote.js";
import { parseCacheUrl } from "../cache/settings.js";
import { Store, type StorePath } from "../engine/store.js";
import { cachedRoot } from "./build.js";
import { prepare, resolutionOf, rootStorePath, storeDirFrom } from "./context.js";
import type { Io } from "./io.js";
import { storePathArg } from "./store-commands.js";

const usage = (message: string) => new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb store --help` for usage" });

/** The store entry an argument names: a store path, an out-link, or a builder (its root, which must be built). */
async function entryOf(arg: string, store: Store, flags: { store?: string }, io: Io): Promise<StorePath> {
  let p = storePathArg(arg);
  if (p === null) p = cachedRoot(arg, store.dir, false, "bwrap")?.storePath ?? null;
  if (p === null) {
    const prepared = await prepare(arg, { store: flags.store, strict: false, warn: (m) => io.err(`mb: warning: ${m}\n`) });
    resolutionOf(prepared);
    p = rootStorePath(prepared);
  }
  const e = store.entry(p);
  if (!e) throw usage(`'${arg}' names ${p}, which is not an entry of the store ${store.dir}`);
  if (!store.isValid(e)) throw new MbError("push.missing", `${e} is not in the store ${store.dir}`, { exitCode: ExitCode.problems, hint: `build it first: mb build ${arg}` });
  return e;
}

/** Every entry `roots` reference, transitively, references first; each must be valid in the store. */
export function closureOf(store: Store, roots: readonly StorePath[]): StorePath[] {
  const order: StorePath[] = [];
  const seen = new Set<string>();
  const visit = (p: StorePath, from: string | null): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const meta = store.isValid(p) ? store.readMeta(p) : null;
    if (!meta) throw new MbError("push.missing", `${p}${from ? ` (referenced by ${from})` : ""} is not in the store ${store.dir}`, { exitCode: ExitCode.problems });
    for (const r of meta.references) visit(store.mustEntry(r), p);
    order.push(p);
  };
  for (const r of roots) visit(r, null);
  return order;
}

/** `mb store push`: see the module comment. */
export async function runStorePush(rest: readonly string[], flags: { store?: string; json: boolean; key?: string }, io: Io): Promise<number> {
  const [url, ...args] = rest;
  if (url === undefined || !url.startsWith("docker://")) throw usage("store push needs a binary cache first: mb store push docker://host[:port]/repo <path|out-link|builder>... --key K.sec");
  if (args.length === 0) throw usage("store push needs at least one store path, out-link or builder to push");
  if (flags.key === undefined || flags.key === "") throw usage("store push needs --key K.sec: every entry is signed (mb key generate K makes one)");
  parseCacheUrl(url);
  const key = readSecretKeyFile(flags.key);
  const store = new Store(storeDirFrom(flags.store));
  const roots: StorePath[] = [];
  for (const a of args) roots.push(await entryOf(a, store, flags, io));
  const entries = closureOf(store, roots).filter((p) => roots.includes(p) || store.readMeta(p)?.kind === "build");
  const cache = new BinaryCache(url, { warn: (m) => io.err(`mb: warning: ${m}\n`) });
  const work = mkdtempSync(join(tmpdir(), "mb-push-"));
  const pushed: { storePath: string; digest: string; bytes: number }[] = [];
  const present: string[] = [];
  try {
    for (const p of entries) {
      if (await cache.has(p)) {
        present.push(p);
        if (!flags.json) io.err(`mb: ${p} is in the cache already\n`);
        continue;
      }
      const r = await cache.push(p, store.readMeta(p)!, key, work);
      pushed.push({ storePath: p, ...r });
      if (!flags.json) io.err(`mb: pushed ${p} (${(r.bytes / 1048576).toFixed(2)} MiB)\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (flags.json) io.out(JSON.stringify({ cache: url, key: key.name, pushed, present }, null, 2) + "\n");
  else io.out(`pushed ${pushed.length} entr${pushed.length === 1 ? "y" : "ies"} to ${url} (${present.length} already there)\n`);
  return ExitCode.ok;
}
