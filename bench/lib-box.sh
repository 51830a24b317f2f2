# Sourced by the bench scripts: one Portcullis "box" (configuration, data directory, one local user).
#
#   bench_box BIN BOX MX_ADDR:PORT [EXTRA_TOML]
#   bench_serve BIN OUT          (a fresh box, and its server started; below)
#
# Writes BOX/portcullis.toml (data in BOX/data, the MX listener on MX_ADDR:PORT, connection limits raised
# because every benchmark session comes from 127.0.0.1, then EXTRA_TOML verbatim), and adds the domain
# example.test and the user bench@example.test (password "bench-password") with the build in BIN.
bench_box() {
    local bin=$1 box=$2 mx=$3 extra=${4:-}
    cat >"$box/portcullis.toml" <<TOML
[server]
hostname = "mx.example.test"
postmaster = "bench@example.test"
[storage]
data_dir = "data"
[listeners]
mx = "$mx"
$extra
[limits]
max_connections_per_client = 1000
max_connections = 2000
TOML
    dotnet "$bin/portcullis.dll" domain add example.test --config "$box/portcullis.toml" >/dev/null
    echo "bench-password" | dotnet "$bin/portcullis.dll" user add bench@example.test --password-stdin --config "$box/portcullis.toml" >/dev/null
}

# bench_serve BIN OUT: a fresh box in OUT/box (an earlier one is moved into OUT/trash, not deleted: see
# accept.sh on ext4's recently-deleted inodes), `portcullis serve` from BIN started on 127.0.0.1:2525 in the
# background and waited for. Sets BOX and PID, and an EXIT trap that stops the server.
bench_serve() {
    local bin=$1 out=$2
    BOX=$out/box
    mkdir -p "$out/trash"
    [ -d "$BOX" ] && mv "$BOX" "$out/trash/box-$(date +%s%N)"
    mkdir -p "$BOX"
    bench_box "$bin" "$BOX" 127.0.0.1:2525
    dotnet "$bin/portcullis.dll" serve --config "$BOX/portcullis.toml" 2>"$BOX/serve.log" &
    PID=$!
    trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
    for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && return 0; sleep 0.1; done
    echo "portcullis did not start; see $BOX/serve.log" >&2
    return 1
}

# cpu_split PID: the CPU time process PID has used so far in user mode and in the kernel ("USER SYSTEM", in clock
# ticks: getconf CLK_TCK), all its threads together (/proc/PID/stat fields 14 and 15); cpu_ticks PID: their sum.
cpu_split() { awk '{print $14, $15}' "/proc/$1/stat"; }
cpu_ticks() { cpu_split "$1" | awk '{print $1+$2}'; }

# cpu_probe_ms: how fast this machine's CPUs are at this moment, as the wall time in ms of a fixed user-mode
# workload (a 3,000,000-step mawk loop, no system calls) run on every CPU at once. Why: on this VM the CPU time a
# message costs moved from 0.42 to 1.07 ms between hours with the same code while steal stayed at 1-2% (a host
# thread busy beside ours slows us without counting as steal), so each run records the speed it ran at.
cpu_probe_ms() {
    local t0 t1 pids=() i
    t0=$(date +%s%N)
    for i in $(seq "$(nproc)"); do awk 'BEGIN { for (i = 0; i < 3e6; i++) s += i * i % 7 }' & pids+=($!); done
    wait "${pids[@]}"
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
