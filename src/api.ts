/**
 * The build API: `build`, `check`, `path`, `gc` and `verify` for programs, doing what `mb build`, `mb check`,
 * `mb path`, `mb gc` and `mb store verify` do, through the same functions (src/cli/build.ts, check.ts,
 * store-commands.ts) and with the same errors (`MbError`: code, exitCode, message, hint).
 *
 * `build` and `check` return a run at once: `run.events` is an async iterator of the progress events `mb build --json`
 * prints (src/engine/events.ts), ending when the run ends; `run.result` settles with the outcome, or rejects with the
 * error the CLI would print. The engine loads only when a function is called: importing the package root stays light.
 */
import type { BuildEvent } from "./engine/events.js";
import type { BuilderSpecInput } from "./core/spec.js";
import type { Program } from "./program/program.js";
import type { CheckOutcome, EvidenceOutcome, ServiceOutcome } from "./cli/check.js";
import type { GcOutcome, VerifyOutcome } from "./cli/store-commands.js";
import type { Io } from "./cli/io.js";
import type { BuilderArg } from "./cli/load.js";

export type { BuildEvent, CheckOutcome, EvidenceOutcome, ServiceOutcome, GcOutcome, VerifyOutcome };

/**
 * What to build: a builder file as the CLI takes it (a .ts/.js module, `file#export`, a directory holding builder.ts,
 * a .json spec), or a spec or program value.
 */
export type BuilderRef = string | BuilderSpecInput | Program;

/** Options shared by `build`, `check` and `path`. */
export interface ApiOptions {
  /** The store directory (default $MB_STORE, else $XDG_CACHE_HOME/metabuilder/store), as `--store`. */
  readonly store?: string;
  /** Run steps in the bubblewrap sandbox (default true); false is `--no-sandbox` (and other store paths). */
  readonly sandbox?: boolean;
  /** Independent builds run at once (default 1), as `-j`. */
  readonly jobs?: number;
  /** Keep the build directory of a failed build, as `--keep-failed`. */
  readonly keepFailed?: boolean;
  /** SOURCE_DATE_EPOCH, part of every store path (default: the environment's, else 1). */
  readonly sourceDateEpoch?: number;
  /** Cancels the run as SIGINT cancels `mb build`: steps are killed, nothing partial stays, `result` rejects (exit code 130). */
  readonly signal?: AbortSignal;
  /** For a spec or program value: the directory its relative local paths resolve from (default the working directory). */
  readonly baseDir?: string;
  /** Receives each warning (default: written to stderr as `mb: warning: ...`). */
  readonly onWarning?: (message: string) => void;
}

/** Options of `build`. */
export interface BuildOptions extends ApiOptions {
  /** A symlink to the result, registered as a gc root (default none; `mb build` makes ./result). */
  readonly outLink?: string;
  /** Rebuild in a temporary place and compare, as `mb build --check`; differences reject with `build.not-reproducible`. */
  readonly check?: boolean;
}

/** The outcome of `build`. */
export interface BuildResult {
  readonly name: string;
  readonly storePath: string;
}

/** A running build or check: its progress events, and its outcome. */
export interface Run<T> {
  /** The progress events, in order, ending when the run ends (whether it succeeded or not). One consumer. */
  readonly events: AsyncIterable<BuildEvent>;
  /** The outcome; rejects with the `MbError` the CLI would print. */
  readonly result: Promise<T>;
}

