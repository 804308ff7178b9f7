#include "domain/statement.h"

#include <inttypes.h>

void
statement_approval(struct strbuf *sb, const char *ref, int64_t version, const char *content_hash,
                   const char *decision, const char *signed_at)
{
    strbuf_printf(sb, "cabinet-approval-v1\n%s\n%" PRId64 "\n%s\n%s\n%s", ref, version,
                  content_hash, decision, signed_at);
}

void
statement_checkpoint(struct strbuf *sb, int64_t seq, const char *hash, const char *signed_at)
{
    strbuf_printf(sb, "cabinet-checkpoint-v1\n%" PRId64 "\n%s\n%s", seq, hash, signed_at);
}
