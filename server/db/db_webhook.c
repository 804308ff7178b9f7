/*
 * Subscriptions, the outbox and deliveries. Relies on outbox_emit(),
 * webhook_doc() and delivery_doc() (0004), change_doc() and freeze_doc()
 * (0002) and cab_ts() (0001).
 */
#include "db/db_webhook.h"

#include <stdio.h>

#include "db/db_internal.h"

static const char SQL_EMIT_CHANGE[] =
    "SELECT outbox_emit($1, jsonb_build_object('change', change_doc(c)::jsonb)"
    "                       || COALESCE($3::jsonb, '{}'))"
    " FROM changes c WHERE c.id = $2";
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
static const char SQL_CLAIM[] =
    "WITH due AS (SELECT d.id FROM deliveries d"
    "             WHERE d.state = 'pending' AND d.next_attempt_at <= now()"
    "             ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " leased AS (UPDATE deliveries d"
    "            SET next_attempt_at = now() + make_interval(secs => $2::int)"
    "            FROM due WHERE d.id = due.id RETURNING d.*)"
    " SELECT json_build_object('id', l.id, 'attempts', l.attempts,"
    "   'url', w.url, 'format', w.format, 'secret', w.secret,"
    "   'gone', w.deleted_at IS NOT NULL, 'event_id', o.event_id, 'type', o.type,"
    "   'payload', o.payload, 'created_at', cab_ts(o.created_at))"
    " FROM leased l JOIN webhooks w ON w.id = l.webhook_id JOIN outbox o ON o.id = l.outbox_id"
    " ORDER BY l.id";
static const char SQL_RESULT[] =
    "WITH a AS (INSERT INTO delivery_attempts (delivery_id, status, error, duration_ms)"
    "           VALUES ($1, $3::int, $4, $5))"
    " UPDATE deliveries d SET attempts = d.attempts + 1,"
    "   last_status = $3::int, last_error = $4,"
    "   state = CASE WHEN $2::boolean THEN 'delivered'"
    "                WHEN o.created_at + make_interval(secs => $7::int)"
    "                     < now() + make_interval(secs => $6::int) THEN 'dead'"
    "                ELSE 'pending' END,"
    "   delivered_at = CASE WHEN $2::boolean THEN now() END,"
    "   next_attempt_at = now() + make_interval(secs => $6::int)"
    " FROM outbox o WHERE d.id = $1 AND o.id = d.outbox_id";

enum outcome
db_webhook_emit_change(struct db *db, const char *type, int64_t change_id, const char *extra)
{
    char id[DB_NUM];
    const char *params[3] = {type, db_num(change_id, id), extra};

    return db_exec(db, SQL_EMIT_CHANGE, 3, params, NULL);
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

enum outcome
db_webhook_claim(struct db *db, int limit, int lease, json_t **out)
{
    char l[DB_NUM], s[DB_NUM];
    const char *params[2] = {db_num(limit, l), db_num(lease, s)};

    return db_json_list(db, SQL_CLAIM, 2, params, out);
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
