/**
 * `mb run <builder> [service] [--port P]`: builds if needed (the build path of `mb build`), then starts the service in
 * the foreground under its sandbox, waits for its lifecycle health check ("ready: http://127.0.0.1:P" on stderr),
 * forwards SIGINT and SIGTERM to it, and exits with its status (130 when a forwarded signal ended it).
 */
import { StringDecoder } from "node:string_decoder";
import { ExitCode, MbError } from "../core/errors.js";
import type { SandboxMode } from "../engine/bwrap.js";
import { exitStatus, startService, stopService, waitHealthy, type RunningService } from "../engine/service-run.js";
import { assertPortFree, endpointOf, healthTimeoutMs, parsePort, pickService } from "../engine/service-select.js";
import type { Service } from "../core/spec.js";
import { addTempRoot } from "../engine/roots.js";
import { Store } from "../engine/store.js";
import { engineRun, prepareForBuild } from "./build.js";
import { resolutionOf, type Prepared } from "./context.js";
import type { Io } from "./io.js";
import { createProgress } from "./progress.js";

/** Flags of `mb run`. */
export interface RunFlags {
  readonly store?: string;
  /** The port (already checked to be 1–65535), or undefined for the protocol's default port. */
  readonly port?: number;
  readonly sandbox: SandboxMode;
  readonly jobs: number;
  readonly json: boolean;
}

/** `mb run`'s arguments (`<builder> [service]`) and flags, checked; then runs it. */
export async function runRunCommand(rest: readonly string[], values: { store?: string; port?: string; "no-sandbox": boolean; json: boolean }, jobs: number, io: Io): Promise<number> {
  const [arg, service, ...extra] = rest;
  const usage = (m: string) => new MbError("usage", m, { exitCode: ExitCode.usage, hint: "run `mb --help` for usage" });
  if (arg === undefined) throw usage("run needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec");
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  const port = values.port === undefined ? undefined : parsePort(values.port);
  return runRun(arg, service, { store: values.store, port, sandbox: values["no-sandbox"] ? "none" : "bwrap", jobs, json: values.json }, io);
}

/** `mb run`: returns the service's exit status. */
export async function runRun(arg: string, serviceName: string | undefined, flags: RunFlags, io: Io): Promise<number> {
  const timeout = healthTimeoutMs();
  const prepared = await prepareForBuild(arg, flags.store, flags.sandbox, io);
  const root = resolutionOf(prepared).root;
  const svc = pickService(root.plan, serviceName);
  const endpoint = endpointOf(svc);
  const port = flags.port ?? endpoint.defaultPort;
  if (port === null) {
    throw new MbError("run.no-port", `service '${svc.name}' declares no default port (its protocol has no defaultPort)`, { exitCode: ExitCode.usage, hint: "pass one with --port P" });
  }
  if (flags.port !== undefined && endpoint.portEnvVar === null) {
    io.err(`mb: warning: service '${svc.name}' declares no port variable (portEnvVar): it is not told to use port ${port}\n`);
  }

  // The service's closure stays alive from before its build until it ends (the build's own root ends with the build).
  const store = new Store(prepared.storeDir);
  store.ensureLayout();
  const serviceClosure = [root.storePath, ...root.needs, ...root.plan.runtimeArtifacts.map((a) => a.storePath)];
  const dropRoot = await addTempRoot(store, serviceClosure, "run");
  try {
    return await buildAndServe(prepared, svc, endpoint, port, serviceClosure, flags, io, timeout);
  } finally {
    dropRoot();
  }
}

async function buildAndServe(
  prepared: Prepared, svc: Service, endpoint: ReturnType<typeof endpointOf>, port: number, closure: readonly string[], flags: RunFlags, io: Io, timeout: number,
): Promise<number> {
  const root = resolutionOf(prepared).root;
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  try {
    await engineRun(prepared, { keepFailed: false, jobs: flags.jobs, sandbox: flags.sandbox }, progress, async (opts) => {
      const { realizeAll } = await import("../engine/schedule.js");
      await realizeAll(resolutionOf(prepared), opts);
    });
  } finally {
    progress.close();
  }

  await assertPortFree(port, svc.name);
  const { requireBwrap } = await import("../engine/bwrap.js");
  const confine = flags.sandbox === "bwrap" ? requireBwrap() : null;

  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  let caught: NodeJS.Signals | null = null;
  let running: RunningService | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (caught !== null && running) running.signal("SIGKILL"); // a second signal: at once
    caught ??= sig;
    running?.signal(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    running = startService({
      service: svc,
      storePath: root.storePath,
      port,
      confine,
      storeDir: prepared.storeDir,
      readOnly: closure.slice(1),
      // One decoder per stream, so a character split across chunks is written whole.
      onOutput: (chunk, stream) => (stream === "stdout" ? io.out(decoders.stdout.write(chunk)) : io.err(decoders.stderr.write(chunk))),
    });
    const url = `http://127.0.0.1:${port}`;
    if (endpoint.healthPath !== null) {
      try {
        await waitHealthy(running, endpoint.healthPath, timeout, () => caught !== null);
      } catch (e) {
        await stopService(running);
        if (caught !== null) return ExitCode.interrupted;
        throw e;
      }
      if (flags.json) io.err(`${JSON.stringify({ event: "ready", service: svc.name, url, port })}\n`);
      else io.err(`ready: ${url}\n`);
    } else {
      io.err(`mb: service '${svc.name}' started on port ${port} (it declares no health check)\n`);
    }
    const ended = await running.exited;
    const status = exitStatus(ended);
    if (caught !== null && (ended.signal !== null || status === 130 || status === 143 || status === 137)) return ExitCode.interrupted;
    if (flags.json) io.err(`${JSON.stringify({ event: "exit", service: svc.name, status })}\n`);
    else if (caught === null) io.err(`mb: service '${svc.name}' ended with status ${status}\n`);
    return status;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
