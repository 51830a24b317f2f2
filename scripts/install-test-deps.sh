#!/usr/bin/env bash
# Installs the Debian packages the tests need (listed one per line in tests/deps/*.txt).
# Does nothing when they are all present; needs root otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(cat tests/deps/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing test dependencies: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks debconf questions on install; answer them up front ("No configuration": the tests write their own).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
