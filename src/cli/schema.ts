/** `mb schema [name]`: the JSON Schema of BuilderSpec, of an ornament of the registry, or of a record of the record table. */
import { findRecordSchema } from "../core/record-schemas.js";
import { inlineJsonSchemaOf, jsonSchemaOf } from "../core/json-schema.js";
import { BuilderSpec } from "../core/spec.js";
import { findOrnament } from "../ornaments/registry.js";

/** The schema `mb schema` prints for `name` (BuilderSpec when absent), or null when no ornament or record has that name. */
export async function runSchema(name: string | undefined): Promise<Record<string, unknown> | null> {
  if (name === undefined) return jsonSchemaOf(BuilderSpec);
  const ornament = findOrnament(name);
  if (ornament) return (await ornament.load()).ornament.jsonSchema();
  const record = findRecordSchema(name);
  return record ? inlineJsonSchemaOf(await record.load()) : null;
}
