// An image FROM another builder's image: examples/oci-image's busybox image is the base (its layer, Entrypoint and
// history inherited), with one app layer on top and a Cmd of its own.
import { fileURLToPath } from "node:url";
import { builderOutput, evidence, ociImage, pathPackage } from "metabuilder";
import busyboxImage from "../oci-image/builder.js";

export default ociImage({
  name: "busybox-app",
  base: builderOutput(busyboxImage),
  layers: [{ name: "app", source: pathPackage(fileURLToPath(new URL("./rootfs", import.meta.url)), "app-rootfs") }],
  env: ["APP_GREETING=hello"],
  cmd: ["-c", "cat /app/hello.txt"],
  evidence: [
    evidence({
      name: "app-file",
      payload: { command: "/bin/sh -c 'cat /app/hello.txt'", expectedOutput: "hello from the app layer" },
    }),
  ],
});
