// What the attestation tests share: the attached documents of a layout found by their subject (the image manifest's
// digest), and the validators: CycloneDX's own JSON validator (@cyclonedx/cyclonedx-library) for the SBOM, and the
// in-toto Statement v1 / SLSA Provenance v1 schema (test/fixtures/attest/, with ajv) for the provenance.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";

// CommonJS modules: under NodeNext their default import is module.exports, whose `default` is the export.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export const SBOM_TYPE = "application/vnd.cyclonedx+json";
export const INTOTO_TYPE = "application/vnd.in-toto+json";
export const EMPTY_TYPE = "application/vnd.oci.empty.v1+json";
const SCHEMA = new URL("../fixtures/attest/slsa-provenance-v1.schema.json", import.meta.url).pathname;

/** The CycloneDX validator's errors for an SBOM's JSON text (null when valid). */
export async function sbomErrors(text: string): Promise<unknown> {
  return new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
}

let provenanceSchema: ReturnType<InstanceType<typeof Ajv>["compile"]> | null = null;
/** The schema's errors for a provenance statement (empty when valid). */
export function provenanceErrors(doc: unknown): string[] {
  if (provenanceSchema === null) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false }) // `required` inside anyOf names properties declared beside it;
    addFormats(ajv);
    provenanceSchema = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")));
  }
  return provenanceSchema(doc) ? [] : (provenanceSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** An artifact manifest of the layout, its descriptor in index.json, and its document (bytes and parsed). */
export interface Attached {
  readonly descriptor: any;
  readonly manifest: any;
  readonly text: string;
  readonly doc: any;
}

/** A blob of a layout by digest, as text. */
export function blobText(layout: string, digest: string): string {
  return readFileSync(join(layout, "blobs/sha256", digest.slice("sha256:".length)), "utf8");
}

/** The referrers of a manifest digest in a layout (the manifests whose `subject` names it), by artifactType. */
export function referrers(layout: string, subjectDigest: string): Map<string, Attached> {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const out = new Map<string, Attached>();
  for (const d of index.manifests) {
    const manifest = JSON.parse(blobText(layout, d.digest));
    if (manifest.subject?.digest !== subjectDigest) continue;
    const text = blobText(layout, manifest.layers[0].digest);
    out.set(manifest.artifactType, { descriptor: d, manifest, text, doc: JSON.parse(text) });
  }
  return out;
}

/** Every file component of an SBOM (nested anywhere), by bom-ref. */
export function sbomComponents(doc: any): any[] {
  const all: any[] = [];
  const walk = (cs: any[] | undefined): void => {
    for (const c of cs ?? []) {
      all.push(c);
      walk(c.components);
    }
  };
  walk(doc.components);
  return all;
}
