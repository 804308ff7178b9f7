#!/usr/bin/env bash
# The static checks, each ending, like every suite, with "N passed, M failed".
#
#   tests/static.sh [layers] [format] [tidy]    (default: all three)
#
#   layers  the layer rules of the sources (README "Layout"), by grep: each
#           rule that holds is a pass, each breach a failure, printed as
#           file:line: the rule it breaks.
#   format  the pinned clang-format (14, Debian 12) over server/, tests/unit,
#           tests/db, tests/fuzz and tests/bench with the committed
#           .clang-format: a pass per file
#           formatted as it would format it.
#   tidy    the pinned clang-tidy (14) over server/**/*.c with the committed
#           .clang-tidy and the build's flags, a file per core at a time: a
#           pass per file without findings.
#
# Exit status 0 only when nothing failed. A missing tool is a failure, never
# a skip: `make deps-test` installs both.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy-14}

passed=0
failed=0
tidy_logs=
trap '[ -z "$tidy_logs" ] || rm -rf "$tidy_logs"' EXIT

# Every C source and header of the server, sorted.
server_files() {
    find server -name '*.[ch]' -type f | LC_ALL=C sort
}

# Lines of grep -n output that are code, not comments: a comment line starts
# with /*, * or //.
code_lines() {
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*|//)'
}

# rule DESCRIPTION ALLOWED PATTERN [SCOPE]: PATTERN (grep -E) must match no
# code line of a server file whose path matches SCOPE (grep -E; default: all)
# and not ALLOWED (grep -E; empty: none).
rule() {
    local what=$1 allowed=$2 pattern=$3 scope=${4:-.} hits
    hits=$(server_files | grep -E -- "$scope" | xargs grep -nE -- "$pattern" | code_lines |
        { if [ -n "$allowed" ]; then grep -vE "^($allowed)"; else cat; fi; })
    report "$what" "$hits"
}

# report DESCRIPTION HITS: one failure per line of HITS (grep -n output), or
# one pass when there is none.
report() {
    local what=$1 hits=$2 n file line text
    if [ -z "$hits" ]; then
        echo "layers ok: $what"
        passed=$((passed + 1))
        return
    fi
    n=0
    while IFS=: read -r file line text; do
        text=${text#"${text%%[![:space:]]*}"}
        echo "$file:$line: breaks \"$what\": $text"
        n=$((n + 1))
    done <<<"$hits"
    failed=$((failed + n))
}

# domain/ includes only its own headers and the C library: ISO C's headers,
# and the POSIX address types and conversions netaddr.c needs.
domain_includes() {
    local iso='assert|complex|ctype|errno|fenv|float|inttypes|iso646|limits|locale|math|setjmp'
    iso+='|signal|stdalign|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|stdnoreturn'
    iso+='|string|tgmath|threads|time|uchar|wchar|wctype'
    local posix='arpa/inet|netinet/in|sys/socket'
    local hits="" file line text h
    while IFS=: read -r file line text; do
        [ -n "$file" ] || continue
        if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<($iso|$posix)\.h\> ]]; then
            continue
        fi
        if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"(domain/[a-z0-9_]+\.h)\" ]] &&
            [ -f "server/${BASH_REMATCH[1]}" ]; then
            continue
        fi
        hits+="$file:$line:$text"$'\n'
    done < <(find server/domain -name '*.[ch]' -type f | LC_ALL=C sort |
        xargs grep -nE '^[[:space:]]*#[[:space:]]*include')
    h=${hits%$'\n'}
    report "domain/ includes only domain/ headers and the C library" "$h"
}

