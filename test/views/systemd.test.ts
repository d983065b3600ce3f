// The systemd backend: one unit per materialized service, hardened by its sandbox profile (toSystemd ∘ serviceProfile),
// every spec string quoted so that it cannot add a directive (read back with systemd's own line rules).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError } from "../../src/index.js";
import { constructors, gridProgram } from "../support/grid.js";
import { systemdCWord, systemdPathProblem, systemdPathWord, systemdText } from "../../src/program/quote.js";

const { toSystemd, serviceProfile } = mb.sandbox;
const STORE = "/store/abcdefghijklmnopqrstuvwxyz012345-demo";
const bash = mb.tool({ name: "bash", package: mb.hostPackage("bash") });

/** A plan of one builder declaring `services` and materializing each. */
function planOf(services: Record<string, unknown>[]): mb.BuildPlan {
  const ops = [
    mb.declareTool({ tool: bash }),
    ...services.flatMap((s) => [mb.declareService({ service: mb.Service.parse(s) }), mb.materializeUnit({ name: String(s.name) })]),
    mb.materializeDerivation({ name: "demo" }),
  ];
  return mb.compile(mb.sequence(ops), { storeDir: "/store" });
}

const http = { name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT" };
const opts = (plan: mb.BuildPlan): mb.SystemdOptions => ({ storePath: STORE, hardening: (s, port) => toSystemd(serviceProfile(s, { storePath: STORE, port, tools: plan.tools })) });

/**
 * Reads a unit file as systemd does (systemd.syntax(7)): a line ending in an odd backslash continues, `#`/`;` lines
 * are comments, `[x]` starts a section; returns `section.Key` for every assignment, in order.
 */
function directives(text: string): string[] {
  const out: string[] = [];
  let section = "";
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = pending + raw;
    const odd = (/\\+$/.exec(line)?.[0].length ?? 0) % 2 === 1;
    if (odd) {
      pending = line.slice(0, -1) + " ";
      continue;
    }
    pending = "";
    const l = line.trim();
    if (l === "" || l.startsWith("#") || l.startsWith(";")) continue;
    if (l.startsWith("[")) section = l;
    else out.push(`${section}.${l.split("=")[0]}`);
  }
  return out;
}

