/*
 * The impact assessment of a change, run inside the caller's transaction:
 * the facts from db/, the score from domain/risk.c, the policy that follows
 * from domain/policy.c, stored by db/. Used by submit and by an edit after
 * submit; calls nothing else in api/. Thread-safe per connection.
 */
#ifndef CABINET_ASSESS_H
#define CABINET_ASSESS_H

#include <stdbool.h>

#include "db/db.h"
#include "domain/change.h"

/* Assesses c's current content and stores the result; c->rev and c->level
 * become what was written, c->needed the approvals the policy needs, and
 * *hard_frozen says whether a hard freeze covers its window. */
enum outcome assess_change(struct db *db, struct change *c, bool *hard_frozen);

#endif
