/*
 * The forward schedule: conflicts, the schedule and CAB agenda, the iCalendar
 * feed's rows, busy time for finding slots, and recent changes around a
 * service. Thread-safe per connection.
 */
#ifndef CABINET_DB_SCHEDULE_H
#define CABINET_DB_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "domain/decision.h"
#include "domain/ical.h"
#include "domain/slots.h"

/* Conflicts by id after `after`: open NULL = all, "true" = not resolved,
 * "false" = resolved; kind NULL = both, else "change" or "freeze"; change
 * 0 = all, else those on which that change is either side (found through
 * its records' indexes), ERR_NOT_FOUND when there is no such change. */
enum outcome db_schedule_conflicts(struct db *db, const char *open, const char *kind,
                                   int64_t change, int64_t after, int limit, json_t **out);
/* The conflicts of one change by id after `after`, each in full (with its
 * services) and seen from that change; open as above. *out is a new array
 * for the caller; ERR_NOT_FOUND when there is no such change. */
enum outcome db_schedule_change_conflicts(struct db *db, int64_t change, const char *open,
                                          int64_t after, int limit, json_t **out);
/* The conflict record as the rules see it; ERR_NOT_FOUND when none. */
enum outcome db_schedule_conflict(struct db *db, int64_t id, struct conflict *out);
/* Its document (conflict_doc, seen from neither change). */
enum outcome db_schedule_conflict_doc(struct db *db, int64_t id, json_t **out);
/* open → acknowledged with a note (audit, both changes' rev bumped);
 * ERR_CONFLICT when it is not open any more. */
enum outcome db_schedule_acknowledge(struct db *db, const char *actor, int64_t id, int64_t user_id,
                                     const char *note);
/* A page of a list in window order (the schedule, the agenda): the period
 * (NULL bounds open), the position the page starts after (after_id 0: the
 * first page) and limit; then its rows (change_row documents, by window
 * start then id; items the caller's), whether more follow, and the last
 * row's position (window start in microseconds since the epoch, and id). */
struct db_win_page {
    const char *from, *to;
    int64_t after_start, after_id;
    int limit;
    json_t *items;
    bool more;
    int64_t last_start, last_id;
};
/* The page of non-draft changes whose window overlaps [from, to), of
 * service when not NULL (ERR_NOT_FOUND when there is no such service). */
enum outcome db_schedule_page(struct db *db, const char *service, struct db_win_page *q);
/* The freeze documents overlapping [from, to), those covering service when
 * not NULL, by window start: *out a new array. */
enum outcome db_schedule_freezes(struct db *db, const char *from, const char *to,
                                 const char *service, json_t **out);
/* [{"date", "by_state": {state: count}}] for every local day of [from, to)
 * in the IANA zone: the non-draft changes (of service, when not NULL) whose
 * window, cut to the period, touches that day. ERR_INVALID for a zone the
 * database does not know, ERR_NOT_FOUND for an unknown service. */
enum outcome db_schedule_days(struct db *db, const char *from, const char *to, const char *zone,
                              const char *service, json_t **out);
/* The page of changes awaiting approval whose window overlaps [from, to);
 * with both bounds NULL every change awaiting approval, whatever its
 * window. */
enum outcome db_schedule_agenda(struct db *db, struct db_win_page *q);
/* The change_row documents of the changes ids (a PostgreSQL bigint[]
 * literal, "{1,2}"), by window start then id: *out a new array. */
enum outcome db_schedule_rows_of(struct db *db, const char *ids, json_t **out);
/* Where the feed's rows go, one call each (the structs and their strings
 * live only for the call): start once the query has run, before any row;
 * an outcome other than OK from any of them stops the feed and is
 * returned. */
struct db_feed_sink {
    enum outcome (*start)(void *arg);
    enum outcome (*change)(void *arg, const struct ical_change *c);
    enum outcome (*freeze)(void *arg, const struct ical_freeze *f);
    void *arg;
};
/* The iCalendar feed's rows: changes other than drafts whose window
 * overlaps 30 days back to 90 days ahead, by window start, then the
 * freezes of that period; each handed to sink. With service, only the
 * changes that list it and the freezes that cover it (ERR_NOT_FOUND when
 * there is no such service); with requester (non-zero), only that user's
 * changes. Read through a cursor in a transaction, 500 rows at a time,
 * so that neither libpq nor the caller holds them all. */
enum outcome db_schedule_feed(struct db *db, const char *service, int64_t requester,
                              const struct db_feed_sink *sink);
/* The busy intervals (epoch seconds) on the impact set of services (a JSON
 * array of names): active changes' windows and the freezes covering it,
 * within [from, to). *out (n of them, in no order) is the caller's to
 * free. */
enum outcome db_schedule_busy(struct db *db, const char *services, const char *from, const char *to,
                              struct slots_interval **out, size_t *n);
/* Changes on the service and what it depends on, transitively, active within
 * the last hours: change rows, most recent first. ERR_NOT_FOUND for an
 * unknown service. */
enum outcome db_schedule_recent(struct db *db, const char *service, int hours, json_t **out);

#endif
