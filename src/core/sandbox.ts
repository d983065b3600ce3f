/**
 * The sandbox records (the original's SandboxProfile and the records it uses): one zod schema each, strict and
 * described. A profile is the one declaration that the eliminators of src/ornaments/sandbox/ turn into bubblewrap
 * arguments, a Landlock policy, seccomp allow-lists and systemd hardening directives.
 */
import { z } from "zod";
import { enumOf, Port } from "./runtime.js";
import { strictObject } from "./strict.js";

export { Port };

/**
 * The store directory the pure layers assume when none is given (the original's `/nix/store`); the same value as
 * `DEFAULT_STORE_DIR` of src/program/compile.ts (a test checks they agree; core cannot import program).
 */
export const SANDBOX_STORE_DEFAULT = "/metabuilder/store";

/** How long a sandboxed process lives: a service (`LongRunning`) or a command that ends (`OneShot`). */
export const Lifecycle = enumOf(["LongRunning", "OneShot"] as const).describe("how long the process lives: LongRunning (a service) or OneShot");
export type Lifecycle = z.infer<typeof Lifecycle>;

/** Which seccomp stage a filter is for: `Bwrap` (bubblewrap's, which execs the child) or `Self` (applied by the process itself). */
export const SeccompStage = enumOf(["Bwrap", "Self"] as const).describe("the seccomp stage: Bwrap (applied by bubblewrap, which execs the child) or Self (applied by the process post-init)");
export type SeccompStage = z.infer<typeof SeccompStage>;

/** An absolute path as the sandbox binds it: starts with `/`, holds no NUL. */
export const SandboxPath = z
  .string()
  .refine((p) => p.startsWith("/"), { error: (iss) => `a sandbox path must be absolute (start with '/'), got '${String(iss.input)}'` })
  .refine((p) => !p.includes("\0"), "a sandbox path must not contain a NUL byte")
  .describe("an absolute path");


/** A TCP endpoint a sandboxed process may listen on or connect to. */
export const TcpEndpoint = strictObject({
  _con: z.literal("MetaBuilderTcpEndpoint").default("MetaBuilderTcpEndpoint"),
  port: Port.describe("a TCP port, 1-65535"),
  address: z.string().min(1).default("127.0.0.1").describe("the address (default 127.0.0.1)"),
}).describe("a TCP endpoint: port and address");
export type TcpEndpoint = z.infer<typeof TcpEndpoint>;

/** Which display servers (and the GPU) a sandboxed process may reach. */
export const DisplayConfig = strictObject({
  _con: z.literal("MetaBuilderDisplayConfig").default("MetaBuilderDisplayConfig"),
  wayland: z.boolean().default(false).describe("reach the Wayland compositor"),
  x11: z.boolean().default(false).describe("reach the X11 server"),
  gpu: z.boolean().default(false).describe("reach the GPU devices"),
}).describe("display access: wayland, x11, gpu");
export type DisplayConfig = z.infer<typeof DisplayConfig>;

/**
 * Name resolution inside the sandbox: the files bound over /etc/nsswitch.conf and /etc/resolv.conf (in the original,
 * derivations; here their absolute paths) and extra bubblewrap arguments appended verbatim.
 */
export const DnsConfig = strictObject({
  _con: z.literal("MetaBuilderDnsConfig").default("MetaBuilderDnsConfig"),
  nsswitch: SandboxPath.describe("the file bound read-only at /etc/nsswitch.conf"),
  resolv: SandboxPath.describe("the file bound read-only at /etc/resolv.conf"),
  extraBinds: z.array(z.string()).default([]).describe("extra bubblewrap arguments appended after the two binds"),
}).describe("DNS configuration: nsswitch.conf and resolv.conf files, extra binds");
export type DnsConfig = z.infer<typeof DnsConfig>;

const paths = (what: string, dflt: string[]) => z.array(SandboxPath).default(dflt).describe(what);

/** Strips trailing slashes and collapses repeated ones, so `/a/` and `/a` are one path when checking conflicts. */
function pathKey(p: string): string {
  const k = p.replace(/\/+/g, "/").replace(/\/$/, "");
  return k === "" ? "/" : k;
}

/**
 * A sandbox profile: what a process may read, write, reach and do. Defaults as the original's: the store read-only,
 * /tmp a tmpfs, no network, stdio kept, no exec, no fork, long-running, not a daemon. A path both read-only and
 * read-write is an error at the read-write entry.
 */
