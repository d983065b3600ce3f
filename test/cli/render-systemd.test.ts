// `mb render systemd`: a built service's unit passes `systemd-analyze verify` (which checks that ExecStart exists),
// with a store directory holding `%` (a systemd specifier), `=`, `,` and `@` (a space, `:`, `$` or a quote is refused in a store
// directory: test/security/store.test.ts), and spec strings (a space, `%`, `$`, quotes) that try to add directives. It needs
// systemd-analyze (Debian's systemd; a missing one fails, naming the package), so it is in the e2e tier.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mbAsync } from "../support/mb.js";
import { spec as specOf, tool } from "../engine/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "mb-systemd-"));
const store = join(dir, "st%o=re,x@");
const spec = join(dir, "spec.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EVIL = 'demo\nBogus=1\n[Evil]\nExecStartPre=/bin/false %n $HOME "q" \\';
// The store path comes in as "$1": the script never holds it as text.
const INSTALL = 'mkdir -p "$1/bin" && printf "#!/bin/sh\\necho hi\\n" > "$1/bin/demo" && chmod 555 "$1/bin/demo"';

writeFileSync(
  spec,
  JSON.stringify(
    specOf({
      name: "demo",
      tools: ["bash", "coreutils"],
      ops: [
        { _con: "runTool", name: "install", tool: tool("bash"), args: ["-c", INSTALL, "install", "$out"] },
        {
          _con: "declareService",
          service: {
            name: "demo-service",
            description: EVIL,
            package: { _con: "hostPackage", name: "bash" },
            protocols: [{ name: "http", transport: "TCP", serialization: "JSON", defaultPort: 3000, portEnvVar: "PORT" }],
            sandbox: { readOnlyPaths: [`${store}`], readWritePaths: ["/var/lib/a b/%n/$HOME/\"q\"/\\"], allowExecve: true },
          },
        },
        { _con: "materializeUnit", name: "demo-service" },
      ],
    }),
  ),
);

function verify(file: string): { status: number | null; out: string } {
  const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
  if (r.error) throw new Error(`systemd-analyze is required for this test and could not be run (apt-get install systemd): ${r.error.message}`);
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("mb render systemd", () => {
  let storePath = "";
  beforeAll(async () => {
    const r = await mbAsync(["build", "--no-out-link", spec], { store });
    expect(r.status, r.stderr).toBe(0);
    storePath = r.stdout.trim().split("\n").pop()!;
  });

  it("--dir writes one unit per service; systemd-analyze verify accepts it without a warning", async () => {
    const units = join(dir, "units");
    const r = await mbAsync(["render", "systemd", "--dir", units, spec], { store });
    expect(r).toMatchObject({ status: 0, stderr: "", stdout: `${join(units, "demo-service.service")}\n` });
    expect(readdirSync(units)).toEqual(["demo-service.service"]);
    const text = readFileSync(join(units, "demo-service.service"), "utf8");
    expect(text).toContain(`ExecStart="${storePath.replaceAll("%", "%%")}/bin/demo"\n`);
    expect(verify(join(units, "demo-service.service"))).toEqual({ status: 0, out: "" });
  });

  it("verify does see a missing executable and an injected directive (the check is real)", () => {
    const good = readFileSync(join(dir, "units", "demo-service.service"), "utf8");
    const probe = join(dir, "probe.service");
    writeFileSync(probe, good.replace("/bin/demo", "/bin/absent"));
    expect(verify(probe).status).not.toBe(0);
    writeFileSync(probe, good.replace(/^Description=.*$/m, "Description=demo\nBogus=1"));
    expect(verify(probe).out).toMatch(/Unknown key 'Bogus'/);
  });

  it("prints each unit after a '# <unit>.service' line; --json gives the units", async () => {
    const r = await mbAsync(["render", "systemd", spec], { store });
    expect(r.status).toBe(0);
    const file = readFileSync(join(dir, "units", "demo-service.service"), "utf8");
    expect(r.stdout).toBe(`# demo-service.service\n${file}`);
    const j = await mbAsync(["render", "systemd", "--json", spec], { store });
    expect(JSON.parse(j.stdout)).toEqual({ backend: "systemd", storePath, units: [{ file: "demo-service.service", service: "demo-service", text: file }] });
  });

  it("a builder without a service, and flags of other backends, are refused", async () => {
    const none = await mbAsync(["render", "systemd", "test/fixtures/cli/hello"], { store });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^mb: error: systemd backend: plan 'hello' materializes no service/);
    const dirShell = await mbAsync(["render", "shell", "--dir", dir, spec], { store });
    expect(dirShell).toMatchObject({ status: 2, stderr: "mb: error: --dir applies to render systemd only\nmb: hint: run `mb --help` for usage\n" });
    const unknown = await mbAsync(["render", "upstart", spec], { store });
    expect(unknown.stderr).toMatch(/render needs a backend: 'shell', 'dockerfile', 'nix' or 'systemd', got 'upstart'/);
  });
});

describe("a service's sandbox profile in a JSON spec", () => {
  it("a relative path, a read-only and read-write conflict, a port outside 1-65535 and a misspelt key: each at its spec path (exit 2)", async () => {
    const bad = join(dir, "bad.json");
    const sandbox = { readOnlyPaths: ["/a", "rel"], readWritePaths: ["/a/"], listenTcp: [{ port: 70000 }], stdoi: true };
    const service = { name: "s", package: "/usr", sandbox };
    writeFileSync(bad, JSON.stringify({ name: "bad", parameters: [], inputs: [], dependencies: [], tools: [], outputs: [], evidence: [], operations: [{ _con: "declareService", service }] }));
    const r = await mbAsync(["validate", bad], { store });
    expect(r.status).toBe(2);
    const at = "operations[0].service.sandbox";
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("  - "));
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(
      expect.arrayContaining([
        `  - ${at}.readOnlyPaths[1]: a sandbox path must be absolute (start with '/'), got 'rel'`,
        `  - ${at}.listenTcp[0].port: a port is at most 65535`,
        expect.stringMatching(new RegExp(`^  - ${at.replace(/[[\].]/g, "\\$&")}\\.stdoi: unknown key \`stdoi\` \\(did you mean \`stdio\`\\?\\)`)),
        `  - ${at}.readWritePaths[0]: '/a/' is both read-only and read-write (it is also in readOnlyPaths)`,
      ]),
    );
  });
});
