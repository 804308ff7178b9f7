#!/usr/bin/env bash
# The long versions of the proof suites, each recorded in tests/proof/RESULTS.md.
#
#   tests/proof/run.sh [STAGE...]     (make proof; default: fuzz security faults)
#
#   fuzz      every libFuzzer target for PROOF_FUZZ_SECONDS (600) seconds, one
#             at a time (tests/fuzz/run.sh)
#   security  the security suite with SECURITY_LONG=1: sqlmap over every
#             route, minute-long slow-client runs (tests/security)
#   faults    the fault suite with FAULTS_LONG=1: longer outages, more kills,
#             more threads (tests/faults)
#
# Each stage's section of RESULTS.md (between its "<!-- stage:NAME -->"
# markers) is replaced by this run's: the command, the commit, when, how
# long, the suite's own count line and every figure the suite printed (the
# lines its tests print as "figure: ..."; the fuzz targets' lines). The
# sections of stages not run are kept. The log of each stage stays in
# build/proof/NAME.log. Ends with "N passed, M failed" over the stages.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

results=tests/proof/RESULTS.md
logs=build/proof
fuzz_seconds=${PROOF_FUZZ_SECONDS:-600}
mkdir -p "$logs"
[ $# -gt 0 ] || set -- fuzz security faults

# command STAGE: the command line of STAGE, as RESULTS.md shows it.
command_of() {
    case $1 in
    fuzz) echo "bash tests/fuzz/run.sh $fuzz_seconds" ;;
    security) echo "SECURITY_LONG=1 /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/security" ;;
    faults) echo "FAULTS_LONG=1 /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/faults" ;;
    *) return 1 ;;
    esac
}

# figures STAGE LOG: the lines of LOG worth recording, as list items.
figures() {
    if [ "$1" = fuzz ]; then
        grep -E '^fuzz [a-z_]+: ' "$2"
    else
        grep -oE 'figure: .*' "$2" | sed 's/^figure: //'
    fi | sed 's/^/- /'
}

# count STAGE LOG: the suite's own last count line.
count() {
    if [ "$1" = fuzz ]; then
        grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -1
    else
        grep -E '^=*[ ]*[0-9]+ (passed|failed)|^=* ?no tests ran' "$2" | tail -1 | tr -d '='
    fi
}

# section STAGE STATUS SECONDS LOG: the Markdown of one stage's result.
section() {
    local stage=$1 status=$2 secs=$3 log=$4 rev
    rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    # (this file's own sections, written by the stages before, do not count)
    git diff --quiet HEAD -- . ":(exclude)$results" 2>/dev/null || rev+=" with uncommitted changes"
    echo "<!-- stage:$stage -->"
    echo "### $stage"
    echo
    echo "\`$(command_of "$stage")\`, on $rev, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores:"
    echo "$( [ "$status" -eq 0 ] && echo passed || echo "**FAILED** (exit $status)"), in" \
        "$((secs / 60)) min $((secs % 60)) s; the suite said \"$(count "$stage" "$log" | xargs)\"."
    echo
    figures "$stage" "$log"
    echo "<!-- /stage:$stage -->"
}

# record STAGE FILE: replace STAGE's section of RESULTS.md by FILE's text
# (or append it when there is none yet).
record() {
    local stage=$1 file=$2 tmp
    tmp=$(mktemp)
    if grep -q "^<!-- stage:$stage -->$" "$results"; then
        awk -v s="<!-- stage:$stage -->" -v e="<!-- /stage:$stage -->" -v f="$file" '
            $0 == s { while ((getline line < f) > 0) print line; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip' "$results" >"$tmp"
    else
        { cat "$results"; echo; cat "$file"; } >"$tmp"
    fi
    cat "$tmp" >"$results"
    rm -f "$tmp"
}

passed=0 failed=0
for stage in "$@"; do
    cmd=$(command_of "$stage") || {
        echo "tests/proof/run.sh: no stage $stage (fuzz, security, faults)" >&2
        exit 2
    }
    log=$logs/$stage.log
    echo "proof $stage: $cmd"
    start=$(date +%s)
    bash -c "$cmd" >"$log" 2>&1
    status=$?
    secs=$(($(date +%s) - start))
    section "$stage" "$status" "$secs" "$log" >"$logs/$stage.md"
    record "$stage" "$logs/$stage.md"
    if [ "$status" -eq 0 ]; then
        echo "proof $stage: passed in $secs s"
        passed=$((passed + 1))
    else
        echo "proof $stage: FAILED (exit $status; see $log)"
        tail -30 "$log"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
