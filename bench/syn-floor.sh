#!/usr/bin/env bash
# bench/syn-floor.sh - how close portcullis's SYN discovery is to the machine's floor (issue 5).
#
# Compiles bench/syn-floor/syn-floor.c (a bare C SYN sender/receiver of the same design as SynDiscovery,
# doing nothing else) and runs, ROUNDS times (default 3), one after the other on 127.16.0.0/16 x 4 ports
# (nothing listens there: every probe gets the kernel's RST, the common case of a scan):
#   1. syn-floor with 1 and with 2 sender threads
#   2. portcullis scan 127.16.0.0/16 --discovery syn (its own "tried in" time)
#   3. nmap -n -Pn -T4 -sT on the /20 slice (its own "scanned in" time), for the issue's ratio
# and prints addresses/s for each and the ratios.
#
#   bash bench/syn-floor.sh      (root: raw sockets; needs gcc, nmap, dotnet)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PORTS=25,1080,3128,8080
OUT=$(mktemp -d /tmp/portcullis-syn-floor.XXXXXX)
command -v gcc >/dev/null || { echo "gcc is needed (apt-get install gcc)" >&2; exit 2; }
command -v nmap >/dev/null || { echo "nmap is needed (apt-get install nmap)" >&2; exit 2; }
gcc -O2 -Wall -pthread -o "$OUT/syn-floor" bench/syn-floor/syn-floor.c
echo "building portcullis (Release)..." >&2
dotnet build src/Portcullis -c Release -v q -nologo >/dev/null
PORTCULLIS=(dotnet src/Portcullis/bin/Release/net10.0/portcullis.dll)
aps() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

echo "| round | syn-floor, 1 sender | syn-floor, 2 senders | portcullis --discovery syn | nmap -T4 -sT, /20 slice | portcullis / floor (2 senders) | portcullis vs nmap (addresses/s) | floor vs nmap |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
    f1=$("$OUT/syn-floor" 127.16.0.0 65536 1 | sed 's/.* wall \([0-9.]*\) s.*/\1/')
    f2=$("$OUT/syn-floor" 127.16.0.0 65536 2 | sed 's/.* wall \([0-9.]*\) s.*/\1/')
    "${PORTCULLIS[@]}" scan 127.16.0.0/16 --authorized --ports "$PORTS" --discovery syn >"$OUT/p.out" 2>"$OUT/p.err" || true
    p=$(sed -n 's/.*endpoints, [0-9,]* tried in \([0-9.]*\) s.*/\1/p' "$OUT/p.out" "$OUT/p.err" | head -1)
    nmap -n -Pn -T4 -sT -p "$PORTS" -oG "$OUT/n.gnmap" 127.16.0.0/20 >/dev/null
    n=$(sed -n 's/.*scanned in \([0-9.]*\) seconds.*/\1/p' "$OUT/n.gnmap" | tail -1)
    na=$(aps 4096 "$n")
    echo "| $r | ${f1} s ($(aps 65536 "$f1")/s) | ${f2} s ($(aps 65536 "$f2")/s) | ${p} s ($(aps 65536 "$p")/s) | ${n} s (${na}/s) | $(python3 -c "print('%.2f' % ($p / $f2))")x the time | $(python3 -c "print('%.1f' % (65536 / $p / $na))")x | $(python3 -c "print('%.1f' % (65536 / $f2 / $na))")x |"
done
echo "(outputs in $OUT)" >&2
