#!/usr/bin/env bash
# Inbound acceptance benchmark: Portcullis against Postfix, same machine, same run.
#
#   bash bench/accept.sh                 # 20000 messages x 1, 10, 50 sessions, 3 rounds
#   N=2000 RUNS=1 CONCS="10" bash bench/accept.sh   # a quick look
#
# Both servers take 5 KB messages for one local user into Maildir with their durability on
# (Postfix: cleanup fsyncs the queue file before 250, virtual(8) fsyncs the Maildir file; Portcullis:
# the copy written into Maildir/tmp/, made durable by a syncfs(2) shared with the other sessions' copies,
# and linked into Maildir/new/ before the 250; docs/delivery.md, "Local mail: in the mailbox before the 250").
# smtp-source (from Debian's postfix package) sends one message per connection, as in
# ../shared/peers/postfix-baseline.sh, which sets up and measures the Postfix side on 127.0.0.1:25.
# Portcullis runs on 127.0.0.1:2525. Prints messages/s accepted and delivered, the ratios
# Portcullis/Postfix, and Portcullis's peak RSS (VmHWM) in the 50-session run. For scale it also times
# Postfix's smtp-sink on 127.0.0.1:2626 (it answers every command and writes nothing: the machine's ceiling
# for this client, as the issue says) and prints what share of it each server reached.
#
# Each cell is measured RUNS times (default 3), in rounds: a round measures every concurrency once, each as
# smtp-sink, Postfix and Portcullis back to back, Postfix first in odd rounds and Portcullis first in even
# ones, so that a slow spell of the machine (another workload, ext4's write-back of an earlier run's files)
# falls on both servers alike. The table gives each cell's median (as postfix-baseline.sh does for its own
# RUNS), the ratio of the medians, and the range of the per-round ratios (each from one Postfix run and one
# Portcullis run minutes apart). Every run is also a line of the raw CSV.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
source bench/lib-box.sh
PEERS=${PEERS:-$REPO/../shared/peers}
N=${N:-20000}
SIZE=${SIZE:-5120}
CONCS=${CONCS:-"1 10 50"}
RUNS=${RUNS:-3}
OUT=${OUT:-/var/tmp/portcullis-bench}
ADDR=127.0.0.1
PORT=2525
mkdir -p "$OUT"
RESULTS=$OUT/accept-$(date +%Y%m%d-%H%M%S).csv
# The last five columns (Portcullis's runs): its CPU (user+system) per message, the machine's idle, iowait and
# steal time (a busy hypervisor) while smtp-source ran, in % of all CPUs (a run that was slowed by something
# outside the benchmark shows there), and the share of the server's own CPU spent in the kernel (when a run
# needs more CPU per message than the others, this says whether the kernel's side, the file system and the
# sockets, or the server's own code grew). Then how fast the CPUs were just before the run (cpu_probe_ms in
# lib-box.sh: a fixed loop on every CPU, in ms; higher is slower): the same code needs more CPU per message when
# the host is busy, and steal does not always show it.
echo "target,conc,round,n,accept_s,accept_rps,deliv_s,deliv_rps,peak_rss_mb,cpu_ms_per_msg,idle_pct,iowait_pct,steal_pct,kernel_pct_of_cpu,cpu_probe_ms" >"$RESULTS"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }

command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 2; }

log "building Portcullis (Release)"
dotnet build src/Portcullis -c Release -o "$OUT/bin" -v q -nologo >/dev/null

# The same priority as the Postfix side (postfix-baseline.sh renices itself to -10).
renice -n -10 -p $$ >/dev/null 2>&1 || true

BOX=$OUT/portcullis
PID=
stop_portcullis() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; PID=; }

# Old mailboxes are moved aside, and deleted only when the benchmark ends. Why: without a journal (this
# machine's root ext4 has none: /sys/fs/ext4/*/journal_task is "<none>") ext4's inode allocator skips
# every inode freed in the last 60-120 s (fs/ext4/ialloc.c, recently_deleted()), so deleting the 20,000
# files of the previous run just before the next one makes each new file's creat() scan past thousands of
# them: perf showed 35% of Portcullis's CPU in recently_deleted() after such a delete. The same is done
# for Postfix's Maildir (its baseline script deletes it right before each run), so neither server pays
# for the benchmark's own clean-up. Files a server itself creates and deletes while it runs (Postfix's
# queue files) still cost what they cost.
TRASH=$OUT/trash
set_aside() { [ -e "$1" ] || return 0; mkdir -p "$TRASH"; mv "$1" "$TRASH/$(basename "$1")-$(date +%s%N)"; }
if [ -d "$TRASH" ]; then
    log "deleting the trash of an interrupted run, then waiting 130 s for ext4's recently-deleted window"
    rm -rf "$TRASH"; sync; sleep 130
