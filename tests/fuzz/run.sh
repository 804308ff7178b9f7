#!/usr/bin/env bash
# Builds each libFuzzer target (clang, ASan+UBSan) and runs it for a bounded
# time over a copy of its committed seed corpus.
#   tests/fuzz/run.sh [SECONDS]    (default 10 per target)
# Prints one line per target and the usual "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
out=build/fuzz
mkdir -p "$out"
pure="server/domain/*.c server/http/router.c"
passed=0 failed=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    target=${name#fuzz_}
    # shellcheck disable=SC2086
    if ! clang -std=c17 -g -O1 -D_GNU_SOURCE -Iserver -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=all -o "$out/$name" "$src" $pure -ljansson 2>"$out/$name.build.log"; then
        echo "fuzz $target: build failed"; cat "$out/$name.build.log"
        failed=$((failed + 1)); continue
    fi
    work=$(mktemp -d)
    cp tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null
    if "$out/$name" -max_total_time="$secs" -max_len=4096 -timeout=5 \
        -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
        echo "fuzz $target: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/$name.log" |
            awk '{print $2}') runs)"
        passed=$((passed + 1))
    else
        echo "fuzz $target: FAILED (see $out/$name.log)"; tail -30 "$out/$name.log"
        failed=$((failed + 1))
    fi
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
