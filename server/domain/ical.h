/*
 * An RFC 5545 writer: content lines end in CRLF and are folded at 75 octets
 * (never inside a UTF-8 character), TEXT values are escaped (backslash,
 * semicolon, comma, newline), times are UTC "YYYYMMDDTHHMMSSZ". Pure and
 * thread-safe.
 */
#ifndef CABINET_ICAL_H
#define CABINET_ICAL_H

#include <stdint.h>

#include "domain/strbuf.h"

/* Appends "NAME:value" with value written as is (no escaping), folded. */
void ical_line(struct strbuf *sb, const char *name, const char *value);
/* Appends "NAME:value" with value escaped as TEXT, folded. */
void ical_text(struct strbuf *sb, const char *name, const char *value);
/* Appends "NAME:YYYYMMDDTHHMMSSZ" for epoch seconds. */
void ical_time(struct strbuf *sb, const char *name, int64_t epoch);

#endif
