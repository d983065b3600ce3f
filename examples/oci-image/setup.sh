#!/usr/bin/env bash
# Setup for the OCI example: the busybox layer is made from Debian's static busybox (package busybox-static).
set -euo pipefail
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
  exit 0
fi
echo "setup: installing busybox-static" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q >/dev/null
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends busybox-static >/dev/null
