/*
 * The gate (README "Gate"): GET /gate/<token> and the table of the clients
 * long-polling one (`?wait=N`). A waiter sleeps on a condition variable of
 * its own, in a table keyed by change id that the gate listener's
 * notifications (db/db_listen.c) wake, with a timer set to the next moment
 * the answer can change by itself; never a busy loop. At most the table's
 * capacity wait at once (CABINET_GATE_WAITERS): one more that would have to
 * wait gets 503 with Retry-After. Thread-safe.
 */
#ifndef CABINET_API_GATE_H
#define CABINET_API_GATE_H

#include <stdint.h>

#include "http/http.h"

/* What Retry-After says to a client turned away because cap others wait. */
#define GATE_RETRY_AFTER 5

struct gate_waiters;

/* A table for at most cap waiters (cap > 0); NULL when out of memory. */
struct gate_waiters *gate_waiters_new(int cap);
/* Frees the table; nobody may be waiting (after the HTTP server stopped).
 * NULL-safe. */
void gate_waiters_free(struct gate_waiters *w);
/* Wakes the waiters of change_id, or every waiter for 0 (a db_listen_fn;
 * arg is the table). */
void gate_waiters_wake(void *arg, int64_t change_id);
/* Wakes every waiter to answer what holds now, and makes later requests
 * answer at once: for a prompt shutdown. */
void gate_waiters_stop(struct gate_waiters *w);

/* GET /gate/{token}?wait=N: no authentication, the token is the
 * credential. */
enum outcome api_gate(struct http_ctx *ctx);

#endif
