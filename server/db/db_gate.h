/*
 * What the gate (GET /gate/<token>, README "Gate") asks of the database:
 * the change a gate token names, and whether a hard freeze covers it now.
 * Thread-safe per connection.
 */
#ifndef CABINET_DB_GATE_H
#define CABINET_DB_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "domain/change.h"

struct db_gate {
    /* id, state, kind, flags and window; nothing else is filled (the
     * struct owns nothing: change_clear is not needed) */
    struct change change;
    /* a hard freeze holding now, overlapping the change's window, covers a
     * service of its impact set */
    bool hard_frozen;
    /* the first moment after now at which such a freeze begins or ends;
     * 0: none */
    int64_t freeze_next;
    int64_t now_ms; /* the database's clock, milliseconds since the epoch */
};

/* Loads the gate of token: ERR_NOT_FOUND when no change has it. */
enum outcome db_gate_load(struct db *db, const char *token, struct db_gate *out);

#endif
