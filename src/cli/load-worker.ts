/**
 * The worker thread a builder module is imported in, so that `mb` can stop it (a time limit) and see how it ended:
 * loaded, failed (import error, unhandled rejection, uncaught exception, an export that is not data) or unsettled
 * (a top-level await that never settles). It reports once to the parent and never touches the file system.
 */
import { parentPort, workerData } from "node:worker_threads";
import { MbError, type Issue } from "../core/errors.js";
import { NotData, plainData } from "./builder-value.js";

/** What the worker was asked to load: the module's URL (a builder file, or a bundle's data: URL) and the export. */
export interface LoadRequest {
  readonly url: string;
  readonly exportName: string;
}

/** How a failure happened. */
export type FailureKind = "import" | "rejection" | "exception" | "value";

/** The one report a loading worker sends. */
export type LoadReport =
  | { readonly kind: "loaded"; readonly value: unknown }
  | { readonly kind: "no-export"; readonly exports: string[] }
  | { readonly kind: "unsettled" }
  | {
      readonly kind: "failed";
      readonly how: FailureKind;
      readonly message: string;
      readonly stack?: string;
      readonly code?: string;
      readonly issues?: Issue[];
    };

let reported = false;
function report(r: LoadReport): void {
  if (reported) return;
  reported = true;
  try {
    parentPort!.postMessage(r);
  } catch (e) {
    parentPort!.postMessage({ kind: "failed", how: "value", message: `the export cannot be passed on: ${(e as Error).message}` } satisfies LoadReport);
  }
}

function failure(how: FailureKind, e: unknown): LoadReport {
  if (e instanceof NotData) return { kind: "failed", how, message: e.message };
  if (e instanceof MbError) return { kind: "failed", how, message: e.message, code: e.code, issues: [...e.issues], ...(e.stack ? { stack: e.stack } : {}) };
  if (e instanceof Error) return { kind: "failed", how, message: e.message || e.name, ...(e.stack ? { stack: e.stack } : {}) };
  let message: string;
  try {
    message = String(e);
  } catch {
    message = "a value that cannot be shown";
  }
  return { kind: "failed", how, message };
}

// Started ahead of need (prewarmLoader), the worker waits for its request.
const request = (workerData as LoadRequest | null) ?? (await new Promise<LoadRequest>((r) => parentPort!.once("message", r)));
let settled = false;
process.on("unhandledRejection", (reason) => report(failure("rejection", reason)));
process.on("uncaughtException", (error) => report(failure("exception", error)));
// Only an import still waiting when nothing else is left to run ends here: a top-level await that never settles.
process.on("beforeExit", () => {
  if (!settled) report({ kind: "unsettled" });
});

let mod: Record<string, unknown> | undefined;
try {
  mod = (await import(request.url)) as Record<string, unknown>;
} catch (e) {
  report(failure("import", e));
}
settled = true;
// Rejections left unhandled by the module's evaluation are reported before its export is taken.
await new Promise((r) => setImmediate(r));
if (mod && !reported) {
  try {
    const name = request.exportName;
    if (!(name in mod) || mod[name] === undefined) report({ kind: "no-export", exports: Object.keys(mod).filter((k) => k !== "default") });
    else report({ kind: "loaded", value: plainData(mod[name]) });
  } catch (e) {
    report(failure("value", e));
  }
}
