// `mb run` and the service part of `mb check`, for real: the node-service example is built, checked (its health answer
// printed), run on a given port and asked /health, /version and /metrics, then stopped with SIGINT with no process
// left; a probe service reports what its sandbox let it do; a service that never answers fails `mb check` naming it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { mb, mbStart, ROOT, type Started } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { spec, tool } from "../engine/helpers.js";

const dirs = tempDirs("mb-run");
afterAll(() => dirs.removeAll());
const store = dirs.tempDir("store");

const PROBE = "test/fixtures/run/builders.ts#probe";
const SILENT = "test/fixtures/run/builders.ts#silent";

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  return typeof addr === "object" && addr ? addr.port : 0;
}

/** Every descendant of a process (from /proc), depth first. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** True while a process exists and is not a zombie. */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Starts `mb run` and resolves once it prints "ready: <url>" on stderr (or fails with its output if it ends first). */
async function runUntilReady(args: string[], env?: NodeJS.ProcessEnv): Promise<{ run: Started; url: string; stderr: () => string }> {
  const run = mbStart(["run", ...args], { store, ...(env ? { env } : {}) });
  let err = "";
  run.child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /^ready: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(err);
      if (m) resolve(m[1]!);
    };
    run.child.stderr!.on("data", onData);
    void run.done.then((r) => reject(new Error(`mb run ended (status ${r.status}) before it was ready:\n${r.stderr}`)));
  });
  return { run, url, stderr: () => err };
}

async function get(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
}

