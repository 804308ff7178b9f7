#!/usr/bin/env bash
# Builds each libFuzzer target (clang, ASan+UBSan, LeakSanitizer on) and runs
# it for a bounded time over a copy of its committed seed corpus.
#   tests/fuzz/run.sh [SECONDS [TARGET...]]   (default 5 s, every target)
# A target is tests/fuzz/fuzz_TARGET.c with its seeds in corpus/TARGET/. It
# links against server/domain, server/http/router.c, server/sec/sec.c and
# jansson and libsodium; a line "fuzz-link: FILE..." in its source names any
# other file it needs (e.g. server/api/decode.c). Prints one line per target
# and the usual "N passed, M failed"; any crash, sanitizer report or leak is
# a failure, its input kept as build/fuzz/fuzz_TARGET-crash-*.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-5}
[ $# -gt 0 ] && shift
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c17 -g -O1 -D_GNU_SOURCE -Iserver -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes"
cflags+=" -Wmissing-prototypes -Wformat=2 -Wcast-qual -Wpointer-arith -Wimplicit-fallthrough -Wvla"
cflags+=" $san"
cflags+=" $(pkg-config --cflags jansson libsodium)"
libs="$(pkg-config --libs jansson libsodium)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0 failed=0

# obj SRC: the object of SRC in $out/obj, built when older than SRC or any
# server header; prints its path.
obj() {
    local src=$1 o
    o="$out/obj/$(printf %s "${src%.c}" | tr / _).o"
    if [ ! -e "$o" ] || [ -n "$(find "$src" server -name '*.h' -newer "$o" -print -quit)" ] ||
        [ "$src" -nt "$o" ]; then
        # shellcheck disable=SC2086
        clang $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$src" 2>"$o.log" || {
            cat "$o.log" >&2
            return 1
        }
    fi
    echo "$o"
}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        targets+=("${name#fuzz_}")
    done
fi

# The sources every target links, compiled first, two at a time.
common=(server/domain/*.c server/http/router.c server/sec/sec.c)
for s in "${common[@]}"; do
    [ "$(jobs -rp | wc -l)" -lt "$(nproc)" ] || wait -n
    obj "$s" >/dev/null &
done
wait

for target in "${targets[@]}"; do
    name=fuzz_$target
    src=tests/fuzz/$name.c
    objs=()
    ok=1
    # shellcheck disable=SC2207
    extra=($(sed -n 's/.*fuzz-link: *\([^*]*\).*/\1/p' "$src"))
    for s in "${common[@]}" "${extra[@]}"; do
        o=$(obj "$s") || { ok=0; break; }
        objs+=("$o")
    done
    # shellcheck disable=SC2086
    if [ "$ok" -eq 0 ] || ! clang $cflags -fsanitize=fuzzer -o "$out/$name" "$src" "${objs[@]}" \
        $libs 2>"$out/$name.build.log"; then
        echo "fuzz $target: build failed"
        cat "$out/$name.build.log"
        failed=$((failed + 1))
        continue
    fi
    work=$(mktemp -d)
    cp tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null
    if "$out/$name" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=1024 \
        -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" \
        >"$out/$name.log" 2>&1; then
        stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$out/$name.log" | tail -1 |
            grep -oE 'cov: [0-9]+ ft: [0-9]+')
        echo "fuzz $target: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' \
            "$out/$name.log" | awk '{print $2}') runs in ${secs} s, ${stats:-no stats})"
        passed=$((passed + 1))
    else
        echo "fuzz $target: FAILED (see $out/$name.log)"
        tail -40 "$out/$name.log"
        failed=$((failed + 1))
    fi
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
