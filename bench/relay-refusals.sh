#!/usr/bin/env bash
# What refusing relay attempts costs the server: CPU per refused RCPT and refusals per second, for A/B
# comparisons of builds on a quiet machine.
#
#   bash bench/relay-refusals.sh BUILD_DIR [SESSIONS] [CONCURRENCY]     # BUILD_DIR holds portcullis.dll
#
# Starts `portcullis serve` from BUILD_DIR on 127.0.0.1:2525 with one local domain (bench/lib-box.sh), then
# runs a python client: CONCURRENCY threads (default 10) open SESSIONS sessions (default 3000) in all, each
# EHLO, MAIL and nine RCPTs to foreign domains (each refused 550 5.7.1; under the per-session error limit of 10)
# and QUIT, after a warm-up of 500 sessions. Prints refused RCPTs per second and the server's CPU
# (user+system, /proc/PID/stat) per refused RCPT.
set -euo pipefail
source "$(dirname "$0")/lib-box.sh"
BIN=${1:?usage: relay-refusals.sh BUILD_DIR [SESSIONS] [CONCURRENCY]}
SESSIONS=${2:-3000}
CONC=${3:-10}
OUT=${OUT:-/var/tmp/portcullis-bench/refusals}
bench_serve "$BIN" "$OUT"
flood() {
    python3 - "$1" "$CONC" <<'PY'
import socket, sys, threading, time
sessions, conc = int(sys.argv[1]), int(sys.argv[2])
def reply(s):
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            raise SystemExit("server closed the connection")
        data += d
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data
def worker(n, w):
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", 2525)); reply(s)
        s.sendall(b"EHLO flood.test\r\n"); reply(s)
        s.sendall(b"MAIL FROM:<x@flood.test>\r\n"); reply(s)
        for j in range(9):
            s.sendall(f"RCPT TO:<v{j}@victim{w}-{i}.test>\r\n".encode())
            assert reply(s).startswith(b"550 5.7.1"), "a relay attempt was not refused 550 5.7.1"
        s.sendall(b"QUIT\r\n"); reply(s); s.close()
t0 = time.time()
ts = [threading.Thread(target=worker, args=(sessions // conc, w)) for w in range(conc)]
[t.start() for t in ts]; [t.join() for t in ts]
print(f"{(sessions // conc) * conc * 9 / (time.time() - t0):.0f}")
PY
}
flood 500 >/dev/null
cpu0=$(cpu_ticks $PID)
rate=$(flood "$SESSIONS")
cpu1=$(cpu_ticks $PID)
hz=$(getconf CLK_TCK)
python3 -c "import sys; r,a,b,hz,n,bin=sys.argv[1:]; n=int(n)*9; print(f'{bin} refused_rcpt={r}/s cpu_per_refused_rcpt={(int(b)-int(a))*1e6/int(hz)/n:.0f}us')" \
    "$rate" "$cpu0" "$cpu1" "$hz" "$(( SESSIONS / CONC * CONC ))" "$BIN"