describe("examples/node-service", () => {
  it("builds, and mb check runs its evidence and prints the started service's /health answer", () => {
    const built = mb(["build", "examples/node-service", "--no-out-link"], { store });
    expect(built.status, built.stderr).toBe(0);
    const r = mb(["check", "examples/node-service"], { store });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("ok      self-test: exit status 0");
    expect(r.stdout).toMatch(/^ok {6}service node-service-demo-service: GET \/health on port \d+: 200 \{"ok":true\}$/m);
    expect(r.stdout).toContain("1/1 services answered their health check");
  });

  it("mb run --port P serves /health, /version and /metrics; SIGINT stops it (exit 130) with no process left", async () => {
    const port = await freePort();
    const { run, url } = await runUntilReady(["examples/node-service", "--port", String(port)]);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const pids = descendants(run.child.pid!);
    expect(pids.length).toBeGreaterThan(0);

    const health = await get(`${url}/health`);
    expect(health).toEqual({ status: 200, type: "application/json", body: '{"ok":true}' });
    const version = await get(`${url}/version`);
    expect(version).toEqual({ status: 200, type: "application/json", body: '{"version":"0.1.0"}' });
    const metrics = await get(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe("text/plain; version=0.0.4");
    expect(metrics.body).toMatch(/^node_service_requests_total \d+$/m);
    expect(metrics.body).toMatch(/^node_service_uptime_seconds [0-9.e+-]+$/m);

    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.status, done.stderr).toBe(130);
    expect(done.stdout).toContain(`node-service-demo listening on ${port}`);
    expect(pids.filter(alive)).toEqual([]);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("a gc while the service runs keeps what it runs from (its own temporary root); the root goes with it", async () => {
    const { run, url } = await runUntilReady(["examples/node-service", "--port", String(await freePort()), "--no-sandbox"]);
    const roots = readdirSync(join(store, ".roots")).filter((n) => n.startsWith(`tmp-${run.child.pid}-`));
    expect(roots).toEqual([`tmp-${run.child.pid}-run`]);
    const held = readFileSync(join(store, ".roots", roots[0]!), "utf8");
    const gc = mb(["gc"], { store });
    expect(gc.status, gc.stderr).toBe(0);
    for (const path of held.split("\n").filter((l) => l.startsWith("/"))) expect(existsSync(path), path).toBe(true);
    expect((await get(`${url}/health`)).status).toBe(200);
    run.child.kill("SIGINT");
    expect((await run.done).status).toBe(130);
    expect(readdirSync(join(store, ".roots")).filter((n) => n.startsWith(`tmp-${run.child.pid}`))).toEqual([]);
  });

  it("SIGTERM is forwarded too (exit 130, nothing left)", async () => {
    const { run } = await runUntilReady(["examples/node-service", "--port", String(await freePort())]);
    const pids = descendants(run.child.pid!);
    run.child.kill("SIGTERM");
    expect((await run.done).status).toBe(130);
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe("the sandbox of mb run", () => {
  it("holds: the service cannot write outside its state directory, nor read /root, /home or other store entries", async () => {
    const { run, url } = await runUntilReady([PROBE, "--port", String(await freePort())]);
    const pids = descendants(run.child.pid!);
    const report = JSON.parse((await get(`${url}/`)).body) as { attempts: Record<string, string>; storeEntries: string[]; tmp: string[] };
    run.child.kill("SIGINT");
    expect((await run.done).status).toBe(130);
    expect(pids.filter(alive)).toEqual([]);

    expect(report.attempts["write-home-dir"]).toBe("allowed");
    for (const denied of ["write-own-entry", "write-root-of-fs", "write-usr", "write-etc"]) expect(report.attempts[denied], denied).toBe("EROFS");
    for (const absent of ["read-root", "read-home", "read-shadow"]) expect(report.attempts[absent], absent).toBe("ENOENT");
    // Of the store, only its own entry and its runtime artifact are there (the test store holds more).
    expect(report.storeEntries.map((e) => e.slice(33)).sort()).toEqual(["sandbox-probe-artifact", "service-sandbox-probe-service.json"]);
    expect(readdirSync(store).length).toBeGreaterThan(2);
  });
});

/** A JSON spec of a service whose own sandbox profile makes `rw` writable; its server is test/fixtures/run/writer-server.js. */
function writerSpec(rw: string): string {
  const server = { _con: "pathPackage", path: join(ROOT, "test/fixtures/run/writer-server.js"), name: "server.js" };
  // Values come in as "$1" (out), "$2" (the server), "$3" (dir=<the writable directory>: an absolute path argument
  // would be a local input, imported into the store); printf %q quotes the wrapper's words.
  const install =
    'mkdir -p "$1/bin" "$1/lib" && cp "$2" "$1/lib/server.js" && printf \'#!/bin/bash\\nexec /usr/bin/node %q %q\\n\' "$1/lib/server.js" "${3#dir=}" > "$1/bin/writer" && chmod 555 "$1/bin/writer"';
  const lifecycle = { name: "lifecycle", capabilities: [{ name: "health" }] };
  const file = join(dirs.tempDir("writer-spec"), "writer.json");
  writeFileSync(
    file,
    JSON.stringify(
      spec({
        name: "writer",
        tools: ["bash", "coreutils"],
        ops: [
          { _con: "runTool", name: "install", tool: tool("bash"), args: ["-c", install, "install", "$out", server, `dir=${rw}`] },
          {
            _con: "declareService",
            service: {
              name: "writer-service",
              package: { _con: "hostPackage", name: "nodejs" },
              capabilities: { categories: [lifecycle] },
              protocols: [{ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT", capabilities: { categories: [lifecycle] }, options: { healthPath: "/" } }],
              sandbox: { readWritePaths: [rw], allowExecve: true, allowFork: true },
            },
          },
          { _con: "materializeUnit", name: "writer-service" },
        ],
      }),
    ),
  );
  return file;
}

describe("a service's own sandbox profile", () => {
  it("is the one mb run applies: its read-write path is writable on the host; beside it, only the private /tmp", async () => {
    const rw = dirs.tempDir("writable");
    const { run, url } = await runUntilReady([writerSpec(rw), "--port", String(await freePort())]);
    const report = JSON.parse((await get(`${url}/`)).body) as Record<string, string>;
    run.child.kill("SIGINT");
    expect((await run.done).status).toBe(130);
    expect(report).toEqual({ inside: "allowed", beside: "allowed" });
    expect(readFileSync(join(rw, "written"), "utf8")).toBe("written by the service\n");
    expect(existsSync(`${rw}-beside`)).toBe(false); // written into the sandbox's own /tmp, not the host's
  });
});

describe("a service that never answers", () => {
  it("fails mb check, naming the service, the port and its last lines of output", () => {
    const r = mb(["check", SILENT], { store, env: { MB_HEALTH_TIMEOUT: "1" } });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAILED {2}service silent-service: service 'silent-service' on port \d+ did not answer GET \/health with 200 within 1 s \(last: status 503\)/m);
    expect(r.stderr).toMatch(/mb: error: service 'silent-service' on port (\d+) did not answer[^\n]*\n {2}silent service listening on \1, never healthy/);
  });

  it("fails mb run with exit 1, and leaves no process", async () => {
    const port = await freePort();
    const run = mbStart(["run", SILENT, "--port", String(port)], { store, env: { MB_HEALTH_TIMEOUT: "1" } });
    const r = await run.done;
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`service 'silent-service' on port ${port} did not answer GET /health with 200 within 1 s`);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});

describe("bad input", () => {
  it("a builder with no service: exit 2", () => {
    const r = mb(["run", "test/fixtures/golden/greeter.json"], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("mb: error: 'golden-greeter' has no service to run");
  });

  it("an unknown service name: exit 2, listing the services", () => {
    const r = mb(["run", "examples/node-service", "nope"], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("mb: error: 'node-service-demo-artifact' has no service 'nope'; its services: 'node-service-demo-service'");
  });

  it.each(["0", "70000", "80a", "-1"])("--port %s: exit 2", (port) => {
    const r = mb(["run", "examples/node-service", `--port=${port}`], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`mb: error: --port needs a port between 1 and 65535, got '${port}'`);
  });

  it("--port on another command: exit 2", () => {
    const r = mb(["build", "examples/node-service", "--port", "4000"], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--port applies to run only");
  });

  it("a port already taken: exit 1 naming the port", async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await mbStart(["run", "examples/node-service", "--port", String(port)], { store }).done;
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`mb: error: service 'node-service-demo-service': port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain("mb: hint: pass another port with --port P");
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
