/**
 * Running a built service (`mb run`, and the service check of `mb check`): starting it in the foreground under bubblewrap (host network shared so loopback works; its own mount,
 * ipc and uts namespaces and, unless its profile is a daemon's, its own pid namespace and `--die-with-parent`),
 * the lifecycle health check (HTTP GET of the protocol's health path on 127.0.0.1 until 200, within a bound), signal
 * forwarding, and stopping it with nothing left behind. The sandbox is the service's profile (src/ornaments/sandbox/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import type { Service } from "../core/spec.js";
import { SANDBOX_STORE_DEFAULT } from "../core/sandbox.js";
import { serviceProfile, toBwrap } from "../ornaments/sandbox/index.js";
import { systemBinds, writeSandboxEtc, type Confinement } from "./bwrap.js";
import { killGroup } from "./interrupt.js";
import { endpointOf, serviceExecutable } from "./service-select.js";

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
 * sandbox root read-only. The service's own entry and `readOnly` are bound whatever the profile says (the spec cannot
 * name store paths). The profile's tmpfs mounts come first, so binds below them (a store under /tmp) stay
 * visible; `home` (a fresh directory, the service's HOME and working directory) is writable.
 */
export function serviceBwrapArgs(c: Confinement, svc: Service, place: { storePath: string; port: number; storeDir: string; readOnly: readonly string[]; etcDir: string; home: string }): string[] {
  const given = serviceProfile(svc, { storePath: place.storePath, port: place.port });
  // A profile's default read-only path is the pure layers' store placeholder: here the store directory already shows
  // the service's entries (bound below), so the placeholder binds nothing.
  const profile = { ...given, readOnlyPaths: given.readOnlyPaths.filter((p) => p !== SANDBOX_STORE_DEFAULT) };
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
  return 128 + (e.signal ? (constants.signals[e.signal] ?? 0) : 0);
}
