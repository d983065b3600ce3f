#!/usr/bin/env bash
# Setup for the multi-platform example: Debian's busybox-static packages of both architectures, downloaded (not
# installed) with `apt-get download` into debs/ beside this script as debs/busybox-static_<arch>.deb. arm64 must be a
# dpkg architecture of this machine (`dpkg --add-architecture arm64 && apt-get update`, which .ci/run does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/debs"
for arch in amd64 arm64; do
  deb="$here/debs/busybox-static_$arch.deb"
  [ -s "$deb" ] && continue
  if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "setup: $arch is not a dpkg architecture here: run 'dpkg --add-architecture $arch && apt-get update' as root" >&2
    exit 1
  fi
  echo "setup: downloading busybox-static:$arch" >&2
  tmp="$(mktemp -d "$here/debs/.download.XXXXXX")"
  # apt's _apt user cannot write everywhere; the download then runs as the caller (a warning, not an error).
  if ! log=$(cd "$tmp" && apt-get download -q "busybox-static:$arch" 2>&1); then
    rm -rf "$tmp"
    printf '%s\n' "$log" >&2
    echo "setup: apt-get download busybox-static:$arch failed (is the package list current? apt-get update)" >&2
    exit 1
  fi
  mv "$tmp"/busybox-static_*_"$arch".deb "$deb"
  rm -rf "$tmp"
done