describe("renderSystemd", () => {
  it("renders a service as a hardened unit", () => {
    const plan = planOf([{ name: "demo-service", description: "The demo", package: "/usr", protocols: [http] }]);
    const units = mb.renderSystemd(plan, opts(plan));
    expect(units.map((u) => [u.file, u.service])).toEqual([["demo-service.service", "demo-service"]]);
    expect(units[0]!.text).toMatchInlineSnapshot(`
      "[Unit]
      Description=The demo

      [Service]
      Type=simple
      ExecStart="/store/abcdefghijklmnopqrstuvwxyz012345-demo/bin/demo"
      Environment="PORT=3000"
      ProtectSystem=strict
      ProtectHome=yes
      PrivateTmp=yes
      PrivateDevices=yes
      NoNewPrivileges=yes
      RestrictNamespaces=yes
      ReadOnlyPaths="/store/abcdefghijklmnopqrstuvwxyz012345-demo" "/usr"
      SystemCallFilter=@system-service

      [Install]
      WantedBy=multi-user.target
      "
    `);
  });

  it("a sealed profile of the service's own: read-write paths, and execve denied", () => {
    const plan = planOf([{ name: "worker", package: "/usr", sandbox: { readOnlyPaths: ["/srv/ro"], readWritePaths: ["/var/lib/worker"] } }]);
    const text = mb.renderSystemd(plan, opts(plan))[0]!.text;
    expect(text).toContain('ExecStart="/store/abcdefghijklmnopqrstuvwxyz012345-demo/bin/worker"\n');
    expect(text).toContain('ReadOnlyPaths="/srv/ro"\nReadWritePaths="/var/lib/worker"\n');
    expect(text).toContain("SystemCallFilter=@system-service\nSystemCallFilter=~@privileged\nSystemCallFilter=~execve\nSystemCallFilter=~execveat\n");
    expect(text).toContain("Description=worker\n");
    expect(text).not.toContain("Environment=");
  });

  it("several units, each after a '# <unit>.service' line", () => {
    const plan = planOf([
      { name: "a-service", package: "/usr" },
      { name: "b", package: "/usr", protocols: [{ ...http, name: "admin", defaultPort: 9000, portEnvVar: "ADMIN_PORT" }, http] },
    ]);
    const units = mb.renderSystemd(plan, opts(plan));
    const text = mb.joinUnits(units);
    expect(text.split("\n").filter((l) => l.startsWith("# "))).toEqual(["# a-service.service", "# b.service"]);
    expect(units[0]!.text).toContain("/bin/a\"\n");
    expect(units[1]!.text).toContain('Environment="ADMIN_PORT=9000"\nEnvironment="PORT=3000"\n');
    expect(directives(text).filter((d) => d === "[Service].ExecStart")).toHaveLength(2);
  });

  it("no spec string adds a directive: newlines, %, backslashes, quotes and $ in the description, a path and a port variable's value", () => {
    const evil = 'x\nExecStartPre=/bin/false\r\n[Install]\nWantedBy=evil %n $HOME ${X} "q" \'s\' \\';
    const plan = planOf([{ name: "svc", description: evil, package: "/usr", sandbox: { readWritePaths: ["/srv/a b/%n/$HOME/\"q\"/\\"] } }]);
    const text = mb.renderSystemd(plan, opts(plan))[0]!.text;
    expect(directives(text)).toEqual([
      "[Unit].Description",
      "[Service].Type",
      "[Service].ExecStart",
      "[Service].ProtectSystem",
      "[Service].ProtectHome",
      "[Service].PrivateTmp",
      "[Service].PrivateDevices",
      "[Service].NoNewPrivileges",
      "[Service].RestrictNamespaces",
      "[Service].ReadOnlyPaths",
      "[Service].ReadWritePaths",
      "[Service].SystemCallFilter",
      "[Service].SystemCallFilter",
      "[Service].SystemCallFilter",
      "[Service].SystemCallFilter",
      "[Install].WantedBy",
    ]);
    expect(text).toContain(`Description=x\\nExecStartPre=/bin/false\\r\\n[Install]\\nWantedBy=evil %%n $HOME \${X} "q" 's' \\\\\n`);
    expect(text).toContain('ReadWritePaths="/srv/a b/%%n/$HOME/\\"q\\"/\\\\"\n');
  });

  it("Environment values are C-escaped words; the unit name escapes what systemd does not allow", () => {
    expect(mb.unitFileName("web")).toBe("web.service");
    expect(mb.unitFileName("a b/é.x")).toBe("a\\x20b\\x2f\\xc3\\xa9.x.service");
    expect(mb.unitFileName(".hidden")).toBe("\\x2ehidden.service");
  });

  it("refuses what a unit cannot express, naming it (exit 2)", () => {
    const refused = (services: Record<string, unknown>[], message: RegExp) => {
      const plan = planOf(services);
      let err: unknown;
      try {
        mb.renderSystemd(plan, opts(plan));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MbError);
      expect((err as MbError).exitCode).toBe(2);
      expect((err as MbError).message).toMatch(message);
    };
    refused([{ name: 'we"ird', package: "/usr" }], /executable ".*bin\/we\\"ird" holds a quote or backslash/);
    refused([{ name: "nl\nx", package: "/usr" }], /holds a line break or control character/);
    refused([{ name: "s", package: "/usr", protocols: [{ ...http, portEnvVar: "BAD NAME" }] }], /port variable "BAD NAME" is not an environment variable name/);
    refused([{ name: "s", package: "/usr", sandbox: { readWritePaths: ["/a\nb"] } }], /ReadWritePaths path "\/a\\nb" holds a line break/);
  });

  it("a plan without a materialized service is unsupported (exit 1)", () => {
    const plan = mb.compile(mb.sequence([mb.materializeDerivation({ name: "x" })]));
    expect(() => mb.renderSystemd(plan, opts(plan))).toThrow(/materializes no service/);
  });

  it("serviceExecutable: bin/<name>, the original's '-service' suffix dropped", () => {
    expect(mb.serviceExecutable({ name: "node-service-demo-service" }, "/s/x-y/")).toBe("/s/x-y/bin/node-service-demo");
    expect(mb.serviceExecutable({ name: "web" }, "/s/x-y")).toBe("/s/x-y/bin/web");
    expect(mb.serviceExecutable({ name: "-service" }, "/s")).toBe("/s/bin/-service");
  });
});

describe("renderSystemd over the coverage grid (one program per constructor)", () => {
  it.each(constructors)("%s: a unit exactly when the program materializes a service", (con) => {
    const plan = mb.compile(gridProgram(con), { storeDir: "/store" });
    if (con === "materializeUnit") {
      const units = mb.renderSystemd(plan, opts(plan));
      expect(units.map((u) => u.file)).toEqual(["api.service"]);
      expect(units[0]!.text).toContain(`ExecStart="${STORE}/bin/api"\n`);
    } else {
      expect(() => mb.renderSystemd(plan, opts(plan))).toThrow(/materializes no service/);
    }
  });
});

/** systemd's reading of a double-quoted word: with C escapes (Environment=) or only `\\x` -> `x` (paths); then `%%` -> `%`. */
function unquote(word: string, cEscapes: boolean): string {
  expect(word.startsWith('"') && word.endsWith('"')).toBe(true);
  const body = word.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    expect(c, `an unescaped quote inside ${word}`).not.toBe('"');
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = body[++i]!;
    if (!cEscapes) out += n;
    else if (n === "x") (out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16))), (i += 2);
    else if (n === "u") (out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16))), (i += 4);
    else out += ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[n] ?? n;
  }
  expect(out.replaceAll("%%", "")).not.toContain("%");
  return out.replaceAll("%%", "%");
}

