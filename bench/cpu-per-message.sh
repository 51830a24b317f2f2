#!/usr/bin/env bash
# CPU per accepted message and rate of one Portcullis build, for A/B comparisons of builds on a quiet
# machine (the ratio against Postfix is bench/accept.sh's job).
#
#   bash bench/cpu-per-message.sh BUILD_DIR [N] [SESSIONS]     # BUILD_DIR holds portcullis.dll
#
# Starts `portcullis serve` from BUILD_DIR on 127.0.0.1:2525 with one local user, sends WARMUP messages
# (default 500; 0 measures from a cold start, as accept.sh does) to warm up, then N (default 8000) 5 KB
# messages with smtp-source over SESSIONS (default 10) sessions and
# waits until all are in Maildir/new. Prints accepted/s, delivered/s and the server's CPU (user+system,
# /proc/PID/stat) per message, warm-up excluded, and the client's (smtp-source's) CPU and context switches per
# message (from /usr/bin/time, when installed): the client shares the two cores, so what the server makes it
# do counts too. Old mailboxes are moved aside, not deleted (see accept.sh).
set -euo pipefail
source "$(dirname "$0")/lib-box.sh"
BIN=${1:?usage: cpu-per-message.sh BUILD_DIR [N] [SESSIONS]}
N=${2:-8000}
C=${3:-10}
WARMUP=${WARMUP:-500}
OUT=${OUT:-/var/tmp/portcullis-bench/cpm}
bench_serve "$BIN" "$OUT"
NEW=$BOX/data/mail/example.test/bench/Maildir/new
count() { find "$NEW" -maxdepth 1 -type f 2>/dev/null | wc -l; }
if [ "$WARMUP" -gt 0 ]; then
    smtp-source -s "$C" -m "$WARMUP" -l 5120 -f bench@source.test -t bench@example.test -M source.test 127.0.0.1:2525
fi
while [ "$(count)" -lt "$WARMUP" ]; do sleep 0.05; done
TIMED=()
CLIENT=$OUT/client-time.txt
rm -f "$CLIENT"
[ -x /usr/bin/time ] && TIMED=(/usr/bin/time -o "$CLIENT" -f "%U %S %w %c")
cpu0=$(cpu_ticks $PID); t0=$(date +%s.%N)
"${TIMED[@]}" smtp-source -s "$C" -m "$N" -l 5120 -f bench@source.test -t bench@example.test -M source.test 127.0.0.1:2525
t1=$(date +%s.%N)
while [ "$(count)" -lt $((N + WARMUP)) ]; do sleep 0.05; done
t2=$(date +%s.%N); cpu1=$(cpu_ticks $PID)
hz=$(getconf CLK_TCK)
python3 - "$N" "$C" "$t0" "$t1" "$t2" "$cpu0" "$cpu1" "$hz" "$BIN" "$(cat "$CLIENT" 2>/dev/null || true)" <<'PY'
import sys
n, c, t0, t1, t2, a, b, hz, bin_dir, client = sys.argv[1:11]
n = int(n)
line = f"{bin_dir} sessions={c} accepted={n/(float(t1)-float(t0)):.0f}/s delivered={n/(float(t2)-float(t0)):.0f}/s cpu_per_msg={(int(b)-int(a))*1000/int(hz)/n:.2f}ms"
if client.strip():
    u, s, vol, invol = map(float, client.split()[-4:])
    line += f" client_cpu_per_msg={(u+s)*1000/n:.2f}ms client_switches_per_msg={vol/n:.2f}+{invol/n:.2f}"
print(line)
PY
