// The sandbox ornament: records, profiles, combinators and eliminators against the original's tests and outputs
// (src/ornaments/sandbox.nix and sandbox-helpers/ of metaBuilder), and the profile a service runs under.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { SANDBOX_STORE_DEFAULT } from "../../src/core/sandbox.js";
import { MbError } from "../../src/core/errors.js";

const { sandbox } = mb;
const { define, profiles, combinators: C, toBwrap, toLandlock, toSeccomp, toSystemd, flattenPolicy, seccompCategoriesFor, syscallSets } = sandbox;
const S = SANDBOX_STORE_DEFAULT;

/** The issues an invalid profile raises, as `path: message` lines. */
function problems(fields: unknown): string[] {
  try {
    define(fields as mb.SandboxProfileInput);
  } catch (e) {
    if (!(e instanceof MbError)) throw e;
    expect(e.code).toBe("constructor.invalid");
    expect(e.exitCode).toBe(2);
    return (e.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
  }
  throw new Error("expected the profile to be refused");
}

describe("records", () => {
  it("the sealed profile has the original's constructor, fields and defaults (the store read-only, /tmp tmpfs)", () => {
    expect(profiles.sealed).toEqual({
      _con: "MetaBuilderSandboxProfile",
      readOnlyPaths: [S],
      readWritePaths: [],
      tmpfs: ["/tmp"],
      listenTcp: [],
      connectTcp: [],
      connectAny: false,
      display: null,
      stdio: true,
      unixSockets: [],
      allowExecve: false,
      allowFork: false,
      lifecycle: "LongRunning",
      daemonMode: false,
      dns: null,
      sourceAccess: false,
      sourceWritePaths: [],
      coordinationWritePaths: [],
      storeAccess: false,
    });
  });

  it("the default store is the compiler's default store directory", () => {
    expect(S).toBe(mb.DEFAULT_STORE_DIR);
  });

  it("sealed allows neither exec nor fork; effectful allows both", () => {
    expect([profiles.sealed.allowExecve, profiles.sealed.allowFork]).toEqual([false, false]);
    expect([profiles.effectful.allowExecve, profiles.effectful.allowFork]).toEqual([true, true]);
  });

  it("the sub-records default as the original's constructors", () => {
    expect(mb.TcpEndpoint.parse({ port: 8080 })).toEqual({ _con: "MetaBuilderTcpEndpoint", port: 8080, address: "127.0.0.1" });
    expect(mb.DisplayConfig.parse({})).toEqual({ _con: "MetaBuilderDisplayConfig", wayland: false, x11: false, gpu: false });
    expect(mb.DnsConfig.parse({ nsswitch: "/n", resolv: "/r" })).toEqual({ _con: "MetaBuilderDnsConfig", nsswitch: "/n", resolv: "/r", extraBinds: [] });
  });

  it("enums accept the original's {_con} form and keep the plain string", () => {
    expect(define({ lifecycle: { _con: "OneShot" } as never }).lifecycle).toBe("OneShot");
    expect(mb.SeccompStage.parse({ _con: "Bwrap" })).toBe("Bwrap");
    expect(sandbox.Lifecycle.parse("LongRunning")).toBe("LongRunning");
  });

  it("a relative path is refused at its spec path", () => {
    expect(problems({ readOnlyPaths: ["/ok", "relative/dir"] })).toEqual(["readOnlyPaths.1: a sandbox path must be absolute (start with '/'), got 'relative/dir'"]);
    expect(problems({ tmpfs: ["tmp"] })).toEqual(["tmpfs.0: a sandbox path must be absolute (start with '/'), got 'tmp'"]);
    expect(problems({ dns: { nsswitch: "nsswitch.conf", resolv: "/etc/resolv.conf" } })).toEqual(["dns.nsswitch: a sandbox path must be absolute (start with '/'), got 'nsswitch.conf'"]);
  });

  it("a path both read-only and read-write is a conflict at the read-write entry (trailing slashes do not hide it)", () => {
    expect(problems({ readOnlyPaths: ["/srv/data/"], readWritePaths: ["/var", "/srv//data"] })).toEqual([
      "readWritePaths.1: '/srv//data' is both read-only and read-write (it is also in readOnlyPaths)",
    ]);
  });

  it("a port outside 1-65535 is refused at its spec path", () => {
    expect(problems({ listenTcp: [{ port: 0 }], connectTcp: [{ port: 65535 }, { port: 70000 }] })).toEqual([
      "listenTcp.0.port: a port is at least 1",
      "connectTcp.1.port: a port is at most 65535",
    ]);
    expect(problems({ listenTcp: [{ port: 80.5 }] })).toEqual(["listenTcp.0.port: a port is a whole number"]);
  });

  it("a malformed listen endpoint is refused (the original's define-rejects-malformed-listen-endpoint)", () => {
    expect(problems({ listenTcp: [{ _con: "MetaBuilderTcpEndpoint", port: "no", address: "127.0.0.1" }] })).toHaveLength(1);
  });

  it("records are strict: an unknown key names the near one", () => {
    expect(problems({ readOnlyPath: ["/x"] })).toEqual([expect.stringMatching(/^readOnlyPath: unknown key `readOnlyPath` \(did you mean `readOnlyPaths`\?\)/)]);
  });

  it("every record has a JSON Schema with descriptions", () => {
    for (const schema of [mb.SandboxProfile, mb.TcpEndpoint, mb.DisplayConfig, mb.DnsConfig, mb.LandlockProfile, mb.SystemdHardening]) {
      const js = mb.jsonSchemaOf(schema) as { description?: string; properties?: Record<string, { description?: string }> };
      expect(js.description).toBeTruthy();
      expect(js.properties).toBeDefined();
    }
    type Node = { $ref?: string; description?: string };
    const js = mb.jsonSchemaOf(mb.SandboxProfile) as { properties: Record<string, Node>; $defs?: Record<string, Node> };
    const deref = (n: Node): Node => (n.$ref && n.description === undefined ? deref(js.$defs![n.$ref.replace("#/$defs/", "")]!) : n);
    expect(deref(js.properties.readOnlyPaths!).description).toBe("paths bound read-only (default: the store)");
    for (const [k, v] of Object.entries(js.properties)) if (k !== "_con") expect(deref(v).description, k).toBeTruthy();
  });
});

describe("toBwrap", () => {
  it("of sealed, arg for arg", () => {
    expect(toBwrap(profiles.sealed)).toEqual(["--ro-bind", S, S, "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--new-session", "--die-with-parent"]);
  });

  it("of effectful, arg for arg (exec and fork are not bwrap's concern)", () => {
    expect(toBwrap(profiles.effectful)).toEqual(toBwrap(profiles.sealed));
  });

  it("of a full profile, arg for arg: ro, rw, tmpfs, sockets, dev/proc, DNS, namespaces, stdio", () => {
    const p = define({
      readOnlyPaths: ["/ro/a", "/ro/b"],
      readWritePaths: ["/var/lib/app"],
      tmpfs: ["/tmp", "/run/user"],
      unixSockets: ["/run/app.sock"],
      listenTcp: [{ port: 8080 }],
      dns: { nsswitch: "/etc/ns.conf", resolv: "/etc/res.conf", extraBinds: ["--ro-bind", "/etc/hosts", "/etc/hosts"] },
      stdio: false,
      daemonMode: true,
    });
    expect(toBwrap(p)).toEqual([
      "--ro-bind", "/ro/a", "/ro/a",
      "--ro-bind", "/ro/b", "/ro/b",
      "--bind", "/var/lib/app", "/var/lib/app",
      "--tmpfs", "/tmp",
      "--tmpfs", "/run/user",
      "--bind", "/run/app.sock", "/run/app.sock",
      "--dev", "/dev", "--proc", "/proc",
      "--ro-bind", "/etc/res.conf", "/etc/resolv.conf",
      "--ro-bind", "/etc/ns.conf", "/etc/nsswitch.conf",
      "--ro-bind", "/etc/hosts", "/etc/hosts",
      "--new-session",
      "--dev-bind", "/dev/null", "/dev/stdin",
      "--dev-bind", "/dev/null", "/dev/stdout",
      "--dev-bind", "/dev/null", "/dev/stderr",
    ]);
  });

  it("the original's tests: no DNS binds without dns; the store bind first; daemon mode drops the pid namespace; stdio false redirects", () => {
    const args = toBwrap(profiles.sealed);
    expect(args.includes("/etc/resolv.conf") || args.includes("/etc/nsswitch.conf")).toBe(false);
    expect(args.slice(0, 3)).toEqual(["--ro-bind", S, S]);
    expect(args.includes("--tmpfs") && args.includes("/tmp")).toBe(true);
    const daemon = toBwrap(define({ daemonMode: true }));
    expect([daemon.includes("--unshare-pid"), daemon.includes("--die-with-parent")]).toEqual([false, false]);
    expect(args.includes("/dev/stdin")).toBe(false);
    expect(toBwrap(define({ stdio: false })).includes("/dev/stdin")).toBe(true);
  });
});

describe("toLandlock", () => {
  it("of sealed", () => {
    expect(toLandlock(profiles.sealed)).toEqual({ _con: "MetaBuilderLandlockProfile", readOnlyPaths: [S], readWritePaths: ["/tmp"], listenPorts: [], connectPorts: [], connectAny: false, allowExecve: false });
  });

  it("extracts the ports from the endpoints", () => {
    const p = define({ listenTcp: [{ port: 8080 }, { port: 4005 }], connectTcp: [{ port: 5432 }] });
    expect([toLandlock(p).listenPorts, toLandlock(p).connectPorts]).toEqual([[8080, 4005], [5432]]);
  });

  it("flattens tmpfs into readWritePaths", () => {
    expect(toLandlock(define({ readWritePaths: ["/var/lib/app"], tmpfs: ["/tmp", "/run/user"] })).readWritePaths).toEqual(["/var/lib/app", "/tmp", "/run/user"]);
  });

  it("passes connectAny and allowExecve through", () => {
    expect(toLandlock(define({ connectAny: true })).connectAny).toBe(true);
    expect(toLandlock(profiles.effectful).allowExecve).toBe(true);
    expect(mb.LandlockProfile.parse(toLandlock(profiles.effectful))).toEqual(toLandlock(profiles.effectful));
  });
});

describe("toSeccomp", () => {
  it("twelve generic categories, with the original's syscall counts", () => {
    expect(Object.keys(syscallSets).sort()).toEqual(["fileIo", "fileManagement", "ipc", "landlock", "memory", "network", "processExec", "processInfo", "seccompSelf", "signals", "threading", "time"]);
    expect(Object.fromEntries(Object.entries(syscallSets).map(([k, v]) => [k, v.length]))).toEqual({
      memory: 6, signals: 6, threading: 5, fileIo: 25, fileManagement: 12, network: 24, processInfo: 16, time: 11, ipc: 6, processExec: 7, landlock: 3, seccompSelf: 1,
    });
  });

  it("exec syscalls in every stage/profile cell but Self & sealed", () => {
    const hasExec = (p: mb.sandbox.SandboxProfile, s: "Bwrap" | "Self") => flattenPolicy({ categories: seccompCategoriesFor(p, s) }).includes("execve");
    expect({
      bwrapSealed: hasExec(profiles.sealed, "Bwrap"),
      bwrapEffectful: hasExec(profiles.effectful, "Bwrap"),
      selfSealed: hasExec(profiles.sealed, "Self"),
      selfEffectful: hasExec(profiles.effectful, "Self"),
    }).toEqual({ bwrapSealed: true, bwrapEffectful: true, selfSealed: false, selfEffectful: true });
  });

  it("the policy as data: name, categories in the original's order, the flattened allow-list", () => {
    const self = toSeccomp(profiles.sealed, "Self");
    expect(self.name).toBe("seccomp-self-sealed");
    expect(toSeccomp(profiles.effectful, "Bwrap").name).toBe("seccomp-bwrap-effectful");
    expect(toSeccomp(profiles.sealed, "Bwrap").name).toBe("seccomp-bwrap-sealed");
    expect(self.categories).toEqual(["memory", "fileIo", "network", "signals", "threading", "processInfo", "time", "ipc", "fileManagement", "landlock", "seccompSelf"]);
    expect(self.syscalls).toHaveLength(6 + 25 + 24 + 6 + 5 + 16 + 11 + 6 + 12 + 3 + 1);
    expect(self.syscalls.slice(0, 7)).toEqual(["mmap", "mprotect", "munmap", "mremap", "brk", "madvise", "openat"]);
    expect(toSeccomp(profiles.effectful, "Self").syscalls.slice(-7)).toEqual(["execve", "execveat", "fork", "vfork", "clone", "wait4", "waitid"]);
    expect(sandbox.allowlistText(toSeccomp(define({}), "Self")).split("\n").slice(0, 3)).toEqual(["# Generated seccomp allowlist", "mmap", "mprotect"]);
  });

  it("flattenPolicy deduplicates, keeping the first occurrence, extras last", () => {
    expect(flattenPolicy({ categories: ["seccompSelf", "landlock"], extra: ["seccomp", "ioctl"] })).toEqual(["seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "ioctl"]);
  });
});

describe("toSystemd", () => {
  it("of sealed excludes the privileged set and execve", () => {
    expect(toSystemd(profiles.sealed)).toEqual({
      _con: "MetaBuilderSystemdHardening",
      protectSystem: "strict",
      protectHome: true,
      privateTmp: true,
      noNewPrivileges: true,
      readOnlyPaths: [S],
      readWritePaths: [],
      systemCallFilter: ["@system-service", "~@privileged", "~execve", "~execveat"],
      restrictNamespaces: true,
      privateDevices: true,
    });
  });

  it("of effectful allows execve", () => {
    const s = toSystemd(define({ allowExecve: true, readWritePaths: ["/var/lib/app"] }));
    expect(s.systemCallFilter).toEqual(["@system-service"]);
    expect(s.readWritePaths).toEqual(["/var/lib/app"]);
    expect(mb.SystemdHardening.parse(s)).toEqual(s);
  });
});

describe("combinators", () => {
  it("compose accumulates listen endpoints and read-write paths", () => {
    expect(C.compose([C.sealed, C.listen(8080), C.listen(9000)]).listenTcp.map((e) => e.port)).toEqual([8080, 9000]);
    expect(C.compose([C.sealed, C.readwrite("/var/lib/state")]).readWritePaths).toEqual(["/var/lib/state"]);
    expect(C.compose([C.sealed, C.connectAny]).connectAny).toBe(true);
  });

  it("every flag combinator, and connectTo and readonly", () => {
    const p = C.compose([C.effectful, C.connectTo(5432), C.readonly("/srv"), C.daemon]);
    expect([p.allowExecve, p.allowFork, p.daemonMode, p.connectTcp.map((e) => e.port), p.readOnlyPaths]).toEqual([true, true, true, [5432], [S, "/srv"]]);
    expect(C.compose([C.allowExec, C.allowFork])).toMatchObject({ allowExecve: true, allowFork: true });
  });

  it("a base profile resets what came before it; deferred combinators see the accumulated profile", () => {
    expect(C.compose([C.listen(1), C.sealed]).listenTcp).toEqual([]);
    const mirrorPorts = C.defer((p) => ({ ...p, connectTcp: p.listenTcp }));
    expect(C.compose([mirrorPorts, C.sealed, C.listen(8080)]).connectTcp.map((e) => e.port)).toEqual([8080]);
    expect(mirrorPorts.deferred).toBe(true);
  });

  it("each combinator carries its signature and documentation", () => {
    expect(C.listen(80)).toMatchObject({ sig: "Int -> Profile -> Profile", doc: "Add a TCP listen endpoint at 127.0.0.1:port. Accumulates." });
    expect(C.daemon.sig).toBe("Profile -> Profile");
  });

  it("a bad port or a conflict is refused", () => {
    expect(() => C.listen(70000)).toThrow(/port: a port is at most 65535/);
    expect(() => C.compose([C.readonly("/a"), C.readwrite("/a")])).toThrow(/'\/a' is both read-only and read-write/);
    expect(() => C.compose([C.readonly("a")])).toThrow(/must be absolute/);
  });
});

describe("serviceProfile and the Service record", () => {
  const svc = (extra: Record<string, unknown> = {}) => mb.Service.parse({ name: "web", package: "/store/abc-web", ...extra });
  const node = mb.tool({
    name: "node",
    package: { _con: "resolvedPackage", name: "node", packageName: "nodejs", origin: "host", outPath: "/usr", executables: { node: "/usr/bin/node", npx: "/opt/node/bin/npx" } },
  });
  const built = mb.tool({ name: "lib", package: { _con: "resolvedPackage", name: "lib", packageName: "lib", origin: "store", outPath: "/store/def-lib" } });

  it("a service without a sandbox parses as before: no sandbox key, the same artifact store path", () => {
    const s = svc();
    expect("sandbox" in s).toBe(false);
    expect(mb.serviceArtifact(s, "/store").storePath).toBe(mb.serviceArtifact(mb.Service.parse({ name: "web", package: "/store/abc-web" }), "/store").storePath);
  });

  it("the default: store entry and tools read-only, /tmp tmpfs, listening on the port, exec and fork, no daemon", () => {
    const p = sandbox.serviceProfile(svc(), { storePath: "/store/abc-web", port: 3000, tools: [node, built] });
    expect(p).toEqual(define({ readOnlyPaths: ["/store/abc-web", "/usr", "/opt/node/bin/npx", "/store/def-lib"], tmpfs: ["/tmp"], listenTcp: [{ port: 3000 }], allowExecve: true, allowFork: true }));
    expect(p.daemonMode).toBe(false);
    expect(toBwrap(p)).toContain("--unshare-pid");
  });

  it("without a port nor tools: only the store entry, no listen endpoint", () => {
    expect(sandbox.serviceProfile(svc(), { storePath: "/store/abc-web" })).toMatchObject({ readOnlyPaths: ["/store/abc-web"], listenTcp: [] });
  });

  it("a port outside 1-65535 is refused", () => {
    expect(() => sandbox.serviceProfile(svc(), { storePath: "/store/abc-web", port: 0 })).toThrow(/listenTcp\[0\]\.port|listenTcp\.0\.port/);
  });

  it("the service's own profile wins, validated within the service at its spec path", () => {
    const own = svc({ sandbox: { readOnlyPaths: ["/srv"], listenTcp: [{ port: 8080 }] } });
    expect(sandbox.serviceProfile(own, { storePath: "/store/abc-web", port: 3000 })).toEqual(define({ readOnlyPaths: ["/srv"], listenTcp: [{ port: 8080 }] }));
    const bad = mb.Service.safeParse({ name: "web", package: "/x", sandbox: { readOnlyPaths: ["rel"] } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(["sandbox", "readOnlyPaths", 0]);
  });

  it("packagePaths: absolute strings, resolved packages; unresolved ones give nothing", () => {
    expect(sandbox.packagePaths("/store/x")).toEqual(["/store/x"]);
    expect(sandbox.packagePaths("bash")).toEqual([]);
    expect(sandbox.packagePaths(mb.hostPackage("bash"))).toEqual([]);
  });
});
