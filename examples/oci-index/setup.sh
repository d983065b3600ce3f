#!/usr/bin/env bash
# Setup for the multi-platform example: Debian's busybox-static of both architectures, downloaded (not installed) with
# `apt-get download` into debs/ beside this script as debs/busybox-static_<arch>.deb. The packages are pinned, version
# and sha256: their bytes are part of the example's store paths (path imports, hashed by content; test/golden pins
# them). When Debian replaces the version, change the pins here, then re-pin the golden paths (README "Bumps").
# arm64 must be a dpkg architecture here (`dpkg --add-architecture arm64 && apt-get update`, which .ci/run does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="1:1.35.0-4+deb12u1+b1"
declare -A sha256=(
  [amd64]=3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
  [arm64]=732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5
)
mkdir -p "$here/debs"
for arch in amd64 arm64; do
  deb="$here/debs/busybox-static_$arch.deb"
  if [ -s "$deb" ] && [ "$(sha256sum "$deb" | cut -d " " -f 1)" = "${sha256[$arch]}" ]; then continue; fi
  if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "setup: $arch is not a dpkg architecture here: run 'dpkg --add-architecture $arch && apt-get update' as root" >&2
    exit 1
  fi
  echo "setup: downloading busybox-static:$arch=$version" >&2
  tmp="$(mktemp -d "$here/debs/.download.XXXXXX")"
  # apt's _apt user may not write here; the download then runs as the caller (a warning, not an error).
  if ! log=$(cd "$tmp" && apt-get download -q "busybox-static:$arch=$version" 2>&1); then
    rm -rf "$tmp"
    printf '%s\n' "$log" >&2
    echo "setup: apt-get download busybox-static:$arch=$version failed (apt-get update? if Debian no longer has this version, update the pins in $0)" >&2
    exit 1
  fi
  got="$(sha256sum "$tmp"/busybox-static_*_"$arch".deb | cut -d " " -f 1)"
  if [ "$got" != "${sha256[$arch]}" ]; then
    rm -rf "$tmp"
    echo "setup: busybox-static:$arch=$version has sha256 $got, not the pinned ${sha256[$arch]}" >&2
    exit 1
  fi
  mv "$tmp"/busybox-static_*_"$arch".deb "$deb"
  rm -rf "$tmp"
done
