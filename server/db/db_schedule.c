/*
 * The forward schedule's statements. Relies on change_doc(), conflict_doc()
 * and freeze_doc() (0002, the first two rewritten in 0011), impact_set()
 * (0002, 0006), service_walk() (0006), freeze_covers() (0007) and
 * change_conflict_records() (0011), and on change_impact_sets and
 * impact_ids() (0012), which the workflow keeps for active changes only, so
 * that busy time read from it needs no state test of its own. An acknowledgement inserts its
 * audit_log entries (0001) in the statement that writes. The schedule's and the agenda's pages rely
 * on change_row(), schedule_page(), agenda_page(), schedule_us(), schedule_at(), cab_zone_known()
 * and their indexes (0013); the feed reads its rows through a cursor, a batch at a time. The
 * schedule by local day relies on schedule_day_start(), schedule_tally() and the tallies its
 * triggers keep (0016).
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

static const char SQL_CONFLICTS[] = "SELECT conflict_doc(k, NULL) FROM conflicts k"
                                    " WHERE ($4::text IS NULL OR k.kind = $4) AND" CONFLICTS_PAGE;
/* Those of change $5, which is either side: one row while it exists. */
static const char SQL_CONFLICTS_OF[] =
    "SELECT COALESCE((SELECT json_agg(p.doc ORDER BY p.id)"
    "   FROM (SELECT k.id, conflict_doc(k, NULL) AS doc FROM change_conflict_records(c.id) k"
    "         WHERE ($4::text IS NULL OR k.kind = $4) AND" CONFLICTS_PAGE ") p), '[]')"
    " FROM changes c WHERE c.id = $5";
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
/* A page in window order: change rows, then each row's position. $3 the
 * position after which the page starts (NULL: the first page), $4 its id,
 * $5 the limit; a bound ($1, $2) that is NULL is open. */
#define WIN_PAGE(fn)                                                                               \
    "SELECT change_row(p), schedule_us(lower(p.win)), p.id FROM " fn "("                           \
    " COALESCE($1::timestamptz, '-infinity'), COALESCE($2::timestamptz, 'infinity'),"              \
    " COALESCE(schedule_at($3::bigint), '-infinity'), $4::bigint, $5::int) p"                      \
    " ORDER BY lower(p.win), p.id"
static const char SQL_SCHEDULE_PAGE[] = WIN_PAGE("schedule_page");
static const char SQL_AGENDA_PAGE[] = WIN_PAGE("agenda_page");
/* The rows of the changes $1 (a bigint[] literal) in window order. */
static const char SQL_ROWS_OF[] =
    "SELECT COALESCE(json_agg(change_row(c) ORDER BY lower(c.win), c.id), '[]')"
    " FROM changes c WHERE c.id = ANY ($1::bigint[])";
/* The schedule of one service ($6): its changes are few next to the
 * month's, so they are found by service first. */
static const char SQL_SCHEDULE_SERVICE_PAGE[] =
    "SELECT change_row(c), schedule_us(lower(c.win)), c.id FROM changes c"
    " WHERE c.id IN (SELECT cs.change_id FROM change_services cs WHERE cs.service = $6)"
    " AND c.state <> 'draft' AND c.win IS NOT NULL"
    " AND c.win && tstzrange($1::timestamptz, $2::timestamptz)"
    " AND (lower(c.win), c.id) > (COALESCE(schedule_at($3::bigint), '-infinity'), $4::bigint)"
    " ORDER BY lower(c.win), c.id LIMIT $5::int";
static const char SQL_SCHEDULE_FREEZES[] =
    "SELECT COALESCE(json_agg(freeze_doc(f) ORDER BY lower(f.win), f.id), '[]') FROM freezes f"
    " WHERE f.win && tstzrange($1::timestamptz, $2::timestamptz)"
    " AND ($3::text IS NULL OR freeze_covers(f.id, ARRAY[$3::text]))";
static const char SQL_ZONE[] = "SELECT $1::text WHERE cab_zone_known($1)";
/* Every local day ($3 the zone) of [$1, $2). */
#define SCHEDULE_DAYS                                                                              \
    "WITH e AS (SELECT x::date AS day"                                                             \
    "           FROM generate_series(date_trunc('day', $1::timestamptz AT TIME ZONE $3::text),"    \
    "                                date_trunc('day', ($2::timestamptz - interval '1 "            \
    "microsecond')"                                                                                \
    "                                                  AT TIME ZONE $3::text),"                    \
    "                                interval '1 day') x),"
/* The days in order, each with by_state from n (day, state, k); a state
 * whose count is 0 is left out. */
#define SCHEDULE_DAYS_JSON                                                                         \
    " nd AS (SELECT day, json_object_agg(state, k ORDER BY state) AS by_state FROM n"              \
    "        WHERE k > 0 GROUP BY day)"                                                            \
    " SELECT COALESCE(json_agg(json_build_object('date', e.day,"                                   \
    "                                            'by_state', COALESCE(nd.by_state, '{}'))"         \
    "                          ORDER BY e.day), '[]')"                                             \
    " FROM e LEFT JOIN nd ON nd.day = e.day"