fi
SINK_PID=
finish() { stop_portcullis; [ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null || true; log "deleting old mailboxes"; rm -rf "$TRASH"; }
trap finish EXIT

start_portcullis() {
    stop_portcullis
    set_aside "$BOX"; mkdir -p "$BOX"
    # Write back what the previous run (Postfix's) left dirty, as postfix-baseline.sh does before its own
    # runs: otherwise Portcullis's first syncfs(2) calls would pay for it.
    sync
    bench_box "$OUT/bin" "$BOX" "$ADDR:$PORT"
    local run="dotnet $OUT/bin/portcullis.dll"
    $run serve --config "$BOX/portcullis.toml" 2>"$BOX/serve.log" &
    PID=$!
    for _ in $(seq 300); do
        (exec 3<>/dev/tcp/$ADDR/$PORT) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "Portcullis did not start; see $BOX/serve.log" >&2; exit 1
}

run_portcullis() {
    local c=$1 r=$2 probe
    # Before the server starts: its start-up compiles in the background for a few seconds.
    probe=$(cpu_probe_ms)
    start_portcullis
    local maildir=$BOX/data/mail/example.test/bench/Maildir/new
    local t0 t1 t2 n=0 peak=0 cpu0 cpu1 stat0 stat1
    cpu0=$(cpu_split $PID); stat0=$(grep '^cpu ' /proc/stat)
    t0=$(now)
    smtp-source -s "$c" -m "$N" -l "$SIZE" -f bench@source.test -t bench@example.test -M source.test "$ADDR:$PORT"
    t1=$(now)
    cpu1=$(cpu_split $PID); stat1=$(grep '^cpu ' /proc/stat)
    local deadline=$(( $(date +%s) + 900 ))
    while [ "$(date +%s)" -lt $deadline ]; do
        n=$(find "$maildir" -maxdepth 1 -type f 2>/dev/null | wc -l)
        [ "$n" -ge "$N" ] && break
        sleep 0.1
    done
    t2=$(now)
    peak=$(awk '/^VmHWM/{printf "%.0f", $2/1024}' /proc/$PID/status)
    [ "$n" -eq "$N" ] || log "WARNING: only $n of $N messages in $maildir"
    python3 - "$c" "$r" "$N" "$t0" "$t1" "$t2" "$peak" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$stat0" "$stat1" "$probe" >>"$RESULTS" <<'PY'
import sys
c, r, n, t0, t1, t2, p, cpu0, cpu1, hz, s0, s1, probe = sys.argv[1:]
n = int(n); a = float(t1) - float(t0); d = float(t2) - float(t0)
(u0, k0), (u1, k1) = [map(int, x.split()) for x in (cpu0, cpu1)]
cpu_ms = (u1 - u0 + k1 - k0) * 1000 / int(hz) / n
kernel = 100 * (k1 - k0) / max(1, u1 - u0 + k1 - k0)
# /proc/stat "cpu" line: user nice system idle iowait irq softirq steal ...
f0, f1 = [list(map(int, x.split()[1:9])) for x in (s0, s1)]
dt = [b - a for a, b in zip(f0, f1)]
tot = max(1, sum(dt))
print(f"portcullis,{c},{r},{n},{a:.3f},{n/a:.1f},{d:.3f},{n/d:.1f},{p},{cpu_ms:.2f},{100*dt[3]/tot:.1f},{100*dt[4]/tot:.1f},{100*dt[7]/tot:.1f},{kernel:.0f},{probe}")
PY
    tail -1 "$RESULTS" >&2
    stop_portcullis
}

run_postfix() {
    local c=$1 r=$2
    local pfout=$OUT/postfix-$c
    rm -rf "$pfout"; mkdir -p "$pfout"
    set_aside /var/mail/vhosts/example.test
    TARGETS=postfix CONCS=$c RUNS=1 N=$N SIZE=$SIZE OUTDIR=$pfout bash "$PEERS/postfix-baseline.sh" >"$pfout/summary.txt"
    # target,conc,run,n,size,accept_s,accept_rps,deliv_s,deliv_rps,...
    awk -F, -v r="$r" 'NR>1 && $1=="postfix" {print "postfix," $2 "," r "," $4 "," $6 "," $7 "," $8 "," $9 ",,,,,,,"}' "$pfout"/postfix-baseline-*.csv >>"$RESULTS"
    tail -1 "$RESULTS" >&2
}

run_sink() { # the ceiling: smtp-sink accepts and discards (no disk, no parsing beyond the protocol)
    local c=$1 r=$2 t0 t1
    if [ -z "$SINK_PID" ]; then
        smtp-sink -u nobody 127.0.0.1:2626 1000 &
        SINK_PID=$!
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/2626) 2>/dev/null && break; sleep 0.1; done
    fi
    t0=$(now)
    smtp-source -s "$c" -m "$N" -l "$SIZE" -f bench@source.test -t bench@example.test -M source.test 127.0.0.1:2626
    t1=$(now)
    python3 -c "import sys; c,r,n,t0,t1=sys.argv[1:]; n=int(n); a=float(t1)-float(t0); print(f'smtp-sink,{c},{r},{n},{a:.3f},{n/a:.1f},,,,,,,,,')" "$c" "$r" "$N" "$t0" "$t1" >>"$RESULTS"
    tail -1 "$RESULTS" >&2
}

