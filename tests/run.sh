#!/usr/bin/env bash
# Runs the test suites and ends with exactly one line: "N passed, M failed".
#
#   tests/run.sh [PYTEST_ARGS...]       the static checks, the C unit tests, the
#                                       API tests, then a short fuzz run
#   tests/run.sh static                 the static checks only (tests/static.sh:
#                                       layers, format, tidy; a suite each)
#   tests/run.sh api [PYTEST_ARGS...]   the API tests only (the browser, the
#                                       security tests and the faults tests too:
#                                       tests/security, tests/faults)
#   tests/run.sh browser                the browser tests only (tests/browser,
#                                       run by tests/api/test_browser.py)
#   tests/run.sh unit                   the C unit tests only
#   tests/run.sh fuzz                   a short run of each fuzz target only
#
# Exit status 0 only when nothing failed and every suite ran. A suite that
# crashes, hangs (each has a time limit) or prints no counts is a failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

UNIT_BIN=${UNIT_BIN:-build/unit-tests}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-600}
API_TIMEOUT=${API_TIMEOUT:-2400}
STATIC_TIMEOUT=${STATIC_TIMEOUT:-900}

mode=all
case ${1:-} in
static | api | browser | unit | fuzz) mode=$1; shift ;;
esac

passed=0
failed=0
log=$(mktemp /tmp/cabinet-run.XXXXXX)
trap 'rm -f "$log"' EXIT

run_unit() {
    if [ ! -x "$UNIT_BIN" ]; then
        echo "tests/run.sh: $UNIT_BIN is missing (make build/unit-tests)" >&2
        failed=$((failed + 1))
        return
    fi
    timeout -k 10 "$UNIT_TIMEOUT" "$UNIT_BIN" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]} last p f
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]}
        f=${BASH_REMATCH[2]}
    else
        echo "tests/run.sh: the unit tests did not finish (status $rc)" >&2
        p=0
        f=1
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "tests/run.sh: the unit tests exited $rc" >&2
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# One pytest session over its arguments; adds its counts.
run_pytest() {
    timeout -k 30 "$API_TIMEOUT" /usr/bin/python3 -m pytest -q --tb=short -p no:cacheprovider \
        "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]} summary p=0 f=0 n word
    # pytest's last line: "3 failed, 40 passed, 1 error in 12.3s".
    summary=$(grep -E '^=* ?[0-9]+ [a-z]+(, [0-9]+ [a-z]+)* in [0-9.]+s' "$log" | tail -n 1)
    while read -r n word; do
        case $word in
        passed* | xpassed*) p=$((p + n)) ;;
        failed* | error*) f=$((f + n)) ;;
        esac
    done < <(grep -oE '[0-9]+ [a-z]+' <<<"$summary")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "tests/run.sh: the tests of $* could not run (status $rc)" >&2
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# The API suite and the suites on its machinery (tests/security,
# tests/faults), a pytest session each: each directory has a conftest.py,
# and one session would let one of them shadow the other's `conftest`
# module. Arguments that name test files or directories run just those,
# in one session.
run_api() {
    local arg dir
    for arg in "$@"; do
        if [ -e "${arg%%::*}" ]; then
            run_pytest "$@"
            return
        fi
    done
    for dir in tests/api tests/security tests/faults; do
        [ -d "$dir" ] && run_pytest "$dir" "$@"
    done
}

# counted NAME SECONDS COMMAND...: runs a suite that ends with its own
# "N passed, M failed" line and adds its counts; a suite that does not get
# that far, or fails with nothing counted as failed, is one failure.
counted() {
    local name=$1 secs=$2 rc last
    shift 2
    timeout -k 10 "$secs" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        if [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
            echo "tests/run.sh: $name exited $rc" >&2
            failed=$((failed + 1))
        fi
    else
        echo "tests/run.sh: $name did not finish (status $rc)" >&2
        failed=$((failed + 1))
    fi
}

# The layer rules, the pinned clang-format and clang-tidy: a suite each, so
# that one that cannot run still leaves the others' counts.
run_static() {
    local check start
    for check in layers format tidy; do
        start=$SECONDS
        echo "== static: $check"
        counted "the static check $check" "$STATIC_TIMEOUT" bash tests/static.sh "$check"
        echo "== static: $check took $((SECONDS - start)) s"
    done
}

# Each libFuzzer target for FUZZ_SECONDS; a target that finds a crash (or
# does not build) is a failure.
run_fuzz() {
    counted "the fuzz run" 600 bash tests/fuzz/run.sh "${FUZZ_SECONDS:-5}"
}

# Where the browser tests leave their screenshots, when they did.
show_screenshots() {
    local dir=build/test-output/screenshots n
    n=$(find "$dir" -name '*.png' 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] && echo "browser screenshots: $dir ($n files)"
}

case $mode in
all) run_static; run_unit; run_api "$@"; run_fuzz; show_screenshots ;;
static) run_static ;;
api) run_api "$@"; show_screenshots ;;
browser) run_api tests/api/test_browser.py "$@"; show_screenshots ;;
unit) run_unit ;;
fuzz) run_fuzz ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
