/*
 * The gate's listener (README "Gate"): one thread per server process with
 * a PostgreSQL connection of its own that LISTENs on cabinet_gate (the
 * channel 0015's triggers NOTIFY) and hands each notification to a
 * callback: the id of the change it names, or 0 for "every gate" (a
 * freeze moved, or the connection was lost and notifications may have
 * been missed). A lost connection is opened again with back-off (100 ms
 * doubling to 5 s, within the process's own while the database is down:
 * db.h, which also logs the outage, once); once it is back the callback
 * gets 0. The thread never
 * busy-waits: it sleeps in poll() on the connection's socket and a pipe
 * that db_listen_stop writes to.
 */
#ifndef CABINET_DB_LISTEN_H
#define CABINET_DB_LISTEN_H

#include <stdint.h>

#include "domain/outcome.h"

struct db_listen;

/* Called on the listener's thread; must not block for long. */
typedef void (*db_listen_fn)(void *arg, int64_t change_id);

/* Starts the thread (it connects to url itself, so a database that is
 * down only delays it). The connection's application_name is
 * "cabinet-listen". */
enum outcome db_listen_start(const char *url, db_listen_fn fn, void *arg, struct db_listen **out);
/* Stops and frees the listener; NULL-safe. No callback runs after it
 * returns. */
void db_listen_stop(struct db_listen *l);

#endif
