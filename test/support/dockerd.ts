// A private Docker daemon for tests: Debian's docker.io `dockerd` (as root), with its own data root, exec root, pid
// file and unix socket in a temporary directory, no bridge and no iptables rules, and the containerd it starts itself
// (its socket lies under the exec root; with no system containerd at /run/containerd, dockerd 20.10 supervises its
// own). `stop()` ends it with SIGTERM, waits for it to exit and removes the directory. A missing tool fails the test
// naming the Debian package.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running private dockerd. */
export interface Dockerd {
  /** DOCKER_HOST for the client: `unix://<dir>/docker.sock`. */
  readonly host: string;
  /** Runs Debian's docker client against this daemon (BuildKit on), never throwing on a non-zero status. */
  docker(args: readonly string[], opts?: { cwd?: string }): SpawnSyncReturns<string>;
  /** The daemon's log so far. */
  log(): string;
  /** Stops the daemon and removes its directories. */
  stop(): Promise<void>;
}

/** Finds a tool or fails naming the Debian package that has it. */
export function requireTool(candidates: readonly string[], pkg: string): string {
  for (const c of candidates) if (existsSync(c)) return c;
  const onPath = spawnSync("bash", ["-c", `command -v ${candidates[0]!.split("/").pop()}`], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  throw new Error(`${candidates[0]} is missing: install Debian's ${pkg} (apt-get install ${pkg})`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a private dockerd and waits until its API answers. */
export async function startDockerd(): Promise<Dockerd> {
  if (process.getuid?.() !== 0) throw new Error("dockerd needs root: run this test as root");
  const dockerd = requireTool(["/usr/sbin/dockerd"], "docker.io");
  // Debian's client (20.10, BuildKit built in); another docker on PATH may want a buildx plugin for `docker build`.
  const client = requireTool(["/usr/bin/docker"], "docker.io");
  requireTool(["/usr/bin/containerd"], "containerd");
  const dir = mkdtempSync(join(tmpdir(), "mb-dockerd-"));
  const host = `unix://${join(dir, "docker.sock")}`;
  const logFile = join(dir, "dockerd.log");
  const logFd = openSync(logFile, "w");
  const args = [
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "docker.pid")}`,
    `--host=${host}`,
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-masq=false",
    "--userland-proxy=false",
  ];
  const child: ChildProcess = spawn(dockerd, args, { stdio: ["ignore", logFd, logFd] });
  let exited: number | null = null;
  const done = new Promise<void>((resolve) => child.once("exit", (code) => ((exited = code ?? 128), resolve())));
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: "1", DOCKER_CONFIG: join(dir, "client") };
  const docker = (a: readonly string[], opts: { cwd?: string } = {}) => spawnSync(client, a, { encoding: "utf8", env, cwd: opts.cwd, maxBuffer: 1 << 28 });
  const log = () => readFileSync(logFile, "utf8");
  const stop = async () => {
    if (exited === null) {
      child.kill("SIGTERM");
      await done;
    }
    // Leftover mounts under the data root (a daemon that died) are unmounted before the directory goes.
    spawnSync("bash", ["-c", `grep -o " ${dir}/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Readiness: the API answers `docker version` (the daemon needs a few seconds to start containerd and BuildKit).
  for (let i = 0; ; i++) {
    if (exited !== null) {
      const text = log();
      await stop();
      throw new Error(`dockerd exited with status ${exited} before it answered:\n${text.slice(-3000)}`);
    }
    if (existsSync(join(dir, "docker.sock")) && docker(["version"]).status === 0) break;
    if (i > 600) {
      const text = log();
      await stop();
      throw new Error(`dockerd did not answer on ${host}:\n${text.slice(-3000)}`);
    }
    await sleep(200);
  }
  return { host, docker, log, stop };
}
