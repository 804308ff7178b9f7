/*
 * The audit trail: entries written in the transaction of the write they
 * record, and the queries the chainer (jobs/chain.c) and the API use.
 * Thread-safe per connection.
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
enum outcome db_audit_add(struct db *db, const char *actor, const char *action,
                          const char *entity, const char *entity_id, const json_t *data);

/* Begins the chainer's transaction. *mine is false (and the transaction is
 * over) when another instance holds the chain lock. Otherwise *last_seq and
 * last_hash are the chain's head (0 and 64 zeros when empty). */
enum outcome db_audit_chain_begin(struct db *db, bool *mine, int64_t *last_seq,
                                  char last_hash[65]);
/* Up to limit committed, unchained entries in id order, each
 * {id, at, actor, action, entity, entity_id, data}; *out is a new array. */
enum outcome db_audit_unchained(struct db *db, int limit, json_t **out);
/* Fills in the chain columns of n entries: ids, seqs, prev hashes and
 * hashes as PostgreSQL array literals of equal length. */
enum outcome db_audit_link(struct db *db, const char *ids, const char *seqs,
                           const char *prevs, const char *hashes);

/* Entries of actor, newest first, before the id `before` (0: from the
 * newest); *out is a new array of audit documents. */
enum outcome db_audit_by_actor(struct db *db, const char *actor, int64_t before, int limit,
                               json_t **out);

#endif
