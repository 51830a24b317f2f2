#!/usr/bin/env bash
# Where a Portcullis build's CPU and wake-ups go, per thread group, during a 10-session flood.
#
#   bash bench/threads-per-message.sh BUILD_DIR [N] [SESSIONS]     # BUILD_DIR holds portcullis.dll
#
# Starts `portcullis serve` from BUILD_DIR (bench_serve in lib-box.sh), sends 2,000 messages to warm it up,
# then N (default 8000) 5 KB messages with smtp-source, and prints for each group of threads (by name: the
# socket event thread, the thread pool's workers, the Maildir I/O threads, ...) its user and system CPU per
# message and its voluntary and involuntary context switches per message, from /proc/PID/task/*/stat and
# status read before and after. A voluntary switch is the thread going to sleep; each one is a wake-up later.
set -euo pipefail
source "$(dirname "$0")/lib-box.sh"
BIN=${1:?usage: threads-per-message.sh BUILD_DIR [N] [SESSIONS]}
N=${2:-8000}
C=${3:-10}
OUT=${OUT:-/var/tmp/portcullis-bench/threads}
bench_serve "$BIN" "$OUT"
send() { smtp-source -s "$C" -m "$1" -l 5120 -f bench@source.test -t bench@example.test -M source.test 127.0.0.1:2525; }
snapshot() {
    python3 - "$PID" <<'PY'
import json, os, sys
pid = sys.argv[1]
out = {}
for t in os.listdir(f"/proc/{pid}/task"):
    try:
        comm = open(f"/proc/{pid}/task/{t}/comm").read().strip()
        stat = open(f"/proc/{pid}/task/{t}/stat").read()
        fields = stat[stat.rindex(")") + 2:].split()
        status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/task/{t}/status").read().splitlines() if ":" in l)
        out[t] = [comm, int(fields[11]), int(fields[12]), int(status["voluntary_ctxt_switches"]), int(status["nonvoluntary_ctxt_switches"])]
    except (OSError, KeyError, ValueError):
        pass  # a thread that ended meanwhile
print(json.dumps(out))
PY
}
send 2000
sleep 1
before=$(snapshot)
send "$N"
after=$(snapshot)
python3 - "$N" "$(getconf CLK_TCK)" "$before" "$after" <<'PY'
import collections, json, sys
n, hz = int(sys.argv[1]), int(sys.argv[2])
before, after = json.loads(sys.argv[3]), json.loads(sys.argv[4])
groups = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
for t, (comm, user, system, vol, invol) in after.items():
    _, user0, system0, vol0, invol0 = before.get(t, [comm, 0, 0, 0, 0])
    g = groups[comm.rstrip("0123456789-")]
    g[0] += 1; g[1] += user - user0; g[2] += system - system0; g[3] += vol - vol0; g[4] += invol - invol0
us = 1e6 / hz / n
for name, (threads, user, system, vol, invol) in sorted(groups.items(), key=lambda i: -(i[1][1] + i[1][2])):
    if user + system + vol + invol == 0:
        continue
    print(f"{name:18s} threads={threads:3d} user={user*us:6.1f}us system={system*us:6.1f}us per message; switches per message: voluntary={vol/n:.2f} involuntary={invol/n:.2f}")
PY
