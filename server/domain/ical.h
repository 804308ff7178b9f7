/*
 * An RFC 5545 writer: content lines end in CRLF and are folded at 75 octets
 * (never inside a UTF-8 character), TEXT values are escaped (backslash,
 * semicolon, comma, newline), times are UTC "YYYYMMDDTHHMMSSZ". Pure and
 * thread-safe.
 */
#ifndef CABINET_ICAL_H
#define CABINET_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/lifecycle.h"
#include "domain/strbuf.h"

/* Appends "NAME:value" with value written as is (no escaping), folded. */
void ical_line(struct strbuf *sb, const char *name, const char *value);
/* Appends "NAME:value" with value escaped as TEXT, folded. */
void ical_text(struct strbuf *sb, const char *name, const char *value);
/* Appends "NAME:YYYYMMDDTHHMMSSZ" for epoch seconds. */
void ical_time(struct strbuf *sb, const char *name, int64_t epoch);

/* Where the events link to: the base URL links are made of and the host
 * their UIDs are made unique with. */
struct ical_site {
    const char *base_url;
    const char *host;
};

/* A change as the feed shows it (strings borrowed; times epoch seconds). */
struct ical_change {
    int64_t id;
    int64_t rev; /* SEQUENCE: every write to the change moves it */
    enum change_state state;
    unsigned flags; /* enum change_flag bits */
    int64_t start, end, created, stamp;
    const char *title;
    const char *model;
    const char *level;    /* NULL or "": not assessed */
    const char *services; /* comma-separated */
};

/* A freeze as the feed shows it. */
struct ical_freeze {
    int64_t id;
    bool hard;
    int64_t start, end, created, stamp;
    const char *name;
    const char *reason;
    const char *services; /* comma-separated; "" covers all */
};

/* The STATUS of a change's event: awaiting approval TENTATIVE, cancelled
 * or rejected CANCELLED, anything else CONFIRMED. */
const char *ical_status(enum change_state state);
/* Appends the VEVENT of a change / of a freeze. */
void ical_change_event(struct strbuf *sb, const struct ical_site *site,
                       const struct ical_change *c);
void ical_freeze_event(struct strbuf *sb, const struct ical_site *site,
                       const struct ical_freeze *f);

#endif
