/**
 * The build sandbox: bubblewrap confines every step, as Nix's build sandbox does. A step gets its own mount, pid,
 * network, ipc, uts (and, where possible, user and cgroup) namespaces; the system directories read-only (/usr and
 * the /bin, /sbin, /lib* links or directories, and of /etc only what the dynamic linker and the tools' alternatives
 * need, plus a generated passwd, group and hosts); a private /tmp; the build directory and `$out` writable; and of
 * the store only the entries the build references, read-only. No /root, /home or other store entries exist inside.
 * `--die-with-parent` ends the whole sandbox (every process of its pid namespace) when `mb` dies.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { which } from "./host.js";
import { isWithin } from "./dirs.js";

/** How steps are confined: `bwrap` (the default) or `none` (`--no-sandbox`). Part of every store path. */
export type SandboxMode = "bwrap" | "none";

/** The sandbox's host side: where bwrap is. */
export interface Confinement {
  readonly bwrap: string;
}

/** System directories bound read-only (or recreated as the same symlinks, on merged-/usr systems). */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/** What of the host's /etc a step sees: the dynamic linker's configuration and the tools' alternatives; no secrets. */
const ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/nsswitch.conf"];

/** Finds bwrap on PATH; a missing one is exit 1 naming the package (bubblewrap) and `--no-sandbox`. */
export function requireBwrap(path = process.env.PATH ?? ""): Confinement {
  const bwrap = which("bwrap", path);
  if (bwrap) return { bwrap };
  throw new MbError("sandbox.missing", "bubblewrap is not installed (no 'bwrap' on PATH): every build step runs in a bubblewrap sandbox", {
    exitCode: ExitCode.problems,
    hint: "install it (`apt-get install bubblewrap`), or pass --no-sandbox to build unconfined (which gives other store paths)",
  });
}

/** Writes the sandbox's own /etc files (passwd, group, hosts) into `dir`; the build user is the caller's uid and gid. */
export function writeSandboxEtc(dir: string, home: string): void {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const user = uid === 0 ? "root" : "mbbuild";
  const group = gid === 0 ? "root" : "mbbuild";
  writeFileSync(join(dir, "passwd"), `${user}:x:${uid}:${gid}:metabuilder build user:${home}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n`, { mode: 0o444 });
  writeFileSync(join(dir, "group"), `${group}:x:${gid}:\nnogroup:x:65534:\n`, { mode: 0o444 });
  writeFileSync(join(dir, "hosts"), "127.0.0.1 localhost\n::1 localhost\n", { mode: 0o444 });
}

/** The read-only binds (or same symlinks) of the system directories and the few /etc files every sandbox sees. */
export function systemBinds(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  for (const f of ETC_FILES) if (existsSync(f)) args.push("--ro-bind", f, f);
  return args;
}

/** True when `path` lies in one of the directories every sandbox binds (so it needs no bind of its own). */
function underSystem(path: string): boolean {
  return SYSTEM_DIRS.some((d) => isWithin(path, d));
}

/**
 * Extra read-only paths a step needs beyond the store entries it references: a declared tool's executable that lies
 * outside the system directories (found on PATH elsewhere), and where its symlinks lead.
 */
export function toolBinds(targets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of targets) {
    if (!underSystem(t)) out.add(t);
    try {
      const real = realpathSync.native(t);
      if (!underSystem(real)) out.add(real);
    } catch {
      // a dangling tool: the step fails naming it
    }
  }
  return [...out].sort();
}

/** What one sandboxed process sees. */
export interface SandboxView {
  /** Directories bound writable at the same path: the build directory and `$out`. */
  readonly writable: readonly string[];
  /** Paths bound read-only at the same path: referenced store entries, the PATH farm, tools outside /usr. */
  readonly readOnly: readonly string[];
  /** The generated passwd, group and hosts. */
  readonly etcDir: string;
  /** The store directory: inside, an empty read-only directory holding only the bound entries (wherever it lies). */
  readonly storeDir?: string;
  readonly cwd: string;
  /**
   * The PATH farm made inside the sandbox: a read-only tmpfs at `dir` (a directory of the writable build directory)
   * holding one symlink per executable, so that no build writes a farm to disk.
   */
  readonly farm?: { readonly dir: string; readonly links: Readonly<Record<string, string>> };
}

/** The bwrap argv (without the command) that confines a process to `view`. */
export function bwrapArgs(c: Confinement, view: SandboxView): string[] {
  const args = [c.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "localhost"];
  // /tmp first: binds below it (a store under /tmp) then get mount points inside the private /tmp.
  args.push("--tmpfs", "/tmp", ...systemBinds(), "--proc", "/proc", "--dev", "/dev");
  for (const f of ["passwd", "group", "hosts"]) args.push("--ro-bind", join(view.etcDir, f), `/etc/${f}`);
  if (view.storeDir) args.push("--tmpfs", view.storeDir);
  for (const p of view.readOnly) args.push("--ro-bind", p, p);
  for (const p of view.writable) args.push("--bind", p, p);
  if (view.farm) {
    args.push("--tmpfs", view.farm.dir);
    for (const [name, target] of Object.entries(view.farm.links)) args.push("--symlink", target, join(view.farm.dir, name));
    args.push("--remount-ro", view.farm.dir);
  }
  // The sandbox's own root (the directories bwrap made to hold the mount points) read-only: nothing but the build
  // directory, $out and the private /tmp is writable.
  if (view.storeDir) args.push("--remount-ro", view.storeDir);
  args.push("--remount-ro", "/", "--chdir", view.cwd, "--");
  return args;
}
