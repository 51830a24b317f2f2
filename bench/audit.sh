#!/usr/bin/env bash
# bench/audit.sh -- `portcullis audit smtp` vs nmap's smtp-open-relay on the same closed Postfix peer
# (127.0.0.21, ../shared/peers/relay-peers.sh), in the same run (issue 4).
#
#   bash bench/audit.sh            # RUNS=3 by default; prints wall times, relay tests/s and the ratios
#
# Portcullis runs its whole audit (relay matrix, TLS, enumeration, hygiene checks) with no canary and no
# --rcpt; its wall time is the whole process, start-up included. nmap runs its 16 relay tests.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
TARGET=127.0.0.21
PEERS="$(pwd)/../shared/peers"

if ! timeout 2 bash -c "exec 3<>/dev/tcp/$TARGET/25" 2>/dev/null; then
    bash "$PEERS/relay-peers.sh" >/dev/null
fi
command -v nmap >/dev/null || { echo "nmap is needed (apt-get install nmap)" >&2; exit 2; }
dotnet build src/Portcullis -c Release -v q -nologo >/dev/null
DLL=src/Portcullis/bin/Release/net10.0/portcullis.dll

now() { date +%s.%N; }
best_pc= best_nm= vectors=
for i in $(seq "$RUNS"); do
    t0=$(now)
    dotnet "$DLL" audit smtp "$TARGET" --json >/tmp/bench-audit.json 2>/dev/null || true
    t1=$(now)
    nmap -n -Pn -p 25 --script smtp-open-relay "$TARGET" >/tmp/bench-nmap.txt 2>&1
    t2=$(now)
    pc=$(echo "$t1 - $t0" | bc -l); nm=$(echo "$t2 - $t1" | bc -l)
    vectors=$(python3 -c 'import json;r=json.load(open("/tmp/bench-audit.json"));print(sum(1 for c in r["checks"] if c["id"].startswith("relay.")))')
    verdict=$(python3 -c 'import json;print(json.load(open("/tmp/bench-audit.json"))["verdict"])')
    printf 'run %d: portcullis %.2f s (%d relay vectors, verdict %s) | nmap %.2f s (16 tests: %s)\n' "$i" "$pc" "$vectors" "$verdict" "$nm" \
        "$(grep -oE 'Server (is|doesn.t seem to be) an open relay[^|]*' /tmp/bench-nmap.txt | head -1 || echo '?')"
    [ -z "$best_pc" ] || [ "$(echo "$pc < $best_pc" | bc -l)" = 1 ] && best_pc=$pc
    [ -z "$best_nm" ] || [ "$(echo "$nm < $best_nm" | bc -l)" = 1 ] && best_nm=$nm
done
pc_rate=$(echo "$vectors / $best_pc" | bc -l); nm_rate=$(echo "16 / $best_nm" | bc -l)
printf '\nbest of %d runs:\n' "$RUNS"
printf '  portcullis audit smtp: %.2f s wall, %d relay vectors, %.1f relay tests/s\n' "$best_pc" "$vectors" "$pc_rate"
printf '  nmap smtp-open-relay:  %.2f s wall, 16 relay tests, %.1f relay tests/s\n' "$best_nm" "$nm_rate"
printf '  wall time ratio nmap/portcullis: %.2f (target > 1)\n' "$(echo "$best_nm / $best_pc" | bc -l)"
printf '  relay tests/s ratio portcullis/nmap: %.1f (target >= 10)\n' "$(echo "$pc_rate / $nm_rate" | bc -l)"
