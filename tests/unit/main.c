/*
 * Runs every unit test (or those whose names contain one of the arguments),
 * prints a line per failing check and ends with exactly one line,
 * "N passed, M failed", where N and M count checks (not test functions).
 * Exit status 1 when any check failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const struct unit_test {
    const char *name;
    void (*run)(void);
} unit_tests[] = {
    {"canon_control_bytes", test_canon_control_bytes},
    {"canon_string", test_canon_string},
    {"canon_cstring", test_canon_cstring},
    {"canon_int", test_canon_int},
    {"canon_key", test_canon_key},
    {"canon_strcmp", test_canon_strcmp},
    {"canon_sort", test_canon_sort},

    {"timefmt_parse", test_timefmt_parse},
    {"timefmt_invalid", test_timefmt_invalid},
    {"timefmt_format", test_timefmt_format},
    {"timefmt_format_out_of_range", test_timefmt_format_out_of_range},
    {"timefmt_round_trip", test_timefmt_round_trip},
    {"timefmt_is_normal", test_timefmt_is_normal},

    {"netaddr_sockaddr", test_netaddr_sockaddr},
    {"netaddr_literal", test_netaddr_literal},
    {"netaddr_other_families", test_netaddr_other_families},

    {"validate_slug", test_validate_slug},
    {"validate_email", test_validate_email},
    {"validate_utf8", test_validate_utf8},
    {"validate_text", test_validate_text},
    {"validate_oneof", test_validate_oneof},

    {"change_validate", test_change_validate},
    {"change_too_many_services", test_change_too_many_services},
    {"change_canonical", test_change_canonical},
    {"change_canonical_keeps_input", test_change_canonical_keeps_input},

    {"router_table", test_router_table},
    {"router_long_param", test_router_long_param},
    {"router_stride", test_router_stride},
    {"router_resets_match", test_router_resets_match},

    {"strbuf_empty", test_strbuf_empty},
    {"strbuf_append", test_strbuf_append},
    {"strbuf_printf_growth", test_strbuf_printf_growth},
    {"strbuf_many_putc", test_strbuf_many_putc},
    {"strbuf_failed_sticks", test_strbuf_failed_sticks},
    {"strbuf_free", test_strbuf_free},

    {"slots_duration", test_slots_duration},
    {"slots_find", test_slots_find},
    {"ical_text", test_ical_text},
    {"ical_fold", test_ical_fold},
    {"webhook_signature", test_webhook_signature},
    {"ed25519_rfc8032", test_ed25519_rfc8032},
    {"ed25519_wycheproof", test_ed25519_wycheproof},
    {"ed25519_encoding", test_ed25519_encoding},
    {"fielderr_add", test_fielderr_add},
    {"fielderr_overflow", test_fielderr_overflow},
    {"fielderr_truncation", test_fielderr_truncation},
    {"fielderr_has", test_fielderr_has},

    {"lifecycle_table", test_lifecycle_table},
    {"lifecycle_after_assessment", test_lifecycle_after_assessment},
    {"lifecycle_needs_review", test_lifecycle_needs_review},
    {"lifecycle_retrospective", test_lifecycle_retrospective},
    {"lifecycle_why", test_lifecycle_why},
    {"lifecycle_why_truncated", test_lifecycle_why_truncated},
    {"lifecycle_takes_decisions", test_lifecycle_takes_decisions},
    {"lifecycle_names", test_lifecycle_names},

    {"risk_assess", test_risk_assess},
    {"risk_details", test_risk_details},
    {"risk_level", test_risk_level},
    {"risk_has_text", test_risk_has_text},

    {"policy_default", test_policy_default},
    {"policy_needed", test_policy_needed},
    {"policy_counts", test_policy_counts},
    {"policy_have", test_policy_have},
    {"policy_have_any_order", test_policy_have_any_order},
    {"policy_have_many", test_policy_have_many},

    {"statement_approval", test_statement_approval},
    {"statement_checkpoint", test_statement_checkpoint},
    {"statement_appends", test_statement_appends},

    {"role_bit", test_role_bit},
    {"role_parse_list", test_role_parse_list},
    {"role_parse_list_bad_size", test_role_parse_list_bad_size},
    {"role_pg_array", test_role_pg_array},
    {"role_round_trip", test_role_round_trip},
};

static const char *unit_current = "";
static char unit_row_name[256];
static long unit_passed, unit_failed;

/* Long values are cut here when printed: the row says which input it was. */
#define UNIT_SHOW_MAX 200

