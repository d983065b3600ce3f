/** The closing steps of oci-image: verify-blobs, clean-scratch, and archive-layout (the layout as one tar). */
import type { Operation } from "../../core/operations.js";
import { escapeShellArg } from "../../program/render.js";
import { DETERMINISTIC_TAR_FLAGS, bashStep, jsonText, type StepContext } from "./common.js";

/** Docker's reference grammar for a repository name, so that `<name>:latest` can be a RepoTag. */
const DOCKER_REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/**
 * verify-blobs: every recorded blob has its recorded size, and (with "step") every blob is named by its digest; with
 * "store" the digests are the engine's to check (the oci-blobs promise). One digest process and one `wc` for all
 * blobs; the rest is bash.
 */
export function verifyBlobsStep(ctx: StepContext, verifyBlobs: "step" | "store"): Operation {
  return bashStep(
    ctx,
    "verify-blobs",
    `set -euo pipefail
st=0
${verifyBlobs === "store" ? "" : `sums=$(${ctx.hash} "$out"/blobs/sha256/*)
while read -r d b; do
  b=\${b#\\*}
  if [ "$d" != "\${b##*/}" ]; then
    echo "oci-image: blob digest mismatch: $b" >&2
    st=1
  fi
done <<< "$sums"
`}declare -A size
while read -r s b; do
  size[\${b##*/}]=$s
done <<< "$(wc -c "$out"/blobs/sha256/*)"
for f in "$out"/.scratch/*.size; do
  n=\${f##*/}
  n=\${n%.size}
  d=$(< "$out/.scratch/$n.digest")
  s=$(< "$f")
  if [ "$s" != "\${d:+\${size[$d]-}}" ]; then
    echo "oci-image: blob size mismatch: $n" >&2
    st=1
  fi
done
exit $st
`,
  );
}

/** clean-scratch: removes the steps' scratch directory from the output. */
export function cleanScratchStep(ctx: StepContext): Operation {
  return bashStep(ctx, "clean-scratch", `set -euo pipefail
rm -rf "$out/.scratch"
`);
}

/**
 * archive-layout: the layout as image.oci.tar, which also carries a docker-archive manifest.json (as `docker save` does
 * since Docker 25) read back from the layout's own index and manifest; it lives only in the archive, never in the
 * layout. Modes are fixed so that the build's umask cannot change the archive. With `tags`, they are its RepoTags.
 */
export function archiveStep(ctx: StepContext, name: string, tags?: readonly string[]): Operation {
  // Named tags (already checked against Docker's reference grammar) are the RepoTags; else `<name>:latest` when valid.
  const repoTags = tags !== undefined ? jsonText(tags) : DOCKER_REPOSITORY.test(name) ? jsonText([`${name}:latest`]) : "[]";
  return bashStep(
    ctx,
    "archive-layout",
    `set -euo pipefail
sha='"digest":"sha256:([0-9a-f]{64})"'
idx=$(< "$out/index.json")
[[ $idx =~ $sha ]]
m=$(< "$out/blobs/sha256/\${BASH_REMATCH[1]}")
rest=\${m#*'"config":'}
[[ $rest =~ $sha ]]
cfg=\${BASH_REMATCH[1]}
rest=\${m#*'"layers":'}
layers=""
sep=""
while [[ $rest =~ $sha ]]; do
  layers="$layers$sep\\"blobs/sha256/\${BASH_REMATCH[1]}\\""
  sep=,
  rest=\${rest#*"\${BASH_REMATCH[0]}"}
done
dm=$(mktemp -d "$TMPDIR/docker-manifest.XXXXXX")
printf '[{"Config":"blobs/sha256/%s","RepoTags":%s,"Layers":[%s]}]' "$cfg" ${escapeShellArg(repoTags)} "$layers" > "$dm/manifest.json"
LC_ALL=C tar ${DETERMINISTIC_TAR_FLAGS} --mode=u=rwX,go=rX \\
  -cf "$TMPDIR/image.oci.tar" \\
  -C "$out" . -C "$dm" ./manifest.json
rm -rf "$dm"
mv "$TMPDIR/image.oci.tar" "$out/image.oci.tar"
`,
  );
}
