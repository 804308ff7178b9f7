/*
 * The audit chainer: links committed, unchained audit entries in id order,
 * giving each the next gapless seq and hash = SHA-256(prev_hash ‖ "\n" ‖
 * canonical JSON of {action, actor, at, data, entity, entity_id, seq}).
 * One chainer works on a database at a time (a transaction-level advisory
 * lock), so any number of instances may run it. chain_start runs it on a
 * thread of its own with its own connection.
 */
#ifndef CABINET_CHAIN_H
#define CABINET_CHAIN_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"
#include "domain/strbuf.h"

struct chain;

/* Starts the chainer thread on url; it polls about four times a second and
 * signs a checkpoint with secret_b64 (the server's Ed25519 secret key) every
 * 1,000 entries or 60 s. */
enum outcome chain_start(const char *url, const char *secret_b64, struct chain **out);
/* Stops the thread (after its current batch) and frees it; NULL-safe. */
void chain_stop(struct chain *c);

/* Links one batch of up to 1,000 entries on db; *linked counts them. */
enum outcome chain_run_once(struct db *db, int *linked);

/* Signs a checkpoint of the chain's head when one is due (force: whenever
 * the head is past the last checkpoint); *seq is the seq signed, 0 if none. */
enum outcome chain_checkpoint(struct db *db, const char *secret_b64, bool force, int64_t *seq);

/* The hash of an audit entry ({action, actor, at, data, entity, entity_id})
 * at seq after prev (64 hex digits); false when its data holds a real. */
bool chain_hash(const json_t *entry, int64_t seq, const char *prev, char out[65]);

/* Appends the canonical JSON of v (DESIGN §3): false when v holds a real
 * number, which canonical JSON does not allow. */
bool chain_canonical(const json_t *v, struct strbuf *sb);

#endif