describe("systemd quoting (property)", () => {
  const oneLine = (v: string) => !/[\n\r]/.test(v) && (/\\+$/.exec(v)?.[0].length ?? 0) % 2 === 0;
  it("every value stays on its line (a path only once systemdPathProblem passes it), and the quoted words read back as written", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        for (const v of [systemdText(s), systemdCWord(s)]) expect(oneLine(v), JSON.stringify(v)).toBe(true);
        expect(systemdText(s).replaceAll("%%", "")).not.toContain("%");
        expect(unquote(systemdCWord(s), true)).toBe(s);
        const path = `/${s}`;
        if (systemdPathProblem(path, "ReadOnlyPaths path") === null) {
          expect(oneLine(systemdPathWord(path))).toBe(true);
          expect(unquote(systemdPathWord(path), false)).toBe(path);
        }
        else expect(path).toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe("one port rule for systemd, mb run and mb check (core/endpoint.ts)", () => {
  const admin = { name: "admin", transport: "TCP", serialization: "JSON", defaultPort: 8081, portEnvVar: null };
  const metrics = { name: "metrics", transport: "TCP", serialization: "JSON", defaultPort: 9100, portEnvVar: "METRICS_PORT" };
  const svc = mb.Service.parse({ name: "api", package: "p", protocols: [admin, http, metrics] });

  it("the unit's port is the endpoint's (the first TCP protocol with a port variable), not the first protocol's", () => {
    expect(mb.endpointOf(svc).defaultPort).toBe(3000);
    expect(mb.servicePort(svc)).toBe(mb.endpointOf(svc).defaultPort);
  });

  it("the endpoint's variable comes first; each other protocol keeps its own port", () => {
    expect(mb.serviceEnvironment(svc)).toEqual([["PORT", "3000"], ["METRICS_PORT", "9100"]]);
  });
});
