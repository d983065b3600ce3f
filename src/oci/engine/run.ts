/**
 * Evidence executed inside an image: unpack the layout's image into a temporary rootfs and run a command there,
 * isolated from the host by bwrap or runc (isolation.ts); the rootfs is only ever touched through rootfs.ts.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import * as fs from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { MbError } from "../../core/errors.js";
import { findOciRunner, isolate, type RunnerChoice } from "./isolation.js";
import { readOciImage } from "./layout.js";
import { lstatOrNull, mkdirInRoot, mountPointInRoot, resolveInRoot } from "./rootfs.js";
import { splitShellWords } from "./shell-words.js";
import { unpackOciImage } from "./unpack.js";

export { OCI_RUNNERS, findOciRunner, type OciRunner } from "./isolation.js";

/** What ran and what it printed. */
export interface OciEvidenceResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Options for tests and callers that want a particular runner; `runOciEvidence(layout, command)` needs none. */
export interface OciRunOptions extends RunnerChoice {
  /** Kill the command after this long (default 5 minutes). */
  readonly timeoutMs?: number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

/** A `name:x:id:...` database of the image (/etc/passwd, /etc/group), read inside the root; empty when missing. */
async function idDatabase(rootfs: string, path: string): Promise<Map<string, { id: number; gid: number | undefined }>> {
  const out = new Map<string, { id: number; gid: number | undefined }>();
  const file = await resolveInRoot(rootfs, path, "follow");
  if (!(await lstatOrNull(file))?.isFile()) return out;
  for (const line of (await fs.readFile(file, "utf8")).split("\n")) {
    const [name, , id, gid] = line.split(":");
    if (name && id !== undefined && /^[0-9]+$/.test(id)) out.set(name, { id: Number(id), gid: gid !== undefined && /^[0-9]+$/.test(gid) ? Number(gid) : undefined });
  }
  return out;
}

/**
 * The uid and gid the config's User names (`uid`, `uid:gid`, `name`, `name:group`), names looked up in the image's
 * /etc/passwd and /etc/group; no User is root. A name the image does not know is an error naming it.
 */
export async function resolveImageUser(rootfs: string, user: string | undefined): Promise<{ uid: number; gid: number }> {
  if (user === undefined || user === "") return { uid: 0, gid: 0 };
  const [u, g] = user.split(":") as [string, string | undefined];
  const lookup = async (db: string, name: string, what: string): Promise<{ id: number; gid: number | undefined }> => {
    if (/^[0-9]+$/.test(name)) return { id: Number(name), gid: undefined };
    const hit = (await idDatabase(rootfs, db)).get(name);
    if (hit === undefined) throw new MbError("oci.config.user", `oci: the image's User ${JSON.stringify(user)} names ${what} '${name}', which ${db} in the image does not list`);
    return hit;
  };
  const uid = await lookup("/etc/passwd", u, "the user");
  const gid = g === undefined ? (uid.gid ?? 0) : (await lookup("/etc/group", g, "the group")).id;
  return { uid: uid.id, gid };
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
  const workingDir = image.config.config?.WorkingDir ?? "";
  const cwd = `/${workingDir.split("/").filter((p) => p !== "" && p !== ".").join("/")}`;
  if (cwd.split("/").includes("..")) throw new MbError("oci.config.invalid", `oci: WorkingDir ${JSON.stringify(workingDir)} leaves the root`);
  const work = mkdtempSync(join(tmpdir(), "mb-oci-run-"));
  try {
    const rootfs = join(work, "rootfs");
    await unpackOciImage(layoutDir, rootfs);
    // Mount points the runners need (an image without them still runs), and the WorkingDir, made inside the image.
    for (const d of ["proc", "dev"]) await mountPointInRoot(rootfs, d);
    await mkdirInRoot(rootfs, cwd, "WorkingDir");
    const user = await resolveImageUser(rootfs, image.config.config?.User);
    const full = isolate(runner, path, rootfs, work, { argv, env, cwd, ...(user.uid === 0 && user.gid === 0 ? {} : { user }) });
    return await run(full, {}, options.timeoutMs ?? 300_000);
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
