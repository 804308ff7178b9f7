#include "domain/ical.h"

#include <string.h>

#include "domain/timefmt.h"

/* Appends one logical line, folding it: a line holds at most 75 octets, and
 * each continuation starts with a space (which counts). */
static void
ical_fold(struct strbuf *sb, const char *line, size_t len)
{
    size_t used = 0, i = 0;

    while (i < len) {
        size_t n = 1;
        unsigned char c = (unsigned char)line[i];

        if (c >= 0xf0)
            n = 4;
        else if (c >= 0xe0)
            n = 3;
        else if (c >= 0xc0)
            n = 2;
        if (i + n > len)
            n = len - i;
        if (used + n > 75) {
            strbuf_append(sb, "\r\n ", 3);
            used = 1;
        }
        strbuf_append(sb, line + i, n);
        used += n;
        i += n;
    }
    strbuf_append(sb, "\r\n", 2);
}

void
ical_line(struct strbuf *sb, const char *name, const char *value)
{
    struct strbuf l = STRBUF_INIT;

    strbuf_puts(&l, name);
    strbuf_putc(&l, ':');
    strbuf_puts(&l, value);
    if (strbuf_failed(&l))
        sb->failed = true;
    else
        ical_fold(sb, l.buf, l.len);
    strbuf_free(&l);
}

void
ical_text(struct strbuf *sb, const char *name, const char *value)
{
    struct strbuf l = STRBUF_INIT;
    const char *p;

    strbuf_puts(&l, name);
    strbuf_putc(&l, ':');
    for (p = value ? value : ""; *p; p++) {
        switch (*p) {
        case '\\': strbuf_puts(&l, "\\\\"); break;
        case ';': strbuf_puts(&l, "\\;"); break;
        case ',': strbuf_puts(&l, "\\,"); break;
        case '\n': strbuf_puts(&l, "\\n"); break;
        case '\r': break;
        default:
            /* other control characters are not allowed in TEXT */
            if ((unsigned char)*p < 0x20 && *p != '\t')
                strbuf_putc(&l, ' ');
            else
                strbuf_putc(&l, *p);
        }
    }
    if (strbuf_failed(&l))
        sb->failed = true;
    else
        ical_fold(sb, l.buf, l.len);
    strbuf_free(&l);
}

void
ical_time(struct strbuf *sb, const char *name, int64_t epoch)
{
    char t[TIMEFMT_LEN], compact[17];
    int i, j;

    timefmt_format(epoch, t);
    /* 2026-11-22T10:00:00Z -> 20261122T100000Z */
    for (i = j = 0; t[i] && j < 16; i++)
        if (t[i] != '-' && t[i] != ':')
            compact[j++] = t[i];
    compact[j] = '\0';
    ical_line(sb, name, compact);
}
