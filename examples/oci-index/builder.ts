// A multi-platform image: the busybox shell for amd64 and for arm64 (Debian's busybox-static of each architecture),
// under one OCI image index. `skopeo inspect --override-arch arm64 oci:result` picks the arm64 image.
// The named exports are the per-platform images: `mb check examples/oci-index/builder.ts#amd64` runs the amd64
// image's evidence; the arm64 image has none (its busybox cannot run on this machine).
import { builderOutput, evidence, ociImage, ociIndex } from "metabuilder";
import { busyboxRootfs } from "./busybox-rootfs.js";

export const amd64 = ociImage({
  name: "busybox-amd64",
  layers: [{ name: "busybox", source: builderOutput(busyboxRootfs("amd64")) }],
  entrypoint: ["/bin/sh"],
  architecture: "amd64",
  evidence: [evidence({ name: "smoke-test", payload: { command: "/bin/sh -c 'echo oci-smoke-ok'", expectedOutput: "oci-smoke-ok" } })],
});

export const arm64 = ociImage({
  name: "busybox-arm64",
  layers: [{ name: "busybox", source: builderOutput(busyboxRootfs("arm64")) }],
  entrypoint: ["/bin/sh"],
  architecture: "arm64",
  variant: "v8",
});

export default ociIndex({ name: "busybox-multiarch", images: [amd64, arm64], tags: ["busybox-multiarch:1.35"] });
