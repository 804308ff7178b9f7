/*
 * The test harness: checks, their counts and the run of a table of tests
 * (shared by the unit tests and the database tests).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

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
unit_main(const struct unit_test *tests, size_t n, int argc, char **argv)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!unit_selected(tests[i].name, argc, argv))
            continue;
        unit_current = tests[i].name;
        unit_row_name[0] = '\0';
        tests[i].run();
        fflush(stdout);
    }
    printf("%ld passed, %ld failed\n", unit_passed, unit_failed);
    return unit_failed > 0 ? 1 : 0;
}
