// The capabilities vocabulary against the original's tests (src/ornaments/capabilities.nix): the built-in categories,
// the JSON-Schema-shaped `schema` eliminator, `setSchemas` and `contains`.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const { capabilities } = mb;
const { lifecycle, crud, streaming } = capabilities.builtins;

describe("built-in categories", () => {
  it("lifecycle is a typed CapabilityCategory of start, stop, health", () => {
    expect(lifecycle._con).toBe("MetaBuilderCapabilityCategory");
    expect(lifecycle).toEqual(
      mb.capabilityCategory({
        name: "lifecycle",
        description: "Service lifecycle management",
        capabilities: [
          mb.capability({ name: "start", description: "Start service" }),
          mb.capability({ name: "stop", description: "Stop service" }),
          mb.capability({ name: "health", description: "Check service health" }),
        ],
      }),
    );
  });

  it("crud carries typed params, exactly the original's", () => {
    const p = (name: string, description: string, type: mb.RuntimeType) => ({ _con: "MetaBuilderParam", name, description, type, required: true });
    expect(crud.description).toBe("Create, read, update, delete operations");
    expect(crud.capabilities.map((c) => [c.name, c.description, c.params, c.returns])).toEqual([
      ["create", "Create a resource", [p("data", "Resource data", "RTObject")], "RTObject"],
      ["read", "Read a resource", [p("id", "Resource identifier", "RTString")], "RTObject"],
      ["update", "Update a resource", [p("id", "Resource identifier", "RTString"), p("data", "Updated data", "RTObject")], "RTObject"],
      ["delete", "Delete a resource", [p("id", "Resource identifier", "RTString")], "RTObject"],
    ]);
  });

  it("streaming: subscribe(channel), publish(channel, data), all required", () => {
    expect(streaming.description).toBe("Streaming and pub-sub operations");
    expect(streaming.capabilities.map((c) => [c.name, c.description, c.params.map((x) => [x.name, x.description, x.type, x.required])])).toEqual([
      ["subscribe", "Subscribe to a channel", [["channel", "Channel identifier", "RTString", true]]],
      ["publish", "Publish to a channel", [["channel", "Channel identifier", "RTString", true], ["data", "Data to publish", "RTObject", true]]],
    ]);
  });

  it("are frozen: nobody can change the vocabulary for everyone", () => {
    expect(() => {
      (lifecycle.capabilities as mb.Capability[]).push(mb.capability({ name: "x" }));
    }).toThrow(TypeError);
    expect(lifecycle.capabilities).toHaveLength(3);
  });
});

describe("schema", () => {
  it("a zero-param capability", () => {
    expect(capabilities.schema(lifecycle.capabilities[0]!)).toEqual({ type: "object", properties: {}, required: [], returns: "object", description: "Start service" });
  });

  it("crud create: properties and required", () => {
    expect(capabilities.schema(crud.capabilities[0]!)).toEqual({
      type: "object",
      properties: { data: { type: "object", description: "Resource data" } },
      required: ["data"],
      returns: "object",
      description: "Create a resource",
    });
  });

  it("maps every runtime type, and leaves optional params out of required", () => {
    const cap = mb.capability({
      name: "q",
      params: (["RTString", "RTInt", "RTBool", "RTObject", "RTArray"] as const).map((type, i) => mb.param({ name: `p${i}`, type, required: i % 2 === 0 })),
      returns: "RTArray",
    });
    const s = capabilities.schema(cap);
    expect(Object.values(s.properties).map((p) => p.type)).toEqual(["string", "integer", "boolean", "object", "array"]);
    expect(s.required).toEqual(["p0", "p2", "p4"]);
    expect(s.returns).toBe("array");
  });

  it("rejects an unknown runtime type tag, naming where", () => {
    expect(() => capabilities.schema({ name: "broken", params: [{ name: "x", type: { _con: "RTBogus" } }] })).toThrow(/params\[0\]\.type: Invalid option: expected one of "RTString"\|"RTInt"\|"RTBool"\|"RTObject"\|"RTArray"/);
  });
});

describe("setSchemas and contains", () => {
  const cs = capabilities.set({ categories: [lifecycle, crud], custom: [mb.capability({ name: "ping", description: "ping" })] });

  it("flattens categories with a category tag (custom ones tagged custom)", () => {
    const flat = capabilities.setSchemas(cs);
    expect(Object.keys(flat).sort()).toEqual(["create", "delete", "health", "ping", "read", "start", "stop", "update"]);
    expect(flat.start!.category).toBe("lifecycle");
    expect(flat.create!.category).toBe("crud");
    expect(flat.ping).toEqual({ type: "object", properties: {}, required: [], returns: "object", description: "ping", category: "custom" });
  });

  it("a set built from the built-ins is a typed CapabilitySet", () => {
    expect(cs._con).toBe("MetaBuilderCapabilitySet");
  });

  it("contains names capabilities of categories and custom ones", () => {
    expect(capabilities.contains(cs, "update")).toBe(true);
    expect(capabilities.contains(cs, "ping")).toBe(true);
    expect(capabilities.contains(cs, "publish")).toBe(false);
  });
});
