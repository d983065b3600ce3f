/**
 * The `attest` option of oci-image: which attestations to attach to the image as OCI artifacts (a CycloneDX SBOM, an
 * in-toto SLSA provenance statement). Absent by default, so an image without it keeps its program and store path.
 */
import { z } from "zod";
import { strictObject } from "../../core/strict.js";

/** `{ sbom?, provenance? }`: at least one of them true. */
export const Attest = strictObject({
  sbom: z.boolean().optional().describe("Attach a CycloneDX 1.6 SBOM (artifactType application/vnd.cyclonedx+json)."),
  provenance: z.boolean().optional().describe("Attach an in-toto Statement v1 with a SLSA Provenance v1 predicate (artifactType application/vnd.in-toto+json)."),
})
  .refine((a) => a.sbom === true || a.provenance === true, "attest asks for nothing: set sbom or provenance (or both) to true")
  .describe("Attestations attached to the image as OCI artifacts whose subject is the image manifest.");
export type Attest = z.infer<typeof Attest>;
