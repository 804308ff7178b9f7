/*
 * Accounts and personal API tokens. Every write records its audit entry in
 * the same statement. Documents come back as JSON (sql/0002_documents.sql).
 * Thread-safe per connection.
 */
#ifndef CABINET_DB_USER_H
#define CABINET_DB_USER_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

/* Creates an account; ERR_CONFLICT when the e-mail (in any case) exists.
 * roles is a PostgreSQL array literal ("{cab}"). *out: the user document. */
enum outcome db_user_create(struct db *db, const char *actor, const char *email, const char *name,
                            const char *pwhash, const char *roles, json_t **out);
enum outcome db_user_get(struct db *db, int64_t id, json_t **out);
/* Users with id > after, by id; *out is an array. */
enum outcome db_user_list(struct db *db, int64_t after, int limit, json_t **out);
/* Every user, by id; each document has locked_for too: the longest wait
 * (s) any client address has left before it may try to log in again. */
enum outcome db_user_all(struct db *db, json_t **out);
/* The id of the account with this e-mail (any case); ERR_NOT_FOUND. */
enum outcome db_user_by_email(struct db *db, const char *email, int64_t *id);
/* Clears the account's failed logins from every address (audit entry
 * "user.unlocked" by actor); *cleared: how many. ERR_NOT_FOUND. */
enum outcome db_user_unlock(struct db *db, const char *actor, int64_t id, long *cleared);
/* Changes what is not NULL (disabled: -1 keeps it). A new password or
 * disabling ends the user's sessions. ERR_NOT_FOUND when there is no such
 * user. */
enum outcome db_user_update(struct db *db, const char *actor, int64_t id, const char *name,
                            const char *roles, const char *pwhash, int disabled, json_t **out);

/* A token for user_id whose secret hashes to hash_hex; *out its document. */
enum outcome db_token_create(struct db *db, int64_t user_id, const char *name, const char *scope,
                             const char *hash_hex, json_t **out);
/* As db_token_create, the audit entry's actor given (NULL: the user). */
enum outcome db_token_create_as(struct db *db, const char *actor, int64_t user_id, const char *name,
                                const char *scope, const char *hash_hex, json_t **out);
/* The user's tokens that are not revoked, newest first. */
enum outcome db_token_list(struct db *db, int64_t user_id, json_t **out);
/* Revokes one of the user's tokens; ERR_NOT_FOUND when it is not theirs or
 * already revoked. */
enum outcome db_token_revoke(struct db *db, int64_t user_id, int64_t id);

#endif
