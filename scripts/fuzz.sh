#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx) of the module for the given time each.
set -euo pipefail
time=${1:-30s}
status=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  echo "== $pkg $name ($time)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$pkg" || status=1
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' -- '*_test.go')
exit $status
