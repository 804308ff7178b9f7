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

/* Runs a file of SQL statements in one transaction (the demo seed). */
enum outcome db_migrate_file(struct db *db, const char *path);

#endif
