/*
 * For the db/ modules only: running statements on a connection. libpq stays inside
 * db/; PGresults never leave the function that made them.
 */
#ifndef CABINET_DB_INTERNAL_H
#define CABINET_DB_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "db/db.h"

/* The libpq connection, for what prepared statements cannot do (running a
 * migration file of many statements). */
PGconn *db_conn(struct db *db);

/* Runs sql (a static string: its address keys the prepared statement) with
 * n text parameters (NULL for SQL NULL). On OK *out holds the result, for the
 * caller to PQclear. Errors map SQLSTATE to outcomes: 23505 ERR_CONFLICT,
 * 23503/23514/22xxx ERR_INVALID, 40001/40P01 ERR_RETRY, a lost connection
 * ERR_UNAVAILABLE, anything else ERR_INTERNAL (logged). Outside a
 * transaction, a statement whose connection turns out lost runs once more
 * on a new connection: as it was when it never reached the server, else in
 * a read-only transaction, so that a write that may have been done is not
 * done twice (PostgreSQL refuses it: ERR_UNAVAILABLE). */
enum outcome db_run(struct db *db, const char *sql, int n, const char *const *params,
                    PGresult **out);
/* Runs sql and reports how many rows it touched (affected may be NULL). */
enum outcome db_exec(struct db *db, const char *sql, int n, const char *const *params,
                     long *affected);
/* Runs sql whose first column is JSON; *out is the first row's value (new
 * reference), or ERR_NOT_FOUND when there is no row. */
enum outcome db_json(struct db *db, const char *sql, int n, const char *const *params,
                     json_t **out);
/* As db_json, but *out is an array of the first column of every row. */
enum outcome db_json_list(struct db *db, const char *sql, int n, const char *const *params,
                          json_t **out);
/* Runs sql and copies the first column of the first row into buf;
 * ERR_NOT_FOUND when there is no row (or the value is NULL). */
enum outcome db_text(struct db *db, const char *sql, int n, const char *const *params, char *buf,
                     size_t size);

/* An integer as a text parameter: writes v into buf and returns buf. */
#define DB_NUM 24
const char *db_num(int64_t v, char buf[DB_NUM]);
/* db_json and db_json_list for a statement whose one parameter is an id. */
enum outcome db_json_id(struct db *db, const char *sql, int64_t id, json_t **out);
enum outcome db_json_list_id(struct db *db, const char *sql, int64_t id, json_t **out);
/* db_json_list for a page: the statement's parameters are $1 after (a
 * position) and $2 limit. */
enum outcome db_json_page(struct db *db, const char *sql, int64_t after, int limit, json_t **out);

#endif
