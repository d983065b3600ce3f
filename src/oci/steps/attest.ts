/** attest: the step that writes the image's SBOM and provenance as OCI artifacts (the program is ../attest/program.ts). */
import type { Operation } from "../../core/operations.js";
import { BUILD_INFO_VAR } from "../../core/build-info-var.js";
import { ATTEST_PROGRAM } from "../attest/program.js";
import type { Attest } from "../attest/options.js";
import { bashStep, jsonText, type StepContext } from "./common.js";
import type { StepLayer } from "./layer.js";

/** What the program is told: which documents, the image's name, its spec layers (in order) and its spec's fields. */
export interface AttestConfig {
  readonly name: string;
  readonly attest: Attest;
  /** The image's spec fields, as the provenance's externalParameters record them (layer sources are added at build time). */
  readonly spec: Readonly<Record<string, unknown>> & { readonly architecture: string };
}

/**
 * attest: runs the program with node after write-index (the rootfs directories are still in scratch), reading the
 * engine's build info from `$MB_BUILD_INFO`, which the engine gives to builds whose steps name it; each layer's rootfs
 * store path follows the program and its configuration as arguments.
 */
export function attestStep(ctx: StepContext, cfg: AttestConfig, layers: readonly StepLayer[]): Operation {
  const config = {
    name: cfg.name,
    sbom: cfg.attest.sbom === true,
    provenance: cfg.attest.provenance === true,
    layers: layers.map((l) => ({ name: l.name, ...(l.compression === undefined ? {} : { compression: l.compression }) })),
    spec: cfg.spec,
  };
  return bashStep(
    ctx,
    "attest",
    `set -euo pipefail
if [ -z "\${${BUILD_INFO_VAR}:-}" ]; then
  echo "oci-image attest: ${BUILD_INFO_VAR} is not set: the SBOM and provenance are made from the build facts mb build gives this step" >&2
  exit 1
fi
node -e "$1" "$2" "\${@:3}"
`,
    [ATTEST_PROGRAM, jsonText(config), ...layers.map((l) => l.source)],
  );
}
