// The runtime vocabulary through the CLI: `mb schema <record>`, and bad JSON specs (a service whose protocol lacks a
// capability it claims, a materializeUnit of an undeclared service, a protocol or REPL port outside 1-65535, an
// unknown REPL protocol) each failing `mb validate` and `mb build` with the spec path and the documented exit code;
// the transform and repl ornaments' JSON specs validate and build.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mbAsync, ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { ORNAMENTS } from "../../src/ornaments/registry.js";
import { RECORD_SCHEMAS } from "../../src/core/record-schemas.js";

const FIX = "test/fixtures/cli/vocab";
const abs = (p: string) => join(ROOT, FIX, p);
const dirs = tempDirs("mb-vocab");
afterAll(() => dirs.removeAll());

async function mb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await mbAsync(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.concurrent("mb schema <record>", () => {
  it("prints the protocol record's JSON Schema with descriptions and the port bound", async () => {
    const r = await mb("schema", "protocol");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { description: string; properties: Record<string, { description?: string; anyOf?: unknown[] }> };
    expect(s.description).toMatch(/^A wire protocol/);
    expect(s.properties.defaultPort!.anyOf).toEqual([{ type: "integer", minimum: 1, maximum: 65535 }, { type: "null" }]);
    expect(s.properties.transport!.description).toBe("The transport: TCP, Unix (a socket) or Stdio.");
  });

  it("prints the repl-server record, the protocol given by record or by built-in name", async () => {
    const s = JSON.parse((await mb("schema", "repl-server")).stdout) as { required: string[]; properties: Record<string, { description?: string }> };
    expect(s.required).toEqual(["protocol", "mode"]);
    expect(s.properties.protocol!.description).toBe("A Protocol record, or the name of a built-in REPL protocol: swank, nrepl, dap.");
    expect((s.properties.protocol as { anyOf: unknown[] }).anyOf[0]).toEqual({ type: "string", enum: ["swank", "nrepl", "dap"] });
  });

  it("prints the transform ornament's spec schema", async () => {
    const s = JSON.parse((await mb("schema", "transform")).stdout) as { properties: Record<string, unknown> };
    expect(s.properties).toHaveProperty("steps");
  });

  it("help lists the ornaments and the records, wrapped under the schema command", async () => {
    const help = (await mb("--help")).stdout;
    const block = help.slice(help.indexOf("  schema [name]"), help.indexOf("\n\n", help.indexOf("  schema [name]")));
    const lines = block.split("\n");
    expect(lines[0]).toBe("  schema [name]                 JSON Schema of BuilderSpec, of an ornament:");
    for (const l of lines.slice(1)) expect(l.startsWith(" ".repeat(32)) && l.length <= 118).toBe(true);
    const words = block.replace(/^.*ornament:/, "").replace("or of a runtime record:", ",").split(/[\s,]+/).filter((w) => w !== "");
    expect(words).toEqual([...ORNAMENTS.map((o) => o.name), ...RECORD_SCHEMAS.map((r) => r.name)]);
  });
});

/** Bad specs: the file, the exit code and the message `mb validate` and `mb build` print. */
const bad: [string, number, string][] = [
  [
    "service-protocol-lacks.json",
    2,
    `mb: error: ${abs("service-protocol-lacks.json")}: builder spec does not match its schema (1 problem):\n  - operations[0].service.protocols: service 'svc': no protocol offers every declared capability (protocol 'weak' lacks create, read)\n`,
  ],
  ["protocol-port.json", 2, `mb: error: ${abs("protocol-port.json")}: builder spec does not match its schema (1 problem):\n  - operations[0].protocol.defaultPort: a port is at most 65535\n`],
  ["repl-port.json", 2, `mb: error: ${abs("repl-port.json")}: MetaBuilderReplServer spec does not match its schema (1 problem):\n  - replServer.port: a port is at least 1\n`],
  [
    "repl-unknown.json",
    2,
    `mb: error: ${abs("repl-unknown.json")}: MetaBuilderReplServer spec does not match its schema (1 problem):\n  - replServer.protocol: unknown REPL protocol 'slime'; known: swank, nrepl, dap (or give a whole Protocol record)\n`,
  ],
];

describe.concurrent("bad runtime specs", () => {
  it.each(bad)("%s: mb validate exits %i naming the spec path", async (file, code, stderr) => {
    expect(await mb("validate", join(FIX, file))).toEqual({ code, stdout: "", stderr });
  });

  it.each(bad)("%s: mb build exits %i with the same message and builds nothing", async (file, code, stderr) => {
    const store = join(dirs.tempDir("bad"), "store");
    expect(await mb("build", "--store", store, "--no-out-link", join(FIX, file))).toEqual({ code, stdout: "", stderr });
  });

  it("a materializeUnit of an undeclared service: validate reports it (exit 1), build refuses it (exit 1)", async () => {
    const message = "materializeUnit 'ghost' references undeclared service 'ghost'. Declared so far: []. Add a declareService operation for this service before materializeUnit.";
    expect(await mb("validate", join(FIX, "unit-undeclared.json"))).toEqual({
      code: 1,
      stdout: `error runtime.undeclared-service at operation 0 (materialize-unit.name): ${message}\n1 diagnostic(s)\n`,
      stderr: "",
    });
    const store = join(dirs.tempDir("unit"), "store");
    expect(await mb("build", "--store", store, "--no-out-link", join(FIX, "unit-undeclared.json"))).toEqual({ code: 1, stdout: "", stderr: `mb: error: ${message}\n` });
  });
});

describe.concurrent("good runtime specs", () => {
  it("a repl ornament spec validates and builds (the REPL server lowers to no operation)", async () => {
    expect(await mb("validate", join(FIX, "repl-ok.json"))).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    const store = join(dirs.tempDir("repl"), "store");
    const r = await mb("build", "--store", store, "--no-out-link", join(FIX, "repl-ok.json"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-vocab\n$/);
  });

  it("a transform ornament spec validates and builds its step", async () => {
    expect(await mb("validate", join(FIX, "transform-ok.json"))).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    const store = join(dirs.tempDir("transform"), "store");
    const r = await mb("build", "--store", store, "--no-out-link", join(FIX, "transform-ok.json"));
    expect(r.code).toBe(0);
    const out = r.stdout.trim();
    expect(out).toMatch(/-vocab-transformed$/);
    expect(readdirSync(out)).toEqual(["hi.txt"]);
    expect(readFileSync(join(out, "hi.txt"), "utf8")).toBe("hi\n");
  });
});
