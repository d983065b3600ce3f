/** The service part of `mb check`: each service started on a free loopback port, its health endpoint called, stopped. */
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import type { Confinement } from "./bwrap.js";
import { endpointOf, freePort, runnableServices } from "./service-select.js";
import { startService, stopService, waitHealthy, type RunningService } from "./service-run.js";

/** The verdict on one service of `mb check`. */
export interface ServiceCheckOutcome {
  readonly name: string;
  readonly status: "ok" | "failed";
  readonly port: number;
  readonly detail: string;
  /** The health answer's body (ok only). */
  readonly body?: string;
}

/**
 * The service part of `mb check`: starts each runnable service of `plan` (built at `storePath`) on a free loopback
 * port, GETs its health path, and stops it. A service that ends early or does not answer within `timeoutMs` fails,
 * naming the service, the port and its last lines of output; a service without a health check only has to start.
 */
export async function checkServices(
  plan: BuildPlan,
  storePath: string,
  opts: {
    readonly confine: Confinement | null;
    readonly storeDir: string;
    readonly readOnly?: readonly string[];
    readonly timeoutMs: number;
    readonly interrupted: () => boolean;
    readonly onOutcome?: (o: ServiceCheckOutcome) => void;
    /** Registers the started service's process group (the engine's interrupt kills it); returns its remover. */
    readonly track?: (pgid: number) => () => void;
  },
): Promise<ServiceCheckOutcome[]> {
  const outcomes: ServiceCheckOutcome[] = [];
  for (const svc of runnableServices(plan)) {
    if (opts.interrupted()) break;
    const endpoint = endpointOf(svc);
    const port = await freePort();
    let outcome: ServiceCheckOutcome;
    let running: RunningService | null = null;
    let untrack = (): void => {};
    try {
      running = startService({ service: svc, storePath, port, confine: opts.confine, storeDir: opts.storeDir, ...(opts.readOnly ? { readOnly: opts.readOnly } : {}) });
      untrack = opts.track?.(running.pid) ?? untrack;
      if (endpoint.healthPath !== null) {
        const body = await waitHealthy(running, endpoint.healthPath, opts.timeoutMs, opts.interrupted);
        outcome = { name: svc.name, status: "ok", port, detail: `GET ${endpoint.healthPath} on port ${port}: 200 ${body.trim()}`, body };
      } else {
        outcome = { name: svc.name, status: "ok", port, detail: `started on port ${port} (no health check declared)` };
      }
    } catch (e) {
      if (!(e instanceof MbError) || e.exitCode !== ExitCode.problems) throw e;
      outcome = { name: svc.name, status: "failed", port, detail: e.message };
    } finally {
      if (running) await stopService(running);
      untrack();
    }
    outcomes.push(outcome);
    opts.onOutcome?.(outcome);
  }
  return outcomes;
}