/* Each day's count by state of the non-draft changes whose window, cut to
 * the period, touches it, from the tallies (schedule_days(), sql/0016). */
static const char SQL_SCHEDULE_DAYS[] =
    "SELECT schedule_days($1::timestamptz, $2::timestamptz, $3::text)";
/* The same for the changes of one service ($4), which are few: each one's
 * days from the date of its start to that of its last microsecond. */
static const char SQL_SCHEDULE_SERVICE_DAYS[] =
    SCHEDULE_DAYS " c AS (SELECT c.state, greatest(lower(c.win), $1::timestamptz) AS s,"
                  "              least(upper(c.win), $2::timestamptz) AS e"
                  "       FROM changes c WHERE c.state <> 'draft' AND c.win IS NOT NULL"
                  "       AND c.win && tstzrange($1::timestamptz, $2::timestamptz)"
                  "       AND EXISTS (SELECT 1 FROM change_services cs"
                  "                   WHERE cs.change_id = c.id AND cs.service = $4)),"
                  " n AS (SELECT d::date AS day, c.state, count(*) AS k FROM c,"
                  "       generate_series(date_trunc('day', c.s AT TIME ZONE $3::text),"
                  "                       date_trunc('day', (c.e - interval '1 microsecond') AT "
                  "TIME ZONE $3::text),"
                  "                       interval '1 day') d"
                  "       GROUP BY 1, 2)," SCHEDULE_DAYS_JSON;
/* The feed's rows, changes then freezes: one row type with a kind column,
 * so that the feed is one statement, read through a cursor. */
#define FEED_ROWS                                                                                  \
    "SELECT 'c', c.id, c.rev, c.state, array_to_string(c.flags, ','),"                             \
    "  extract(epoch FROM lower(c.win))::bigint, extract(epoch FROM upper(c.win))::bigint,"        \
    "  extract(epoch FROM date_trunc('second', c.created_at))::bigint,"                            \
    "  extract(epoch FROM date_trunc('second', c.updated_at))::bigint,"                            \
    "  c.title, c.model,"                                                                          \
    "  (SELECT a.level FROM assessments a WHERE a.change_id = c.id ORDER BY a.id DESC LIMIT 1),"   \
    "  (SELECT string_agg(cs.service, ',' ORDER BY cs.service) FROM change_services cs"            \
    "   WHERE cs.change_id = c.id), false, lower(c.win)"                                           \
    " FROM changes c WHERE c.state <> 'draft' AND c.win IS NOT NULL"                               \
    " AND c.win && tstzrange(now() - interval '30 days', now() + interval '90 days')"              \
    " AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM change_services cs"                           \
    "                                  WHERE cs.change_id = c.id AND cs.service = $1))"            \
    " AND ($2::bigint IS NULL OR c.requester_id = $2)"                                             \
    " UNION ALL"                                                                                   \
    " SELECT 'f', f.id, 0, '', '',"                                                                \
    "  extract(epoch FROM lower(f.win))::bigint, extract(epoch FROM upper(f.win))::bigint,"        \
    "  extract(epoch FROM date_trunc('second', f.created_at))::bigint,"                            \
    "  extract(epoch FROM date_trunc('second', f.updated_at))::bigint,"                            \
    "  f.name, f.reason, NULL,"                                                                    \
    "  (SELECT string_agg(fs.service, ',' ORDER BY fs.service) FROM freeze_services fs"            \
    "   WHERE fs.freeze_id = f.id), f.hard, lower(f.win)"                                          \
    " FROM freezes f"                                                                              \
    " WHERE f.win && tstzrange(now() - interval '30 days', now() + interval '90 days')"            \
    " AND ($1::text IS NULL OR freeze_covers(f.id, ARRAY[$1]))"                                    \
    " ORDER BY 1, 15, 2"
static const char SQL_FEED_OPEN[] = "DECLARE schedule_feed NO SCROLL CURSOR FOR " FEED_ROWS;
#define FEED_BATCH 500
static const char SQL_FEED_FETCH[] = "FETCH 500 FROM schedule_feed";
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
db_schedule_conflicts(struct db *db, const char *open, const char *kind, int64_t change,
                      int64_t after, int limit, json_t **out)
{
    char a[DB_NUM], l[DB_NUM], c[DB_NUM];
    const char *params[5] = {open, db_num(after, a), db_num(limit, l), kind, db_num(change, c)};

    if (change != 0)
        return db_json(db, SQL_CONFLICTS_OF, 5, params, out);
    return db_json_list(db, SQL_CONFLICTS, 4, params, out);
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

/* Reads a page's rows (fetched with limit + 1) into q. */
static enum outcome
db_schedule_rows(struct db *db, const char *sql, int n, const char *const *params,
                 struct db_win_page *q)
{
    PGresult *res;
    enum outcome rc;
    int i, rows;

    q->items = NULL;
    q->more = false;
    if ((rc = db_run(db, sql, n, params, &res)) != OK)
        return rc;
    rows = PQntuples(res);
    q->more = rows > q->limit;
    if (q->more)
        rows = q->limit;
    if ((q->items = json_array()) == NULL)
        rc = ERR_INTERNAL;
    for (i = 0; rc == OK && i < rows; i++) {
        json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);

        if (row == NULL || json_array_append_new(q->items, row) != 0)
            rc = ERR_INTERNAL;
        q->last_start = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        q->last_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    }
    PQclear(res);
    if (rc != OK) {
        json_decref(q->items);
        q->items = NULL;
    }
    return rc;
}

