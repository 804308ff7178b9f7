/*
 * The forward schedule's statements. Relies on change_doc(), conflict_doc()
 * and freeze_doc() (0002, the first two rewritten in 0011), impact_set()
 * (0002, 0006), service_walk() (0006), freeze_covers() (0007) and
 * change_conflict_records() (0011), and on change_impact (0001), which the
 * workflow keeps for active changes only, so that busy time read from it
 * needs no state test of its own. An acknowledgement inserts its audit_log
 * entries (0001) in the statement that writes.
 */
#include "db/db_schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "domain/change.h"

#define SCHEDULE_ROW                                                                               \
    "json_build_object('doc', change_doc(c), 'rev', c.rev, 'gate_token', c.gate_token)"

/* The conflict lists' filter: $1 open NULL all, true not resolved, false
 * resolved; then $2 after (an id) and $3 limit. */
#define CONFLICTS_PAGE                                                                             \
    " ($1::boolean IS NULL OR ($1::boolean AND k.state <> 'resolved')"                             \
    "  OR (NOT $1::boolean AND k.state = 'resolved'))"                                             \
    " AND k.id > $2 ORDER BY k.id LIMIT $3"

static const char SQL_CONFLICTS[] =
    "SELECT conflict_doc(k, NULL) FROM conflicts k WHERE" CONFLICTS_PAGE;
/* $4 the change: one row while it exists (an array, maybe empty), none when
 * it does not; each record rendered only once it is on the page. */
static const char SQL_CHANGE_CONFLICTS[] =
    "SELECT COALESCE((SELECT json_agg(p.doc ORDER BY p.id)"
    "   FROM (SELECT k.id, conflict_doc(k, c.id) AS doc FROM change_conflict_records(c.id) k"
    "         WHERE" CONFLICTS_PAGE ") p), '[]')"
    " FROM changes c WHERE c.id = $4";
static const char SQL_CONFLICT[] =
    "SELECT k.id, k.state,"
    " (SELECT string_agg(c.requester_id::text, ',' ORDER BY c.id) FROM changes c"
    "  WHERE c.id IN (k.change_a, k.change_b))"
    " FROM conflicts k WHERE k.id = $1";
static const char SQL_CONFLICT_DOC[] =
    "SELECT conflict_doc(k, NULL) FROM conflicts k WHERE k.id = $1";
static const char SQL_ACK[] =
    "WITH k AS (UPDATE conflicts SET state = 'acknowledged', note = $4,"
    "             acknowledged_by = $3, acknowledged_at = now()"
    "           WHERE id = $2 AND state = 'open' RETURNING *),"
    " c AS (UPDATE changes SET rev = rev + 1"
    "       WHERE id IN (SELECT change_a FROM k UNION SELECT change_b FROM k)),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'change.conflict_acknowledged', 'change', x.id::text,"
    "              jsonb_build_object('conflict', k.id, 'note', k.note)"
    "       FROM k, LATERAL (VALUES (k.change_a), (k.change_b)) x(id) WHERE x.id IS NOT NULL)"
    " SELECT k.id FROM k";
static const char SQL_SCHEDULE[] =
    "SELECT json_build_object("
    " 'changes', COALESCE((SELECT json_agg(" SCHEDULE_ROW " ORDER BY lower(c.win), c.id)"
    "   FROM changes c WHERE c.state <> 'draft'"
    "   AND c.win && tstzrange($1::timestamptz, $2::timestamptz)), '[]'),"
    " 'freezes', COALESCE((SELECT json_agg(freeze_doc(f) ORDER BY lower(f.win), f.id)"
    "   FROM freezes f WHERE f.win && tstzrange($1::timestamptz, $2::timestamptz)), '[]'))";
/* A bound that is NULL is open: tstzrange(NULL, NULL) overlaps every window. */
static const char SQL_AGENDA[] =
    "SELECT " SCHEDULE_ROW " FROM changes c WHERE c.state = 'awaiting_approval'"
    " AND c.win && tstzrange($1::timestamptz, $2::timestamptz) ORDER BY lower(c.win), c.id";
/* The feed's rows, changes then freezes: one row type with a kind column,
 * so that the feed is one statement (and can be read row by row). */
