/**
 * Scheduling: which builds a resolution needs, and realizing them dependencies first, independent builds in parallel
 * (up to `-j N` at a time). On a failure no new build starts; running ones finish; then the first failure is thrown.
 */
import { interrupted } from "./interrupt.js";
import type { RealizeOptions } from "./options.js";
import { realizeBuild } from "./realize.js";
import { problem } from "./reports.js";
import type { Resolution, ResolvedBuild } from "./resolve.js";
import type { Store } from "./store.js";

/** The builds that must run for `root`: those not in the store, reached through builds not in the store (all of them with `closure`). */
export function pendingBuilds(res: Resolution, store: Store, closure = false): ResolvedBuild[] {
  const byPath = new Map(res.builds.map((b) => [b.storePath, b]));
  const wanted = new Set<string>();
  const visit = (b: ResolvedBuild) => {
    if (wanted.has(b.storePath)) return;
    const e = store.entry(b.storePath);
    if (!closure && e && store.isValid(e)) return; // a hit needs nothing below it
    wanted.add(b.storePath);
    for (const n of b.needs) {
      const dep = byPath.get(n);
      if (dep) visit(dep);
    }
  };
  visit(res.root);
  return res.builds.filter((b) => wanted.has(b.storePath));
}

/** Runs `builds` (each once its needs among them are done), up to `jobs` at a time; resolves when all are done. */
function runInOrder(builds: readonly ResolvedBuild[], opts: RealizeOptions): Promise<void> {
  const inSet = new Set(builds.map((b) => b.storePath));
  const done = new Set<string>();
  const started = new Set<string>();
  let running = 0;
  let failure: unknown = null;
  return new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failure === null && opts.interrupt.signal === null) {
        for (const b of builds) {
          if (running >= Math.max(1, opts.jobs)) break;
          if (started.has(b.storePath)) continue;
          if (!b.needs.every((n) => !inSet.has(n) || done.has(n))) continue;
          started.add(b.storePath);
          running++;
          realizeBuild(b, opts).then(
            () => {
              done.add(b.storePath);
              running--;
              pump();
            },
            (e: unknown) => {
              failure ??= e;
              running--;
              pump();
            },
          );
        }
      }
      if (running > 0) return;
      if (failure !== null) reject(failure);
      else if (opts.interrupt.signal) reject(interrupted(opts.interrupt.signal));
      else if (done.size === builds.length) resolve();
      else reject(problem("internal.schedule", "internal: the build graph has a build whose needs never complete"));
    };
    pump();
  });
}

/**
 * Realizes a resolution: every pending build once its needs are in the store, up to `jobs` at a time. On a failure no
 * new build starts; running ones finish; then the first failure is thrown.
 */
export async function realizeAll(res: Resolution, opts: RealizeOptions, closure = false): Promise<void> {
  const { store } = opts;
  store.ensureLayout();
  const builds = pendingBuilds(res, store, closure);
  for (const b of builds) {
    if (b.plan.builder !== "runCommand") {
      throw problem("build.unsupported-builder", `'${b.name}' uses the builder '${b.plan.builder}'; the engine realizes only runCommand plans (the steps as \`mb plan\` renders them)`);
    }
  }
  const planned = builds.filter((b) => !store.isValid(store.mustEntry(b.storePath)));
  const fetchable = opts.substituter && planned.length > 0 ? await opts.substituter.query(planned, opts) : new Set<string>();
  const fetches = planned.filter((b) => fetchable.has(b.storePath)).map((b) => ({ name: b.name, storePath: b.storePath }));
  const toBuild = planned.filter((b) => !fetchable.has(b.storePath)).map((b) => ({ name: b.name, storePath: b.storePath, steps: b.plan.steps.length }));
  opts.emit({ event: "plan", builds: toBuild, ...(opts.substituter ? { fetches } : {}) });
  if (builds.length === 0) {
    await realizeBuild(res.root, opts);
    return;
  }
  await runInOrder(builds, opts);
}
