/*
 * PostgreSQL connections: a pool shared by the HTTP workers, standalone
 * connections for commands and background jobs, and transactions. Every
 * statement is prepared once per connection. A connection that the server
 * closed (a restart, a terminated backend) is opened afresh before it is
 * used, and a statement that finds its connection lost outside a
 * transaction is run once more on a new one when that cannot do anything
 * twice (db_run). While the database cannot be reached, callers get
 * ERR_UNAVAILABLE (HTTP 503) at once, and attempts to connect back off,
 * shared by the whole process: an outage is logged when it starts and when
 * it ends. The pool is thread-safe; a `struct db` belongs to one thread at a
 * time.
 */
#ifndef CABINET_DB_H
#define CABINET_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/outcome.h"

struct db;
struct db_pool;

/* Opens a pool of `size` connections to url (made lazily). Caller frees it
 * with db_pool_close. */
enum outcome db_pool_open(const char *url, int size, struct db_pool **out);
void db_pool_close(struct db_pool *pool);
/* Takes a connection, waiting up to a few seconds for one to be free, and
 * reconnects it if it was lost. ERR_UNAVAILABLE when none can be had. */
enum outcome db_acquire(struct db_pool *pool, struct db **out);
/* Gives a connection back (rolling back any transaction left open). */
void db_release(struct db_pool *pool, struct db *db);
/* Connections in the pool and how many are taken right now. */
void db_pool_stats(struct db_pool *pool, int *size, int *in_use);

/* Statements the database refused, by kind: the connection lost, a unique
 * key taken, a value refused, a serialization failure or deadlock (tried
 * again), a lock or statement timeout, a write on a read-only server, and
 * anything else. */
enum db_error {
    DB_ERROR_CONNECTION,
    DB_ERROR_UNIQUE,
    DB_ERROR_INVALID,
    DB_ERROR_RETRY,
    DB_ERROR_TIMEOUT,
    DB_ERROR_READ_ONLY,
    DB_ERROR_OTHER,
    DB_ERROR_KINDS
};
/* What this process saw of the database since it started (README
 * "Monitoring"); pool may be NULL. */
struct db_stats {
    int pool_size, pool_in_use;
    unsigned long waits; /* db_acquire calls that found no connection free */
    double wait_seconds; /* how long they waited, in all */
    unsigned long connect_failures;
    unsigned long errors[DB_ERROR_KINDS];
};
void db_stats(struct db_pool *pool, struct db_stats *out);

/* After a failed attempt to connect, the next waits first_ms, then twice as
 * long each time up to max_ms (defaults 100 and 5000); only one thread tries
 * at a time meanwhile. For the whole process; call before serving. */
void db_backoff_set(int first_ms, int max_ms);
/* Whole seconds (at least 1) a client refused with ERR_UNAVAILABLE should
 * wait: until the next attempt to connect while the database is down. */
int db_retry_after(void);

/* A connection of its own, outside any pool; NULL-safe db_disconnect. */
enum outcome db_connect(const char *url, struct db **out);
void db_disconnect(struct db *db);

/* For start-up: tries once to connect to url, past any back-off, and closes
 * the connection again. OK when it works; otherwise why holds libpq's
 * reason on one line and the outcome says whether waiting may help:
 * ERR_UNAVAILABLE (the server cannot be reached yet), ERR_NOT_FOUND (the
 * database does not exist), ERR_FORBIDDEN (the login is refused, or url is
 * not a valid connection string). */
enum outcome db_probe(const char *url, char *why, size_t size);
/* url as it may be shown: with its password, if any, as "***". */
void db_url_shown(const char *url, char *buf, size_t size);

/* One step of work inside a transaction: it may run statements on db and
 * fill what arg points to; it must be safe to run again from the start (it
 * resets whatever it fills). */
typedef enum outcome (*db_step)(struct db *db, void *arg);

/* Runs step in a transaction of its own: BEGIN, step, COMMIT. Whatever the
 * step or the commit returns other than OK rolls the transaction back and
 * is returned; a serialization failure or deadlock (ERR_RETRY) runs the
 * whole again, up to DB_TX_TRIES times, then gives ERR_UNAVAILABLE. A
 * connection found lost at BEGIN is opened afresh and BEGIN sent again;
 * lost later, the transaction is ERR_UNAVAILABLE (a lost COMMIT may or may
 * not have committed, so nothing is sent again). The one way every write
 * path opens a transaction. */
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
