/*
 * Approvers' Ed25519 public keys and freeze windows. Keys are never deleted,
 * only revoked, so that old approvals stay verifiable. Thread-safe per
 * connection.
 */
#ifndef CABINET_DB_KEY_H
#define CABINET_DB_KEY_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

/* ERR_CONFLICT when the key is registered already (by anyone). */
enum outcome db_key_add(struct db *db, int64_t user_id, const char *public_key, const char *label,
                        json_t **out);
/* ERR_NOT_FOUND unless it is the user's and not yet revoked. */
enum outcome db_key_revoke(struct db *db, int64_t user_id, int64_t id);
/* Keys with id > after, by id. */
enum outcome db_key_list(struct db *db, int64_t after, int limit, json_t **out);
/* The key's owner, public key and whether it is revoked. */
enum outcome db_key_get(struct db *db, int64_t id, int64_t *owner, char *public_key, size_t size,
                        bool *revoked);

struct db_freeze {
    const char *name;
    const char *start, *end; /* normal RFC 3339 */
    const char *services;    /* JSON array of names; "[]" covers all */
    const char *hard;        /* "true" | "false" */
    const char *reason;
};

enum outcome db_freeze_create(struct db *db, const char *actor, int64_t user_id,
                              const struct db_freeze *f, json_t **out);
enum outcome db_freeze_get(struct db *db, int64_t id, json_t **out);
/* Freezes overlapping [from, to) (either may be NULL), id > after. */
enum outcome db_freeze_list(struct db *db, const char *from, const char *to, int64_t after,
                            int limit, json_t **out);
/* Replaces every field (the caller merged the patch). */
enum outcome db_freeze_update(struct db *db, const char *actor, int64_t id,
                              const struct db_freeze *f, json_t **out);
enum outcome db_freeze_delete(struct db *db, const char *actor, int64_t id);

#endif
