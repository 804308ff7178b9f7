/*
 * RFC 3339 times. Cabinet reads any RFC 3339 date-time (with `Z` or an
 * offset, with or without fractions of a second) and writes only
 * `YYYY-MM-DDTHH:MM:SSZ`: UTC, whole seconds, fractions truncated.
 * Pure and thread-safe.
 */
#ifndef CABINET_TIMEFMT_H
#define CABINET_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/outcome.h"

#define TIMEFMT_LEN 21 /* "2026-11-22T10:00:00Z" and its NUL */

/* Parses s into seconds since the epoch (UTC). ERR_INVALID when s is not an
 * RFC 3339 date-time between years 0001 and 9999. */
enum outcome timefmt_parse(const char *s, int64_t *epoch);
/* Writes epoch as YYYY-MM-DDTHH:MM:SSZ into out. */
void timefmt_format(int64_t epoch, char out[TIMEFMT_LEN]);
/* Parses and re-writes s in the normal form; ERR_INVALID as timefmt_parse. */
enum outcome timefmt_normalize(const char *s, char out[TIMEFMT_LEN]);
/* True when s is exactly in the normal form (as signed_at must be). */
bool timefmt_is_normal(const char *s);

#endif