/** A queue of events read by one async iterator; closed when the run settles. */
class EventQueue implements AsyncIterable<BuildEvent> {
  private readonly buffered: BuildEvent[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  push(e: BuildEvent): void {
    if (this.closed) return;
    this.buffered.push(e);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<BuildEvent> {
    for (;;) {
      const e = this.buffered.shift();
      if (e !== undefined) yield e;
      else if (this.closed) return;
      else await new Promise<void>((r) => (this.wake = r)).finally(() => (this.wake = null));
    }
  }
}

function argOf(builder: BuilderRef, opts: ApiOptions): BuilderArg {
  return typeof builder === "string" ? builder : { inline: builder, baseDir: opts.baseDir ?? process.cwd() };
}

function ioOf(opts: ApiOptions): Io {
  const warn = opts.onWarning ?? ((m: string) => void process.stderr.write(`mb: warning: ${m}\n`));
  return { out: () => {}, err: (t) => warn(t.replace(/^mb: warning: /, "").replace(/\n$/, "")), isTTY: false };
}

function flagsOf(opts: ApiOptions) {
  return {
    store: opts.store,
    sandbox: opts.sandbox === false ? ("none" as const) : ("bwrap" as const),
    keepFailed: opts.keepFailed ?? false,
    jobs: opts.jobs ?? 1,
    ...(opts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: opts.sourceDateEpoch }),
    // Always a signal: with one, the engine leaves the process's SIGINT and SIGTERM to the host program.
    signal: opts.signal ?? new AbortController().signal,
  };
}

async function checkedOptions(opts: ApiOptions): Promise<void> {
  const { ExitCode, MbError } = await import("./core/errors.js");
  const bad = (m: string) => new MbError("usage", m, { exitCode: ExitCode.usage });
  if (opts.jobs !== undefined && !(Number.isInteger(opts.jobs) && opts.jobs >= 1)) throw bad(`jobs must be a positive whole number, got ${String(opts.jobs)}`);
  if (opts.sourceDateEpoch !== undefined && !(Number.isInteger(opts.sourceDateEpoch) && opts.sourceDateEpoch >= 0)) {
    throw bad(`sourceDateEpoch must be a whole number of seconds, got ${String(opts.sourceDateEpoch)}`);
  }
}

/** Starts a run: `body` emits into the queue; a `result` event ends a successful run, as with `--json`. */
function start<T extends { storePath: string }>(opts: ApiOptions, body: (emit: (e: BuildEvent) => void, io: Io) => Promise<T>): Run<T> {
  const queue = new EventQueue();
  const result = (async () => {
    await checkedOptions(opts);
    const out = await body((e) => queue.push(e), ioOf(opts));
    queue.push({ event: "result", storePath: out.storePath });
    return out;
  })().finally(() => queue.close());
  result.catch(() => {}); // the caller may read the events first; the rejection still reaches `await run.result`
  return { events: queue, result };
}

/** Realizes a builder and its dependencies in the store, as `mb build`. */
export function build(builder: BuilderRef, opts: BuildOptions = {}): Run<BuildResult> {
  return start(opts, async (emit, io) => {
    const { buildBuilder } = await import("./cli/build.js");
    return buildBuilder(argOf(builder, opts), { ...flagsOf(opts), check: opts.check ?? false, outLink: opts.outLink ?? null }, { emit, close: () => {} }, io);
  });
}

/**
 * Builds if needed, then runs each evidence command against the result and health-checks each service, as
 * `mb check`; `evidence` and `service` events report each. A failure rejects with `check.failed` (exit code 1).
 */
export function check(builder: BuilderRef, opts: ApiOptions = {}): Run<CheckOutcome> {
  return start(opts, async (emit, io) => {
    const { checkBuilder, checkFailure } = await import("./cli/check.js");
    const c = await checkBuilder(argOf(builder, opts), flagsOf(opts), { emit, close: () => {} }, io, {
      evidence: (o) => emit({ event: "evidence", ...o }),
      service: (o) => emit({ event: "service", ...o }),
    });
    const failure = checkFailure(c);
    if (failure) throw failure;
    return c;
  });
}

/** The store path a build will have, without building, as `mb path`. */
export async function path(builder: BuilderRef, opts: ApiOptions = {}): Promise<string> {
  await checkedOptions(opts);
  const arg = argOf(builder, opts);
  const f = flagsOf(opts);
  const { cachedRoot } = await import("./cli/build.js");
  const { prepare, rootStorePath, storeDirFrom } = await import("./cli/context.js");
  const hit = cachedRoot(arg, storeDirFrom(f.store), false, f.sandbox, f.sourceDateEpoch);
  if (hit) return hit.storePath;
  const io = ioOf(opts);
  const prepared = await prepare(arg, { store: f.store, sandbox: f.sandbox, strict: true, sourceDateEpoch: f.sourceDateEpoch, warn: (m) => io.err(m) });
  return rootStorePath(prepared);
}

/** Removes the store entries not reachable from live out-links, as `mb gc` (`dryRun`: only list them). */
export async function gc(opts: { store?: string; dryRun?: boolean } = {}): Promise<GcOutcome> {
  const { gcStore } = await import("./cli/store-commands.js");
  return gcStore({ store: opts.store, dryRun: opts.dryRun ?? false });
}

/** Re-hashes every store entry, as `mb store verify` (`repair`: remove what fails and rebuild what a known builder makes). */
export async function verify(opts: { store?: string; repair?: boolean } = {}): Promise<VerifyOutcome> {
  const { verifyStoreDir } = await import("./cli/store-commands.js");
  return verifyStoreDir({ store: opts.store, repair: opts.repair ?? false });
}
