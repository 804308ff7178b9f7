/*
 * The audit trail: entries written in the transaction of the write they
 * record, the queries the chainer (jobs/chain.c), the API and `cabinet
 * verify` use, and the signing of checkpoints. Thread-safe per connection.
 */
#ifndef CABINET_DB_AUDIT_H
#define CABINET_DB_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Inserts an entry. actor is "user:<id>", "integration:<id>" or "system";
 * data (borrowed, NULL for {}) must be an object of strings, integers,
 * booleans, nulls, arrays and objects — never reals. */
enum outcome db_audit_add(struct db *db, const char *actor, const char *action, const char *entity,
                          const char *entity_id, const json_t *data);

/* Inside the caller's transaction, takes the chain lock until it ends:
 * *mine is false when another instance holds it. Otherwise *last_seq and
 * last_hash are the chain's head (0 and 64 zeros when empty). */
enum outcome db_audit_chain_lock(struct db *db, bool *mine, int64_t *last_seq, char last_hash[65]);
/* Up to limit committed, unchained entries in id order, each
 * {id, at, actor, action, entity, entity_id, data}; *out is a new array. */
enum outcome db_audit_unchained(struct db *db, int limit, json_t **out);
/* Fills in the chain columns of n entries: ids, seqs, prev hashes and
 * hashes as PostgreSQL array literals of equal length. */
enum outcome db_audit_link(struct db *db, const char *ids, const char *seqs, const char *prevs,
                           const char *hashes);

/* Entries of actor, newest first, before the id `before` (0: from the
 * newest); *out is a new array of audit documents. */
enum outcome db_audit_by_actor(struct db *db, const char *actor, int64_t before, int limit,
                               json_t **out);

/* Records the installation's server key the first time; ERR_CONFLICT when a
 * different key is recorded already. */
enum outcome db_audit_server_key(struct db *db, const char *public_b64);
/* {public_key, created_at}; ERR_NOT_FOUND before the first start. */
enum outcome db_audit_server_key_get(struct db *db, json_t **out);

/* Signs a checkpoint of the chain's head with secret_b64 (the server's
 * Ed25519 secret key, base64) when one is due (force: whenever the head is
 * past the last checkpoint) and stores it; *seq is the seq signed, 0 if
 * none. */
enum outcome db_audit_checkpoint_sign(struct db *db, const char *secret_b64, bool force,
                                      int64_t *seq);
/* The newest checkpoint (or the first at or after seq when seq > 0):
 * {seq, hash, signed_at, signature, statement}. */
enum outcome db_audit_checkpoint_get(struct db *db, int64_t seq, json_t **out);
/* Chained entries with seq > after, by seq. */
enum outcome db_audit_list(struct db *db, int64_t after, int limit, json_t **out);
/* Every checkpoint, by seq. */
enum outcome db_audit_checkpoints(struct db *db, json_t **out);
/* Entries left unchained for over a minute: [{id, at}], oldest first. */
enum outcome db_audit_stale(struct db *db, json_t **out);
/* Every approval with what verifying it needs: {id, ref, version,
 * content_hash, decision, signed_at, statement, signature, public_key}. */
enum outcome db_audit_approvals(struct db *db, json_t **out);

/* The entries of one entity, oldest first, each naming its actor
 * (actor_name, timeline_doc of 0023). */
enum outcome db_audit_entity(struct db *db, const char *entity, const char *id, json_t **out);

#endif
