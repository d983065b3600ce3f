/**
 * Substitution: the engine's `Substituter` over binary caches in OCI registries. Before a build runs, each cache is
 * asked for the entry's tag; a cache that has it gives its manifest and record, the record's signature is checked
 * against the trusted keys, the layer is fetched and unpacked in a temporary path, its content hash must be the
 * signed one, and the entry is installed as the engine installs a build (`installOnce`). Anything refused, and any
 * cache that is down or slow, is a warning; the build then runs locally.
 */
import { dirname } from "node:path";
import { installOnce } from "../engine/install.js";
import type { RealizeOptions, Substituter } from "../engine/options.js";
import { importPath, planHashOf, writeArtifact } from "../engine/realize.js";
import { problem } from "../engine/reports.js";
import { referencesOf, type ResolvedBuild } from "../engine/resolve.js";
import { BinaryCache, Refusal, type Found } from "./remote.js";
import type { CacheSettings } from "./settings.js";

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Fetches builds from binary caches (see the module comment). */
export class CacheSubstituter implements Substituter {
  private readonly caches: BinaryCache[];
  private readonly down = new Set<BinaryCache>();
  private readonly probed = new Map<BinaryCache, Promise<boolean>>();
  /** The caches that have each queried store path. */
  private readonly holders = new Map<string, BinaryCache[]>();
  private readonly timeoutMs: number;

  constructor(private readonly options: CacheSettings) {
    this.caches = options.urls.map((u) => new BinaryCache(u, { retries: 0 }));
    this.timeoutMs = options.timeoutMs;
  }

  /** Skips a cache for the rest of the run, with a warning. */
  private skip(cache: BinaryCache, reason: string, opts: RealizeOptions): void {
    if (this.down.has(cache)) return;
    this.down.add(cache);
    opts.emit({ event: "substituter-warning", substituter: cache.url, name: null, storePath: null, reason: `${reason}; skipped, building locally what it would have given` });
  }

  /** True when the cache is up (probed once per run: a cache that is down or slow is skipped). */
  private up(cache: BinaryCache, opts: RealizeOptions): Promise<boolean> {
    let p = this.probed.get(cache);
    if (!p) {
      p = cache.probe(this.timeoutMs).then((why) => {
        if (why !== null) this.skip(cache, why, opts);
        return why === null;
      });
      this.probed.set(cache, p);
    }
    return p.then((ok) => ok && !this.down.has(cache));
  }

  /** Runs one request to a cache within the timeout; a failure or a timeout skips the cache and gives null. */
  private async ask<T>(cache: BinaryCache, opts: RealizeOptions, body: () => Promise<T>): Promise<T | null> {
    if (!(await this.up(cache, opts))) return null;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), this.timeoutMs)));
    try {
      const r = await Promise.race([body(), late]);
      if (r === "late") {
        this.skip(cache, `it did not answer within ${(this.timeoutMs / 1000).toFixed(1)} s`, opts);
        return null;
      }
      return r;
    } catch (e) {
      this.skip(cache, (e as Error).message, opts);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  async query(builds: readonly ResolvedBuild[], opts: RealizeOptions): Promise<ReadonlySet<string>> {
    const found = new Set<string>();
    await Promise.all(
      builds.map(async (b) => {
        const holders: BinaryCache[] = [];
        for (const cache of this.caches) if ((await this.ask(cache, opts, () => cache.has(b.storePath))) === true) holders.push(cache);
        this.holders.set(b.storePath, holders);
        if (holders.length > 0) found.add(b.storePath);
      }),
    );
    return found;
  }

  async substitute(build: ResolvedBuild, opts: RealizeOptions): Promise<boolean> {
    if (!this.holders.has(build.storePath)) await this.query([build], opts);
    for (const cache of this.holders.get(build.storePath) ?? []) {
      if (this.down.has(cache)) continue;
      try {
        if (await this.fetchFrom(cache, build, opts)) return true;
      } catch (e) {
        if (opts.interrupt.signal !== null) throw e;
        const reason = e instanceof Refusal ? `refused: ${e.message}` : `not fetched: ${(e as Error).message}`;
        opts.emit({ event: "substituter-warning", substituter: cache.url, name: build.name, storePath: build.storePath, reason: `${reason}; building it locally` });
      }
    }
    return false;
  }

  /** Fetches, checks and installs one entry from one cache; true once it is in the store. */
  private async fetchFrom(cache: BinaryCache, build: ResolvedBuild, opts: RealizeOptions): Promise<boolean> {
    const { store } = opts;
    const p = store.mustEntry(build.storePath);
    const t0 = performance.now();
    const references = referencesOf(build);
    let found: Found | undefined;
    let counts = { files: 0, bytes: 0 };
    const done = await installOnce(p, opts, {
      name: build.name,
      async prepare() {
        // Everything the entry references is made valid first, as a build would need it (imports, artifacts, needs).
        for (const imp of build.imports) await importPath(imp, opts);
        for (const a of build.plan.runtimeArtifacts) await writeArtifact(a, opts);
        for (const s of [...build.needs, ...build.storeInputs]) {
          const e = store.entry(s);
          if (!e || !store.isValid(e)) throw problem("build.missing-input", `fetching '${build.name}' needs ${s}, which is not in the store`);
        }
      },
      produce: async (temp) => {
        const work = dirname(temp);
        found = await cache.lookup(p, this.options.trusted, work);
        if (!sameList(found.config.references, references)) {
          throw new Refusal(`its references (${found.config.references.join(", ") || "none"}) are not the build's (${references.join(", ") || "none"})`);
        }
        counts = await cache.unpack(found, temp, work);
      },
      describe: () => {
        opts.interrupt.check();
        return {
          version: 2,
          storePath: p,
          kind: "build",
          name: build.name,
          planHash: planHashOf(p),
          fingerprint: build.fingerprint,
          outputHash: found!.config.outputHash,
          references,
          builtAt: new Date().toISOString(),
          durationMs: Math.round(performance.now() - t0),
          files: counts.files,
          bytes: counts.bytes,
          substitutedFrom: cache.url,
        };
      },
    });
    if (done === null) return true; // another process put it there meanwhile
    opts.emit({ event: "substituted", name: build.name, storePath: p, substituter: cache.url, bytes: counts.bytes, durationMs: Math.round(performance.now() - t0) });
    return true;
  }
}
