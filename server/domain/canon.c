#include "domain/canon.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
canon_string(struct strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    strbuf_putc(sb, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];

        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
                u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
                esc = u;
            }
        }
        if (esc == NULL)
            continue;
        strbuf_append(sb, s + run, i - run);
        strbuf_puts(sb, esc);
        run = i + 1;
    }
    strbuf_append(sb, s + run, len - run);
    strbuf_putc(sb, '"');
}

void
canon_cstring(struct strbuf *sb, const char *s)
{
    if (s == NULL)
        s = "";
    canon_string(sb, s, strlen(s));
}

void
canon_int(struct strbuf *sb, int64_t v)
{
    strbuf_printf(sb, "%" PRId64, v);
}

void
canon_key(struct strbuf *sb, const char *key, int first)
{
    if (!first)
        strbuf_putc(sb, ',');
    canon_cstring(sb, key);
    strbuf_putc(sb, ':');
}

int
canon_strcmp(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: UTF-8 byte order. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}
