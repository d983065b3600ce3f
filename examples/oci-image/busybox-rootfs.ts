// The busybox layer as a package: a rootfs holding Debian's static busybox and one link per applet (bin/sh among them).
// Its store path follows from this description before anything is built.
import {
  declareTool, hostPackage, materializeDerivation, output, runTool, tool, transformOutput, type BuilderSpecInput,
} from "metabuilder";

const bash = tool({ name: "bash", package: hostPackage("bash") });
const busybox = tool({ name: "busybox", package: hostPackage("busybox-static") });
const rootfs = output({ name: "rootfs", path: "$out", format: "tree" });

// Only the declared tools are on PATH, so the file work is done by busybox's own applets.
const install = `set -euo pipefail
busybox mkdir -p "$out/bin"
busybox cp "$(command -v busybox)" "$out/bin/busybox"
busybox chmod 0755 "$out/bin/busybox"
for applet in $(busybox --list); do
  if [ "$applet" != busybox ]; then busybox ln -s busybox "$out/bin/$applet"; fi
done
`;

export const busyboxRootfs: BuilderSpecInput = {
  _con: "MetaBuilderSpec",
  name: "busybox-rootfs",
  parameters: [],
  inputs: [],
  dependencies: [],
  tools: [bash, busybox],
  operations: [
    declareTool({ tool: bash }),
    declareTool({ tool: busybox }),
    runTool({ name: "install-busybox", tool: bash, args: ["-c", install, "install-busybox"] }),
    transformOutput({ output: rootfs }),
    materializeDerivation({ name: "busybox-static-rootfs" }),
  ],
  outputs: [rootfs],
  evidence: [],
};

export default busyboxRootfs;
