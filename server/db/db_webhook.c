/*
 * Subscriptions, the outbox and deliveries. Relies on outbox_emit_change()
 * (0020, on outbox_emit() of 0004), webhook_doc() and delivery_doc() (0004), change_doc() and
 * freeze_doc() (0002), cab_ts() (0001), and the lanes of 0009: delivery_next(), the lane locks and
 * delivery_lanes_taken().
 */
#include "db/db_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char SQL_EMIT_CHANGE[] = "SELECT outbox_emit_change($1::text[], $2, $3::jsonb)";
static const char SQL_EMIT_FREEZE[] =
    "SELECT outbox_emit($1, jsonb_build_object('freeze', freeze_doc(f)::jsonb))"
    " FROM freezes f WHERE f.id = $2";
static const char SQL_CREATE[] =
    "WITH w AS (INSERT INTO webhooks (url, events, format, secret, created_by)"
    "           VALUES ($2, $3::text[], $4, $5, $6) RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'webhook.created', 'webhook', w.id::text,"
    "              jsonb_build_object('url', w.url, 'events', w.events, 'format', w.format)"
    "       FROM w)"
    " SELECT webhook_doc(w) FROM w";
static const char SQL_LIST[] =
    "SELECT webhook_doc(w) FROM webhooks w WHERE w.deleted_at IS NULL ORDER BY w.id";
static const char SQL_GET[] =
    "SELECT webhook_doc(w) FROM webhooks w WHERE w.id = $1 AND w.deleted_at IS NULL";
static const char SQL_DELETE[] =
    "WITH w AS (UPDATE webhooks SET deleted_at = now()"
    "           WHERE id = $2 AND deleted_at IS NULL RETURNING *),"
    " d AS (UPDATE deliveries SET state = 'dead', last_error = 'the subscription was deleted'"
    "       WHERE webhook_id IN (SELECT id FROM w) AND state = 'pending')"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT $1, 'webhook.deleted', 'webhook', w.id::text,"
    "        jsonb_build_object('url', w.url) FROM w";
static const char SQL_DELIVERIES[] =
    "SELECT delivery_doc(d) FROM deliveries d"
    " WHERE d.webhook_id = $1 AND ($2::bigint = 0 OR d.id < $2::bigint)"
    " ORDER BY d.id DESC LIMIT $3";
static const char SQL_RETRY[] =
    "WITH d AS (UPDATE deliveries d SET state = 'pending', next_attempt_at = now()"
    "           FROM webhooks w"
    "           WHERE d.id = $3 AND d.webhook_id = $2 AND w.id = d.webhook_id"
    "           AND w.deleted_at IS NULL RETURNING d.*),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'webhook.retried', 'webhook', d.webhook_id::text,"
    "              jsonb_build_object('delivery', d.id) FROM d)"
    " SELECT d.id FROM d";
static const char SQL_DELIVERY[] = "SELECT delivery_doc(d) FROM deliveries d WHERE d.id = $1";
/* The lanes (README "Events out", 0009) whose next delivery is due and
 * that no session holds now, oldest first: a walk over the subscriptions
 * with pending deliveries, one index probe each, however long the
 * history. */
static const char SQL_LANES[] =
    "WITH RECURSIVE lanes (webhook_id) AS ("
    "    SELECT min(webhook_id) FROM deliveries WHERE state = 'pending'"
    "  UNION ALL"
    "    SELECT (SELECT min(d.webhook_id) FROM deliveries d"
    "            WHERE d.state = 'pending' AND d.webhook_id > l.webhook_id)"
    "    FROM lanes l WHERE l.webhook_id IS NOT NULL)"
    " SELECT n.webhook_id FROM lanes l CROSS JOIN LATERAL delivery_next(l.webhook_id) n"
    " WHERE delivery_lane_key(n.webhook_id) NOT IN (SELECT delivery_lanes_taken())"
    " ORDER BY n.next_attempt_at, n.id LIMIT $1";
static const char SQL_LANE_LOCK[] = "SELECT delivery_lane_lock($1)";
static const char SQL_LANE_UNLOCK[] = "SELECT delivery_lane_unlock($1)";
static const char SQL_NEXT[] =
    "SELECT n.id, n.webhook_id, n.attempts, w.deleted_at IS NOT NULL, w.url, w.format,"
    "       w.secret, o.event_id,"
    "       json_build_object('type', o.type, 'created_at', cab_ts(o.created_at),"
    "                         'payload', o.payload)"
    " FROM delivery_next($1) n JOIN webhooks w ON w.id = n.webhook_id"
    " JOIN outbox o ON o.id = n.outbox_id";
