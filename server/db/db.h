/*
 * PostgreSQL connections: a pool shared by the HTTP workers, standalone
 * connections for commands and background jobs, and transactions. Every
 * statement is prepared once per connection. A connection that breaks is
 * reconnected when next taken from the pool; meanwhile callers get
 * ERR_UNAVAILABLE (HTTP 503). The pool is thread-safe; a `struct db` belongs
 * to one thread at a time.
 */
#ifndef CABINET_DB_H
#define CABINET_DB_H

#include <stdbool.h>

#include "domain/outcome.h"

struct db;
struct db_pool;

/* Opens a pool of `size` connections to url (made lazily). Caller frees it
 * with db_pool_close. */
enum outcome db_pool_open(const char *url, int size, struct db_pool **out);
void db_pool_close(struct db_pool *pool);
/* Takes a connection, waiting up to a few seconds for one to be free, and
 * reconnects it if it was broken. ERR_UNAVAILABLE when none can be had. */
enum outcome db_acquire(struct db_pool *pool, struct db **out);
/* Gives a connection back (rolling back any transaction left open). */
void db_release(struct db_pool *pool, struct db *db);
/* Connections in the pool and how many are taken right now. */
void db_pool_stats(struct db_pool *pool, int *size, int *in_use);

/* A connection of its own, outside any pool; NULL-safe db_disconnect. */
enum outcome db_connect(const char *url, struct db **out);
void db_disconnect(struct db *db);

/* One step of work inside a transaction: it may run statements on db and
 * fill what arg points to; it must be safe to run again from the start (it
 * resets whatever it fills). */
typedef enum outcome (*db_step)(struct db *db, void *arg);

/* Runs step in a transaction of its own: BEGIN, step, COMMIT. Whatever the
 * step or the commit returns other than OK rolls the transaction back and
 * is returned; a serialization failure or deadlock (ERR_RETRY) runs the
 * whole again, up to DB_TX_TRIES times, then gives ERR_UNAVAILABLE. The
 * one way every write path opens a transaction. */
#define DB_TX_TRIES 5
enum outcome db_tx(struct db *db, db_step step, void *arg);

/* Rolls back the open transaction, if any. */
void db_rollback(struct db *db);
/* Runs SELECT 1. */
enum outcome db_ping(struct db *db);

/* The constraint named by the last failed statement ("" if none), to say
 * which field a unique or foreign-key violation concerns. */
const char *db_last_constraint(const struct db *db);

#endif
