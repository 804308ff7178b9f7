/* The growable, always NUL-terminated byte buffer. */
#include <stdlib.h>
#include <string.h>

#include "domain/strbuf.h"
#include "unit.h"

void
test_strbuf_empty(void)
{
    struct strbuf sb = STRBUF_INIT;

    CHECK_STR(strbuf_str(&sb), "");
    CHECK_INT(sb.len, 0);
    CHECK(!strbuf_failed(&sb));
    strbuf_append(&sb, "", 0);
    CHECK_STR(strbuf_str(&sb), "");
    CHECK_INT(sb.len, 0);
    strbuf_free(&sb);
}

/* One operation on a buffer. */
enum op { PUTS, APPEND, PUTC };

void
test_strbuf_append(void)
{
    static const struct {
        const char *name;
        struct {
            enum op op;
            const char *s;
            size_t n; /* APPEND: bytes of s */
        } ops[4];
        size_t nops;
        const char *want;
        size_t wantlen;
    } rows[] = {
        /* clang-format off */
        {"puts", {{PUTS, "abc", 0}}, 1, "abc", 3},
        {"puts twice", {{PUTS, "abc", 0}, {PUTS, "def", 0}}, 2, "abcdef", 6},
        {"puts empty", {{PUTS, "", 0}, {PUTS, "x", 0}, {PUTS, "", 0}}, 3, "x", 1},
        {"append a prefix", {{APPEND, "abcdef", 3}}, 1, "abc", 3},
        {"append nothing", {{APPEND, "abcdef", 0}, {PUTS, "z", 0}}, 2, "z", 1},
        {"append a NUL", {{APPEND, "a\0b", 3}, {PUTC, "c", 0}}, 2, "a\0bc", 4},
        {"putc", {{PUTC, "x", 0}, {PUTC, "y", 0}}, 2, "xy", 2},
        {"putc NUL", {{PUTC, "\0", 0}, {PUTS, "q", 0}}, 2, "\0q", 2},
        {"mixed", {{PUTS, "{", 0}, {APPEND, "\"k\"::", 4}, {PUTC, "1", 0}, {PUTS, "}", 0}}, 4,
         "{\"k\":1}", 7},
        {"UTF-8", {{PUTS, "caf\xc3\xa9", 0}, {APPEND, "\xf0\x9f\x98\x80!", 4}}, 2,
         "caf\xc3\xa9\xf0\x9f\x98\x80", 9},
        /* clang-format on */
    };
    size_t i, k;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("%s", rows[i].name);
        for (k = 0; k < rows[i].nops; k++) {
            switch (rows[i].ops[k].op) {
            case PUTS: strbuf_puts(&sb, rows[i].ops[k].s); break;
            case APPEND: strbuf_append(&sb, rows[i].ops[k].s, rows[i].ops[k].n); break;
            case PUTC: strbuf_putc(&sb, rows[i].ops[k].s[0]); break;
            }
        }
        CHECK_MEM(sb.buf, sb.len, rows[i].want, rows[i].wantlen);
        CHECK(sb.buf != NULL && sb.buf[sb.len] == '\0');
        CHECK(sb.cap > sb.len);
        CHECK(!strbuf_failed(&sb));
        strbuf_free(&sb);
    }
}

/* strbuf_printf measures first, so output longer than what is left (or than
 * the first allocation) is written whole. */
