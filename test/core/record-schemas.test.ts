// The record schema table `mb schema <name>` reads: every runtime record's JSON Schema carries descriptions, the CLI
// prints exactly it, and an unknown name is a usage error listing the ornaments and the records.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { HELP, RECORD_NAMES, main } from "../../src/cli/main.js";

type Json = Record<string, unknown>;

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t: string) => void (out += t), err: (t: string) => void (err += t), isTTY: false } as never);
  return { code, out, err };
}

describe("RECORD_SCHEMAS", () => {
  it("names each record once, with a description, and the CLI lists them in its help", () => {
    expect(RECORD_NAMES).toEqual(mb.RECORD_SCHEMAS.map((e) => e.name));
    expect(new Set(RECORD_NAMES).size).toBe(RECORD_NAMES.length);
    for (const e of mb.RECORD_SCHEMAS) expect(mb.findRecordSchema(e.name)).toBe(e);
    for (const e of mb.RECORD_SCHEMAS) expect(e.description).not.toBe("");
    for (const name of RECORD_NAMES) expect(HELP).toContain(name);
    expect(RECORD_NAMES).toEqual(["param", "capability", "capability-category", "capability-set", "protocol", "service", "repl-server", "tool-env", "transform-step", "sandbox-profile", "tcp-endpoint", "display-config", "dns-config", "landlock-profile", "systemd-hardening"]);
  });

  it("no record name is also an ornament name", () => {
    for (const o of mb.ORNAMENTS) expect(RECORD_NAMES).not.toContain(o.name);
  });

  for (const entry of mb.RECORD_SCHEMAS) {
    it(`mb schema ${entry.name} prints the record's JSON Schema, described field by field`, async () => {
      const schema = mb.inlineJsonSchemaOf(await entry.load()) as Json;
      const r = await run("schema", entry.name);
      expect(r).toMatchObject({ code: 0, err: "" });
      expect(JSON.parse(r.out)).toEqual(schema);
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(typeof schema.description).toBe("string");
      const props = schema.properties as Record<string, Json>;
      const undescribed = Object.entries(props).filter(([k, v]) => k !== "_con" && typeof v.description !== "string" && typeof v.$ref !== "string");
      expect(undescribed.map(([k]) => k)).toEqual([]);
    });
  }

  it("the protocol schema bounds its port to 1-65535", async () => {
    const s = mb.inlineJsonSchemaOf(mb.Protocol) as { properties: { defaultPort: Json } };
    expect(JSON.stringify(s.properties.defaultPort)).toContain('"minimum":1');
    expect(JSON.stringify(s.properties.defaultPort)).toContain('"maximum":65535');
  });

  it("an unknown name is a usage error listing the known ornaments and records", async () => {
    const r = await run("schema", "nope");
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `mb: error: unknown ornament or record 'nope'; known ornaments: ${mb.ORNAMENTS.map((o) => o.name).join(", ")}; known records: ${RECORD_NAMES.join(", ")}\nmb: hint: run \`mb --help\` for usage\n`,
    );
  });

  it("mb schema with no name still prints BuilderSpec", async () => {
    const r = await run("schema");
    expect(JSON.parse(r.out)).toEqual(mb.jsonSchemaOf(mb.BuilderSpec));
  });
});
