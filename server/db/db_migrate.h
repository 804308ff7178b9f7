/*
 * The migrations runner: applies sql/NNNN_*.sql files that the database has
 * not seen, in order, each in its own transaction, recording each in
 * schema_migrations. A session advisory lock makes instances that start
 * together take turns. Called by `cabinet migrate`; not thread-safe.
 */
#ifndef CABINET_DB_MIGRATE_H
#define CABINET_DB_MIGRATE_H

#include "db/db.h"

/* Applies what is pending from dir; *applied counts the files applied. */
enum outcome db_migrate_run(struct db *db, const char *dir, int *applied);

/* How many of dir's migrations the database has not had (into *pending;
 * the first of them into first), without applying any: for `serve`, which
 * refuses to start on a schema older than its own. ERR_NOT_FOUND when the
 * database has never been migrated (no schema_migrations). */
enum outcome db_migrate_pending(struct db *db, const char *dir, int *pending, char *first,
                                size_t size);

/* Runs a file of SQL statements in one transaction (the demo seed). */
enum outcome db_migrate_file(struct db *db, const char *path);

#endif
