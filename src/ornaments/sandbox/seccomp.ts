/**
 * The seccomp eliminator as data (the original's sandbox-helpers/compile-seccomp.nix): twelve generic syscall
 * categories, their flattening into one allow-list, and which categories a profile gets at each stage. Compiling the
 * allow-list into a BPF program is the engine's job, not this pure layer's.
 */
import type { SandboxProfile, SeccompStage } from "../../core/sandbox.js";

/** The syscall categories, by name, each a list of syscall names a sandboxed Linux process may need. */
export const syscallSets = {
  /** Memory management: every libc process needs these. */
  memory: ["mmap", "mprotect", "munmap", "mremap", "brk", "madvise"],
  /** Signal handling. */
  signals: ["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "sigaltstack", "tgkill"],
  /** Threading primitives (clone3 with CLONE_THREAD; fork/vfork/clone are in processExec). */
  threading: ["clone3", "futex", "set_robust_list", "get_robust_list", "rseq"],
  /** File I/O; path-level access control is Landlock's. */
  fileIo: [
    "openat", "read", "readv", "pread64", "write", "writev", "pwrite64", "close", "close_range", "fstat", "newfstatat", "lseek", "fcntl",
    "dup", "dup2", "ioctl", "getdents64", "ftruncate", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "getcwd", "chdir",
  ],
  /** File management (create, delete, rename); path-level access control is Landlock's. */
  fileManagement: ["unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat"],
  /** Network: TCP/UDP/Unix sockets and polling; port filtering is Landlock's. */
  network: [
    "socket", "bind", "listen", "accept", "accept4", "connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "shutdown", "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
  ],
  /** Process information: read-only identity and limit queries. */
  processInfo: [
    "getpid", "gettid", "getuid", "getgid", "geteuid", "getegid", "getresuid", "getresgid", "getppid", "getpgrp", "setpgid", "arch_prctl",
    "set_tid_address", "uname", "sysinfo", "prlimit64",
  ],
  /** Time and timers. */
  time: ["clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "timer_create", "timer_settime", "timer_delete", "timer_gettime", "timer_getoverrun", "setitimer", "getitimer"],
  /** IPC and miscellaneous. */
  ipc: ["pipe2", "eventfd2", "getrandom", "prctl", "exit", "exit_group"],
  /** Process execution (fork + exec): only for profiles that spawn children. */
  processExec: ["execve", "execveat", "fork", "vfork", "clone", "wait4", "waitid"],
  /** Landlock self-restriction, for a process that applies its own ruleset post-init. */
  landlock: ["landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"],
  /** seccomp(2) for stage-2 self-application (TSYNC needs the syscall form; only ever restricts further). */
  seccompSelf: ["seccomp"],
} as const satisfies Record<string, readonly string[]>;

/** The name of a syscall category. */
export type SyscallCategory = keyof typeof syscallSets;

/** The categories every stage gets, in the original's order; processExec is added where the stage launches children. */
const BASE_CATEGORIES: readonly SyscallCategory[] = ["memory", "fileIo", "network", "signals", "threading", "processInfo", "time", "ipc", "fileManagement", "landlock", "seccompSelf"];

/** The flattened allow-list of categories plus extra names, first occurrence kept (the original's `flattenPolicy`). */
export function flattenPolicy(policy: { categories?: readonly SyscallCategory[]; extra?: readonly string[] }): string[] {
  return [...new Set([...(policy.categories ?? []).flatMap((c) => syscallSets[c]), ...(policy.extra ?? [])])];
}

/** The categories of a profile at a stage: exec syscalls at stage Bwrap always, at stage Self only when the profile allows execve. */
export function seccompCategoriesFor(profile: SandboxProfile, stage: SeccompStage): SyscallCategory[] {
  const withExec = stage === "Bwrap" || profile.allowExecve;
  return withExec ? [...BASE_CATEGORIES, "processExec"] : [...BASE_CATEGORIES];
}

/** The seccomp policy of a profile at a stage, as data: the filter's name, its categories, and the allow-list. */
export interface SeccompPolicy {
  readonly _con: "MetaBuilderSeccompPolicy";
  /** `seccomp-<bwrap|self>-<effectful|sealed>`, as the original names the filter. */
  readonly name: string;
  readonly stage: SeccompStage;
  readonly categories: readonly SyscallCategory[];
  /** The allow-list, one syscall name each, deduplicated in category order. */
  readonly syscalls: readonly string[];
}

/** The allow-list file's text, as the original's `mkAllowlist` writes it: a comment line, then one name a line. */
export function allowlistText(policy: SeccompPolicy): string {
  return `# Generated seccomp allowlist\n${policy.syscalls.join("\n")}\n`;
}

/** toSeccomp : SandboxProfile -> SeccompStage -> SeccompPolicy (the allow-list the original compiles to BPF). */
export function toSeccomp(profile: SandboxProfile, stage: SeccompStage): SeccompPolicy {
  const categories = seccompCategoriesFor(profile, stage);
  const name = `seccomp-${stage === "Bwrap" ? "bwrap" : "self"}-${profile.allowExecve ? "effectful" : "sealed"}`;
  return { _con: "MetaBuilderSeccompPolicy", name, stage, categories, syscalls: flattenPolicy({ categories }) };
}
