/**
 * The OCI evidence runner's entry in the engine's runner table: a result holding an `oci-layout` file is an OCI image
 * layout, and its evidence runs inside the image (loaded only when such evidence runs).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type { RunnerEntry } from "../../engine/runners.js";

/** True when a store entry is an OCI image layout (it holds an `oci-layout` file). */
export function isOciLayout(dir: string): boolean {
  try {
    return statSync(join(dir, "oci-layout")).isFile();
  } catch {
    return false;
  }
}

/**
 * OCI image layouts: the runner unpacks the image, refusing any layer whose digest or diff_id does not match, and
 * runs the command isolated inside it.
 */
export const ociEvidenceRunner: RunnerEntry = {
  name: "oci",
  detects: isOciLayout,
  load: async () => (await import("./run.js")).runOciEvidence,
};
