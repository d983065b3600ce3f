/**
 * The profile's eliminators into bubblewrap arguments, a Landlock policy and systemd hardening (the seccomp one is in
 * seccomp.ts): one declaration, several enforcement backends. Pure: they build data, nothing runs.
 */
import type { LandlockProfile, SandboxProfile, SystemdHardening } from "../../core/sandbox.js";

/**
 * toBwrap : SandboxProfile -> [String]. Read-only binds, read-write binds, tmpfs mounts, socket binds, /dev and
 * /proc, the DNS files when given, the namespaces (no pid namespace and no --die-with-parent in daemon mode), and
 * /dev/null over stdio when `stdio` is false. TCP ports are Landlock's concern, not bwrap's.
 */
export function toBwrap(profile: SandboxProfile): string[] {
  const roBinds = profile.readOnlyPaths.flatMap((p) => ["--ro-bind", p, p]);
  const rwBinds = profile.readWritePaths.flatMap((p) => ["--bind", p, p]);
  const tmpfsMounts = profile.tmpfs.flatMap((p) => ["--tmpfs", p]);
  const socketBinds = profile.unixSockets.flatMap((p) => ["--bind", p, p]);
  const devBinds = ["--dev", "/dev", "--proc", "/proc"];
  const dnsBinds = profile.dns === null ? [] : ["--ro-bind", profile.dns.resolv, "/etc/resolv.conf", "--ro-bind", profile.dns.nsswitch, "/etc/nsswitch.conf", ...profile.dns.extraBinds];
  const namespaces = [...(profile.daemonMode ? [] : ["--unshare-pid"]), "--new-session", ...(profile.daemonMode ? [] : ["--die-with-parent"])];
  const stdioArgs = profile.stdio ? [] : ["--dev-bind", "/dev/null", "/dev/stdin", "--dev-bind", "/dev/null", "/dev/stdout", "--dev-bind", "/dev/null", "/dev/stderr"];
  return [...roBinds, ...rwBinds, ...tmpfsMounts, ...socketBinds, ...devBinds, ...dnsBinds, ...namespaces, ...stdioArgs];
}

/**
 * toLandlock : SandboxProfile -> LandlockProfile. Landlock does not tell bind-mounted read-write paths from tmpfs
 * mount points (both are writable to the process), so both go into `readWritePaths`; the ports come from the endpoints.
 */
export function toLandlock(profile: SandboxProfile): LandlockProfile {
  return {
    _con: "MetaBuilderLandlockProfile",
    readOnlyPaths: [...profile.readOnlyPaths],
    readWritePaths: [...profile.readWritePaths, ...profile.tmpfs],
    listenPorts: profile.listenTcp.map((e) => e.port),
    connectPorts: profile.connectTcp.map((e) => e.port),
    connectAny: profile.connectAny,
    allowExecve: profile.allowExecve,
  };
}

/**
 * toSystemd : SandboxProfile -> SystemdHardening. The system strict and home hidden, private /tmp and devices, no new
 * privileges, no namespaces; the system-service syscall set, less the privileged set and execve when exec is not allowed.
 */
export function toSystemd(profile: SandboxProfile): SystemdHardening {
  return {
    _con: "MetaBuilderSystemdHardening",
    protectSystem: "strict",
    protectHome: true,
    privateTmp: true,
    noNewPrivileges: true,
    readOnlyPaths: [...profile.readOnlyPaths],
    readWritePaths: [...profile.readWritePaths],
    systemCallFilter: profile.allowExecve ? ["@system-service"] : ["@system-service", "~@privileged", "~execve", "~execveat"],
    restrictNamespaces: true,
    privateDevices: true,
  };
}
