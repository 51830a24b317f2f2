#!/usr/bin/env bash
# Runs Portcullis's whole test suite: unit tests and end-to-end tests that drive the built program
# and real third-party peers (Postfix, swaks, nmap, Squid, Dante, ...) on loopback.
# On a fresh Debian machine it first installs what the tests need (apt-get; needs root).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-test-deps.sh
# Test projects run one after another (-m:1 keeps the shared loopback peers out of each other's way);
# inside a project, xunit runs test classes in parallel.
dotnet test Portcullis.sln -c Release -m:1 --logger "console;verbosity=normal" "$@"
