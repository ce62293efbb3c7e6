#!/usr/bin/env bash
# Installs what troupe's tests need when it is missing: git and Chromium (Debian's packages).
# As root with apt-get it installs them; otherwise it says what to install and fails.
set -euo pipefail
need=()
command -v git >/dev/null 2>&1 || need+=(git)
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
  && ! command -v google-chrome >/dev/null 2>&1 && [ -z "${TROUPE_BROWSER:-}" ]; then
  need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing ${need[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
echo "deps: missing ${need[*]}; install them (e.g. sudo apt-get install -y ${need[*]}) or set TROUPE_BROWSER to a Chromium binary" >&2
exit 1
