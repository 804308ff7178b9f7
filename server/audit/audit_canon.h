/*
 * The canonical form of audit rows and of the contents they record (README
 * "Canonical JSON"), and the hash that links an audit entry into the
 * chain: SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of {action, actor, at,
 * data, entity, entity_id, seq}). One definition for the chainer
 * (jobs/chain.c), the evidence bundle (api/audit.c) and `cabinet verify`
 * (verify.c), so that what is hashed, served and checked are the same
 * bytes. No I/O: jansson values in, bytes and hex digits out (SHA-256 through
 * sec/). Pure and thread-safe.
 */
#ifndef CABINET_AUDIT_CANON_H
#define CABINET_AUDIT_CANON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/strbuf.h"
#include "sec/sec.h"

/* Appends the canonical JSON of v to sb: object keys sorted by their UTF-8
 * bytes at every depth, no white space, integers in plain decimal, strings
 * escaped as domain/canon.h says. False when v holds a real number, which
 * canonical JSON does not allow (sb then holds a partial text). */
bool audit_canon_json(const json_t *v, struct strbuf *sb);

/* The hash of an audit entry ({action, actor, at, data, entity, entity_id},
 * borrowed; other members ignored) linked at seq after prev (64 hex digits)
 * into out, 64 lowercase hex digits. False when a member is missing, its
 * data holds a real number or memory runs out; out is then untouched. */
bool audit_canon_hash(const json_t *entry, int64_t seq, const char *prev, char out[SEC_HEX256_LEN]);

#endif
