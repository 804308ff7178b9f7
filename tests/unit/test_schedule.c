/* Free slots, ISO 8601 durations and the iCalendar writer. */
#include <stdlib.h>
#include <string.h>

#include "domain/change.h"
#include "domain/ical.h"
#include "domain/slots.h"
#include "unit.h"

void
test_slots_duration(void)
{
    static const struct {
        const char *in;
        int ok;
        int64_t secs;
    } rows[] = {
        {"PT2H", 1, 7200},
        {"PT30M", 1, 1800},
        {"PT90S", 1, 90},
        {"P1D", 1, 86400},
        {"P1DT2H", 1, 93600},
        {"PT1H30M", 1, 5400},
        {"P2DT3H4M5S", 1, 183845},
        {"", 0, 0},
        {"P", 0, 0},
        {"PT", 0, 0},
        {"P1DT", 0, 0},
        {"PT0S", 0, 0},
        {"P1M", 0, 0},
        {"P1W", 0, 0},
        {"P1Y", 0, 0},
        {"2H", 0, 0},
        {"PT2", 0, 0},
        {"PTH", 0, 0},
        {"PT2H1D", 0, 0},
        {"P1DT2HT3M", 0, 0},
        {"pt2h", 0, 0},
        {"PT-1H", 0, 0},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        int64_t secs = -1;
        unit_row("duration \"%s\"", rows[i].in);
        CHECK_INT(slots_duration(rows[i].in, &secs) == OK, rows[i].ok);
        if (rows[i].ok)
            CHECK_INT(secs, rows[i].secs);
    }
    CHECK(slots_duration(NULL, &(int64_t){0}) != OK);
}

void
test_slots_find(void)
{
    struct slots_interval out[8];
    /* busy given unsorted; [100,200) [150,300) nested, [400,450), [460,470) */
    struct slots_interval busy[] = {{400, 450}, {100, 200}, {460, 470}, {150, 300}};
    size_t n;

    unit_row("free from the start, back to back until the first busy time");
    n = slots_find(busy, 4, 0, 1000, 50, out, 2);
    CHECK_INT(n, 2);
    CHECK_INT(out[0].start, 0);
    CHECK_INT(out[0].end, 50);
    CHECK_INT(out[1].start, 50);

    unit_row("skips overlapping and nested busy windows; adjacent is free");
    n = slots_find(busy, 4, 100, 1000, 100, out, 3);
    CHECK_INT(n, 3);
    CHECK_INT(out[0].start, 300); /* [300,400) touches [400,450) only at 400 */
    CHECK_INT(out[1].start, 470);
    CHECK_INT(out[2].start, 570);

    unit_row("a gap shorter than the duration is skipped");
    n = slots_find(busy, 4, 440, 1000, 20, out, 1);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].start, 470);

    unit_row("the horizon bounds the search");
    n = slots_find(busy, 4, 100, 460, 100, out, 8);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].end, 400);

    unit_row("no busy time at all");
    n = slots_find(NULL, 0, 10, 100, 30, out, 8);
    CHECK_INT(n, 3);
    CHECK_INT(out[2].end, 100);
}

void
test_ical_text(void)
{
    struct strbuf sb = STRBUF_INIT;

    ical_text(&sb, "SUMMARY", "a,b;c\\d\ne\r");
    CHECK_STR(strbuf_str(&sb), "SUMMARY:a\\,b\\;c\\\\d\\ne\r\n");
    strbuf_free(&sb);

    ical_time(&sb, "DTSTART", 1795169400); /* 2026-11-20T10:10:00Z */
    CHECK_STR(strbuf_str(&sb), "DTSTART:20261120T101000Z\r\n");
    strbuf_free(&sb);
}

