/*
 * Cabinet's database tests: the db/ layer and the SQL behind it, driven from
 * C against a real, migrated PostgreSQL database (CABINET_DATABASE_URL).
 * They take the same calls, in the same order and transactions, as the
 * HTTP handlers do. Checks are made on the main thread (unit.h); helper
 * threads only return outcomes.
 */
#ifndef CABINET_DBT_H
#define CABINET_DBT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "unit.h"

/* The connection the tests share, and the user who requests their changes. */
extern struct db *dbt_db;
extern int64_t dbt_user;

/* Runs one SQL statement (printf-style; the tests' own, never user input)
 * and returns the first column of the first row, "" when there is none.
 * The text lives until the next call. A failing statement fails a check. */
const char *dbt_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A service of tier 3 that depends on the services of the comma-separated
 * list deps (may be ""). */
void dbt_service(const char *name, const char *deps);

/* An RFC 3339 time: day d of March 2031 plus the given minutes, into buf. */
const char *dbt_at(char buf[32], int day, int minutes);

/* A draft change on the services (a JSON array) with the window
 * [day + from, day + to) in minutes; 0 when it could not be made. */
int64_t dbt_change(struct db *db, const char *services, int day, int from, int to);

/* Submits the draft as the submit handler does: under the conflict lock,
 * assess (impact set from the service map), then move it to awaiting
 * approval, in one transaction. */
enum outcome dbt_submit(struct db *db, int64_t id);

/* As dbt_submit, and calls then(arg) once the conflicts are refreshed,
 * before the transaction commits (again if it is run again). */
enum outcome dbt_submit_held(struct db *db, int64_t id, void (*then)(void *), void *arg);

/* Edits a submitted change's window and services as the edit handler does
 * (new version, re-assessment, back to awaiting approval). */
enum outcome dbt_edit(struct db *db, int64_t id, const char *services, int day, int from, int to);

/* Cancels the change (any state that allows it). */
enum outcome dbt_cancel(struct db *db, int64_t id);

/* The record of the conflict between two changes: "state:service+service"
 * or "none". */
const char *dbt_pair(int64_t a, int64_t b);
/* The record of the conflict between a change and the freeze of that name
 * (kept when the freeze is deleted), likewise. */
const char *dbt_frozen(int64_t change, const char *freeze);
/* The change's impact set, names joined by commas. */
const char *dbt_impact(int64_t change);

/* A freeze over [day + from, day + to) on services (JSON array; "[]" is
 * every service); its id, 0 on failure. */
int64_t dbt_freeze(const char *name, const char *services, int day, int from, int to, bool hard);
/* Replaces the (hard) freeze's window and services, as PATCH does. */
enum outcome dbt_freeze_move(int64_t id, const char *name, const char *services, int day, int from,
                             int to);

void test_conflict_windows(void);
void test_conflict_stored_once(void);
void test_conflict_dependency_chain(void);
void test_conflict_dependency_direction(void);
void test_conflict_cycle(void);
void test_conflict_edit_and_cancel(void);
void test_conflict_global_freeze(void);
void test_conflict_service_freeze(void);
void test_conflict_concurrent_submits(void);
void test_conflict_other_days_do_not_wait(void);
void test_conflict_overlapping_windows_wait(void);

#endif
