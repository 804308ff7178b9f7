/*
 * Finding free windows (README "Conflicts and the schedule",
 * /schedule/slots): given the busy intervals of the services involved, the
 * next windows of a given length that overlap none of them. Also ISO 8601
 * durations. Pure and thread-safe.
 */
#ifndef CABINET_SLOTS_H
#define CABINET_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/outcome.h"

struct slots_interval {
    int64_t start; /* seconds since the epoch; [start, end) */
    int64_t end;
};

/* Parses an ISO 8601 duration of days, hours, minutes and seconds
 * ("PT2H", "P1DT30M", "PT90S") into seconds; ERR_INVALID otherwise (weeks,
 * months and years are refused: their length varies). */
enum outcome slots_duration(const char *s, int64_t *seconds);

/* Writes up to max free windows of length duration starting at or after
 * `after` and ending by `until`, earliest first, into out; busy need not be
 * sorted (it is sorted in place). Returns how many were written. Windows
 * are back to back when the time is free. */
size_t slots_find(struct slots_interval *busy, size_t nbusy, int64_t after, int64_t until,
                  int64_t duration, struct slots_interval *out, size_t max);

#endif
