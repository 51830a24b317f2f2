#!/usr/bin/env bash
# bench/scan.sh - portcullis scan vs nmap, on loopback (issue 5).
#
# Starts ~1,000 listeners (SMTP servers and proxies; most are simple fakes, 10 real open SOCKS5 and
# 10 real open HTTP proxies, 10 SMTP relay candidates) spread over 127.16.0.0/16 in ONE python3 process,
# then runs, one after the other:
#   Discovery only (issue 5, SYN), each tool's own scan time and the process's peak RSS:
#   d1. portcullis scan SLICE --discovery syn        d2. portcullis scan SLICE --discovery connect
#   d3. nmap -n -Pn -T4 -sT on SLICE                  d4. nmap -n -Pn -T4 -sS on SLICE (root only)
#   d5. portcullis scan 127.16.0.0/16 --discovery syn d6. portcullis scan 127.16.0.0/16 --discovery connect
#   Discovery and audits (SKIP_AUDITS=1 leaves these out); portcullis picks its discovery with --discovery auto
#   (SYN as root):
#   1. portcullis scan 127.16.0.0/16 --smtp --proxy --authorized over 4 ports (discovery + audits)
#   2. nmap -n -Pn -T4 -sT over the same 4 ports on a /20 slice, discovery only
#   3. nmap -n -Pn -T4 -sT with its relay and proxy scripts (smtp-open-relay, http-open-proxy,
#      socks-open-proxy) on the same /20 slice
#   4. portcullis scan of the same /20 slice with its audits (like for like with 3)
# and prints wall time of discovery and of audits, addresses per second, peak RSS (/usr/bin/time -v).
#
#   bash bench/scan.sh            (root: raises the file limit; needs python3, nmap, dotnet)
# Env: N (listeners, default 1000), SLICE (default 127.16.0.0/20), PORTS (default 25,1080,3128,8080),
#      SKIP_AUDITS=1 (discovery comparisons only).
# Addresses/s use each tool's own discovery time: portcullis's "tried in X s" line, nmap's "scanned in X
# seconds" line; the process wall time (with .NET or nmap start-up) is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
SLICE=${SLICE:-127.16.0.0/20}
PORTS=${PORTS:-25,1080,3128,8080}
CANARY=127.16.255.254:2525
OUT=$(mktemp -d /tmp/portcullis-scan-bench.XXXXXX)
ulimit -n 65536 2>/dev/null || true
command -v nmap >/dev/null || { echo "nmap is needed (apt-get install nmap)" >&2; exit 2; }

echo "building portcullis (Release)..." >&2
dotnet build src/Portcullis -c Release -v q -nologo >/dev/null
PORTCULLIS=(dotnet src/Portcullis/bin/Release/net10.0/portcullis.dll)

python3 bench/scan-listeners.py "$N" "$OUT/listeners.txt" >"$OUT/listeners.out" 2>&1 &
LPID=$!
trap 'kill $LPID 2>/dev/null || true; wait $LPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready "$OUT/listeners.out" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$OUT/listeners.out" || { cat "$OUT/listeners.out" >&2; exit 1; }
echo "listeners: $(wc -l <"$OUT/listeners.txt") ($(awk '{print $3}' "$OUT/listeners.txt" | sort | uniq -c | tr -s ' ' | paste -sd, -))" >&2

# timed CMD... : wall seconds and peak RSS (MB) of the command into $WALL / $RSS, output in $OUT/last.*
timed() {
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/last.out" 2>"$OUT/last.err" || true
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/time.txt")
    RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$OUT/time.txt")
}
field() { sed -n "s/.*$1.*/\\1/p" "$OUT/last.out" | head -1; }
nmap_time() { sed -n 's/.*scanned in \([0-9.]*\) seconds.*/\1/p' "$1" | tail -1; }
SLICE_ADDRS=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1]).num_addresses)" "$SLICE")
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
ratio() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# portcullis discovery only (no --smtp/--proxy: nothing audited): DISC_* from its totals line
pdisc() { # NAME TARGET METHOD
    timed "${PORTCULLIS[@]}" scan "$2" --authorized --ports "$PORTS" --discovery "$3" --jsonl "$OUT/$1.jsonl"
    grep -q "discovery by" "$OUT/last.err" || { cat "$OUT/last.err" >&2; exit 1; }
    cp "$OUT/last.out" "$OUT/$1.out"; cp "$OUT/last.err" "$OUT/$1.err"
    eval "${1}_WALL=$WALL ${1}_RSS=$RSS"
    eval "${1}_DISC=$(field 'endpoints, [0-9,]* tried in \([0-9.]*\) s')"
    eval "${1}_OPEN=$(field '; \([0-9,]*\) open, [0-9,]* filtered' | tr -d ,)"
    eval "${1}_FILT=$(field '; [0-9,]* open, \([0-9,]*\) filtered' | tr -d ,)"
}
echo "d1/d2 portcullis discovery on $SLICE (syn, connect) ..." >&2
pdisc S20 "$SLICE" syn
pdisc C20 "$SLICE" connect
echo "d3 nmap -sT on $SLICE ..." >&2
timed nmap -n -Pn -T4 -sT -p "$PORTS" -oG "$OUT/nmap-st.gnmap" "$SLICE"
NST_WALL=$WALL NST_RSS=$RSS NST_TIME=$(nmap_time "$OUT/nmap-st.gnmap")
NST_OPEN=$(grep -o '[0-9]*/open' "$OUT/nmap-st.gnmap" | wc -l)
NSS_TIME=""
if [ "$(id -u)" = 0 ]; then
    echo "d4 nmap -sS on $SLICE ..." >&2
    timed nmap -n -Pn -T4 -sS -p "$PORTS" -oG "$OUT/nmap-ss.gnmap" "$SLICE"
    NSS_WALL=$WALL NSS_RSS=$RSS NSS_TIME=$(nmap_time "$OUT/nmap-ss.gnmap")
    NSS_OPEN=$(grep -o '[0-9]*/open' "$OUT/nmap-ss.gnmap" | wc -l)