# No exported function of server/api/ (a handler, or what handlers share) is
# over 60 lines, from its return type's line to its closing brace: a
# handler is decode, load, decide, store, render, each a call.
handler_lengths() {
    local hits
    hits=$(for f in server/api/*.c; do
        awk -v f="$f" '
            /^[a-z_][a-z0-9_]*\(/ && prev !~ /^static/ { start = NR - 1; name = $0 }
            /^}/ && start { if (NR - start + 1 > 60)
                                printf "%s:%d:%s is %d lines\n", f, start + 1, name, NR - start + 1
                            start = 0 }
            { prev = $0 }' "$f"
    done)
    report "no function exported by api/ over 60 lines" "$hits"
}

check_layers() {
    rule "libpq (libpq-fe.h, PQ* calls, PGconn, PGresult) only in db/" 'server/db/' \
        '#[[:space:]]*include[[:space:]]*[<"]libpq-fe\.h|\bPQ[a-z][A-Za-z]*[[:space:]]*\(|\bPG(conn|result)\b'
    rule "SQL text only in db/" 'server/db/' \
        '"[^"]*\b(SELECT|INSERT[[:space:]]+INTO|DELETE[[:space:]]+FROM|UPDATE[[:space:]]+[a-z_][a-z0-9_]*)\b'
    rule "libsodium only in sec/" 'server/sec/' \
        '#[[:space:]]*include[[:space:]]*[<"]sodium[./]|\b(sodium|crypto|randombytes)_[a-z0-9_]+[[:space:]]*\('
    rule "CivetWeb only in http/ and main.c" 'server/http/|server/main\.c:' \
        '#[[:space:]]*include[[:space:]]*[<"]civetweb\.h|\bmg_[a-z0-9_]+[[:space:]]*\('
    rule "libcurl only in jobs/" 'server/jobs/' \
        '#[[:space:]]*include[[:space:]]*[<"]curl/|\bcurl_[a-z0-9_]+[[:space:]]*\('
    domain_includes
    rule "api/ never includes jobs/" '' \
        '#[[:space:]]*include[[:space:]]*[<"]jobs/' '^server/api/'
    handler_lengths
}

check_format() {
    local f
    if ! command -v "$CLANG_FORMAT" >/dev/null; then
        echo "format: $CLANG_FORMAT is missing (make deps-test)"
        failed=$((failed + 1))
        return
    fi
    while read -r f; do
        if "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1; then
            passed=$((passed + 1))
        else
            echo "format: $f is not as $CLANG_FORMAT formats it:"
            "$CLANG_FORMAT" --dry-run "$f" 2>&1 | grep -E '^[^ ].*: (warning|error):' | head -5
            failed=$((failed + 1))
        fi
    done < <({ server_files; ls tests/unit/*.[ch] tests/db/*.[ch] tests/fuzz/*.[ch] tests/bench/*.c; } | LC_ALL=C sort)
    echo "format: $CLANG_FORMAT over server/, tests/unit, tests/db, tests/fuzz, tests/bench"
}

check_tidy() {
    local f log flags
    if ! command -v "$CLANG_TIDY" >/dev/null; then
        echo "tidy: $CLANG_TIDY is missing (make deps-test)"
        failed=$((failed + 1))
        return
    fi
    # The flags the Makefile compiles with, but the warnings and optimisation.
    flags="-std=c17 -D_GNU_SOURCE -Iserver $(pkg-config --cflags jansson libsodium libpq libcurl)"
    tidy_logs=$(mktemp -d /tmp/cabinet-tidy.XXXXXX) || exit 1
    # Each file's output in a log of its own; FILE.ok only when it passed.
    # shellcheck disable=SC2016
    find server -name '*.c' -type f | LC_ALL=C sort |
        xargs -P "$(nproc)" -I{} sh -c '
            log="$1/$(printf %s "$2" | tr / _).log"
            "$0" --quiet "$2" -- $3 >"$log" 2>&1 && touch "$log.ok"
        ' "$CLANG_TIDY" "$tidy_logs" {} "$flags"
    while read -r f; do
        log="$tidy_logs/$(printf %s "$f" | tr / _).log"
        if [ -e "$log.ok" ]; then
            passed=$((passed + 1))
            continue
        fi
        echo "tidy: $f:"
        grep -E ': (warning|error):' "$log" | sed -e "s|^$PWD/||" -e 's/^/  /' ||
            tail -n 5 "$log" 2>/dev/null || echo "  (no result)"
        failed=$((failed + 1))
    done < <(find server -name '*.c' -type f | LC_ALL=C sort)
    echo "tidy: $CLANG_TIDY over server/**/*.c"
}

[ $# -eq 0 ] && set -- layers format tidy
for check in "$@"; do
    case $check in
    layers) check_layers ;;
    format) check_format ;;
    tidy) check_tidy ;;
    *)
        echo "tests/static.sh: unknown check $check (layers, format, tidy)" >&2
        exit 2
        ;;
    esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
