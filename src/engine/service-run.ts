/**
 * Running a built service (`mb run`, and the service check of `mb check`): which service, which port, which
 * executable, starting it in the foreground under bubblewrap (host network shared so loopback works; its own mount,
 * ipc and uts namespaces and, unless its profile is a daemon's, its own pid namespace and `--die-with-parent`),
 * the lifecycle health check (HTTP GET of the protocol's health path on 127.0.0.1 until 200, within a bound), signal
 * forwarding, and stopping it with nothing left behind. The sandbox is the service's profile (src/ornaments/sandbox/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import type { Protocol } from "../core/runtime.js";
import { capabilityNames } from "../core/runtime.js";
import type { Service } from "../core/spec.js";
import { serviceProfile, toBwrap } from "../ornaments/sandbox/index.js";
import { systemBinds, writeSandboxEtc, type Confinement } from "./bwrap.js";
import { isExecutableFile } from "./host.js";
import { killGroup } from "./interrupt.js";

/** The services a plan materializes as units (those `mb run` can start), in unit order. */
export function runnableServices(plan: BuildPlan): Service[] {
  return plan.runtimeArtifacts.flatMap((a) => plan.declaredServices.filter((s) => s.name === a.name).slice(-1));
}

/** The one service to run: the named one, or the only one; a builder with none, an unknown name or a choice left open is a usage error. */
export function pickService(plan: BuildPlan, name: string | undefined): Service {
  const services = runnableServices(plan);
  const names = services.map((s) => `'${s.name}'`).join(", ");
  if (services.length === 0) {
    throw new MbError("run.no-service", `'${plan.name}' has no service to run (no materializeUnit of a declared service)`, {
      exitCode: ExitCode.usage,
      hint: "`mb run` starts the services a builder declares (declareService) and materializes (materializeUnit)",
    });
  }
  if (name === undefined) {
    if (services.length === 1) return services[0]!;
    throw new MbError("run.which-service", `'${plan.name}' has ${services.length} services: name one of ${names}`, { exitCode: ExitCode.usage, hint: "mb run <builder> <service>" });
  }
  const svc = services.find((s) => s.name === name);
  if (!svc) throw new MbError("run.unknown-service", `'${plan.name}' has no service '${name}'; its services: ${names}`, { exitCode: ExitCode.usage });
  return svc;
}

/** A port given on the command line: a whole number 1–65535, else a usage error. */
export function parsePort(raw: string, flag = "--port"): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new MbError("run.port", `${flag} needs a port between 1 and 65535, got '${raw}'`, { exitCode: ExitCode.usage });
  }
  return Number(raw);
}

/** What the runtime declarations say about reaching a service: its protocol, port variable, default port, health path. */
export interface Endpoint {
  readonly protocol: Protocol | null;
  /** The environment variable the port goes in (the protocol's `portEnvVar`), or null. */
  readonly portEnvVar: string | null;
  readonly defaultPort: number | null;
  /** The HTTP path of the lifecycle health check, or null when the service declares none. */
  readonly healthPath: string | null;
}

/**
 * The endpoint of a service: its first TCP protocol with a port variable (else its first protocol). The health check
 * is an HTTP GET of the protocol's `options.healthPath` (default `/health`) when the service provides the lifecycle
 * capability `health` over a TCP protocol.
 */
export function endpointOf(svc: Service): Endpoint {
  const protocol = svc.protocols.find((p) => p.transport === "TCP" && p.portEnvVar !== null) ?? svc.protocols[0] ?? null;
  if (!protocol) return { protocol: null, portEnvVar: null, defaultPort: null, healthPath: null };
  const health = capabilityNames(svc.capabilities).includes("health") && protocol.transport === "TCP";
  const option = protocol.options["healthPath"];
  const healthPath = health ? (typeof option === "string" && option.startsWith("/") ? option : "/health") : null;
  return { protocol, portEnvVar: protocol.portEnvVar, defaultPort: protocol.defaultPort, healthPath };
}

/**
 * The executable that starts a service in its build's store entry: `bin/<service name>`, else `bin/<service name
 * without -service>`, else the only executable in `bin/`.
 */
export function serviceExecutable(storePath: string, svc: Service): string {
  const bin = join(storePath, "bin");
  const names = [svc.name, svc.name.replace(/-service$/, "")];
  for (const n of names) if (isExecutableFile(join(bin, n))) return join(bin, n);
  let all: string[] = [];
  try {
    all = readdirSync(bin).filter((f) => isExecutableFile(join(bin, f)));
  } catch {
    // no bin directory
  }
  if (all.length === 1) return join(bin, all[0]!);
  throw new MbError("run.no-executable", `service '${svc.name}': its build ${storePath} has no bin/${svc.name}, no bin/${names[1]} and ${all.length === 0 ? "no executable" : `${all.length} executables`} in bin/`, {
    exitCode: ExitCode.problems,
    hint: `install the service's start command as bin/${svc.name} in the build output`,
  });
}

