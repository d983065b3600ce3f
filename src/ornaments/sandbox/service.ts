/** The profile a service runs under: its own when the spec gives one, else a default derived from where it lives. */
import type { SandboxProfile } from "../../core/sandbox.js";
import type { PackageRef, Service, Tool } from "../../core/spec.js";
import { define } from "./profiles.js";

/** Where a service runs: its store entry, the port it listens on (if any), and the tools it uses. */
export interface ServicePlace {
  /** The service package's store path (or host location): bound read-only. */
  readonly storePath: string;
  /** The port the service listens on (the protocol's port, or the one chosen at run time). */
  readonly port?: number;
  /** Declared tools (e.g. node): their resolved store or host paths are bound read-only. */
  readonly tools?: readonly Tool[];
}

/** The system directories every sandbox and service sees anyway (as the build sandbox binds them): no bind of their own. */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir.replace(/\/$/, "")}/`);

/** The absolute paths a resolved package occupies: its store path or host prefix, and executables outside it and the system directories. */
export function packagePaths(ref: PackageRef): string[] {
  if (typeof ref === "string") return ref.startsWith("/") ? [ref] : [];
  if (ref._con !== "resolvedPackage") return [];
  const root = ref.outPath;
  const elsewhere = (p: string) => p.startsWith("/") && !(root !== "" && under(p, root)) && !SYSTEM_DIRS.some((d) => under(p, d));
  return [...(root.startsWith("/") ? [root] : []), ...Object.values(ref.executables).filter(elsewhere)];
}

/**
 * The profile a service runs under: `service.sandbox` when given; otherwise its store entry, its package's path and
 * its tools' paths read-only, /tmp a tmpfs, listening on `port`, exec and fork allowed (its `bin/<name>` wrapper execs the runtime),
 * and no daemon mode.
 */
export function serviceProfile(service: Service, place: ServicePlace): SandboxProfile {
  if (service.sandbox !== undefined) return service.sandbox;
  const readOnlyPaths = [...new Set([place.storePath, ...packagePaths(service.package), ...(place.tools ?? []).flatMap((t) => packagePaths(t.package))])];
  return define({
    readOnlyPaths,
    tmpfs: ["/tmp"],
    listenTcp: place.port === undefined ? [] : [{ port: place.port }],
    allowExecve: true,
    allowFork: true,
    daemonMode: false,
  });
}
