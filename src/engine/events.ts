/** What the engine reports while it works: one event union, rendered by the CLI as live lines, plain lines or JSON. */

/** A progress event; `--json` prints each as one line. */
export type BuildEvent =
  /** The builds that will run (entries not yet in the store), dependencies first. */
  | {
      readonly event: "plan";
      readonly builds: readonly { readonly name: string; readonly storePath: string; readonly steps: number }[];
      /** The entries a binary cache has, to be fetched rather than built (only with substituters). */
      readonly fetches?: readonly { readonly name: string; readonly storePath: string }[];
    }
  /** An entry fetched from a binary cache instead of built, its signature and content hash checked. */
  | { readonly event: "substituted"; readonly name: string; readonly storePath: string; readonly substituter: string; readonly bytes: number; readonly durationMs: number }
  /** A binary cache skipped (unreachable, slow) or one of its entries refused (unsigned, untrusted, tampered): the build goes on locally. */
  | { readonly event: "substituter-warning"; readonly substituter: string; readonly name: string | null; readonly storePath: string | null; readonly reason: string }
  /** An entry already in the store: nothing runs. */
  | { readonly event: "cached"; readonly name: string; readonly storePath: string }
  /** Another process is realizing the same entry; this one waits for it. */
  | { readonly event: "waiting"; readonly name: string; readonly storePath: string; readonly pid: number | null }
  /** A local input or path package copied into the store. */
  | { readonly event: "import"; readonly source: string; readonly storePath: string }
  /** A build starts (`check` for the reproducibility rebuild). */
  | { readonly event: "build-start"; readonly name: string; readonly storePath: string; readonly steps: number; readonly check: boolean }
  /** A step starts. */
  | { readonly event: "step-start"; readonly name: string; readonly storePath: string; readonly index: number; readonly total: number; readonly step: string }
  /** A step ended with an exit status. */
  | {
      readonly event: "step-done";
      readonly name: string;
      readonly storePath: string;
      readonly index: number;
      readonly total: number;
      readonly step: string;
      readonly durationMs: number;
      readonly status: number;
    }
  /** A build finished and its entry is in the store (or, for `check`, its rebuild is ready to compare). */
  | { readonly event: "build-done"; readonly name: string; readonly storePath: string; readonly durationMs: number; readonly check: boolean }
  /** A build failed; nothing entered the store. */
  | { readonly event: "build-failed"; readonly name: string; readonly storePath: string; readonly message: string }
  /** A runtime artifact (service descriptor) entered the store. */
  | { readonly event: "artifact"; readonly name: string; readonly storePath: string }
  /** The reproducibility check's verdict. */
  | { readonly event: "check"; readonly storePath: string; readonly reproducible: boolean; readonly differences: readonly Difference[] }
  /** One evidence entry run by `mb check`. */
  | { readonly event: "evidence"; readonly name: string; readonly status: "ok" | "failed" | "skipped"; readonly detail: string }
  /** One service started, health-checked and stopped by `mb check`. */
  | { readonly event: "service"; readonly name: string; readonly status: "ok" | "failed"; readonly port: number; readonly detail: string }
  /** The end: the store path of the result. */
  | { readonly event: "result"; readonly storePath: string };

/** One file-level difference between a stored entry and its rebuild. */
export interface Difference {
  readonly path: string;
  readonly kind: "content" | "mode" | "type" | "symlink" | "only-stored" | "only-rebuilt";
}

/** Receives events. */
export type Emit = (e: BuildEvent) => void;