enum outcome
db_schedule_page(struct db *db, const char *service, struct db_win_page *q)
{
    char start[DB_NUM], id[DB_NUM], lim[DB_NUM], buf[80];
    const char *params[6] = {q->from,
                             q->to,
                             q->after_id ? db_num(q->after_start, start) : NULL,
                             db_num(q->after_id, id),
                             db_num(q->limit + 1, lim),
                             service};
    enum outcome rc;

    if (service == NULL)
        return db_schedule_rows(db, SQL_SCHEDULE_PAGE, 5, params, q);
    if ((rc = db_text(db, SQL_SERVICE, 1, &params[5], buf, sizeof buf)) != OK)
        return rc;
    return db_schedule_rows(db, SQL_SCHEDULE_SERVICE_PAGE, 6, params, q);
}

enum outcome
db_schedule_freezes(struct db *db, const char *from, const char *to, const char *service,
                    json_t **out)
{
    const char *params[3] = {from, to, service};

    return db_json(db, SQL_SCHEDULE_FREEZES, 3, params, out);
}

enum outcome
db_schedule_days(struct db *db, const char *from, const char *to, const char *zone,
                 const char *service, json_t **out)
{
    const char *params[4] = {from, to, zone, service};
    char buf[80];
    enum outcome rc;

    if ((rc = db_text(db, SQL_ZONE, 1, &params[2], buf, sizeof buf)) == ERR_NOT_FOUND)
        return ERR_INVALID;
    if (rc != OK)
        return rc;
    if (service == NULL)
        return db_json(db, SQL_SCHEDULE_DAYS, 3, params, out);
    if ((rc = db_text(db, SQL_SERVICE, 1, &params[3], buf, sizeof buf)) != OK)
        return rc;
    return db_json(db, SQL_SCHEDULE_SERVICE_DAYS, 4, params, out);
}

enum outcome
db_schedule_agenda(struct db *db, struct db_win_page *q)
{
    char start[DB_NUM], id[DB_NUM], lim[DB_NUM];
    const char *params[5] = {q->from, q->to, q->after_id ? db_num(q->after_start, start) : NULL,
                             db_num(q->after_id, id), db_num(q->limit + 1, lim)};

    return db_schedule_rows(db, SQL_AGENDA_PAGE, 5, params, q);
}

enum outcome
db_schedule_rows_of(struct db *db, const char *ids, json_t **out)
{
    return db_json(db, SQL_ROWS_OF, 1, &ids, out);
}

/* One feed row to the sink. */
static enum outcome
db_schedule_feed_row(PGresult *res, int i, const struct db_feed_sink *sink)
{
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
        return sink->change(sink->arg, &c);
    }
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
    return sink->freeze(sink->arg, &f);
}

/* The feed as a step of db_tx: the cursor opened, then a batch at a time
 * to the sink; sink->start once the first batch is in, before any row.
 * Once started it is never run again (the rows went out). */
struct db_feed_step {
    const char *const *params;
    const struct db_feed_sink *sink;
    bool started;
};

static enum outcome
db_schedule_feed_step(struct db *db, void *arg)
{
    struct db_feed_step *f = arg;
    enum outcome rc;
    PGresult *res;
    int i, n = FEED_BATCH;

    if (f->started)
        return ERR_UNAVAILABLE;
    if ((rc = db_exec(db, SQL_FEED_OPEN, 2, f->params, NULL)) != OK)
        return rc;
    while (rc == OK && n == FEED_BATCH) {
        if ((rc = db_run(db, SQL_FEED_FETCH, 0, NULL, &res)) != OK)
            break;
        if (!f->started) {
            f->started = true;
            rc = f->sink->start(f->sink->arg);
        }
        n = PQntuples(res);
        for (i = 0; rc == OK && i < n; i++)
            rc = db_schedule_feed_row(res, i, f->sink);
        PQclear(res);
    }
    return rc == ERR_RETRY && f->started ? ERR_UNAVAILABLE : rc;
}

enum outcome
db_schedule_feed(struct db *db, const char *service, int64_t requester,
                 const struct db_feed_sink *sink)
{
    char rid[DB_NUM], buf[80];
    const char *params[2] = {service, requester ? db_num(requester, rid) : NULL};
    struct db_feed_step step = {params, sink, false};
    enum outcome rc;

    if (service != NULL && (rc = db_text(db, SQL_SERVICE, 1, params, buf, sizeof buf)) != OK)
        return rc;
    return db_tx(db, db_schedule_feed_step, &step);
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
