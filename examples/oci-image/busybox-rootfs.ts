// The busybox layer as a package: a rootfs holding Debian's static busybox and one link per applet (bin/sh among them).
// Its store path follows from this description before anything is built.
import {
  declareTool, hostPackage, materializeDerivation, output, runTool, tool, transformOutput, type BuilderSpecInput,
} from "metabuilder";

const bash = tool({ name: "bash", package: hostPackage("bash") });
const busybox = tool({ name: "busybox", package: hostPackage("busybox-static") });
const rootfs = output({ name: "rootfs", path: "$out", format: "tree" });

// Only the declared tools are on PATH, so the file work is done by busybox's own applets. The applet links are made
// by one process rather than one `ln` each: bash's printf writes a cpio archive (newc) of the symlinks, all
// pointing at `busybox`, which `busybox cpio -i` unpacks into the rootfs.
const install = `set -euo pipefail
busybox mkdir -p "$out/bin"
busybox cp "$(command -v busybox)" "$out/bin/busybox"
busybox chmod 0755 "$out/bin/busybox"
pads=("" "\\0" "\\0\\0" "\\0\\0\\0")
entry() { # <inode> <mode> <name> <link target>: one newc header, the name and the target, each padded to 4 bytes
  local n=$((\${#3} + 1))
  printf "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\\0\${pads[(4 - (110 + n) % 4) % 4]}%s\${pads[(4 - \${#4} % 4) % 4]}" \\
    "$1" "$2" 0 0 1 0 "\${#4}" 0 0 0 0 "$n" 0 "$3" "$4"
}
cd "$out"
{
  i=0
  for applet in $(busybox --list); do
    if [ "$applet" != busybox ]; then i=$((i + 1)); entry "$i" 41471 "bin/$applet" busybox; fi
  done
  entry 0 0 'TRAILER!!!' ""
} | busybox cpio -i
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
