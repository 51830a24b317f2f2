#!/usr/bin/env bash
# Submission + remote delivery benchmark (issue 3, "Performance").
#
#   bash bench/submit.sh                         # 10 clients x 1000 messages of 5 KB
#   CLIENTS=2 PER_CLIENT=200 bash bench/submit.sh   # a quick look
#
# 10 MailKit clients (bench/submit-client) each connect once to Portcullis's submission listener
# (127.0.5.31:5587), STARTTLS, AUTH PLAIN as bench@example.test (sending limits raised in [submission]),
# and send their messages on that one connection to sink@remote.test. Portcullis delivers everything
# remote through delivery.relay_host to Postfix's smtp-sink on 127.0.5.30:25 (the "remote MX"; it
# accepts and discards). Reports submission messages/s (until the last 250), delivery messages/s and the
# time from the first submission until the queue is empty; target: the queue empties within 10 % of
# the submission time (delivery keeps up).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib-box.sh
REPO=$(pwd)
CLIENTS=${CLIENTS:-10}
PER_CLIENT=${PER_CLIENT:-1000}
SIZE=${SIZE:-5120}
OUT=${OUT:-/var/tmp/portcullis-bench}
ADDR=127.0.5.31
SINK=127.0.5.30
N=$((CLIENTS * PER_CLIENT))

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: apt-get install postfix" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: apt-get install sqlite3" >&2; exit 2; }

log "building Portcullis and the bench client (Release)"
dotnet build src/Portcullis -c Release -o "$OUT/bin" -v q -nologo >/dev/null
dotnet build bench/submit-client -c Release -o "$OUT/submit-client" -v q -nologo >/dev/null

BOX=$OUT/submit
PID=
SINK_PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null || true
}
trap cleanup EXIT
rm -rf "$BOX"; mkdir -p "$BOX"

# The remote MX: Postfix's smtp-sink (accepts every message, keeps nothing), 256 sessions.
smtp-sink -u nobody "$SINK:25" 256 >"$BOX/sink.log" 2>&1 &
SINK_PID=$!

bench_box "$OUT/bin" "$BOX" "$ADDR:2525" "submission = \"$ADDR:5587\"
[submission]
messages_per_hour = 10000000
recipients_per_hour = 10000000
[delivery]
relay_host = \"$SINK:25\"
relay_tls = \"none\""
run="dotnet $OUT/bin/portcullis.dll"
$run serve --config "$BOX/portcullis.toml" >"$BOX/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/$ADDR/5587) 2>/dev/null && break
    sleep 0.2
done
DB=$BOX/data/queue/queue.db

log "submitting $N messages of $SIZE bytes over $CLIENTS connections"
T0=$(now)
# Sample the queue while submission runs, so the time until it is empty is measured from T0.
(
    while true; do
        sleep 0.2
        if [ -f "$BOX/submitted" ]; then
            c=$(sqlite3 -cmd ".timeout 5000" "$DB" "SELECT COUNT(*) FROM messages" 2>/dev/null || echo 1)
            if [ "$c" = "0" ]; then now >"$BOX/empty"; break; fi
        fi
    done
) &
WATCH=$!
read -r SENT SUB_S SUB_RPS < <(dotnet "$OUT/submit-client/SubmitClient.dll" "$ADDR" 5587 bench@example.test bench-password "$CLIENTS" "$PER_CLIENT" "$SIZE" sink@remote.test)
touch "$BOX/submitted"
wait "$WATCH"
T_EMPTY=$(cat "$BOX/empty")
EMPTY_S=$(echo "$T_EMPTY - $T0" | bc -l)
DELIV_RPS=$(echo "$SENT / $EMPTY_S" | bc -l)
RATIO=$(echo "$EMPTY_S / $SUB_S" | bc -l)
DELIVERED=$(grep -c "status=sent" "$BOX/serve.log" || true)
printf 'submitted %d messages in %.2f s: %.0f msg/s (%d clients, one AUTH PLAIN login each, STARTTLS)\n' "$SENT" "$SUB_S" "$SUB_RPS" "$CLIENTS"
printf 'queue empty %.2f s after the first submission: delivery %.0f msg/s to smtp-sink (%d delivered lines in the log)\n' "$EMPTY_S" "$DELIV_RPS" "$DELIVERED"
printf 'queue-empty time / submission time = %.3f (target <= 1.10)\n' "$RATIO"
