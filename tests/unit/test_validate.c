/* Validators of single values: slugs, e-mail addresses, UTF-8, text, enums. */
#include <stdlib.h>

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
