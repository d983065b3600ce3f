// The seed's worked example: a runnable OCI image layout from one static busybox layer, with no container daemon.
import { builderOutput, evidence, ociImage } from "metabuilder";
import { busyboxRootfs } from "./busybox-rootfs.js";

export default ociImage({
  name: "busybox-shell",
  layers: [{ name: "busybox", source: builderOutput(busyboxRootfs) }],
  entrypoint: ["/bin/sh"],
  evidence: [
    evidence({
      name: "smoke-test",
      payload: {
        command: "/bin/sh -c 'echo oci-smoke-ok'",
        expectedOutput: "oci-smoke-ok",
      },
    }),
  ],
});
