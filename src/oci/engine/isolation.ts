/**
 * The runners that isolate an evidence command inside an unpacked image: bwrap, else runc. Both give the command a
 * real mount namespace whose root is the image (pivot_root, never a plain chroot, which `..` escapes), new user, pid,
 * network, ipc and uts namespaces, no capabilities, `/proc/sys` and its kind read-only, and the hostname `mb-evidence`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MbError, absurd } from "../../core/errors.js";
import { findExecutable, searchDirs } from "./layout.js";

/** The isolation tools, in the order they are probed. */
export const OCI_RUNNERS = ["bwrap", "runc"] as const;
export type OciRunner = (typeof OCI_RUNNERS)[number];

/** The hostname the evidence sees. */
export const EVIDENCE_HOSTNAME = "mb-evidence";

/** Where to look for the runners, and which one to use. */
export interface RunnerChoice {
  /** Use this runner instead of the first one found. */
  readonly runner?: OciRunner;
  /** Directories searched for the runners (default: PATH, then the sbin directories). */
  readonly searchDirs?: readonly string[];
}

/** The first runner found (or the one asked for), with its path; an MbError naming what to install when none is. */
export function findOciRunner(options: RunnerChoice = {}): { runner: OciRunner; path: string } {
  const dirs = options.searchDirs ?? searchDirs();
  for (const runner of options.runner ? [options.runner] : OCI_RUNNERS) {
    const path = findExecutable(runner, dirs);
    if (path !== null) return { runner, path };
  }
  const wanted = options.runner ? `'${options.runner}'` : "bwrap or runc";
  throw new MbError(
    "oci.runner.missing",
    `oci: no isolation tool to run evidence inside the image (looked for ${wanted} in ${dirs.join(":") || "(nowhere)"}): apt-get install bubblewrap`,
    { hint: "apt-get install bubblewrap (or runc)" },
  );
}

/** What the command is: argv, environment and working directory inside the image. */
export interface IsolatedCommand {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The config's User, resolved; absent is root (the caller's ids mapped to 0). */
  readonly user?: { readonly uid: number; readonly gid: number };
}

/**
 * The argv that runs `cmd` in `rootfs` with `runner` (found at `path`); runc also needs a bundle, whose config.json is
 * written into `work` (the directory holding `rootfs`). The runner is started with an empty environment.
 */
export function isolate(runner: OciRunner, path: string, rootfs: string, work: string, cmd: IsolatedCommand): string[] {
  switch (runner) {
    case "bwrap":
      // bwrap covers /proc/irq and /proc/bus itself, but not /proc/sys when it finds it unwritable at setup time, and
      // root mapped to root passes sysctl's owner check: /proc/sys and /proc/sysrq-trigger are bound read-only (their
      // contents follow the reader's namespaces, so binding the host's shows the sandbox's values).
      return [
        path, "--unshare-all", "--unshare-user", "--disable-userns", "--hostname", EVIDENCE_HOSTNAME, "--die-with-parent", "--new-session",
        ...(cmd.user === undefined ? [] : ["--uid", String(cmd.user.uid), "--gid", String(cmd.user.gid)]),
        "--cap-drop", "ALL", "--bind", rootfs, "/", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
        "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger", "--dev", "/dev", "--chdir", cmd.cwd, "--clearenv",
        ...Object.entries(cmd.env).flatMap(([k, v]) => ["--setenv", k, v]),
        "--", ...cmd.argv,
      ];
    case "runc":
      writeFileSync(join(work, "config.json"), JSON.stringify(runcSpec(rootfs, cmd), null, 2));
      return [path, "--root", join(work, "runc-state"), "run", "--bundle", work, `mb-evidence-${process.pid}-${Date.now()}`];
    default:
      return absurd(runner);
  }
}

const MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"];
const READ_ONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
/** System calls the evidence never needs and an escape would: namespaces, mounts, chroot, kernel keys and modules. */
const REFUSED_SYSCALLS = [
  "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsmount", "fspick",
  "mount_setattr", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "ptrace", "process_vm_readv",
  "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
  "name_to_handle_at", "userfaultfd", "swapon", "swapoff", "reboot", "syslog", "acct",
];
const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

/** A seccomp filter for runc: everything allowed but REFUSED_SYSCALLS, clone with CLONE_NEWUSER, and clone3. */
function seccomp(): Record<string, unknown> {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: REFUSED_SYSCALLS, action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ["clone"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM, args: [{ index: 0, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: "SCMP_CMP_MASKED_EQ" }] },
      // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes the C library fall back to clone.
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
    ],
  };
}

/**
 * runc's id mappings: the caller's id as root inside; a User other than root also needs its own id mapped, which only
 * a caller that is root can do (to the same id on the host, so the unpacked owners mean what the image says).
 */
function idMappings(hostId: number, userId: number | undefined): { containerID: number; hostID: number; size: number }[] {
  const root = { containerID: 0, hostID: hostId, size: 1 };
  if (userId === undefined || userId === 0) return [root];
  if (hostId !== 0) {
    throw new MbError("oci.runner.user", `oci: runc can run the evidence as the image's User (id ${userId}) only when mb runs as root; install bubblewrap, which maps it`, {
      hint: "apt-get install bubblewrap",
    });
  }
  return [root, { containerID: userId, hostID: userId, size: 1 }];
}

/**
 * An OCI runtime spec for runc: the rootfs as root (pivot_root), every namespace new including the user namespace (the
 * caller's uid and gid mapped to root inside, and a config User other than root to itself, see idMappings), no capabilities at all, no new privileges, /proc's dangerous files
 * masked or read-only, and a seccomp filter refusing new namespaces and mounts (bwrap gets `--disable-userns`).
 */
function runcSpec(rootfs: string, cmd: IsolatedCommand): Record<string, unknown> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: cmd.user?.uid ?? 0, gid: cmd.user?.gid ?? 0 },
      args: cmd.argv,
      env: Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`),
      cwd: cmd.cwd,
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: false },
    hostname: EVIDENCE_HOSTNAME,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    ],
    linux: {
      namespaces: ["pid", "network", "ipc", "uts", "mount", "user", "cgroup"].map((type) => ({ type })),
      uidMappings: idMappings(uid, cmd.user?.uid),
      gidMappings: idMappings(gid, cmd.user?.gid),
      maskedPaths: MASKED,
      seccomp: seccomp(),
      readonlyPaths: READ_ONLY,
    },
  };
}