/* A failed attempt leaves a delivery that is no longer pending as it is:
 * one that another sender delivered meanwhile, or that the subscription's
 * deletion made dead. */
static const char SQL_RESULT[] =
    "WITH a AS (INSERT INTO delivery_attempts (delivery_id, status, error, duration_ms)"
    "           VALUES ($1, $3::int, $4, $5))"
    " UPDATE deliveries d SET attempts = d.attempts + 1,"
    "   last_status = $3::int, last_error = $4,"
    "   state = CASE WHEN $2::boolean THEN 'delivered'"
    "                WHEN d.state <> 'pending' THEN d.state"
    "                WHEN o.created_at + make_interval(secs => $7::int)"
    "                     < now() + make_interval(secs => $6::int) THEN 'dead'"
    "                ELSE 'pending' END,"
    "   delivered_at = CASE WHEN $2::boolean THEN now()"
    "                       WHEN d.state <> 'pending' THEN d.delivered_at END,"
    "   next_attempt_at = CASE WHEN d.state = 'pending'"
    "                          THEN now() + make_interval(secs => $6::int)"
    "                          ELSE d.next_attempt_at END"
    " FROM outbox o WHERE d.id = $1 AND o.id = d.outbox_id";

/* How many due lanes one claim looks at: the ones held elsewhere are left
 * out already, so only a lane taken in the meantime is tried in vain. */
#define DB_WEBHOOK_LANES 8

enum outcome
db_webhook_emit_change(struct db *db, const char *const *types, int ntypes, int64_t change_id,
                       const char *extra)
{
    char id[DB_NUM], list[256];
    const char *params[3] = {list, db_num(change_id, id), extra};
    size_t used = 1;
    int i;

    /* the names are event type names (letters, dots, underscores): an
     * array literal needs no quoting for them */
    list[0] = '{';
    for (i = 0; i < ntypes; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "", types[i]);

        if (n < 0 || (size_t)n >= sizeof list - used)
            return ERR_INTERNAL;
        used += (size_t)n;
    }
    if (used + 2 > sizeof list)
        return ERR_INTERNAL;
    list[used] = '}';
    list[used + 1] = '\0';
    return ntypes > 0 ? db_exec(db, SQL_EMIT_CHANGE, 3, params, NULL) : OK;
}

enum outcome
db_webhook_emit_freeze(struct db *db, const char *type, int64_t freeze_id)
{
    char id[DB_NUM];
    const char *params[2] = {type, db_num(freeze_id, id)};

    return db_exec(db, SQL_EMIT_FREEZE, 2, params, NULL);
}

enum outcome
db_webhook_create(struct db *db, const char *actor, int64_t user_id, const char *url,
                  const char *events, const char *format, const char *secret, json_t **out)
{
    char uid[DB_NUM];
    const char *params[6] = {actor, url, events, format, secret, db_num(user_id, uid)};

    return db_json(db, SQL_CREATE, 6, params, out);
}

enum outcome
db_webhook_list(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_LIST, 0, NULL, out);
}

enum outcome
db_webhook_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_GET, id, out);
}

enum outcome
db_webhook_delete(struct db *db, const char *actor, int64_t id)
{
    char sid[DB_NUM];
    const char *params[2] = {actor, db_num(id, sid)};
    long n = 0;
    enum outcome rc;

    if ((rc = db_exec(db, SQL_DELETE, 2, params, &n)) != OK)
        return rc;
    return n == 1 ? OK : ERR_NOT_FOUND;
}

enum outcome
db_webhook_deliveries(struct db *db, int64_t id, int64_t before, int limit, json_t **out)
{
    char sid[DB_NUM], b[DB_NUM], l[DB_NUM];
    const char *params[3] = {db_num(id, sid), db_num(before, b), db_num(limit, l)};

    return db_json_list(db, SQL_DELIVERIES, 3, params, out);
}

enum outcome
db_webhook_retry(struct db *db, const char *actor, int64_t id, int64_t delivery, json_t **out)
{
    char sid[DB_NUM], did[DB_NUM], buf[DB_NUM];
    const char *params[3] = {actor, db_num(id, sid), db_num(delivery, did)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_RETRY, 3, params, buf, sizeof buf)) != OK)
        return rc;
    return db_json_id(db, SQL_DELIVERY, delivery, out);
}