void
test_ical_fold(void)
{
    struct strbuf sb = STRBUF_INIT;
    char *value = unit_build(NULL, "\xc3\xa9", 100, NULL); /* 200 octets of é */
    const char *p, *line;
    size_t total = 0;

    ical_text(&sb, "DESCRIPTION", value);
    for (line = strbuf_str(&sb); *line; line = p + 2) {
        p = strstr(line, "\r\n");
        CHECK(p != NULL);
        if (p == NULL)
            break;
        unit_row("line of %d octets", (int)(p - line));
        CHECK(p - line <= 75);
        /* never split inside a UTF-8 character: a line does not start or end
         * in the middle of one */
        CHECK(((unsigned char)p[-1] & 0xc0) != 0xc0);
        if (line != strbuf_str(&sb)) {
            CHECK(line[0] == ' ');
            CHECK(((unsigned char)line[1] & 0xc0) != 0x80);
            total += (size_t)(p - line - 1);
        } else {
            total += (size_t)(p - line);
        }
    }
    unit_row("unfolded length");
    CHECK_INT(total, strlen("DESCRIPTION:") + 200);
    free(value);
    strbuf_free(&sb);
}

/* The calendar text with its folds undone (CRLF + space removed), for
 * looking up a whole logical line; static storage. */
static const char *
ical_unfolded(const char *s)
{
    static char out[4096];
    size_t n = 0;

    while (*s && n + 1 < sizeof out) {
        if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ')
            s += 3;
        else
            out[n++] = *s++;
    }
    out[n] = '\0';
    return out;
}

/* A change's event in the feed: its STATUS by state, and the lines a
 * calendar reads. */
void
test_ical_events(void)
{
    static const struct {
        enum change_state state;
        const char *status;
    } rows[] = {
        {STATE_AWAITING_APPROVAL, "TENTATIVE"},
        {STATE_APPROVED, "CONFIRMED"},
        {STATE_IN_PROGRESS, "CONFIRMED"},
        {STATE_REVIEW, "CONFIRMED"},
        {STATE_CLOSED, "CONFIRMED"},
        {STATE_CANCELLED, "CANCELLED"},
        {STATE_REJECTED, "CANCELLED"},
    };
    struct ical_site site = {"https://cab.example", "cab.example"};
    struct ical_change c = {.id = 42,
                            .rev = 7,
                            .state = STATE_IN_PROGRESS,
                            .flags = CHANGE_UNAUTHORIZED,
                            .start = 1924992000, /* 2031-01-01T00:00:00Z */
                            .end = 1924995600,
                            .created = 1924900000,
                            .stamp = 1924950000,
                            .title = "Rotate keys",
                            .model = "emergency",
                            .level = "",
                            .services = "db,web"};
    struct ical_freeze f = {.id = 3,
                            .hard = true,
                            .start = 1924992000,
                            .end = 1925078400,
                            .name = "Month end",
                            .reason = "books",
                            .services = ""};
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", lifecycle_state_name(rows[i].state));
        CHECK_STR(ical_status(rows[i].state), rows[i].status);
    }
    unit_row("change event");
    ical_change_event(&sb, &site, &c);
    CHECK(strstr(strbuf_str(&sb), "UID:change-42@cab.example\r\n") != NULL);
    CHECK(strstr(strbuf_str(&sb), "DTSTART:20310101T000000Z\r\n") != NULL);
    CHECK(strstr(strbuf_str(&sb), "SEQUENCE:7\r\n") != NULL);
    CHECK(strstr(strbuf_str(&sb), "SUMMARY:CHG-42 Rotate keys\r\n") != NULL);
    CHECK(strstr(ical_unfolded(strbuf_str(&sb)),
                 "Risk: not assessed\\nServices: db\\, web\\nFlag: unauthorized") != NULL);
    CHECK(strstr(strbuf_str(&sb), "STATUS:CONFIRMED\r\n") != NULL);
    CHECK(strstr(strbuf_str(&sb), "URL:https://cab.example/#/changes/CHG-42\r\n") != NULL);
    strbuf_free(&sb);
    unit_row("freeze event");
    ical_freeze_event(&sb, &site, &f);
    CHECK(strstr(strbuf_str(&sb), "SUMMARY:Hard freeze: Month end\r\n") != NULL);
    CHECK(strstr(strbuf_str(&sb), "Services: all\\nbooks") != NULL);
    strbuf_free(&sb);
}
