// JSON Schemas derived from the zod schemas: BuilderSpec (what `mb schema` prints) and the oci-image ornament.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as mb from "../../src/index.js";

type Json = Record<string, unknown>;
const BASE_FIELDS = ["name", "parameters", "inputs", "dependencies", "tools", "operations", "outputs", "evidence"];
const CONSTRUCTORS = [...mb.builderOperationNames, ...mb.runtimeOperationNames];

/** Follows a local `$ref` (`#/$defs/x` or `#`) inside a schema document. */
function deref(root: Json, node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  if (ref === "#") return root;
  const parts = ref.replace(/^#\//, "").split("/");
  let at: unknown = root;
  for (const p of parts) at = (at as Json)[p];
  return deref(root, at as Json);
}

/** The `_con` constants an operations array admits. */
function operationConstructors(root: Json): string[] {
  const ops = deref(root, (root.properties as Json).operations as Json);
  const items = deref(root, ops.items as Json);
  const branches = (items.oneOf ?? items.anyOf) as Json[];
  return branches.map((b) => ((deref(root, b).properties as Json)._con as Json).const as string);
}

function roundTrips(schema: Json): void {
  const text = JSON.stringify(schema);
  expect(JSON.parse(text)).toEqual(schema);
}

describe("BuilderSpec JSON Schema", () => {
  const schema = z.toJSONSchema(mb.BuilderSpec, { io: "input", unrepresentable: "any" }) as Json;

  it("is plain JSON (draft 2020-12)", () => {
    roundTrips(schema);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.type).toBe("object");
  });

  it("has every spec field, all required but the defaulted _con", () => {
    expect(Object.keys(schema.properties as Json)).toEqual(["_con", ...BASE_FIELDS]);
    expect(schema.required).toEqual(BASE_FIELDS);
    expect((schema.properties as Json)._con).toEqual({ default: "MetaBuilderSpec", type: "string", const: "MetaBuilderSpec" });
  });

  it("admits exactly the 15 operation constructors", () => {
    expect(operationConstructors(schema).sort()).toEqual([...CONSTRUCTORS].sort());
  });

  it("carries the reference's defaults", () => {
    const text = JSON.stringify(schema);
    expect(text).toContain('"role":{"default":"runtime","type":"string"}');
    expect(text).toContain('"builder":{"default":"runCommand","type":"string"}');
    expect(text).toContain('"format":{"default":"path","type":"string","enum":["path","tree","directory","json","tar","text","elf","archive","oci-blobs"]}');
    expect(text).toContain('"transport":{"description":"The transport: TCP, Unix (a socket) or Stdio.","type":"string","enum":["TCP","Unix","Stdio"]}');
  });

  it("is what jsonSchemaOf derives, up to $defs reuse", () => {
    const reused = mb.jsonSchemaOf(mb.BuilderSpec);
    roundTrips(reused);
    expect(operationConstructors(reused).sort()).toEqual([...CONSTRUCTORS].sort());
    expect(reused.required).toEqual(BASE_FIELDS);
  });
});

describe("oci-image ornament JSON Schema", () => {
  const schema = mb.OciImageBuilder.jsonSchema();
  // The reference's inserted fields (section 6); the ornament may insert optional ones after them.
  const reference = ["layers", "entrypoint", "cmd", "env", "exposedPorts", "labels", "architecture", "os"];
  const inserted = mb.OciImageBuilder.inserted;

  it("inserts the reference's fields first", () => {
    expect(inserted.slice(0, reference.length)).toEqual(reference);
  });

  it("is plain JSON with the base fields and the inserted ones", () => {
    roundTrips(schema);
    expect(Object.keys(schema.properties as Json)).toEqual(["_con", ...BASE_FIELDS, ...inserted]);
    expect(schema.required).toEqual(expect.arrayContaining([...BASE_FIELDS, ...reference]));
    expect((schema.required as string[]).slice(0, BASE_FIELDS.length + reference.length)).toEqual([...BASE_FIELDS, ...reference]);
    expect(operationConstructors(schema).sort()).toEqual([...CONSTRUCTORS].sort());
  });

  it("describes a layer as a name and a package source", () => {
    const layers = deref(schema, (schema.properties as Json).layers as Json);
    const layer = deref(schema, layers.items as Json);
    expect(layer.required).toEqual(["name", "source"]);
    expect((layer.properties as Json).name).toEqual({ type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" });
  });

  it("has a descriptor of kept and inserted fields", () => {
    expect(mb.OciImageBuilder.describe()).toEqual({
      name: "MetaBuilderOciImage",
      base: "MetaBuilderSpec",
      constructor: "MetaBuilderSpec",
      kept: ["_con", ...BASE_FIELDS],
      inserted,
    });
  });
});