/** Fails (exit 1) when something already listens on 127.0.0.1:`port`. */
export async function assertPortFree(port: number, svc: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      const why = e.code === "EADDRINUSE" ? "is already in use" : e.code === "EACCES" ? "needs privileges this user lacks" : `cannot be listened on (${e.code ?? e.message})`;
      reject(new MbError("run.port-taken", `service '${svc}': port ${port} on 127.0.0.1 ${why}`, { exitCode: ExitCode.problems, hint: "pass another port with --port P" }));
    });
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** A port nothing listens on now (the kernel's choice on 127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How long the health check may take: `MB_HEALTH_TIMEOUT` seconds, default 30. */
export function healthTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env["MB_HEALTH_TIMEOUT"];
  if (raw === undefined || raw === "") return 30_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new MbError("usage.health-timeout", `MB_HEALTH_TIMEOUT must be a positive number of seconds, got '${raw}'`, { exitCode: ExitCode.usage });
  return n * 1000;
}

/** How a service ended: its exit code, or the signal that killed it. */
export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started service. */
export interface RunningService {
  readonly service: Service;
  readonly port: number;
  /** The pid (and process group) of what was spawned: bwrap, or the service itself without the sandbox. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the spawned process has ended and its process group has been killed. */
  readonly exited: Promise<ServiceExit>;
  /** The last lines the service wrote (stdout and stderr interleaved). */
  lastLines(n?: number): string[];
  /** Sends `sig` to the service itself (inside the sandbox: the processes bwrap started). */
  signal(sig: NodeJS.Signals): void;
}

/** What to start. */
export interface StartOptions {
  readonly service: Service;
  /** The build's store entry (holding the executable). */
  readonly storePath: string;
  readonly port: number;
  /** bwrap, or null to run unconfined (`--no-sandbox`). */
  readonly confine: Confinement | null;
  /** The store directory (shown empty inside the sandbox but for `readOnly`). */
  readonly storeDir: string;
  /** Store paths the service may read besides its own entry (its runtime artifact, the build's dependencies). */
  readonly readOnly?: readonly string[];
  /** Called with each chunk the service writes. */
  readonly onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
}