void
unit_row(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(unit_row_name, sizeof unit_row_name, fmt, ap);
    va_end(ap);
}

static void
unit_where(const char *file, int line)
{
    printf("FAIL %s:%d: [%s", file, line, unit_current);
    if (unit_row_name[0] != '\0')
        printf(" | %s", unit_row_name);
    printf("] ");
}

/* Prints bytes as a C string literal, escaping what is not printable ASCII. */
static void
unit_show(const char *s, size_t len)
{
    size_t i;

    if (s == NULL) {
        printf("NULL");
        return;
    }
    putchar('"');
    for (i = 0; i < len && i < UNIT_SHOW_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
    if (len > UNIT_SHOW_MAX)
        printf("...(%zu bytes)", len);
}

static int
unit_result(int ok)
{
    if (ok)
        unit_passed++;
    else
        unit_failed++;
    return ok;
}

int
unit_check(int ok, const char *file, int line, const char *expr)
{
    if (!ok) {
        unit_where(file, line);
        printf("CHECK(%s)\n", expr);
    }
    return unit_result(ok);
}

int
unit_check_int(int64_t got, int64_t want, const char *file, int line, const char *got_expr,
               const char *want_expr)
{
    int ok = got == want;

    if (!ok) {
        unit_where(file, line);
        printf("CHECK_INT(%s, %s): got %lld, want %lld\n", got_expr, want_expr, (long long)got,
               (long long)want);
    }
    return unit_result(ok);
}

int
unit_check_mem(const char *got, size_t gotlen, const char *want, size_t wantlen, const char *file,
               int line, const char *got_expr, const char *want_expr)
{
    int ok;

    if (got == NULL || want == NULL)
        ok = got == want;
    else
        ok = gotlen == wantlen && memcmp(got, want, gotlen) == 0;
    if (!ok) {
        unit_where(file, line);
        printf("CHECK(%s == %s):\n     got  ", got_expr, want_expr);
        unit_show(got, gotlen);
        printf("\n     want ");
        unit_show(want, wantlen);
        putchar('\n');
    }
    return unit_result(ok);
}

int
unit_check_str(const char *got, const char *want, const char *file, int line, const char *got_expr,
               const char *want_expr)
{
    return unit_check_mem(got, got ? strlen(got) : 0, want, want ? strlen(want) : 0, file, line,
                          got_expr, want_expr);
}

char *
unit_build(const char *head, const char *rep, size_t n, const char *tail)
{
    size_t hl = head ? strlen(head) : 0, rl = rep ? strlen(rep) : 0;
    size_t tl = tail ? strlen(tail) : 0, i;
    char *s = malloc(hl + rl * n + tl + 1), *p;

    if (s == NULL) {
        fprintf(stderr, "unit_build: out of memory\n");
        exit(2);
    }
    p = s;
    if (hl)
        memcpy(p, head, hl), p += hl;
    for (i = 0; i < n; i++)
        memcpy(p, rep, rl), p += rl;
    if (tl)
        memcpy(p, tail, tl), p += tl;
    *p = '\0';
    return s;
}

static int
unit_selected(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2)
        return 1;
    for (i = 1; i < argc; i++)
        if (strstr(name, argv[i]) != NULL)
            return 1;
    return 0;
}

int
main(int argc, char **argv)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(unit_tests); i++) {
        if (!unit_selected(unit_tests[i].name, argc, argv))
            continue;
        unit_current = unit_tests[i].name;
        unit_row_name[0] = '\0';
        unit_tests[i].run();
        fflush(stdout);
    }
    printf("%ld passed, %ld failed\n", unit_passed, unit_failed);
    return unit_failed > 0 ? 1 : 0;
}
