/*
 * The exact bytes that are signed: approval statements, signed by approvers
 * (README "Signed decisions"), and checkpoint statements, signed by the
 * server (README "Audit"). UTF-8, "\n" between lines, no trailing newline.
 * Pure and thread-safe.
 */
#ifndef CABINET_STATEMENT_H
#define CABINET_STATEMENT_H

#include <stdint.h>

#include "domain/strbuf.h"

/* cabinet-approval-v1\n<ref>\n<version>\n<content_hash>\n<decision>\n<signed_at> */
void statement_approval(struct strbuf *sb, const char *ref, int64_t version,
                        const char *content_hash, const char *decision, const char *signed_at);
/* cabinet-checkpoint-v1\n<seq>\n<hash>\n<signed_at> */
void statement_checkpoint(struct strbuf *sb, int64_t seq, const char *hash, const char *signed_at);

#endif