/** The direct children of a process (from /proc); empty when it is gone. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter((x) => x !== "")
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** The processes below bwrap (every descendant of `pid` that is not bwrap itself). */
function serviceProcesses(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of childrenOf(p)) {
      let comm = "";
      try {
        comm = readFileSync(`/proc/${c}/comm`, "utf8").trim();
      } catch {
        continue;
      }
      if (comm !== "bwrap") out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * The bwrap argv (without the command) a service runs under: its sandbox profile (`serviceProfile`: the spec's own,
 * else its store entry and package read-only, a private /tmp, exec and fork, not a daemon) through `toBwrap`, around
 * what every mb sandbox has: the host's network shared (loopback works; the protocol's port is the one it may serve),
 * user, ipc, uts and cgroup namespaces, no capabilities, /usr and the system links read-only, of /etc only the
 * linker's files and generated passwd/group/hosts, the store directory empty but for the bound entries, and the
 * sandbox root read-only. The profile's tmpfs mounts come first, so binds below them (a store under /tmp) stay
 * visible; `home` (a fresh directory, the service's HOME and working directory) is writable.
 */
export function serviceBwrapArgs(c: Confinement, svc: Service, place: { storePath: string; port: number; storeDir: string; readOnly: readonly string[]; etcDir: string; home: string }): string[] {
  const profile = serviceProfile(svc, { storePath: place.storePath, port: place.port });
  const args = [c.bwrap, "--unshare-user-try", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL", "--hostname", "localhost"];
  args.push(...profile.tmpfs.flatMap((p) => ["--tmpfs", p]), ...systemBinds());
  for (const f of ["passwd", "group", "hosts"]) args.push("--ro-bind", join(place.etcDir, f), `/etc/${f}`);
  args.push("--tmpfs", place.storeDir);
  for (const p of place.readOnly) if (!profile.readOnlyPaths.includes(p)) args.push("--ro-bind", p, p);
  args.push(...toBwrap({ ...profile, tmpfs: [] }));
  args.push("--bind", place.home, place.home, "--remount-ro", place.storeDir, "--remount-ro", "/", "--chdir", place.home, "--");
  return args;
}

/**
 * Starts the service: `<storePath>/bin/<name>` with the protocol's port variable set to `port`, in its own process
 * group; confined, under `serviceBwrapArgs`. A fresh state directory (HOME and working directory) is removed when it
 * ends.
 */
export function startService(opts: StartOptions): RunningService {
  const svc = opts.service;
  const exe = serviceExecutable(opts.storePath, svc);
  const endpoint = endpointOf(svc);
  const state = mkdtempSync(join(tmpdir(), `mb-run-${svc.name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60)}-`));
  const home = join(state, "home");
  const etc = join(state, "etc");
  mkdirSync(home);
  mkdirSync(etc);
  const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, TMPDIR: "/tmp", LC_ALL: "C" };
  if (endpoint.portEnvVar !== null) env[endpoint.portEnvVar] = String(opts.port);
  let file = exe;
  let argv: string[] = [];
  if (opts.confine) {
    writeSandboxEtc(etc, home);
    const readOnly = [...new Set([opts.storePath, ...(opts.readOnly ?? [])])].sort();
    const args = serviceBwrapArgs(opts.confine, svc, { storePath: opts.storePath, port: opts.port, storeDir: opts.storeDir, readOnly, etcDir: etc, home });
    file = args[0]!;
    argv = [...args.slice(1), exe];
  }
  const child = spawn(file, argv, { cwd: home, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(state, { recursive: true, force: true });
    throw new MbError("run.spawn", `service '${svc.name}': could not start ${file}`, { exitCode: ExitCode.problems });
  }
  const lines: string[] = [];
  let partial = "";
  const keep = (chunk: Buffer, stream: "stdout" | "stderr") => {
    opts.onOutput?.(chunk, stream);
    const parts = (partial + chunk.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on("data", (b: Buffer) => keep(b, "stdout"));
  child.stderr!.on("data", (b: Buffer) => keep(b, "stderr"));
  // Every service process seen (when signalled): any still there when bwrap has ended is killed.
  const seen = new Set<number>();
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once("error", () => undefined);
    child.once("close", (code, signal) => {
      killGroup(pid); // whatever the service left running in its group
      for (const p of seen) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone, as it should be
        }
      }
      rmSync(state, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  return {
    service: svc,
    port: opts.port,
    pid,
    child,
    exited,
    lastLines: (n = 20) => [...lines, ...(partial ? [partial] : [])].slice(-n),
    signal(sig) {
      // Inside the sandbox the service runs below bwrap (and bwrap's init in a new pid namespace), in a session of
      // its own: signal every process bwrap started, so the service can end as it likes and bwrap passes its status
      // on. Unconfined, the service is the spawned process itself.
      const targets = opts.confine ? serviceProcesses(pid) : [pid];
      for (const t of targets) seen.add(t);
      if (targets.length === 0) return killGroup(pid, sig);
      for (const t of targets) {
        try {
          process.kill(t, sig);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** One HTTP GET on 127.0.0.1; resolves with status and body, rejects on a connection error. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: 2000 }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** The service did not become healthy: names the service, the port, and its last lines of output. */
function notHealthy(running: RunningService, why: string): MbError {
  const last = running.lastLines(20);
  return new MbError(
    "run.unhealthy",
    `service '${running.service.name}' on port ${running.port} ${why}${last.length > 0 ? `; its last output:\n${last.map((l) => `  ${l}`).join("\n")}` : "; it wrote nothing"}`,
    { exitCode: ExitCode.problems },
  );
}

/**
 * Waits for the lifecycle health check: GET `healthPath` on 127.0.0.1:port until it answers 200 (every 100 ms), at
 * most `timeoutMs`. Resolves with the answer's body; rejects (exit 1, naming service, port and last output) when
 * the service ends first or does not answer in time. `cancelled` stops the wait early (a signal).
 */
export async function waitHealthy(running: RunningService, healthPath: string, timeoutMs: number, cancelled: () => boolean = () => false): Promise<string> {
  let ended: ServiceExit | null = null;
  void running.exited.then((e) => (ended = e));
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    if (cancelled()) throw new MbError("interrupted", "interrupted", { exitCode: ExitCode.interrupted });
    if (ended !== null) {
      const e = ended as ServiceExit;
      throw notHealthy(running, `ended (${e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`}) before answering GET ${healthPath}`);
    }
    try {
      const r = await get(running.port, healthPath);
      if (r.status === 200) return r.body;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) throw notHealthy(running, `did not answer GET ${healthPath} with 200 within ${timeoutMs / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a service: `sig` to it, then (after `graceMs`) SIGKILL to its whole process group. */
export async function stopService(running: RunningService, sig: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<ServiceExit> {
  running.signal(sig);
  const timer = setTimeout(() => killGroup(running.pid), graceMs);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The status of an ended service as a process exit status (128 + signal number when killed). */
export function exitStatus(e: ServiceExit): number {
  if (e.code !== null) return e.code;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return 128 + (e.signal ? (signals[e.signal] ?? 0) : 0);
}

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