void
test_strbuf_printf_growth(void)
{
    static const struct {
        size_t prefix; /* bytes already in the buffer */
        int width;     /* printf("%*d|%s", width, 7, tail) */
        const char *tail;
    } rows[] = {
        /* clang-format off */
        {0, 1, ""},
        {0, 10, "end"},
        {0, 62, ""},   /* 63 bytes + NUL: exactly a first allocation of 64 */
        {0, 63, ""},   /* one more */
        {0, 64, "x"},
        {60, 10, "y"}, /* crosses 64 from a partly full buffer */
        {63, 1, ""},
        {100, 1000, "tail"},
        {5000, 70000, "big"},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;
        char *prefix = unit_build(NULL, "p", rows[i].prefix, NULL);
        char *pad = unit_build(NULL, " ", (size_t)rows[i].width - 1, NULL);
        char *want = unit_build(prefix, NULL, 0, NULL);
        char *want2;
        size_t wantlen;

        unit_row("prefix %zu width %d", rows[i].prefix, rows[i].width);
        want2 = unit_build(want, pad, 1, "7|");
        free(want);
        want = unit_build(want2, rows[i].tail, 1, NULL);
        free(want2);
        wantlen = strlen(want);

        strbuf_puts(&sb, prefix);
        strbuf_printf(&sb, "%*d|%s", rows[i].width, 7, rows[i].tail);
        CHECK_INT(sb.len, wantlen);
        CHECK_STR(strbuf_str(&sb), want);
        CHECK(sb.cap > sb.len);
        CHECK(!strbuf_failed(&sb));

        /* and appending after it still works */
        strbuf_printf(&sb, "%s=%d", "n", -12);
        CHECK_INT(sb.len, wantlen + 5);
        CHECK_STR(strbuf_str(&sb) + wantlen, "n=-12");

        strbuf_free(&sb);
        free(prefix);
        free(pad);
        free(want);
    }

    /* formats */
    {
        struct strbuf sb = STRBUF_INIT;

        unit_row("formats");
        strbuf_printf(&sb, "%s|%d|%x|%05.1f|%c|%zu|%%", "s", -3, 255u, 2.25, 'c', (size_t)9);
        CHECK_STR(strbuf_str(&sb), "s|-3|ff|002.2|c|9|%");
        strbuf_printf(&sb, "%s", "");
        CHECK_STR(strbuf_str(&sb), "s|-3|ff|002.2|c|9|%");
        strbuf_free(&sb);
    }
}

void
test_strbuf_many_putc(void)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i, wrong = 0;

    for (i = 0; i < 100000; i++)
        strbuf_putc(&sb, (char)('a' + i % 26));
    CHECK_INT(sb.len, 100000);
    CHECK_INT(strlen(strbuf_str(&sb)), 100000);
    for (i = 0; i < sb.len; i++)
        if (sb.buf[i] != (char)('a' + i % 26))
            wrong++;
    CHECK_INT(wrong, 0);
    strbuf_free(&sb);
}

/* Once an allocation has failed the buffer ignores writes until freed, so a
 * writer can check once at the end. The failure is simulated by setting the
 * flag the buffer keeps. */
void
test_strbuf_failed_sticks(void)
{
    static const enum op ops[] = {PUTS, APPEND, PUTC};
    size_t i;

    for (i = 0; i < UNIT_NELEM(ops); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("op %zu", i);
        strbuf_puts(&sb, "kept");
        sb.failed = true;
        switch (ops[i]) {
        case PUTS: strbuf_puts(&sb, "lost"); break;
        case APPEND: strbuf_append(&sb, "lost", 4); break;
        case PUTC: strbuf_putc(&sb, 'l'); break;
        }
        strbuf_printf(&sb, "%d", 12345);
        CHECK(strbuf_failed(&sb));
        CHECK_STR(strbuf_str(&sb), "kept");
        CHECK_INT(sb.len, 4);
        strbuf_free(&sb);
        CHECK(!strbuf_failed(&sb));
        strbuf_puts(&sb, "again");
        CHECK_STR(strbuf_str(&sb), "again");
        strbuf_free(&sb);
    }
}

void
test_strbuf_free(void)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_printf(&sb, "%0200d", 1);
    CHECK_INT(sb.len, 200);
    strbuf_free(&sb);
    CHECK(sb.buf == NULL);
    CHECK_INT(sb.len, 0);
    CHECK_INT(sb.cap, 0);
    CHECK_STR(strbuf_str(&sb), "");
    strbuf_free(&sb); /* twice is harmless */
    CHECK(sb.buf == NULL);
}
