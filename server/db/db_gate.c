/*
 * Relies on: freeze_covers() (0007), impact_set() (0002, 0006),
 * impact_names() and change_impact_sets (0012); the tables changes, models,
 * change_services, freezes and freeze_services (0001). The NOTIFYs that wake the gate's waiters are
 * 0015's triggers (db_listen.c listens).
 */
#include "db/db_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

/* The impact set is the one assessed (change_impact_sets, kept while the change
 * is active: every state the gate may pass is), else, for a change never
 * assessed, that of its services now. A freeze counts when it is hard,
 * overlaps the change's window and covers a service of that set (a freeze
 * without services covers all: freeze_covers). Times in whole seconds, as
 * windows are stored (a window written with fractions, which the API never
 * does, is narrowed to the whole seconds inside it, and a freeze's moment
 * rounded up, so that a timer never wakes before it); now in milliseconds
 * so that a wait ends on time. */
static const char SQL_GATE[] =
    "WITH c AS (SELECT c.id, c.state, m.kind, c.flags, c.win FROM changes c"
    "           JOIN models m ON m.name = c.model WHERE c.gate_token = $1),"
    " imp AS (SELECT COALESCE(NULLIF(impact_names((SELECT s.sids FROM change_impact_sets s, c"
    "                                               WHERE s.change_id = c.id)), '{}'),"
    "                         ARRAY(SELECT i.name FROM impact_set(ARRAY("
    "                               SELECT cs.service FROM change_services cs, c"
    "                               WHERE cs.change_id = c.id)) i)) AS names),"
    " fz AS (SELECT f.win FROM freezes f, c, imp WHERE f.hard AND c.win IS NOT NULL"
    "        AND f.win && c.win AND freeze_covers(f.id, imp.names))"
    " SELECT c.id, c.state, c.kind, array_to_string(c.flags, ','),"
    "  COALESCE(ceil(extract(epoch FROM lower(c.win)))::bigint, 0),"
    "  COALESCE(floor(extract(epoch FROM upper(c.win)))::bigint, 0),"
    "  EXISTS (SELECT 1 FROM fz WHERE fz.win @> now()),"
    "  COALESCE((SELECT ceil(extract(epoch FROM min(t)))::bigint FROM fz,"
    "            LATERAL (VALUES (lower(fz.win)), (upper(fz.win))) b(t) WHERE t > now()), 0),"
    "  floor(extract(epoch FROM now()) * 1000)::bigint"
    " FROM c";

enum outcome
db_gate_load(struct db *db, const char *token, struct db_gate *out)
{
    const char *params[1] = {token};
    struct change *c = &out->change;
    char flags[64];
    PGresult *res;
    enum outcome rc;
    int st, kind;

    memset(out, 0, sizeof *out);
    if ((rc = db_run(db, SQL_GATE, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    c->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    st = lifecycle_state_parse(PQgetvalue(res, 0, 1));
    kind = lifecycle_kind_parse(PQgetvalue(res, 0, 2));
    snprintf(flags, sizeof flags, ",%s,", PQgetvalue(res, 0, 3));
    if (strstr(flags, ",unauthorized,"))
        c->flags |= CHANGE_UNAUTHORIZED;
    if (strstr(flags, ",retrospective,"))
        c->flags |= CHANGE_RETROSPECTIVE;
    c->window_start = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    c->window_end = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
    out->hard_frozen = PQgetvalue(res, 0, 6)[0] == 't';
    out->freeze_next = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
    out->now_ms = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
    PQclear(res);
    if (st < 0 || kind < 0)
        return ERR_INTERNAL; /* the schema's CHECKs make this unreachable */
    c->state = (enum change_state)st;
    c->kind = (enum model_kind)kind;
    return OK;
}
