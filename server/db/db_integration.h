/*
 * Webhook links (README "Webhook links"): integrations with their link key
 * (stored hashed) and secret, rotations, and the deliveries each link
 * received, with the claim that makes a replay find its first result.
 * Thread-safe per connection.
 */
#ifndef CABINET_DB_INTEGRATION_H
#define CABINET_DB_INTEGRATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* An integration's settings as stored (JSON texts for the lists). */
struct db_integration_set {
    const char *name;
    const char *kind; /* create only */
    const char *model;
    const char *services;     /* JSON array of names */
    const char *environments; /* JSON object: environment -> array of names */
    int64_t default_duration_s;
    bool enabled; /* update only */
};

/* Creates an integration owned by user_id, with its audit entry; key_hash
 * is the link key's SHA-256 as 64 hex digits. *out is its document. */
enum outcome db_integration_create(struct db *db, const char *actor, int64_t user_id,
                                   const struct db_integration_set *s, const char *key_hash,
                                   const char *secret, json_t **out);
/* Integrations not deleted with id > after, by id, at most limit. */
enum outcome db_integration_list(struct db *db, int64_t after, int limit, json_t **out);
/* One integration's document, deleted or not; ERR_NOT_FOUND when none. */
enum outcome db_integration_get(struct db *db, int64_t id, json_t **out);
/* Replaces the settings of an integration not deleted (audit entry
 * "integration.updated" naming `changed`, a JSON array of field names);
 * ERR_NOT_FOUND when it is deleted or unknown. */
enum outcome db_integration_update(struct db *db, const char *actor, int64_t id,
                                   const struct db_integration_set *s, const char *changed,
                                   json_t **out);
/* Disables it for good (deleted_at); its deliveries and changes stay. */
enum outcome db_integration_delete(struct db *db, const char *actor, int64_t id);
/* A new key and secret; the previous pair keeps working for grace_s
 * seconds (0: not at all). */
enum outcome db_integration_rotate(struct db *db, const char *actor, int64_t id,
                                   const char *key_hash, const char *secret, int64_t grace_s,
                                   json_t **out);
/* The deliveries with id < before (0: newest), newest first. */
enum outcome db_integration_deliveries(struct db *db, int64_t id, int64_t before, int limit,
                                       json_t **out);

/* The enabled integration whose current key, or previous key within its
 * grace period, hashes to key_hash: {id, kind, secret (of the pair the key
 * belongs to), model, services, environments, default_duration_s,
 * created_by}. ERR_NOT_FOUND for an unknown, disabled, deleted or expired
 * link. */
enum outcome db_hook_link(struct db *db, const char *key_hash, json_t **out);

/* Claims (integration, delivery_id) for this delivery in the caller's
 * transaction: *row is the new record's id, or 0 when the id was claimed by
 * a delivery that committed (a replay: db_hook_first tells its result). A
 * concurrent claim of the same id waits here until the first ends. NULL
 * delivery_id: nothing to deduplicate by, always claimed. */
enum outcome db_hook_claim(struct db *db, int64_t integration_id, const char *delivery_id,
                           const char *event, int64_t *row);
/* The status and response body (malloc'd) of the delivery that claimed
 * the id, and the change it acted on (0: none). */
enum outcome db_hook_first(struct db *db, int64_t integration_id, const char *delivery_id,
                           int *status, char **response, int64_t *change_id);
/* Completes a claimed record with what the delivery did. */
enum outcome db_hook_finish(struct db *db, int64_t row, int status, const char *response,
                            int64_t change_id, const char *callback_url);
/* Records a replay or a refusal (result "replayed" or "refused"), which
 * holds no delivery id. change_id 0: none. */
enum outcome db_hook_record(struct db *db, int64_t integration_id, const char *delivery_id,
                            const char *event, const char *result, int status, const char *reason,
                            int64_t change_id);

/* Takes the caller's transaction's lock on external_ref (deliveries about
 * one reference act one after the other), then finds its open change (not
 * closed, cancelled or rejected): ERR_NOT_FOUND when none. Taken before the
 * change is locked, as the workflow's lock is. */
enum outcome db_hook_find_ref(struct db *db, const char *external_ref, int64_t *id);
/* Marks a change raised by a link as the integration's. */
enum outcome db_hook_set_origin(struct db *db, int64_t change_id, int64_t integration_id);
/* Records a deployment's callback URL on the change. */
enum outcome db_hook_set_callback(struct db *db, int64_t change_id, const char *url);
/* Sets the actual start and finish the tool reported (each NULL: keep the
 * time the transition wrote). Part of the write that moved the change: its
 * rev is not bumped again. */
enum outcome db_hook_times(struct db *db, int64_t change_id, const char *started_at,
                           const char *finished_at);

#endif
