/*
 * The audit chainer: links committed, unchained audit entries in id order,
 * giving each the next gapless seq and the hash of audit/audit_canon.h, and
 * signs checkpoints of the chain (db_audit_checkpoint_sign). One chainer
 * works on a database at a time (a transaction-level advisory lock), so any
 * number of instances may run it. chain_start runs it on a thread of its
 * own with its own connection.
 */
#ifndef CABINET_CHAIN_H
#define CABINET_CHAIN_H

#include "db/db.h"

struct chain;

/* Starts the chainer thread on url; it polls about four times a second and
 * signs a checkpoint with secret_b64 (the server's Ed25519 secret key) every
 * 1,000 entries or 60 s. */
enum outcome chain_start(const char *url, const char *secret_b64, struct chain **out);
/* Stops the thread (after its current batch) and frees it; NULL-safe. */
void chain_stop(struct chain *c);

/* Links one batch of up to 1,000 entries on db; *linked counts them. */
enum outcome chain_run_once(struct db *db, int *linked);

#endif
