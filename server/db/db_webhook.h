/*
 * Outbound events: subscriptions, events written to the outbox (with their
 * deliveries) in the caller's transaction, and the delivery workers' claims
 * and results: one subscription's deliveries are a lane, sent one at a time
 * in order by whichever connection holds the lane's lock. Thread-safe per
 * connection.
 */
#ifndef CABINET_DB_WEBHOOK_H
#define CABINET_DB_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Emits events about a change, of the ntypes types in order: each one's
 * data is {"change": its document} merged with extra (a JSON object text,
 * or NULL); the document is built once for all of them. */
enum outcome db_webhook_emit_change(struct db *db, const char *const *types, int ntypes,
                                    int64_t change_id, const char *extra);
/* Emits freeze.created for a freeze. */
enum outcome db_webhook_emit_freeze(struct db *db, const char *type, int64_t freeze_id);

/* events: PostgreSQL array literal. *out: the subscription (no secret). */
enum outcome db_webhook_create(struct db *db, const char *actor, int64_t user_id, const char *url,
                               const char *events, const char *format, const char *secret,
                               json_t **out);
enum outcome db_webhook_list(struct db *db, json_t **out);
/* ERR_NOT_FOUND for an unknown or deleted subscription. */
enum outcome db_webhook_get(struct db *db, int64_t id, json_t **out);
enum outcome db_webhook_delete(struct db *db, const char *actor, int64_t id);
/* The subscription's deliveries with id < before (0: newest), newest first. */
enum outcome db_webhook_deliveries(struct db *db, int64_t id, int64_t before, int limit,
                                   json_t **out);
/* Makes a delivery due now again (pending, even if dead); ERR_NOT_FOUND
 * unless it belongs to the subscription. */
enum outcome db_webhook_retry(struct db *db, const char *actor, int64_t id, int64_t delivery,
                              json_t **out);

/* A delivery a worker sends: the next of its subscription's lane (0009),
 * which the claiming connection holds until db_webhook_release. Strings
 * and event are owned; db_webhook_claim_clear frees them. */
struct db_webhook_claim {
    int64_t id;         /* the delivery */
    int64_t webhook_id; /* its subscription: the lane held */
    int attempts;       /* attempts made before this one */
    bool gone;          /* the subscription was deleted: send nothing */
    char *url;
    char *format;   /* "standard" or "chat" */
    char *secret;   /* whsec_… */
    char *event_id; /* the webhook-id of every attempt */
    json_t *event;  /* {type, created_at, payload} */
};

/* Claims one delivery: the oldest pending delivery of a subscription whose
 * lane no session holds, once it is due (a later one never overtakes it),
 * taking the lane's session lock. OK with *out filled and the lane held by
 * this connection until db_webhook_release (or until the connection ends,
 * so that a sender that dies lets the lane go at once); the caller clears
 * *out. ERR_NOT_FOUND when nothing is due in a free lane. Otherwise *out
 * holds nothing, and a connection that failed may still hold a lane: drop
 * it. */
enum outcome db_webhook_claim(struct db *db, struct db_webhook_claim *out);
/* Lets go of the lane of subscription webhook_id after its attempt is
 * recorded; ERR_NOT_FOUND when this connection no longer held it (it lost
 * its session meanwhile). */
enum outcome db_webhook_release(struct db *db, int64_t webhook_id);
/* Frees what a claim holds and zeroes it; NULL-safe. */
void db_webhook_claim_clear(struct db_webhook_claim *c);
/* Records one attempt: delivered (ok), or due again after delay seconds,
 * or dead when the event is older than give_up seconds by then. A failed
 * attempt leaves a delivery that is no longer pending (delivered by another
 * sender, or dead with its deleted subscription) as it is. */
enum outcome db_webhook_result(struct db *db, int64_t id, bool ok, int status, const char *error,
                               int duration_ms, int delay, int give_up);

#endif
