/** How realization behaves: the options every part of the engine that realizes entries shares. */
import type { Confinement } from "./bwrap.js";
import type { Emit } from "./events.js";
import type { HashPool } from "./hash-pool.js";
import type { Interrupt } from "./interrupt.js";
import type { ResolvedBuild } from "./resolve.js";
import type { Store } from "./store.js";

/** How realization behaves. */
export interface RealizeOptions {
  readonly store: Store;
  readonly sourceDateEpoch: number;
  /** Keep the build directory (and the partial output) of a failed build. */
  readonly keepFailed: boolean;
  /** How many builds may run at once. */
  readonly jobs: number;
  readonly emit: Emit;
  readonly interrupt: Interrupt;
  /** Worker threads that digest large output files; none: every file is hashed on the main thread, after the steps. */
  readonly hashPool?: HashPool;
  /** bubblewrap, which confines every step; null: steps run unconfined (`--no-sandbox`). */
  readonly confine: Confinement | null;
  /** Binary caches to fetch builds from instead of building them (`--substituter`); absent: every build runs. */
  readonly substituter?: Substituter;
}

/** Fetches store entries instead of building them (src/cache/ is the one implementation: OCI registries). */
export interface Substituter {
  /** Which of `builds` some cache has (the substituters that cannot be reached are warned of and skipped). */
  query(builds: readonly ResolvedBuild[], opts: RealizeOptions): Promise<ReadonlySet<string>>;
  /** Puts `build`'s entry in the store from a cache, checked; false (with a warning emitted) to build it locally. */
  substitute(build: ResolvedBuild, opts: RealizeOptions): Promise<boolean>;
}