for r in $(seq "$RUNS"); do
    for c in $CONCS; do
        log "round $r/$RUNS, c=$c: smtp-sink (ceiling)"
        run_sink "$c" "$r"
        if [ $((r % 2)) -eq 1 ]; then
            log "round $r/$RUNS, c=$c: Postfix, then Portcullis"
            run_postfix "$c" "$r"; run_portcullis "$c" "$r"
        else
            log "round $r/$RUNS, c=$c: Portcullis, then Postfix"
            run_portcullis "$c" "$r"; run_postfix "$c" "$r"
        fi
    done
done

python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def runs(target, conc):
    return {r['round']: r for r in rows if r['target'] == target and r['conc'] == conc}
def med(cells, key):
    return statistics.median(float(c[key]) for c in cells.values())
print(f"\n{'sessions':>8} | {'Postfix acc/s':>13} | {'Portcullis acc/s':>16} | {'ratio':>5} | {'round ratios':>17} | {'Postfix dlv/s':>13} | {'Portcullis dlv/s':>16} | {'ratio':>5} | {'peak RSS MB':>11} | {'smtp-sink acc/s':>15} | {'Portcullis/sink':>15} | {'max steal %':>11} | {'CPU ms/msg':>10} | {'probe ms':>8}")
for conc in sorted({r['conc'] for r in rows}, key=int):
    p, q, k = runs('postfix', conc), runs('portcullis', conc), runs('smtp-sink', conc)
    if not p or not q:
        continue
    pa, qa, pd, qd = med(p, 'accept_rps'), med(q, 'accept_rps'), med(p, 'deliv_rps'), med(q, 'deliv_rps')
    paired = sorted(float(q[r]['accept_rps']) / float(p[r]['accept_rps']) for r in q if r in p)
    spread = f"{paired[0]:.2f}-{paired[-1]:.2f} ({len(paired)})"
    rss = max(int(c['peak_rss_mb']) for c in q.values())
    sink = f"{med(k, 'accept_rps'):15.1f} | {qa / med(k, 'accept_rps'):15.2f}" if k else f"{'-':>15} | {'-':>15}"
    steal = max(float(c['steal_pct']) for c in q.values())
    cpu = med(q, 'cpu_ms_per_msg')
    probe = f"{med(q, 'cpu_probe_ms'):8.0f}" if all(c.get('cpu_probe_ms') for c in q.values()) else f"{'-':>8}"
    print(f"{conc:>8} | {pa:13.1f} | {qa:16.1f} | {qa / pa:5.2f} | {spread:>17} | {pd:13.1f} | {qd:16.1f} | {qd / pd:5.2f} | {rss:>11} | {sink} | {steal:11.1f} | {cpu:10.2f} | {probe}")
print(f"\nMedians of {max(len(runs('portcullis', c)) for c in {r['conc'] for r in rows})} rounds; N={rows[0]['n']} messages of 5 KB per run, one message per connection (smtp-source).")
print(f"Round ratios: Portcullis/Postfix accepted, lowest-highest (rounds). Peak RSS: the highest of the rounds. Max steal: the")
print(f"highest share of the CPUs the hypervisor took during a Portcullis run (a few % is usual here; more slows both servers).")
print(f"CPU ms/msg: Portcullis's CPU per message (median). Probe ms: a fixed loop on every CPU just before each Portcullis run")
print(f"(median; higher means slower CPUs: the same code then needs more CPU per message).")
print(f"Raw, with each run's CPU per message, idle, iowait and steal: {sys.argv[1]}")
PY
