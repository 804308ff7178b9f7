/*
 * The counts /metrics reports about the data, read from the tallies that
 * triggers keep (sql/0026_observability.sql): a few dozen rows, whatever
 * the number of changes.
 */
#ifndef CABINET_DB_TALLY_H
#define CABINET_DB_TALLY_H

#include <jansson.h>

#include "db/db.h"

/* *out (new reference, the caller's to free):
 * {"states": [{"kind", "state", "n"}...], "created_30d", "emergency_30d"}:
 * rows by state of changes, open and acknowledged conflicts, and
 * deliveries; and the changes created in the last 30 days (UTC, today
 * included), and how many of them emergency ones. */
enum outcome db_tally_read(struct db *db, json_t **out);

#endif