static const char SQL_FEED[] =
    "SELECT 'c', c.id, c.rev, c.state, array_to_string(c.flags, ','),"
    "  extract(epoch FROM lower(c.win))::bigint, extract(epoch FROM upper(c.win))::bigint,"
    "  extract(epoch FROM date_trunc('second', c.created_at))::bigint,"
    "  extract(epoch FROM date_trunc('second', c.updated_at))::bigint,"
    "  c.title, c.model,"
    "  (SELECT a.level FROM assessments a WHERE a.change_id = c.id ORDER BY a.id DESC LIMIT 1),"
    "  (SELECT string_agg(cs.service, ',' ORDER BY cs.service) FROM change_services cs"
    "   WHERE cs.change_id = c.id), false, lower(c.win)"
    " FROM changes c WHERE c.state <> 'draft' AND c.win IS NOT NULL"
    " AND c.win && tstzrange(now() - interval '30 days', now() + interval '90 days')"
    " AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM change_services cs"
    "                                  WHERE cs.change_id = c.id AND cs.service = $1))"
    " AND ($2::bigint IS NULL OR c.requester_id = $2)"
    " UNION ALL"
    " SELECT 'f', f.id, 0, '', '',"
    "  extract(epoch FROM lower(f.win))::bigint, extract(epoch FROM upper(f.win))::bigint,"
    "  extract(epoch FROM date_trunc('second', f.created_at))::bigint,"
    "  extract(epoch FROM date_trunc('second', f.updated_at))::bigint,"
    "  f.name, f.reason, NULL,"
    "  (SELECT string_agg(fs.service, ',' ORDER BY fs.service) FROM freeze_services fs"
    "   WHERE fs.freeze_id = f.id), f.hard, lower(f.win)"
    " FROM freezes f"
    " WHERE f.win && tstzrange(now() - interval '30 days', now() + interval '90 days')"
    " AND ($1::text IS NULL OR freeze_covers(f.id, ARRAY[$1]))"
    " ORDER BY 1, 15, 2";
static const char SQL_BUSY[] =
    "WITH imp AS (SELECT i.name, s.sid"
    "             FROM impact_set(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) i"
    "             JOIN services s ON s.name = i.name),"
    " r AS (SELECT tstzrange($2::timestamptz, $3::timestamptz) AS span)"
    " SELECT extract(epoch FROM lower(b.w))::bigint, extract(epoch FROM upper(b.w))::bigint"
    " FROM (SELECT o.win AS w FROM change_impact_sets o, r"
    "       WHERE o.win && r.span AND o.sids && ARRAY(SELECT sid FROM imp ORDER BY sid)"
    "       UNION ALL"
    "       SELECT f.win FROM freezes f, r WHERE f.win && r.span"
    "       AND freeze_covers(f.id, ARRAY(SELECT name FROM imp))) b";
static const char SQL_RECENT[] =
    "WITH deps AS (SELECT w.name FROM service_walk(ARRAY[$1::text], false) w),"
    " span AS (SELECT tstzrange(now() - make_interval(hours => $2::int), now(), '[]') AS s)"
    " SELECT " SCHEDULE_ROW " FROM changes c, span"
    " WHERE EXISTS (SELECT 1 FROM change_services cs WHERE cs.change_id = c.id"
    "               AND cs.service IN (SELECT name FROM deps))"
    " AND c.state NOT IN ('draft', 'cancelled', 'rejected')"
    " AND (c.win && span.s OR c.started_at <@ span.s OR c.completed_at <@ span.s)"
    " ORDER BY COALESCE(c.started_at, lower(c.win)) DESC, c.id DESC LIMIT 200";
static const char SQL_SERVICE[] = "SELECT name FROM services WHERE name = $1";

enum outcome
db_schedule_conflicts(struct db *db, const char *open, int64_t after, int limit, json_t **out)
{
    char a[DB_NUM], l[DB_NUM];
    const char *params[3] = {open, db_num(after, a), db_num(limit, l)};

    return db_json_list(db, SQL_CONFLICTS, 3, params, out);
}

enum outcome
db_schedule_change_conflicts(struct db *db, int64_t change, const char *open, int64_t after,
                             int limit, json_t **out)
{
    char a[DB_NUM], l[DB_NUM], c[DB_NUM];
    const char *params[4] = {open, db_num(after, a), db_num(limit, l), db_num(change, c)};

    return db_json(db, SQL_CHANGE_CONFLICTS, 4, params, out);
}

