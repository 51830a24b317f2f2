#!/usr/bin/env bash
# Runs Portcullis's whole test suite: unit tests and end-to-end tests that drive the built program
# and real third-party peers (Postfix, swaks, nmap, Squid, Dante, ...) on loopback.
# On a fresh Debian machine it first installs what the tests need (apt-get; needs root).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-test-deps.sh
# Test projects run one after another (-m:1 keeps the shared loopback peers out of each other's way);
# inside a project, xunit runs test classes in parallel.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Portcullis.sln -c Release -m:1 --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over the test assemblies' "Total tests" blocks.
count() { awk -v k="$1" '$1 == k":" && NF == 2 {s += $2} END {print s + 0}' "$log"; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
