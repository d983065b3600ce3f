// A busybox rootfs for one architecture, from Debian's busybox-static package of that architecture (downloaded by
// setup.sh into debs/): the package is extracted with dpkg-deb, its static busybox installed as bin/busybox, and one link
// per applet made from the list in the package's own manual page (so no busybox of that architecture has to run here).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  declareTool, ExitCode, hostPackage, MbError, materializeDerivation, output, pathPackage, runTool, tool, transformOutput, type BuilderSpecInput,
} from "metabuilder";

/** The architectures setup.sh downloads a package for. */
export type Arch = "amd64" | "arm64";

/** Where setup.sh puts the package of `arch`; missing, the builder does not load (exit 2), naming setup.sh. */
export function debOf(arch: Arch): string {
  const deb = fileURLToPath(new URL(`./debs/busybox-static_${arch}.deb`, import.meta.url));
  if (!existsSync(deb)) {
    const setup = fileURLToPath(new URL("./setup.sh", import.meta.url));
    throw new MbError("input.missing", `busyboxRootfs: '${deb}' does not exist: run \`bash ${setup}\` (it downloads busybox-static for amd64 and arm64)`, { exitCode: ExitCode.usage });
  }
  return deb;
}

const bash = tool({ name: "bash", package: hostPackage("bash") });
const dpkg = tool({ name: "dpkg", package: hostPackage("dpkg") });
const tar = tool({ name: "tar", package: hostPackage("tar") }); // dpkg-deb -x runs tar
const gzip = tool({ name: "gzip", package: hostPackage("gzip") });
const coreutils = tool({ name: "coreutils", package: hostPackage("coreutils") });
const rootfs = output({ name: "rootfs", path: "$out", format: "tree" });

// $1 is the .deb. The manual page lists the applets after "Currently available applets include:", as roff lines
// "\&        [, [[, acpid, ..." up to ".Ve" ("\-" is a dash); bash reads them, no process per line.
const install = `set -euo pipefail
x="$TMPDIR/busybox-static"
dpkg-deb -x "$1" "$x"
mkdir -p "$out/bin"
cp "$x/bin/busybox" "$out/bin/busybox"
chmod 0755 "$out/bin/busybox"
applets=()
in=0
while IFS= read -r line; do
  if [ "$in" = 0 ]; then
    [ "$line" = "Currently available applets include:" ] && in=1
    continue
  fi
  [ "$line" = ".Ve" ] && break
  case $line in
    '\\&'*)
      line=\${line#'\\&'}
      line=\${line//'\\-'/-}
      IFS=', ' read -ra words <<< "$line"
      applets+=("\${words[@]}")
      ;;
  esac
done < <(zcat "$x/usr/share/man/man1/busybox.1.gz")
if [ "\${#applets[@]}" -lt 100 ]; then
  echo "busybox-rootfs: the manual page of $1 lists \${#applets[@]} applets" >&2
  exit 1
fi
cd "$out/bin"
for a in "\${applets[@]}"; do
  if [ "$a" != busybox ]; then ln -s busybox "$a"; fi
done
`;

/** The busybox rootfs of `arch`: bin/busybox (that architecture's binary) and a link per applet. */
export function busyboxRootfs(arch: Arch): BuilderSpecInput {
  return {
    _con: "MetaBuilderSpec",
    name: `busybox-rootfs-${arch}`,
    parameters: [],
    inputs: [],
    dependencies: [],
    tools: [bash, dpkg, tar, gzip, coreutils],
    operations: [
      ...[bash, dpkg, tar, gzip, coreutils].map((t) => declareTool({ tool: t })),
      runTool({ name: "install-busybox", tool: bash, args: ["-c", install, "install-busybox", pathPackage(debOf(arch), `busybox-static_${arch}.deb`)] }),
      transformOutput({ output: rootfs }),
      materializeDerivation({ name: `busybox-static-rootfs-${arch}` }),
    ],
    outputs: [rootfs],
    evidence: [],
  };
}
