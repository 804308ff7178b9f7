#include "domain/ical.h"

#include <stdio.h>
#include <string.h>

#include "domain/change.h"
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

const char *
ical_status(enum change_state state)
{
    switch (state) {
    case STATE_AWAITING_APPROVAL: return "TENTATIVE";
    case STATE_CANCELLED:
    case STATE_REJECTED: return "CANCELLED";
    default: return "CONFIRMED";
    }
}

/* "a, b, c" of a comma-separated list; `none` when it is empty. */
static void
ical_list(struct strbuf *sb, const char *list, const char *none)
{
    const char *p;

    if (list == NULL || *list == '\0') {
        strbuf_puts(sb, none);
        return;
    }
    for (p = list; *p; p++) {
        if (*p == ',')
            strbuf_puts(sb, ", ");
        else
            strbuf_putc(sb, *p);
    }
}

void
ical_change_event(struct strbuf *sb, const struct ical_site *site, const struct ical_change *c)
{
    struct strbuf text = STRBUF_INIT;
    char buf[1200];

    strbuf_puts(sb, "BEGIN:VEVENT\r\n");
    snprintf(buf, sizeof buf, "change-%lld@%s", (long long)c->id, site->host);
    ical_text(sb, "UID", buf);
    ical_time(sb, "DTSTAMP", c->stamp);
    ical_time(sb, "CREATED", c->created);
    ical_time(sb, "LAST-MODIFIED", c->stamp);
    ical_time(sb, "DTSTART", c->start);
    ical_time(sb, "DTEND", c->end);
    snprintf(buf, sizeof buf, "%lld", (long long)c->rev);
    ical_line(sb, "SEQUENCE", buf);
    snprintf(buf, sizeof buf, "CHG-%lld %s", (long long)c->id, c->title);
    ical_text(sb, "SUMMARY", buf);
    strbuf_printf(&text,
                  "State: %s\nModel: %s\nRisk: %s\nServices: ", lifecycle_state_name(c->state),
                  c->model, c->level && c->level[0] ? c->level : "not assessed");
    ical_list(&text, c->services, "");
    if (c->flags & CHANGE_UNAUTHORIZED)
        strbuf_puts(&text, "\nFlag: unauthorized");
    if (c->flags & CHANGE_RETROSPECTIVE)
        strbuf_puts(&text, "\nFlag: retrospective");
    strbuf_printf(&text, "\n%s/#/changes/CHG-%lld", site->base_url, (long long)c->id);
    ical_text(sb, "DESCRIPTION", strbuf_str(&text));
    strbuf_free(&text);
    snprintf(buf, sizeof buf, "%s/#/changes/CHG-%lld", site->base_url, (long long)c->id);
    ical_line(sb, "URL", buf);
    ical_line(sb, "STATUS", ical_status(c->state));
    ical_text(sb, "CATEGORIES", "Change");
    strbuf_puts(sb, "TRANSP:OPAQUE\r\nEND:VEVENT\r\n");
}

void
ical_freeze_event(struct strbuf *sb, const struct ical_site *site, const struct ical_freeze *f)
{
    struct strbuf text = STRBUF_INIT;
    char buf[400];

    strbuf_puts(sb, "BEGIN:VEVENT\r\n");
    snprintf(buf, sizeof buf, "freeze-%lld@%s", (long long)f->id, site->host);
    ical_text(sb, "UID", buf);
    ical_time(sb, "DTSTAMP", f->stamp);
    ical_time(sb, "CREATED", f->created);
    ical_time(sb, "DTSTART", f->start);
    ical_time(sb, "DTEND", f->end);
    snprintf(buf, sizeof buf, "%s freeze: %s", f->hard ? "Hard" : "Soft", f->name);
    ical_text(sb, "SUMMARY", buf);
    strbuf_puts(&text, "Services: ");
    ical_list(&text, f->services, "all");
    strbuf_printf(&text, "\n%s", f->reason ? f->reason : "");
    ical_text(sb, "DESCRIPTION", strbuf_str(&text));
    strbuf_free(&text);
    ical_text(sb, "CATEGORIES", "Freeze");
    strbuf_puts(sb, "STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n");
}