fi
echo "d5/d6 portcullis discovery on 127.16.0.0/16 (syn, connect) ..." >&2
pdisc S16 127.16.0.0/16 syn
pdisc C16 127.16.0.0/16 connect
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# the open ports each found on the slice must be the same set
sort_opens_p() { python3 -c "
import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o['type']=='open': print(o['address']+':'+str(o['port']))" "$1" | sort; }
sort_opens_n() { grep -o 'Host: [0-9.]* ().*' "$1" | python3 -c "
import re,sys
for l in sys.stdin:
    a=l.split()[1]
    for p in re.findall(r'(\d+)/open', l): print(a+':'+p)" | sort; }
SAME=$(if [ "$(sort_opens_p "$OUT/S20.jsonl")" = "$(sort_opens_p "$OUT/C20.jsonl")" ] && [ "$(sort_opens_p "$OUT/S20.jsonl")" = "$(sort_opens_n "$OUT/nmap-st.gnmap")" ]; then echo yes; else echo NO; fi)
SAME16=$(if [ "$(sort_opens_p "$OUT/S16.jsonl")" = "$(sort_opens_p "$OUT/C16.jsonl")" ]; then echo yes; else echo NO; fi)
NST_APS=$(rate "$SLICE_ADDRS" "$NST_TIME")

cat <<MD

Discovery only, $N listeners, ports $PORTS (load average $LOAD_BEFORE before, $LOAD_AFTER after):

| discovery run | addresses x ports | open found | filtered | discovery time (tool's own) | process wall | addresses/s (own time) | peak RSS |
|---|---|---|---|---|---|---|---|
| portcullis --discovery syn, $SLICE | $SLICE_ADDRS x 4 | $S20_OPEN | $S20_FILT | ${S20_DISC} s | ${S20_WALL} s | $(rate "$SLICE_ADDRS" "$S20_DISC") | ${S20_RSS} MB |
| portcullis --discovery connect, $SLICE | $SLICE_ADDRS x 4 | $C20_OPEN | $C20_FILT | ${C20_DISC} s | ${C20_WALL} s | $(rate "$SLICE_ADDRS" "$C20_DISC") | ${C20_RSS} MB |
| nmap -T4 -sT, $SLICE | $SLICE_ADDRS x 4 | $NST_OPEN | - | ${NST_TIME} s | ${NST_WALL} s | $NST_APS | ${NST_RSS} MB |
$(if [ -n "$NSS_TIME" ]; then echo "| nmap -T4 -sS, $SLICE | $SLICE_ADDRS x 4 | $NSS_OPEN | - | ${NSS_TIME} s | ${NSS_WALL} s | $(rate "$SLICE_ADDRS" "$NSS_TIME") | ${NSS_RSS} MB |"; fi)
| portcullis --discovery syn, 127.16.0.0/16 | 65536 x 4 | $S16_OPEN | $S16_FILT | ${S16_DISC} s | ${S16_WALL} s | $(rate 65536 "$S16_DISC") | ${S16_RSS} MB |
| portcullis --discovery connect, 127.16.0.0/16 | 65536 x 4 | $C16_OPEN | $C16_FILT | ${C16_DISC} s | ${C16_WALL} s | $(rate 65536 "$C16_DISC") | ${C16_RSS} MB |

- SYN /16 addresses/s vs nmap -sT on the slice: $(ratio "$(rate 65536 "$S16_DISC")" "$NST_APS")x; SYN on the slice vs nmap -sT: $(ratio "$(rate "$SLICE_ADDRS" "$S20_DISC")" "$NST_APS")x$(if [ -n "$NSS_TIME" ]; then echo "; SYN on the slice vs nmap -sS: $(ratio "$(rate "$SLICE_ADDRS" "$S20_DISC")" "$(rate "$SLICE_ADDRS" "$NSS_TIME")")x"; fi)
- SYN vs connect, /16: $(ratio "$C16_DISC" "$S16_DISC")x faster; same open ports on the slice (syn, connect, nmap -sT): $SAME; on the /16 (syn, connect): $SAME16
MD
[ "${SKIP_AUDITS:-0}" = 1 ] && { echo "(outputs in $OUT)" >&2; exit 0; }

echo "1/4 portcullis scan 127.16.0.0/16 ..." >&2
timed "${PORTCULLIS[@]}" scan 127.16.0.0/16 --smtp --proxy --authorized --ports "$PORTS" \
    --canary-listen "$CANARY" --timeout 3 --audit-concurrency 128 --jsonl "$OUT/scan16.jsonl"
P16_WALL=$WALL P16_RSS=$RSS
P16_DISC=$(field 'endpoints, [0-9,]* tried in \([0-9.]*\) s')
P16_AUD=$(field 'audits: [0-9,]* in \([0-9.]*\) s')
P16_OPEN=$(field '; \([0-9,]*\) open, [0-9,]* filtered')
P16_AUDITS=$(sed -n 's/^audits: .*//p' "$OUT/last.out" >/dev/null; grep '^audits:' "$OUT/last.out" || true)
cp "$OUT/last.out" "$OUT/scan16.out"

echo "2/4 nmap discovery on $SLICE ..." >&2
timed nmap -n -Pn -T4 -sT -p "$PORTS" -oG "$OUT/nmap-disc.gnmap" "$SLICE"
N_DISC_WALL=$WALL N_DISC_RSS=$RSS
N_DISC_OPEN=$(grep -o '[0-9]*/open' "$OUT/nmap-disc.gnmap" | wc -l)

echo "3/4 nmap with smtp-open-relay, http-open-proxy, socks-open-proxy on $SLICE ..." >&2
# --dns-servers 127.0.0.1 keeps the scripts' DNS lookups on loopback; proxy.url points at a bench listener.
timed nmap -n -Pn -T4 -sT -p "$PORTS" --dns-servers 127.0.0.1 \
    --script smtp-open-relay,http-open-proxy,socks-open-proxy \
    --script-args "proxy.url=http://127.16.0.1/,smtp-open-relay.domain=bench.test,smtp-open-relay.ip=127.16.0.1" \
    -oN "$OUT/nmap-scripts.txt" "$SLICE"
N_SCR_WALL=$WALL N_SCR_RSS=$RSS

echo "4/4 portcullis scan $SLICE ..." >&2
timed "${PORTCULLIS[@]}" scan "$SLICE" --smtp --proxy --authorized --ports "$PORTS" \
    --canary-listen "$CANARY" --timeout 3 --audit-concurrency 128 --jsonl "$OUT/scan20.jsonl"
P20_WALL=$WALL P20_RSS=$RSS
P20_DISC=$(field 'endpoints, [0-9,]* tried in \([0-9.]*\) s')
P20_AUD=$(field 'audits: [0-9,]* in \([0-9.]*\) s')
P20_OPEN=$(field '; \([0-9,]*\) open, [0-9,]* filtered')

P16_APS=$(rate 65536 "$P16_DISC")
N_DISC_APS=$(rate "$SLICE_ADDRS" "$N_DISC_WALL")
N_SCR_APS=$(rate "$SLICE_ADDRS" "$N_SCR_WALL")
P20_APS=$(rate "$SLICE_ADDRS" "$P20_WALL")

cat <<MD

| run | addresses x ports | open ports found | discovery wall | audits wall | whole run wall | addresses/s | peak RSS |
|---|---|---|---|---|---|---|---|
| portcullis scan 127.16.0.0/16 --smtp --proxy | 65,536 x 4 | $P16_OPEN | ${P16_DISC} s | ${P16_AUD} s | ${P16_WALL} s | $P16_APS (discovery) | ${P16_RSS} MB |
| nmap -T4 -sT, $SLICE (discovery only) | $SLICE_ADDRS x 4 | $N_DISC_OPEN | ${N_DISC_WALL} s | - | ${N_DISC_WALL} s | $N_DISC_APS | ${N_DISC_RSS} MB |
| nmap -T4 -sT + smtp-open-relay,http-open-proxy,socks-open-proxy, $SLICE | $SLICE_ADDRS x 4 | $N_DISC_OPEN | - | - | ${N_SCR_WALL} s | $N_SCR_APS | ${N_SCR_RSS} MB |
| portcullis scan $SLICE --smtp --proxy | $SLICE_ADDRS x 4 | $P20_OPEN | ${P20_DISC} s | ${P20_AUD} s | ${P20_WALL} s | $P20_APS (whole run) | ${P20_RSS} MB |

- discovery addresses/s, portcullis /16 vs nmap discovery-only on the slice: $(ratio "$P16_APS" "$N_DISC_APS")x
- whole-run addresses/s on the slice, portcullis with audits vs nmap with scripts: $(ratio "$P20_APS" "$N_SCR_APS")x
- portcullis /16 audit totals: $(grep '^audits:' "$OUT/scan16.out")

Verdicts by listener kind on the slice ($SLICE): what each tool calls open

$(python3 bench/scan-verdicts.py "$OUT" "$SLICE")
MD
echo "(outputs in $OUT)" >&2
