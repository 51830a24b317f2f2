#!/usr/bin/env bash
# fuzz/run.sh - fuzz one target with afl++ through SharpFuzz (fuzz/README.md).
#
#   bash fuzz/run.sh TARGET [SECONDS]      # TARGET: a directory of fuzz/corpus (smtp-server-input,
#                                          # smtp-session-mx, ...); SECONDS default 600
#
# Installs afl++ (Debian) and the sharpfuzz tool when missing, publishes fuzz/Portcullis.Fuzz, instruments
# Portcullis.Smtp.dll, Portcullis.Server.dll and Portcullis.Audit.dll in the published copy, runs afl-fuzz from fuzz/corpus/TARGET
# for SECONDS, and lists what it found under $OUT/TARGET/default/{crashes,hangs}. Reproduce one with
#   dotnet $OUT/bin/Portcullis.Fuzz.dll TARGET < FILE     (uninstrumented runs work too: see README)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
SECONDS_TO_RUN=${2:-600}
OUT=${OUT:-/var/tmp/portcullis-fuzz}
[ -d "fuzz/corpus/$TARGET" ] || { echo "no seed corpus fuzz/corpus/$TARGET" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { apt-get update -qq && apt-get install -y -qq afl++ >/dev/null; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null
mkdir -p "$OUT"
if [ ! -f "$OUT/bin/.instrumented" ] || [ -n "$(find src/Portcullis.Smtp src/Portcullis.Server src/Portcullis.Audit fuzz/Portcullis.Fuzz -name '*.cs' -newer "$OUT/bin/.instrumented" -not -path '*/obj/*' | head -1)" ]; then
    rm -rf "$OUT/bin"
    dotnet publish fuzz/Portcullis.Fuzz -c Release -o "$OUT/bin" -v q -nologo >/dev/null
    sharpfuzz "$OUT/bin/Portcullis.Smtp.dll" >/dev/null
    sharpfuzz "$OUT/bin/Portcullis.Server.dll" >/dev/null
    sharpfuzz "$OUT/bin/Portcullis.Audit.dll" >/dev/null
    touch "$OUT/bin/.instrumented"
fi
# .NET is not an afl-instrumented binary and needs its memory: skip afl's binary and memory checks.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
    afl-fuzz -i "fuzz/corpus/$TARGET" -o "$OUT/$TARGET" -t 10000 -m none -V "$SECONDS_TO_RUN" \
    -- dotnet "$OUT/bin/Portcullis.Fuzz.dll" "$TARGET" >"$OUT/$TARGET.log" 2>&1 || { tail -30 "$OUT/$TARGET.log" >&2; exit 1; }
grep -E "execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|edges_found" "$OUT/$TARGET/default/fuzzer_stats" || true
for kind in crashes hangs; do
    n=$(find "$OUT/$TARGET/default/$kind" -type f -name 'id:*' 2>/dev/null | wc -l)
    echo "$kind: $n (in $OUT/$TARGET/default/$kind)"
done
