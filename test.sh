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
# The shared relay peers (../shared/peers/relay-peers.sh: Postfix, Exim, OpenSMTPD and a sink on 127.0.0.x) are
# started by the first test that needs them and shared by the rest. When this run started them, it stops them
# at the end (relay-peers-stop.sh stops exactly what relay-peers.sh started), so the suite leaves nothing running.
peers=$(pwd)/../shared/peers  # where the tests find them (tests/EndToEnd/Infrastructure/Paths.cs, SharedPeers)
relay_peers_were_up=0
(exec 3<>/dev/tcp/127.0.0.21/25) 2>/dev/null && relay_peers_were_up=1
finish() {
    rm -f "$log"
    if [ "$relay_peers_were_up" = 0 ] && [ -f "$peers/relay-peers-stop.sh" ]; then
        bash "$peers/relay-peers-stop.sh" >/dev/null 2>&1 || true
    fi
}
trap finish EXIT
status=0
dotnet test Portcullis.sln -c Release -m:1 --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over the test assemblies' "Total tests" blocks.
count() { awk -v k="$1" '$1 == k":" && NF == 2 {s += $2} END {print s + 0}' "$log"; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