enum outcome
db_schedule_conflict(struct db *db, int64_t id, struct conflict *out)
{
    char sid[DB_NUM];
    const char *params[1] = {db_num(id, sid)}, *owners;
    PGresult *res;
    enum outcome rc;
    int st;

    memset(out, 0, sizeof *out);
    if ((rc = db_run(db, SQL_CONFLICT, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    st = decision_conflict_state_parse(PQgetvalue(res, 0, 1));
    out->state = st < 0 ? CONFLICT_RESOLVED : (enum conflict_state)st;
    owners = PQgetvalue(res, 0, 2);
    while (*owners && out->nowners < 2) {
        out->owners[out->nowners++] = strtoll(owners, NULL, 10);
        owners = strchr(owners, ',');
        owners = owners ? owners + 1 : "";
    }
    PQclear(res);
    return OK;
}

enum outcome
db_schedule_conflict_doc(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_CONFLICT_DOC, id, out);
}

enum outcome
db_schedule_acknowledge(struct db *db, const char *actor, int64_t id, int64_t user_id,
                        const char *note)
{
    char sid[DB_NUM], uid[DB_NUM], buf[DB_NUM];
    const char *params[4] = {actor, db_num(id, sid), db_num(user_id, uid), note};
    enum outcome rc;

    rc = db_text(db, SQL_ACK, 4, params, buf, sizeof buf);
    return rc == ERR_NOT_FOUND ? ERR_CONFLICT : rc;
}

enum outcome
db_schedule_get(struct db *db, const char *from, const char *to, json_t **out)
{
    const char *params[2] = {from, to};

    return db_json(db, SQL_SCHEDULE, 2, params, out);
}

enum outcome
db_schedule_agenda(struct db *db, const char *from, const char *to, json_t **out)
{
    const char *params[2] = {from, to};

    return db_json_list(db, SQL_AGENDA, 2, params, out);
}

enum outcome
db_schedule_feed(struct db *db, const char *service, int64_t requester,
                 const struct db_feed_sink *sink)
{
    char rid[DB_NUM], buf[80];
    const char *params[2] = {service, requester ? db_num(requester, rid) : NULL};
    PGresult *res;
    enum outcome rc;
    int i;

    if (service != NULL && (rc = db_text(db, SQL_SERVICE, 1, params, buf, sizeof buf)) != OK)
        return rc;
    if ((rc = db_run(db, SQL_FEED, 2, params, &res)) != OK)
        return rc;
    for (i = 0; i < PQntuples(res); i++) {
        const char *v[15];
        int k;

        for (k = 0; k < 15; k++)
            v[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
        if (v[0][0] == 'c') {
            int st = lifecycle_state_parse(v[3]);
            struct ical_change c = {
                .id = strtoll(v[1], NULL, 10),
                .rev = strtoll(v[2], NULL, 10),
                .state = st < 0 ? STATE_DRAFT : (enum change_state)st,
                .flags = (strstr(v[4], "unauthorized") ? CHANGE_UNAUTHORIZED : 0u) |
                         (strstr(v[4], "retrospective") ? CHANGE_RETROSPECTIVE : 0u),
                .start = strtoll(v[5], NULL, 10),
                .end = strtoll(v[6], NULL, 10),
                .created = strtoll(v[7], NULL, 10),
                .stamp = strtoll(v[8], NULL, 10),
                .title = v[9],
                .model = v[10],
                .level = v[11],
                .services = v[12],
            };
            sink->change(sink->arg, &c);
        } else {
            struct ical_freeze f = {
                .id = strtoll(v[1], NULL, 10),
                .hard = v[13][0] == 't',
                .start = strtoll(v[5], NULL, 10),
                .end = strtoll(v[6], NULL, 10),
                .created = strtoll(v[7], NULL, 10),
                .stamp = strtoll(v[8], NULL, 10),
                .name = v[9],
                .reason = v[10],
                .services = v[12],
            };
            sink->freeze(sink->arg, &f);
        }
    }
    PQclear(res);
    return OK;
}

enum outcome
db_schedule_busy(struct db *db, const char *services, const char *from, const char *to,
                 struct slots_interval **out, size_t *n)
{
    const char *params[3] = {services, from, to};
    PGresult *res;
    enum outcome rc;
    int i;

    *out = NULL;
    *n = 0;
    if ((rc = db_run(db, SQL_BUSY, 3, params, &res)) != OK)
        return rc;
    if ((*out = calloc((size_t)PQntuples(res) + 1, sizeof **out)) == NULL)
        rc = ERR_INTERNAL;
    for (i = 0; rc == OK && i < PQntuples(res); i++) {
        (*out)[i].start = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        (*out)[i].end = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    }
    if (rc == OK)
        *n = (size_t)PQntuples(res);
    PQclear(res);
    return rc;
}

enum outcome
db_schedule_recent(struct db *db, const char *service, int hours, json_t **out)
{
    char h[DB_NUM], buf[80];
    const char *params[2] = {service, db_num(hours, h)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_SERVICE, 1, params, buf, sizeof buf)) != OK)
        return rc;
    return db_json_list(db, SQL_RECENT, 2, params, out);
}
