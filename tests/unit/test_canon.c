/* Canonical JSON writers: string escaping, integers, keys, byte order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/canon.h"
#include "unit.h"

/* What each control byte 0x00..0x1f becomes inside the quotes. */
static const char *const control_escapes[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
};

void
test_canon_control_bytes(void)
{
    unsigned c;

    for (c = 0; c < 32; c++) {
        struct strbuf sb = STRBUF_INIT;
        char in = (char)c;
        char *want = unit_build("\"", control_escapes[c], 1, "\"");

        unit_row("byte 0x%02x", c);
        canon_string(&sb, &in, 1);
        CHECK_MEM(sb.buf, sb.len, want, strlen(want));
        strbuf_free(&sb);
        free(want);
    }
}

static const struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
} string_rows[] = {
    /* clang-format off */
    {"", 0, "\"\""},
    {"plain", 0, "\"plain\""},
    {"\"", 0, "\"\\\"\""},
    {"\\", 0, "\"\\\\\""},
    {"/", 0, "\"/\""},
    {" ", 0, "\" \""},
    {"~", 0, "\"~\""},
    {"\x7f", 0, "\"\x7f\""},
    {"caf\xc3\xa9", 0, "\"caf\xc3\xa9\""},
    {"\xe6\x97\xa5\xe6\x9c\xac", 0, "\"\xe6\x97\xa5\xe6\x9c\xac\""},
    {"\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\""},
    {"\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\""}, /* U+2028 stays raw, as RFC 8785 says */
    {"say \"hi\"", 0, "\"say \\\"hi\\\"\""},
    {"C:\\dir\\file", 0, "\"C:\\\\dir\\\\file\""},
    {"line1\nline2", 0, "\"line1\\nline2\""},
    {"before\x01" "after", 0, "\"before\\u0001after\""},
    {"a\tb\rc\fd\be", 0, "\"a\\tb\\rc\\fd\\be\""},
    {"\x1f ", 0, "\"\\u001f \""},
    {"\n\n", 0, "\"\\n\\n\""},
    {"x\x1b[0m\xc3\xa9\"\\", 0, "\"x\\u001b[0m\xc3\xa9\\\"\\\\\""},
    {"a\0b", 3, "\"a\\u0000b\""},
    {"abcdef", 3, "\"abc\""},
    /* clang-format on */
};

void
test_canon_string(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(string_rows); i++) {
        struct strbuf sb = STRBUF_INIT;
        size_t len = string_rows[i].len ? string_rows[i].len : strlen(string_rows[i].in);

        unit_row("row %zu", i);
        canon_string(&sb, string_rows[i].in, len);
        CHECK_MEM(sb.buf, sb.len, string_rows[i].want, strlen(string_rows[i].want));
        strbuf_free(&sb);
    }
}

void
test_canon_cstring(void)
{
    static const struct {
        const char *in;
        const char *want;
    } rows[] = {
        {NULL, "\"\""},
        {"", "\"\""},
        {"x\"y", "\"x\\\"y\""},
        {"\xc3\xa9\n", "\"\xc3\xa9\\n\""},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;
        char *want = unit_build("<", rows[i].want, 1, ">");

        unit_row("row %zu", i);
        strbuf_puts(&sb, "<");
        canon_cstring(&sb, rows[i].in);
        strbuf_puts(&sb, ">");
        /* appends after what the buffer held */
        CHECK_STR(strbuf_str(&sb), want);
        strbuf_free(&sb);
        free(want);
    }
}

void
test_canon_int(void)
{
    static const struct {
        int64_t v;
        const char *want;
    } rows[] = {
        {0, "0"},
        {1, "1"},
        {-1, "-1"},
        {42, "42"},
        {-42, "-42"},
        {1000000, "1000000"},
        {300, "300"},
        {INT64_C(4294967296), "4294967296"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
        {INT64_MIN + 1, "-9223372036854775807"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("%s", rows[i].want);
        canon_int(&sb, rows[i].v);
        CHECK_STR(strbuf_str(&sb), rows[i].want);
        strbuf_free(&sb);
    }
}

void
test_canon_key(void)
{
    static const struct {
        const char *key;
        int first;
        const char *want;
    } rows[] = {
        {"a", 1, "\"a\":"},
        {"a", 0, ",\"a\":"},
        {"", 1, "\"\":"},
        {"", 0, ",\"\":"},
        {"business_impact", 0, ",\"business_impact\":"},
        {"q\"", 1, "\"q\\\"\":"},
        {"t\tab", 0, ",\"t\\tab\":"},
    };
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf one = STRBUF_INIT;

        unit_row("key \"%s\" first=%d", rows[i].key, rows[i].first);
        canon_key(&one, rows[i].key, rows[i].first);
        CHECK_STR(strbuf_str(&one), rows[i].want);
        strbuf_free(&one);
    }

    /* A whole object: a comma between members, none before the first or
     * after the last, and none before the first member of a nested object. */
    unit_row("object");
    strbuf_putc(&sb, '{');
    canon_key(&sb, "a", 1);
    canon_int(&sb, 1);
    canon_key(&sb, "b", 0);
    canon_cstring(&sb, "x");
    canon_key(&sb, "c", 0);
    strbuf_putc(&sb, '{');
    canon_key(&sb, "d", 1);
    canon_int(&sb, -2);
    canon_key(&sb, "e", 0);
    canon_cstring(&sb, NULL);
    strbuf_puts(&sb, "}}");
    CHECK_STR(strbuf_str(&sb), "{\"a\":1,\"b\":\"x\",\"c\":{\"d\":-2,\"e\":\"\"}}");
    strbuf_free(&sb);
}

static int
sign(int v)
{
    return (v > 0) - (v < 0);
}

void
test_canon_strcmp(void)
{
    static const struct {
        const char *a, *b;
        int want; /* the sign of the comparison */
    } rows[] = {
        {"a", "a", 0},
        {"", "", 0},
        {"Z", "a", -1},
        {"a", "Z", 1},
        {"a", "\xc3\xa9", -1}, /* "a" < "é" */
        {"Z", "\xc3\xa9", -1},
        {"z", "\xc3\xa9", -1},                   /* 0x7a < 0xc3: bytes, not a signed char */
        {"\x7f", "\xc3\xa9", -1},                /* 0x7f < 0xc3 */
        {"\xc3\xa9", "\xc3\xaa", -1},            /* é < ê */
        {"\xf0\x9f\x98\x80", "\xef\xbf\xbd", 1}, /* U+1F600 > U+FFFD: UTF-8 byte order */
        {"", "a", -1},
        {"a", "ab", -1},
        {"ab", "a", 1},
        {"a-b", "a0", -1}, /* '-' is 0x2d, '0' is 0x30 */
        {"B", "a", -1},
        {"web", "db", 1},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        const char *a = rows[i].a, *b = rows[i].b;

        unit_row("row %zu", i);
        CHECK_INT(sign(canon_strcmp(&a, &b)), rows[i].want);
    }
}

void
test_canon_sort(void)
{
    const char *names[] = {
        "\xc3\xa9t\xc3\xa9", "web", "a", "Zeta", "a-b", "db", "a0", "Alpha", "0"};
    static const char *const want[] = {
        "0", "Alpha", "Zeta", "a", "a-b", "a0", "db", "web", "\xc3\xa9t\xc3\xa9"};
    size_t i;

    qsort(names, UNIT_NELEM(names), sizeof names[0], canon_strcmp);
    for (i = 0; i < UNIT_NELEM(want); i++) {
        unit_row("position %zu", i);
        CHECK_STR(names[i], want[i]);
    }
}
