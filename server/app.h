/*
 * What every request handler may use besides its request: made by
 * `cabinet serve` before the HTTP server starts and read-only while it runs
 * (so any worker thread may read it), reachable as ctx->app. The one
 * configuration stays the global `config` (config.h).
 */
#ifndef CABINET_APP_H
#define CABINET_APP_H

#include <stddef.h>
#include <stdint.h>

struct db_pool;
struct gate_waiters;

struct app {
    /* The database connections the HTTP workers share; borrowed: whoever
     * made the app closes the pool after the server stops. */
    struct db_pool *pool;
    /* The server's Ed25519 secret key (base64) that signs audit
     * checkpoints; borrowed, wiped by its owner. Never logged, never sent. */
    const char *server_secret;
    /* Says why no webhook may be delivered to url (a static or why-held
     * message), or NULL when it may: the delivery worker's own check
     * (deliver_check_url in jobs/deliver.c, libcurl's URL parser), handed
     * in so that api/ refuses a subscription exactly as deliveries would,
     * without reaching into jobs/. */
    const char *(*check_receiver)(const char *url, char *why, size_t size);
    /* Notes that an API token was used (usage_note in jobs/usage.c: the
     * use is written off the request path, at most about once a minute per
     * token); usage is its first argument. NULL: uses are not recorded. */
    void (*note_token_use)(void *usage, int64_t token_id);
    void *usage;
    /* The clients long-polling a gate (api/gate.c), woken by the gate
     * listener (db/db_listen.c); NULL: nobody may wait, every gate answers
     * at once. */
    struct gate_waiters *gate;
};

#endif
