// The views of examples/node-service through the CLI: introspect shows the runtime sections (the service, protocol
// http on port 3000, the unit's artifact), deps has the service, protocol and capability nodes, dry-run and plan
// agree with the original's operation order; its systemd unit passes systemd-analyze verify.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-run-views");
afterAll(() => dirs.removeAll());
const store = dirs.tempDir("store");
const view = (...args: string[]) => {
  const r = mb([...args, "examples/node-service"], { store });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

/** The items of one `### <title>` section of the introspect markdown. */
function section(markdown: string, title: string): string[] {
  const start = markdown.indexOf(`### ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const body = markdown.slice(start + title.length + 5).split("\n### ")[0]!;
  return body.split("\n").filter((l) => l.startsWith("- ")).map((l) => l.slice(2));
}

describe("mb introspect examples/node-service", () => {
  const md = view("introspect");

  it("Dry Run - Runtime lists the capability, protocol, service and unit", () => {
    expect(section(md, "Dry Run - Runtime")).toEqual([
      "runtime capability `lifecycle`",
      "runtime protocol `http`",
      "runtime service `node-service-demo-service`",
      "runtime unit `node-service-demo-service`",
    ]);
  });

  it("Runtime Services shows the service with protocol http on port 3000 and its lifecycle capabilities", () => {
    expect(section(md, "Runtime Services")).toEqual(["service `node-service-demo-service` exposes `http/TCP/JSON PORT:3000`; capabilities `start`, `stop`, `health`"]);
  });

  it("Materialization counts the unit's runtime artifact", () => {
    expect(section(md, "Materialization")).toEqual(["derivation: `node-service-demo-artifact`", "outputs: `2`", "runtime artifacts: `1`", "service `node-service-demo-service`"]);
  });

  it("Dry Run - Builder is the original's operation order", () => {
    expect(section(md, "Dry Run - Builder")).toEqual([
      "source `server.js`",
      "tool `node`",
      "tool `bash`",
      "write `share/node-service-demo/package.json`",
      "run `syntax-check` with `node`",
      "run `install-service` with `bash`",
      "descriptor `node-service-demo-metadata`",
      "transform `service-tree` (tree)",
      "transform `package-json` (json)",
      "materialize `node-service-demo-artifact` with `runCommand`",
      "evidence `self-test`",
    ]);
  });
});

describe("the other views of examples/node-service", () => {
  it("deps: service, protocol and capability nodes, with their edges", () => {
    const out = view("deps").split("\n");
    expect(out).toContain("node capability:lifecycle (capability)");
    expect(out).toContain("node protocol:http (protocol)");
    expect(out).toContain("node service:node-service-demo-service (service) package nodejs");
    expect(out).toContain("edge protocol:http -> capability:lifecycle (carries)");
    expect(out).toContain("edge service:node-service-demo-service -> protocol:http (speaks)");
    expect(out).toContain("edge service:node-service-demo-service -> capability:lifecycle (provides)");
    expect(out).toContain("7 nodes, 5 edges, 1 services");
  });

  it("dry-run: one line per operation, the runtime declarations last but the evidence", () => {
    const lines = view("dry-run").trimEnd().split("\n");
    expect(lines).toHaveLength(15);
    expect(lines.slice(10)).toEqual(["runtime capability lifecycle", "runtime protocol http", "runtime service node-service-demo-service", "runtime unit node-service-demo-service", "evidence self-test"]);
  });

  it("plan: three steps, and the unit's runtime artifact", () => {
    const out = view("plan");
    expect(out).toContain("# plan node-service-demo-artifact (builder runCommand), 3 step(s)");
    expect(out).toContain("# runtime artifact service:node-service-demo-service -> service-node-service-demo-service.json");
    expect(out).toMatch(/^node --check \S+-server\.js$/m);
  });
});

describe("mb render systemd examples/node-service", () => {
  it("writes a unit that systemd-analyze verify accepts once the service is built", () => {
    expect(mb(["build", "examples/node-service", "--no-out-link"], { store }).status).toBe(0);
    const dir = dirs.tempDir("units");
    const r = mb(["render", "systemd", "examples/node-service", "--dir", dir], { store });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(["node-service-demo-service.service"]);
    const v = spawnSync("systemd-analyze", ["verify", join(dir, "node-service-demo-service.service")], { encoding: "utf8" });
    if (v.error) throw new Error(`systemd-analyze is required for this test and could not be run (apt-get install systemd): ${v.error.message}`);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(v.stdout + v.stderr).toBe("");
  });
});
