/* Validators of single values: slugs, e-mail addresses, UTF-8, text, enums. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"
#include "unit.h"

/* Strings built as head + rep × n + tail, for lengths at the limits. */
struct built {
    const char *head, *rep;
    size_t n;
    const char *tail;
};

static char *
build(const struct built *b)
{
    return unit_build(b->head, b->rep, b->n, b->tail);
}

void
test_validate_slug(void)
{
    static const struct {
        struct built s;
        int null; /* pass NULL instead */
        int want;
    } rows[] = {
        /* clang-format off */
        {{"a", NULL, 0, NULL}, 0, 1},
        {{"0", NULL, 0, NULL}, 0, 1},
        {{"web", NULL, 0, NULL}, 0, 1},
        {{"web-01", NULL, 0, NULL}, 0, 1},
        {{"0-day", NULL, 0, NULL}, 0, 1},
        {{"a--b", NULL, 0, NULL}, 0, 1},
        {{"a-", NULL, 0, NULL}, 0, 1}, /* the pattern allows a trailing hyphen */
        {{"", "a", 63, NULL}, 0, 1},   /* 63 characters */
        {{"", "a", 64, NULL}, 0, 0},   /* 64 */
        {{"0", "-", 62, NULL}, 0, 1},
        {{"", NULL, 0, NULL}, 0, 0},
        {{NULL, NULL, 0, NULL}, 1, 0},
        {{"-a", NULL, 0, NULL}, 0, 0},
        {{"-", NULL, 0, NULL}, 0, 0},
        {{"A", NULL, 0, NULL}, 0, 0},
        {{"Web", NULL, 0, NULL}, 0, 0},
        {{"web_01", NULL, 0, NULL}, 0, 0},
        {{"web 01", NULL, 0, NULL}, 0, 0},
        {{"web.01", NULL, 0, NULL}, 0, 0},
        {{"web/x", NULL, 0, NULL}, 0, 0},
        {{" web", NULL, 0, NULL}, 0, 0},
        {{"web\n", NULL, 0, NULL}, 0, 0},
        {{"caf\xc3\xa9", NULL, 0, NULL}, 0, 0},
        {{"\xc3\xa9", NULL, 0, NULL}, 0, 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char *s = build(&rows[i].s);

        unit_row("row %zu \"%s\"", i, rows[i].null ? "(NULL)" : s);
        CHECK_INT(validate_slug(rows[i].null ? NULL : s), rows[i].want);
        free(s);
    }
}

void
test_validate_email(void)
{
    static const struct {
        struct built s;
        int null;
        int want;
    } rows[] = {
        {{"a@b", NULL, 0, NULL}, 0, 1},
        {{"alice@example.com", NULL, 0, NULL}, 0, 1},
        {{"a.b+tag@sub-domain.example", NULL, 0, NULL}, 0, 1},
        {{"j\xc3\xbcrgen@example.de", NULL, 0, NULL}, 0, 1},
        {{"a@", "b", 252, NULL}, 0, 1}, /* 254 bytes */
        {{"a@", "b", 253, NULL}, 0, 0}, /* 255 */
        {{"", NULL, 0, NULL}, 0, 0},
        {{NULL, NULL, 0, NULL}, 1, 0},
        {{"ab", NULL, 0, NULL}, 0, 0},
        {{"alice", NULL, 0, NULL}, 0, 0},
        {{"@b", NULL, 0, NULL}, 0, 0},
        {{"@example.com", NULL, 0, NULL}, 0, 0},
        {{"a@", NULL, 0, NULL}, 0, 0},
        {{"alice@", NULL, 0, NULL}, 0, 0},
        {{"a@@b", NULL, 0, NULL}, 0, 0},
        {{"a@b@c", NULL, 0, NULL}, 0, 0},
        {{"a b@c", NULL, 0, NULL}, 0, 0},
        {{"a@b c", NULL, 0, NULL}, 0, 0},
        {{" a@b", NULL, 0, NULL}, 0, 0},
        {{"a@b ", NULL, 0, NULL}, 0, 0},
        {{"a\t@b", NULL, 0, NULL}, 0, 0},
        {{"a@b\n", NULL, 0, NULL}, 0, 0},
        {{"a\x7f@b", NULL, 0, NULL}, 0, 0},
        {{"a\x01@b", NULL, 0, NULL}, 0, 0},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char *s = build(&rows[i].s);

        unit_row("row %zu \"%.40s\"", i, rows[i].null ? "(NULL)" : s);
        CHECK_INT(validate_email(rows[i].null ? NULL : s), rows[i].want);
        free(s);
    }
}

void
test_validate_utf8(void)
{
    static const struct {
        const char *s;
        int want;
        size_t chars; /* when valid */
    } rows[] = {
        /* clang-format off */
        {"", 1, 0},
        {"abc", 1, 3},
        {"\x7f", 1, 1},
        {"\x01\x1f", 1, 2},
        {"\xc2\x80", 1, 1},         /* U+0080, the first two-byte one */
        {"\xc3\xa9", 1, 1},         /* é */
        {"\xdf\xbf", 1, 1},         /* U+07FF */
        {"\xe0\xa0\x80", 1, 1},     /* U+0800 */
        {"\xe6\x97\xa5\xe6\x9c\xac", 1, 2},
        {"\xed\x9f\xbf", 1, 1},     /* U+D7FF, just below the surrogates */
        {"\xee\x80\x80", 1, 1},     /* U+E000, just above */
        {"\xef\xbf\xbf", 1, 1},     /* U+FFFF */
        {"\xf0\x90\x80\x80", 1, 1}, /* U+10000 */
        {"\xf0\x9f\x98\x80", 1, 1}, /* an emoji */
        {"\xf4\x8f\xbf\xbf", 1, 1}, /* U+10FFFF, the last */
        {"a \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 1, 7},
        /* overlong encodings */
        {"\xc0\x80", 0, 0},
        {"\xc0\xaf", 0, 0},
        {"\xc1\xbf", 0, 0},
        {"\xe0\x80\xaf", 0, 0},
        {"\xe0\x9f\xbf", 0, 0},
        {"\xf0\x80\x80\xaf", 0, 0},
        {"\xf0\x8f\xbf\xbf", 0, 0},
        /* surrogates */
        {"\xed\xa0\x80", 0, 0},
        {"\xed\xbf\xbf", 0, 0},
        {"\xed\xa0\xbd\xed\xb8\x80", 0, 0}, /* a CESU-8 pair */
        /* past U+10FFFF */
        {"\xf4\x90\x80\x80", 0, 0},
        {"\xf5\x80\x80\x80", 0, 0},
        {"\xf7\xbf\xbf\xbf", 0, 0},
        /* bytes that never start a sequence */
        {"\xf8\x88\x80\x80\x80", 0, 0},
        {"\xfc\x84\x80\x80\x80\x80", 0, 0},
        {"\xfe", 0, 0},
        {"\xff", 0, 0},
        {"\x80", 0, 0},
        {"\xbf", 0, 0},
        {"a\xbf" "b", 0, 0},
        /* truncated sequences */
        {"\xc3", 0, 0},
        {"\xe6\x97", 0, 0},
        {"\xf0\x9f\x98", 0, 0},
        {"ab\xf0\x9f", 0, 0},
        {"\xc3" "a", 0, 0},
        {"\xe6\x97" "a", 0, 0},
        {"\xf0\x9f\x98" "a", 0, 0},
        {"\xc3\xc3\xa9", 0, 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        size_t chars = 9999;

        unit_row("row %zu", i);
        CHECK_INT(validate_utf8(rows[i].s, &chars), rows[i].want);
        if (rows[i].want)
            CHECK_INT(chars, rows[i].chars);
        CHECK_INT(validate_utf8(rows[i].s, NULL), rows[i].want);
    }
}

enum fault { FINE, CONTROL, BIDI, NOT_UTF8 };

/* The message validate_line (lines false) or validate_lines gives. */
static void
fault_message(enum fault f, bool lines, const char *cp, char *buf, size_t size)
{
    switch (f) {
    case FINE: snprintf(buf, size, "%s", ""); break;
    case CONTROL:
        snprintf(buf, size, "%s: U+%s is a control character",
                 lines ? "may hold tabs and line breaks but no other control character"
                       : "must be one line of text",
                 cp);
        break;
    case BIDI:
        snprintf(buf, size,
                 "must not hold U+%s, a bidirectional control that reorders how text is "
                 "displayed",
                 cp);
        break;
    case NOT_UTF8: snprintf(buf, size, "%s", "must be valid UTF-8"); break;
    }
}

/* The characters of single-line and multi-line text fields: each row is
 * judged both ways, with the fault each finds first. */
static void
validate_text_characters(void)
{
    static const struct {
        const char *s;
        enum fault line;
        const char *line_cp;
        enum fault lines;
        const char *lines_cp;
    } rows[] = {
        /* clang-format off */
        {"", FINE, "", FINE, ""},
        {"Upgrade the web tier", FINE, "", FINE, ""},
        {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", FINE, "", FINE, ""},
        {"a\xc2\xa0" "b", FINE, "", FINE, ""},      /* U+00A0: past the C1 controls */
        {"a\xe2\x80\x8f" "b", FINE, "", FINE, ""}, /* U+200F RLM is not refused */
        {"a\xe2\x80\xa9", FINE, "", FINE, ""},     /* U+2029, just below U+202A */
        {"a\xe2\x80\xaf", FINE, "", FINE, ""},     /* U+202F, just past U+202E */
        {"a\xe2\x81\xa5", FINE, "", FINE, ""},     /* U+2065, just below U+2066 */
        {"a\xe2\x81\xaa", FINE, "", FINE, ""},     /* U+206A, just past U+2069 */
        {"~ ", FINE, "", FINE, ""},                 /* U+007E, just below DEL */
        /* C0 controls: only tab, LF and CR in multi-line text */
        {"a\tb", CONTROL, "0009", FINE, ""},
        {"a\nb", CONTROL, "000A", FINE, ""},
        {"a\r\nb", CONTROL, "000D", FINE, ""},
        {"a\rb", CONTROL, "000D", FINE, ""},
        {"\x01", CONTROL, "0001", CONTROL, "0001"},
        {"ring \x07", CONTROL, "0007", CONTROL, "0007"},
        {"\x08", CONTROL, "0008", CONTROL, "0008"},
        {"\x0b", CONTROL, "000B", CONTROL, "000B"},
        {"\x0c", CONTROL, "000C", CONTROL, "000C"},
        {"\x1b[31m", CONTROL, "001B", CONTROL, "001B"},
        {"\x1f", CONTROL, "001F", CONTROL, "001F"},
        {"a\nb\x07", CONTROL, "000A", CONTROL, "0007"},
        {"\x7f", CONTROL, "007F", CONTROL, "007F"},
        /* C1 controls */
        {"\xc2\x80", CONTROL, "0080", CONTROL, "0080"},
        {"a\xc2\x85", CONTROL, "0085", CONTROL, "0085"},
        {"\xc2\x9b" "31m", CONTROL, "009B", CONTROL, "009B"},
        {"\xc2\x9f", CONTROL, "009F", CONTROL, "009F"},
        /* embeddings, overrides, isolates */
        {"\xe2\x80\xaa", BIDI, "202A", BIDI, "202A"},
        {"\xe2\x80\xab", BIDI, "202B", BIDI, "202B"},
        {"\xe2\x80\xac", BIDI, "202C", BIDI, "202C"},
        {"\xe2\x80\xad", BIDI, "202D", BIDI, "202D"},
        {"access\xe2\x80\xae" "nimda", BIDI, "202E", BIDI, "202E"},
        {"\xe2\x81\xa6", BIDI, "2066", BIDI, "2066"},
        {"\xe2\x81\xa7", BIDI, "2067", BIDI, "2067"},
        {"\xe2\x81\xa8", BIDI, "2068", BIDI, "2068"},
        {"x\n\xe2\x81\xa9", CONTROL, "000A", BIDI, "2069"},
        /* not UTF-8 at all */
        {"\xff", NOT_UTF8, "", NOT_UTF8, ""},
        {"a\xc3", NOT_UTF8, "", NOT_UTF8, ""},
        {"\xc2\x07", NOT_UTF8, "", NOT_UTF8, ""},
        {"\xe2\x80", NOT_UTF8, "", NOT_UTF8, ""},
        {"\xed\xa0\x80", NOT_UTF8, "", NOT_UTF8, ""},
        {"\xc0\x87", NOT_UTF8, "", NOT_UTF8, ""}, /* an overlong BEL */
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char why[VALIDATE_WHY_LEN], want[VALIDATE_WHY_LEN];

        unit_row("row %zu, single line", i);
        fault_message(rows[i].line, false, rows[i].line_cp, want, sizeof want);
        strcpy(why, "(untouched)");
        CHECK_INT(validate_line(rows[i].s, why), rows[i].line == FINE);
        CHECK_STR(why, rows[i].line == FINE ? "(untouched)" : want);
        CHECK_INT(validate_line(rows[i].s, NULL), rows[i].line == FINE);

        unit_row("row %zu, multi-line", i);
        fault_message(rows[i].lines, true, rows[i].lines_cp, want, sizeof want);
        strcpy(why, "(untouched)");
        CHECK_INT(validate_lines(rows[i].s, why), rows[i].lines == FINE);
        CHECK_STR(why, rows[i].lines == FINE ? "(untouched)" : want);
        CHECK_INT(validate_lines(rows[i].s, NULL), rows[i].lines == FINE);
    }
    unit_row("NULL is an absent field");
    CHECK(validate_line(NULL, NULL));
    CHECK(validate_lines(NULL, NULL));
}

/* CRLF and lone CR become LF; nothing else changes. */
static void
validate_text_newlines(void)
{
    static const struct {
        const char *s, *want;
    } rows[] = {
        {"", ""},
        {"one line", "one line"},
        {"a\nb", "a\nb"},
        {"a\r\nb", "a\nb"},
        {"a\rb", "a\nb"},
        {"\r\n\r\n", "\n\n"},
        {"\r\r\n", "\n\n"}, /* a lone CR, then a pair */
        {"\n\r", "\n\n"},   /* LF CR is two breaks */
        {"\r", "\n"},
        {"end\r", "end\n"},
        {"\r\n", "\n"},
        {"tab\tstays\r\n", "tab\tstays\n"},
        {"caf\xc3\xa9\r\n\xe6\x97\xa5", "caf\xc3\xa9\n\xe6\x97\xa5"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char *got = validate_newlines(rows[i].s);

        unit_row("row %zu", i);
        CHECK(got != NULL && got != rows[i].s);
        CHECK_STR(got, rows[i].want);
        if (got != NULL)
            CHECK(validate_lines(got, NULL) && strchr(got, '\r') == NULL);
        free(got);
    }
    unit_row("NULL");
    CHECK(validate_newlines(NULL) == NULL);
}

void
test_validate_text(void)
{
    static const struct {
        struct built s;
        int null;
        size_t min, max;
        int want;
    } rows[] = {
        {{"abc", NULL, 0, NULL}, 0, 0, 10, 1},
        {{"abc", NULL, 0, NULL}, 0, 3, 3, 1},
        {{"abc", NULL, 0, NULL}, 0, 4, 10, 0},
        {{"abc", NULL, 0, NULL}, 0, 0, 2, 0},
        {{"", NULL, 0, NULL}, 0, 0, 0, 1},
        {{"", NULL, 0, NULL}, 0, 1, 10, 0},
        {{NULL, NULL, 0, NULL}, 1, 0, 10, 0},
        /* trimming */
        {{"   ", NULL, 0, NULL}, 0, 1, 10, 0},
        {{" \t\n\r\f\v", NULL, 0, NULL}, 0, 1, 10, 0},
        {{" \t\n\r\f\v", NULL, 0, NULL}, 0, 0, 0, 1},
        {{"  a  ", NULL, 0, NULL}, 0, 1, 1, 1},
        {{" \t\n\r\f\va\v\f\r\n\t ", NULL, 0, NULL}, 0, 1, 1, 1},
        {{"a b", NULL, 0, NULL}, 0, 3, 3, 1},      /* inner space counts */
        {{"\xc2\xa0", NULL, 0, NULL}, 0, 1, 1, 1}, /* NBSP is not ASCII space */
        /* characters, not bytes */
        {{"", "a", 200, NULL}, 0, 1, 200, 1},
        {{"", "a", 201, NULL}, 0, 1, 200, 0},
        {{"", "\xc3\xa9", 200, NULL}, 0, 1, 200, 1},
        {{"", "\xc3\xa9", 201, NULL}, 0, 1, 200, 0},
        {{"", "\xe6\x97\xa5", 3, NULL}, 0, 3, 3, 1},
        {{"", "\xf0\x9f\x98\x80", 5, NULL}, 0, 5, 5, 1},
        {{"", "\xf0\x9f\x98\x80", 5, NULL}, 0, 6, 20, 0},
        {{" ", "\xc3\xa9", 200, " "}, 0, 1, 200, 1},
        /* invalid UTF-8 fails whatever the bounds */
        {{"\xc3", NULL, 0, NULL}, 0, 0, 100, 0},
        {{"ok\xff", NULL, 0, NULL}, 0, 0, 100, 0},
        {{"\xed\xa0\x80", NULL, 0, NULL}, 0, 0, 100, 0},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char *s = build(&rows[i].s);

        unit_row("row %zu min %zu max %zu", i, rows[i].min, rows[i].max);
        CHECK_INT(validate_text(rows[i].null ? NULL : s, rows[i].min, rows[i].max), rows[i].want);
        free(s);
    }
    validate_text_characters();
    validate_text_newlines();
}

void
test_validate_oneof(void)
{
    static const char *const impacts[] = {"low", "medium", "high", NULL};
    static const char *const none[] = {NULL};
    static const struct {
        const char *s;
        const char *const *list;
        int want;
    } rows[] = {
        {"low", impacts, 1},
        {"medium", impacts, 1},
        {"high", impacts, 1},
        {"LOW", impacts, 0},
        {"lo", impacts, 0},
        {"lowx", impacts, 0},
        {"medium ", impacts, 0},
        {"", impacts, 0},
        {NULL, impacts, 0},
        {"low", none, 0},
        {"cab", validate_roles, 1},
        {"ecab", validate_roles, 1},
        {"manager", validate_roles, 1},
        {"admin", validate_roles, 1},
        {"requester", validate_roles, 0},
        {"root", validate_roles, 0},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("row %zu \"%s\"", i, rows[i].s ? rows[i].s : "(NULL)");
        CHECK_INT(validate_oneof(rows[i].s, rows[i].list), rows[i].want);
    }
}