void
db_webhook_claim_clear(struct db_webhook_claim *c)
{
    if (c == NULL)
        return;
    free(c->url);
    free(c->format);
    if (c->secret != NULL)
        explicit_bzero(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->event_id);
    json_decref(c->event);
    memset(c, 0, sizeof *c);
}

static char *
db_webhook_dup(const PGresult *res, int col, bool *failed)
{
    char *s = strdup(PQgetvalue(res, 0, col));

    if (s == NULL)
        *failed = true;
    return s;
}

/* The lane's next delivery into *out, once this connection holds the lane:
 * a statement of its own, so that its snapshot is taken after the lock and
 * sees whatever the lane's previous holder recorded before letting go. */
static enum outcome
db_webhook_next(struct db *db, const char *const *params, struct db_webhook_claim *out)
{
    PGresult *res = NULL;
    json_error_t err;
    bool failed = false;
    enum outcome rc;

    if ((rc = db_run(db, SQL_NEXT, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        rc = ERR_NOT_FOUND;
        goto out;
    }
    out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->webhook_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    out->attempts = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
    out->gone = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    out->url = db_webhook_dup(res, 4, &failed);
    out->format = db_webhook_dup(res, 5, &failed);
    out->secret = db_webhook_dup(res, 6, &failed);
    out->event_id = db_webhook_dup(res, 7, &failed);
    out->event = json_loads(PQgetvalue(res, 0, 8), 0, &err);
    if (failed || out->event == NULL) {
        db_webhook_claim_clear(out);
        rc = ERR_INTERNAL;
    }
out:
    PQclear(res);
    return rc;
}

/* Takes the lane of subscription id if it is free and its next delivery
 * is due: OK with the lane held and *out filled; ERR_NOT_FOUND when another
 * session took it first or there is nothing to send (the lane is let go). */
static enum outcome
db_webhook_take(struct db *db, int64_t id, struct db_webhook_claim *out)
{
    char sid[DB_NUM], got[8];
    const char *params[1] = {db_num(id, sid)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_LANE_LOCK, 1, params, got, sizeof got)) != OK)
        return rc;
    if (strcmp(got, "t") != 0)
        return ERR_NOT_FOUND;
    if ((rc = db_webhook_next(db, params, out)) != OK)
        (void)db_webhook_release(db, id);
    return rc;
}

enum outcome
db_webhook_claim(struct db *db, struct db_webhook_claim *out)
{
    char l[DB_NUM];
    const char *params[1] = {db_num(DB_WEBHOOK_LANES, l)};
    int64_t lanes[DB_WEBHOOK_LANES];
    PGresult *res = NULL;
    enum outcome rc;
    int i, n;

    memset(out, 0, sizeof *out);
    if ((rc = db_run(db, SQL_LANES, 1, params, &res)) != OK)
        return rc;
    n = PQntuples(res) < DB_WEBHOOK_LANES ? PQntuples(res) : DB_WEBHOOK_LANES;
    for (i = 0; i < n; i++)
        lanes[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    rc = ERR_NOT_FOUND;
    for (i = 0; i < n && rc == ERR_NOT_FOUND; i++)
        rc = db_webhook_take(db, lanes[i], out);
    return rc;
}

enum outcome
db_webhook_release(struct db *db, int64_t webhook_id)
{
    char sid[DB_NUM], held[8];
    const char *params[1] = {db_num(webhook_id, sid)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_LANE_UNLOCK, 1, params, held, sizeof held)) != OK)
        return rc;
    return strcmp(held, "t") == 0 ? OK : ERR_NOT_FOUND;
}
enum outcome
db_webhook_result(struct db *db, int64_t id, bool ok, int status, const char *error,
                  int duration_ms, int delay, int give_up)
{
    char sid[DB_NUM], st[DB_NUM], dur[DB_NUM], d[DB_NUM], g[DB_NUM];
    const char *params[7] = {db_num(id, sid),
                             ok ? "true" : "false",
                             status ? db_num(status, st) : NULL,
                             error,
                             db_num(duration_ms, dur),
                             db_num(delay, d),
                             db_num(give_up, g)};

    return db_exec(db, SQL_RESULT, 7, params, NULL);
}
