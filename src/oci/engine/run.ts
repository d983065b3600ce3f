/**
 * Evidence executed inside an image: unpack the layout's image into a temporary rootfs and run a command there,
 * isolated from the host by whichever of bwrap, unshare (with its chroot) or runc exists.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { MbError, absurd } from "../../core/errors.js";
import { findExecutable, readOciImage, searchDirs } from "./layout.js";
import { splitShellWords } from "./shell-words.js";
import { unpackOciImage } from "./unpack.js";

/** What ran and what it printed. */
export interface OciEvidenceResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The isolation tools, in the order they are probed. */
export const OCI_RUNNERS = ["bwrap", "unshare", "runc"] as const;
export type OciRunner = (typeof OCI_RUNNERS)[number];

/** Options for tests and callers that want a particular runner; `runOciEvidence(layout, command)` needs none. */
export interface OciRunOptions {
  /** Use this runner instead of the first one found. */
  readonly runner?: OciRunner;
  /** Directories searched for the runners (default: PATH, then the sbin directories). */
  readonly searchDirs?: readonly string[];
  /** Kill the command after this long (default 5 minutes). */
  readonly timeoutMs?: number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The first runner found (or the one asked for), with its path; an MbError naming what to install when none is. */
export function findOciRunner(options: Pick<OciRunOptions, "runner" | "searchDirs"> = {}): { runner: OciRunner; path: string } {
  const dirs = options.searchDirs ?? searchDirs();
  for (const runner of options.runner ? [options.runner] : OCI_RUNNERS) {
    const path = findExecutable(runner, dirs);
    if (path !== null) return { runner, path };
  }
  const wanted = options.runner ? `'${options.runner}'` : "bwrap, unshare or runc";
  throw new MbError(
    "oci.runner.missing",
    `oci: no isolation tool to run evidence inside the image (looked for ${wanted} in ${dirs.join(":") || "(nowhere)"}): apt-get install bubblewrap`,
    { hint: "apt-get install bubblewrap (or util-linux for unshare, or runc)" },
  );
}

/** The image's environment, with a default PATH when it sets none. */
function imageEnv(env: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of env ?? []) {
    const eq = kv.indexOf("=");
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  out.PATH ??= DEFAULT_PATH;
  return out;
}

/** The argv that runs `argv` in `rootfs` with `runner`; runc also needs a bundle, written under `work`. */
function isolate(runner: OciRunner, path: string, rootfs: string, work: string, argv: string[], env: Record<string, string>, cwd: string): string[] {
  switch (runner) {
    case "bwrap":
      return [
        path, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "--chdir", cwd, "--clearenv",
        ...Object.entries(env).flatMap(([k, v]) => ["--setenv", k, v]),
        "--", ...argv,
      ];
    case "unshare":
      // unshare's --root is chroot(2) into the rootfs once the namespaces exist; proc is mounted inside it. The user
      // namespace leaves the command root inside it only, without the host's capabilities.
      return [path, "--user", "--map-root-user", "--fork", "--kill-child", "--pid", "--mount", "--uts", "--ipc", "--net", `--root=${rootfs}`, `--wd=${cwd}`, "--mount-proc=/proc", "--", ...argv];
    case "runc": {
      // The work directory is the bundle: config.json beside rootfs.
      writeFileSync(join(work, "config.json"), JSON.stringify(runcSpec(rootfs, argv, env, cwd), null, 2));
      return [path, "--root", join(work, "runc-state"), "run", "--bundle", work, `mb-evidence-${process.pid}-${Date.now()}`];
    }
    default:
      return absurd(runner);
  }
}

/** A minimal OCI runtime spec: the rootfs writable, fresh namespaces (so no network), a short list of capabilities. */
function runcSpec(rootfs: string, argv: string[], env: Record<string, string>, cwd: string): Record<string, unknown> {
  const caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: argv,
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: false },
    hostname: "mb-evidence",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
      readonlyPaths: ["/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

function run(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<OciEvidenceResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: code ?? 128 + (signal ? osSignal(signal) : 0),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

function osSignal(name: NodeJS.Signals): number {
  return (constants.signals as Record<string, number | undefined>)[name] ?? 0;
}

/**
 * Runs `command` (a shell-style command line, split into argv without a shell) inside the first image of the OCI layout
 * `layoutDir`, isolated from the host, and returns its exit status and output. The temporary rootfs is removed after.
 */
export async function runOciEvidence(layoutDir: string, command: string, options: OciRunOptions = {}): Promise<OciEvidenceResult> {
  const argv = splitShellWords(command);
  if (argv.length === 0) throw new MbError("oci.evidence.command", "oci: the evidence command is empty");
  const { runner, path } = findOciRunner(options);
  const image = readOciImage(layoutDir);
  const env = imageEnv(image.config.config?.Env);
  const cwd = `/${(image.config.config?.WorkingDir ?? "").split("/").filter((p) => p !== "" && p !== ".").join("/")}`;
  if (cwd.split("/").includes("..")) throw new MbError("oci.config.invalid", `oci: WorkingDir ${JSON.stringify(image.config.config?.WorkingDir)} leaves the root`);
  const work = mkdtempSync(join(tmpdir(), "mb-oci-run-"));
  try {
    const rootfs = join(work, "rootfs");
    await unpackOciImage(layoutDir, rootfs);
    // Mount points the runners need; an image without them still runs.
    for (const d of ["proc", "dev"]) await fs.mkdir(join(rootfs, d), { recursive: true });
    await fs.mkdir(join(rootfs, cwd), { recursive: true });
    const full = isolate(runner, path, rootfs, work, argv, env, cwd);
    return await run(full, runner === "bwrap" ? {} : env, options.timeoutMs ?? 300_000);
  } finally {
    await removeTree(work);
  }
}

/** Removes a tree that may hold read-only directories (made writable first when plain removal fails). */
async function removeTree(dir: string): Promise<void> {
  try {
    await fs.rm(dir, { recursive: true, force: true });
  } catch {
    const walk = async (d: string): Promise<void> => {
      await fs.chmod(d, 0o700).catch(() => undefined);
      for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(d, e.name));
    };
    await walk(dir);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
