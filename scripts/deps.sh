#!/usr/bin/env bash
# Installs what troupe's tests need when it is missing: git and Chromium (Debian's packages), and
# the third-party MCP clients the tests run (Node 22 and the official TypeScript SDK, from the npm
# registry, into testdata/node/node_modules). As root with apt-get it installs system packages;
# otherwise it says what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v git >/dev/null 2>&1 || need+=(git)
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
  && ! command -v google-chrome >/dev/null 2>&1 && [ -z "${TROUPE_BROWSER:-}" ]; then
  need+=(chromium)
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing ${need[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "deps: missing ${need[*]}; install them (e.g. sudo apt-get install -y ${need[*]}) or set TROUPE_BROWSER to a Chromium binary" >&2
    exit 1
  fi
fi

# Third-party clients: installed again only when package-lock.json changed since the last install.
clients=testdata/node
stamp=$clients/node_modules/.troupe-installed
if [ ! -f "$stamp" ] || ! cmp -s "$clients/package-lock.json" "$stamp"; then
  echo "deps: installing the third-party MCP clients (Node 22, TypeScript SDK) into $clients/node_modules" >&2
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$clients/package-lock.json" "$stamp"
fi
