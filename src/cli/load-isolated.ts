/**
 * Imports a builder module in a worker thread with a time limit (`MB_LOAD_TIMEOUT`, seconds, default 30), so an
 * endless loop, a top-level await that never settles, an unhandled rejection or an export that is not data is an
 * MbError (exit 2) naming the file and what happened, never a hang, a stack trace or an exit 0 with nothing built.
 */
import { Worker } from "node:worker_threads";
import { ExitCode, MbError } from "../core/errors.js";
import type { LoadReport, LoadRequest } from "./load-worker.js";
import { secondsFromEnv } from "../core/env-seconds.js";

/** The default time a builder may take to load, in seconds. */
export const DEFAULT_LOAD_TIMEOUT = 30;

/** The load time limit in milliseconds from `MB_LOAD_TIMEOUT` (seconds; a positive number), default 30 s. */
export function loadTimeoutFrom(env: NodeJS.ProcessEnv = process.env): number {
  return secondsFromEnv(env, "MB_LOAD_TIMEOUT", DEFAULT_LOAD_TIMEOUT, "usage.load-timeout", 86400);
}

/** Why a load failed, for the caller to add what it knows (an import cycle). */
export class LoadFailure extends MbError {
  constructor(
    readonly how: string,
    message: string,
    opts: { code: string; issues?: MbError["issues"]; stack?: string },
  ) {
    super(opts.code, message, { exitCode: ExitCode.usage, ...(opts.issues ? { issues: opts.issues } : {}) });
    // --debug shows where the builder failed, not where mb noticed.
    if (opts.stack) this.stack = opts.stack;
  }
}

const HOW: Record<string, string> = {
  import: "cannot be loaded",
  rejection: "an unhandled promise rejection while loading",
  exception: "an uncaught exception while loading",
  value: "its export is not data",
};

function fromReport(file: string, r: Exclude<LoadReport, { kind: "loaded" }>, exportName: string): MbError {
  const at = exportName === "default" ? file : `${file}#${exportName}`;
  switch (r.kind) {
    case "no-export":
      return new MbError(
        "builder.no-export",
        `${file}: has no ${exportName === "default" ? "default export" : `export named '${exportName}'`}${r.exports.length ? ` (exports: ${r.exports.join(", ")})` : ""}`,
        { exitCode: ExitCode.usage },
      );
    case "unsettled":
      return new MbError("builder.unsettled", `${file}: never finished loading: a top-level await is waiting for something that never happens`, {
        exitCode: ExitCode.usage,
      });
    case "failed": {
      const code = r.code ?? (r.how === "value" ? "builder.invalid" : r.how === "import" ? "builder.load-failed" : `builder.${r.how}`);
      // An MbError thrown while importing (a malformed constructor call) speaks for itself.
      const what = r.how === "import" && r.code ? r.message : `${HOW[r.how]}: ${r.message}`;
      return new LoadFailure(r.how, `${r.how === "value" ? at : file}: ${what}`, { code, ...(r.issues ? { issues: r.issues } : {}), ...(r.stack ? { stack: r.stack } : {}) });
    }
  }
}

const WORKER = new URL("./load-worker.js", import.meta.url);
let warm: Worker | null = null;

/**
 * Starts the loading worker ahead of need (the `mb` binary does, for commands that load a builder): Node takes tens
 * of milliseconds to start a worker thread, which then overlap the command's own start instead of following it. The
 * worker waits for its request; unreferenced, it never keeps a run that does not need it (a cache hit, a JSON spec)
 * from exiting.
 */
export function prewarmLoader(): void {
  if (warm) return;
  warm = new Worker(WORKER, { workerData: null });
  warm.on("error", () => {}); // reported by importIsolated once taken; an unused worker's end is nobody's concern
  warm.unref();
}

/**
 * Imports `request.url` in a worker and returns the export as plain data. Rejects with
 * an MbError (exit 2) naming `file` when the builder fails, does not settle, or takes longer than `timeoutMs`.
 */
export function importIsolated(file: string, request: LoadRequest, timeoutMs: number): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const worker = warm ?? new Worker(WORKER, { workerData: request });
    if (warm) {
      warm = null;
      worker.ref();
      worker.postMessage(request);
    }
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      f();
    };
    const timer = setTimeout(() => {
      const s = timeoutMs / 1000;
      finish(() =>
        reject(
          new MbError("builder.timeout", `${file}: did not finish loading within ${s} s (an endless loop or a wait at import?)`, {
            exitCode: ExitCode.usage,
            hint: "MB_LOAD_TIMEOUT sets the limit in seconds",
          }),
        ),
      );
    }, timeoutMs);
    worker.on("message", (r: LoadReport) => finish(() => (r.kind === "loaded" ? resolvePromise(r.value) : reject(fromReport(file, r, request.exportName)))));
    worker.on("error", (e) => finish(() => reject(new LoadFailure("exception", `${file}: ${HOW.exception}: ${e.message}`, { code: "builder.exception", ...(e.stack ? { stack: e.stack } : {}) }))));
    worker.on("exit", (status) =>
      finish(() =>
        reject(new MbError("builder.exited", `${file}: stopped while loading (exit status ${status}) without producing its export`, { exitCode: ExitCode.usage })),
      ),
    );
  });
}