export const SandboxProfile = strictObject({
  _con: z.literal("MetaBuilderSandboxProfile").default("MetaBuilderSandboxProfile"),
  readOnlyPaths: paths("paths bound read-only (default: the store)", [SANDBOX_STORE_DEFAULT]),
  readWritePaths: paths("paths bound read-write", []),
  tmpfs: paths("paths mounted as an empty tmpfs (default /tmp)", ["/tmp"]),
  listenTcp: z.array(TcpEndpoint).default([]).describe("TCP endpoints the process may listen on"),
  connectTcp: z.array(TcpEndpoint).default([]).describe("TCP endpoints the process may connect to"),
  connectAny: z.boolean().default(false).describe("leave outbound TCP connect unrestricted (listen stays restricted)"),
  display: DisplayConfig.nullable().default(null).describe("display access, or null for none"),
  stdio: z.boolean().default(true).describe("keep stdin/stdout/stderr (false binds /dev/null over them)"),
  unixSockets: paths("unix sockets bound read-write", []),
  allowExecve: z.boolean().default(false).describe("allow execve (spawning programs)"),
  allowFork: z.boolean().default(false).describe("allow fork without exec"),
  lifecycle: Lifecycle.default("LongRunning"),
  daemonMode: z.boolean().default(false).describe("daemon mode: no pid namespace and no --die-with-parent"),
  dns: DnsConfig.nullable().default(null).describe("DNS configuration, or null for none"),
  sourceAccess: z.boolean().default(false).describe("the process may read the source tree"),
  sourceWritePaths: paths("paths of the source tree the process may write", []),
  coordinationWritePaths: paths("coordination paths the process may write", []),
  storeAccess: z.boolean().default(false).describe("the process may reach the store beyond its read-only paths"),
})
  .superRefine((p, ctx) => {
    const ro = new Set(p.readOnlyPaths.map(pathKey));
    p.readWritePaths.forEach((path, i) => {
      if (ro.has(pathKey(path))) ctx.addIssue({ code: "custom", path: ["readWritePaths", i], message: `'${path}' is both read-only and read-write (it is also in readOnlyPaths)` });
    });
  })
  .describe("a sandbox profile: paths, network endpoints, exec/fork, stdio, display, DNS");
export type SandboxProfile = z.infer<typeof SandboxProfile>;
/** A profile as written, before defaults are filled in. */
export type SandboxProfileInput = z.input<typeof SandboxProfile>;

/** The Landlock view of a profile: writable and read-only paths, ports to listen on and connect to. */
export const LandlockProfile = strictObject({
  _con: z.literal("MetaBuilderLandlockProfile").default("MetaBuilderLandlockProfile"),
  readOnlyPaths: z.array(z.string()).describe("paths readable"),
  readWritePaths: z.array(z.string()).describe("paths writable (read-write binds and tmpfs mounts alike)"),
  listenPorts: z.array(Port).describe("TCP ports the process may bind"),
  connectPorts: z.array(Port).describe("TCP ports the process may connect to"),
  connectAny: z.boolean().describe("connect left unrestricted"),
  allowExecve: z.boolean().describe("execute allowed"),
}).describe("a Landlock policy derived from a sandbox profile");
export type LandlockProfile = z.infer<typeof LandlockProfile>;

/** The systemd hardening of a profile: the `[Service]` sandboxing directives (systemd.exec(5)). */
export const SystemdHardening = strictObject({
  _con: z.literal("MetaBuilderSystemdHardening").default("MetaBuilderSystemdHardening"),
  protectSystem: z.enum(["true", "full", "strict"]).describe("ProtectSystem="),
  protectHome: z.boolean().describe("ProtectHome="),
  privateTmp: z.boolean().describe("PrivateTmp="),
  noNewPrivileges: z.boolean().describe("NoNewPrivileges="),
  readOnlyPaths: z.array(z.string()).describe("ReadOnlyPaths="),
  readWritePaths: z.array(z.string()).describe("ReadWritePaths="),
  systemCallFilter: z.array(z.string()).describe("SystemCallFilter= entries, in order (a leading ~ denies)"),
  restrictNamespaces: z.boolean().describe("RestrictNamespaces="),
  privateDevices: z.boolean().describe("PrivateDevices="),
}).describe("systemd service hardening derived from a sandbox profile");
export type SystemdHardening = z.infer<typeof SystemdHardening>;

/**
 * The executable a service runs: `<storePath>/bin/<name>`, where `<name>` is the service's name less a trailing
 * `-service` (the original's convention: a builder `<name>` declares the service `<name>-service` and installs the
 * wrapper `bin/<name>`, as examples/node-service does).
 */
export function serviceExecutable(service: { readonly name: string }, storePath: string): string {
  const name = service.name.endsWith("-service") && service.name.length > "-service".length ? service.name.slice(0, -"-service".length) : service.name;
  return `${storePath.replace(/\/+$/, "")}/bin/${name}`;
}
