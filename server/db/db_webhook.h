/*
 * Outbound events: subscriptions, events written to the outbox (with their
 * deliveries) in the caller's transaction, and the delivery workers' claims
 * and results. Thread-safe per connection.
 */
#ifndef CABINET_DB_WEBHOOK_H
#define CABINET_DB_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Emits an event about a change: data is {"change": its document} merged
 * with extra (a JSON object text, or NULL). */
enum outcome db_webhook_emit_change(struct db *db, const char *type, int64_t change_id,
                                    const char *extra);
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

/* Claims up to limit due deliveries, leasing each for lease seconds: an
 * array of {id, attempts, age, url, format, secret, gone, event_id, type,
 * payload, created_at}. */
enum outcome db_webhook_claim(struct db *db, int limit, int lease, json_t **out);
/* Records one attempt: delivered (ok), or due again after delay seconds,
 * or dead when the event is older than give_up seconds by then. */
enum outcome db_webhook_result(struct db *db, int64_t id, bool ok, int status, const char *error,
                               int duration_ms, int delay, int give_up);

#endif
