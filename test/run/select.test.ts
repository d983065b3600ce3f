// The choices `mb run` makes before anything starts (src/engine/service-select.ts) and the bwrap argv of a service
// (src/engine/service-run.ts), in-process: which service, which port, which endpoint and health path, what the sandbox
// binds and in which order.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError } from "../../src/index.js";
import { serviceBwrapArgs } from "../../src/engine/service-run.js";
import { endpointOf, parsePort, pickService, runnableServices } from "../../src/engine/service-select.js";

const lifecycle = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" }), mb.capability({ name: "health" })] });
const set = mb.capabilitySet({ categories: [lifecycle] });
const http = mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT", capabilities: set, options: { healthPath: "/healthz" } });
const web = mb.service({ name: "web-service", package: "nodejs", capabilities: set, protocols: [http] });
const worker = mb.service({ name: "worker", package: "nodejs" });

const planOf = (ops: mb.Operation[]) => mb.compile(mb.sequence([...ops, mb.materializeDerivation({ name: "demo" })]));

describe("which service", () => {
  const both = planOf([mb.declareService({ service: web }), mb.declareService({ service: worker }), mb.materializeUnit({ name: "web-service" }), mb.materializeUnit({ name: "worker" })]);

  it("only materialized services run", () => {
    expect(runnableServices(planOf([mb.declareService({ service: web }), mb.declareService({ service: worker }), mb.materializeUnit({ name: "worker" })])).map((s) => s.name)).toEqual(["worker"]);
  });

  it("the only one, or the named one", () => {
    expect(pickService(planOf([mb.declareService({ service: web }), mb.materializeUnit({ name: "web-service" })]), undefined).name).toBe("web-service");
    expect(pickService(both, "worker").name).toBe("worker");
  });

  it("none, an unknown name, or an open choice: usage errors (exit 2) naming the services", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MbError);
        return [(e as MbError).exitCode, (e as MbError).message];
      }
      throw new Error("no error");
    };
    expect(err(() => pickService(planOf([]), undefined))).toEqual([2, "'demo' has no service to run (no materializeUnit of a declared service)"]);
    expect(err(() => pickService(both, "db"))).toEqual([2, "'demo' has no service 'db'; its services: 'web-service', 'worker'"]);
    expect(err(() => pickService(both, undefined))).toEqual([2, "'demo' has 2 services: name one of 'web-service', 'worker'"]);
  });
});

describe("ports and endpoints", () => {
  it("--port is a whole number 1-65535", () => {
    expect(parsePort("1")).toBe(1);
    expect(parsePort("65535")).toBe(65535);
    for (const bad of ["0", "65536", "70000", "-1", "1.5", "", "80a", " 80"]) expect(() => parsePort(bad), bad).toThrow("--port needs a port between 1 and 65535");
  });

  it("the endpoint: the TCP protocol's port variable, default port and health path", () => {
    expect(endpointOf(web)).toEqual({ protocol: http, portEnvVar: "PORT", defaultPort: 3000, healthPath: "/healthz" });
  });

  it("no health capability, or no protocol: no health check", () => {
    const quiet = mb.service({ name: "q", package: "p", protocols: [mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 80, portEnvVar: "PORT" })] });
    expect(endpointOf(quiet).healthPath).toBeNull();
    expect(endpointOf(worker)).toEqual({ protocol: null, portEnvVar: null, defaultPort: null, healthPath: null });
  });

  it("a health capability without a healthPath option checks /health", () => {
    const plain = mb.protocol({ name: "http", transport: "TCP", serialization: "JSON", portEnvVar: "PORT", capabilities: set });
    expect(endpointOf(mb.service({ name: "s", package: "p", capabilities: set, protocols: [plain] })).healthPath).toBe("/health");
  });
});

describe("the service's bwrap argv", () => {
  const place = { storePath: "/tmp/st/abc-demo", port: 3000, storeDir: "/tmp/st", readOnly: ["/tmp/st/abc-demo", "/tmp/st/def-service-web.json"], etcDir: "/e", home: "/tmp/run/home" };
  const args = serviceBwrapArgs({ bwrap: "/usr/bin/bwrap" }, web, place);
  const at = (...seq: string[]) => args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));

  it("shares the host network and unshares the rest; no capabilities; dies with mb", () => {
    expect(args).not.toContain("--unshare-net");
    expect(args).not.toContain("--unshare-all");
    for (const flag of ["--unshare-user-try", "--unshare-ipc", "--unshare-uts", "--unshare-pid", "--die-with-parent"]) expect(args, flag).toContain(flag);
    expect(at("--cap-drop", "ALL")).toBeGreaterThan(0);
  });

  it("mounts /tmp first, then the empty store, then the entries read-only; the state directory writable; the root read-only", () => {
    expect(at("--tmpfs", "/tmp")).toBeLessThan(at("--tmpfs", "/tmp/st"));
    expect(at("--tmpfs", "/tmp/st")).toBeLessThan(at("--ro-bind", "/tmp/st/abc-demo", "/tmp/st/abc-demo"));
    expect(at("--ro-bind", "/tmp/st/def-service-web.json", "/tmp/st/def-service-web.json")).toBeGreaterThan(0);
    expect(at("--bind", "/tmp/run/home", "/tmp/run/home")).toBeGreaterThan(0);
    expect(args.slice(-5)).toEqual(["--remount-ro", "/", "--chdir", "/tmp/run/home", "--"]);
    expect(args).not.toContain("/root");
    expect(args).not.toContain("/home");
  });

  it("a daemon profile has no pid namespace and does not die with mb", () => {
    const daemon = mb.service({ name: "d", package: "p", sandbox: { daemonMode: true, allowExecve: true } });
    const d = serviceBwrapArgs({ bwrap: "bwrap" }, daemon, place);
    expect(d).not.toContain("--unshare-pid");
    expect(d).not.toContain("--die-with-parent");
    expect(d).not.toContain("/metabuilder/store"); // the profile's store placeholder binds nothing
  });
});
