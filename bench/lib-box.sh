# Sourced by the bench scripts: one Portcullis "box" (configuration, data directory, one local user).
#
#   bench_box BIN BOX MX_ADDR:PORT [EXTRA_TOML]
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
