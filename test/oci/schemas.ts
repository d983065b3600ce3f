// The OCI image-spec JSON Schemas as Debian ships them (golang-github-opencontainers-image-spec-dev, draft-04), compiled
// with ajv. The files name each other relatively against differing ids, so they are registered under one base instead.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import AjvModule from "ajv-draft-04";
import type { ValidateFunction } from "ajv";

// A CommonJS module: under NodeNext its default import is module.exports, whose `default` is the class.
const Ajv = AjvModule.default;

const PACKAGE = "golang-github-opencontainers-image-spec-dev";
const BASE = "https://opencontainers.org/schema/";

/** The directory holding the schemas, found through dpkg; a missing package throws naming it. */
export function schemaDir(): string {
  let listing: string;
  try {
    listing = execFileSync("dpkg", ["-L", PACKAGE], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    throw new Error(`the OCI image-spec JSON Schemas are not installed: apt-get install ${PACKAGE}`);
  }
  const file = listing.split("\n").find((l) => l.endsWith("/schema/image-manifest-schema.json"));
  if (!file) throw new Error(`${PACKAGE} lists no schema/image-manifest-schema.json`);
  return dirname(file);
}

/** Drops every nested `id` that is a URI (draft-04 base changes), keeping properties that happen to be named id. */
function stripIds(node: unknown, top: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => stripIds(n, false));
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "id" && typeof v === "string" && v.startsWith("https://") && !top) continue;
    if (k === "properties" && typeof v === "object" && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, stripIds(pv, false)]));
    } else out[k] = stripIds(v, false);
  }
  return out;
}

export type OciSchemaName = "image-index-schema" | "image-manifest-schema" | "config-schema" | "image-layout-schema" | "content-descriptor";

/** Validators for the image-spec documents. */
export function ociSchemas(): Record<OciSchemaName, ValidateFunction> {
  const dir = schemaDir();
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const schema = stripIds(JSON.parse(readFileSync(join(dir, f), "utf8")), true) as Record<string, unknown>;
    schema.id = `${BASE}${f}`;
    // The files say https://json-schema.org/draft-04/schema#, which is the draft-04 meta-schema under another name.
    delete schema.$schema;
    ajv.addSchema(schema);
  }
  const get = (n: OciSchemaName): ValidateFunction => {
    const v = ajv.getSchema(`${BASE}${n}.json`);
    if (!v) throw new Error(`schema ${n}.json not found in ${dir}`);
    return v;
  };
  return {
    "image-index-schema": get("image-index-schema"),
    "image-manifest-schema": get("image-manifest-schema"),
    "config-schema": get("config-schema"),
    "image-layout-schema": get("image-layout-schema"),
    "content-descriptor": get("content-descriptor"),
  };
}

/** ajv's errors as one line each, or [] when `value` is valid. */
export function schemaErrors(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? ""}`);
}
