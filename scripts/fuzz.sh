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
  # -timeout 0: go test's 10-minute default would also end a long fuzz run;
  # -fuzzminimizetime: minimizing each new input for the default 60 s leaves short runs idle.
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" -fuzzminimizetime 5s -timeout 0 "$pkg" || status=1
done < <(git grep --untracked -n -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' -- '*_test.go')
exit $status
