/*
 * Webhook links' statements. Relies on integrations and hook_deliveries
 * (0001, altered by 0017: enabled, the previous key and secret with their
 * expiry, a delivery's result, reason and callback URL, and the partial
 * unique index hook_deliveries_once), integration_doc() and
 * hook_delivery_doc() (0017), user_ref() (0002), cab_ts() (0001) and
 * change_is_open() (0007). Every admin write inserts its audit_log entry in
 * the same statement.
 */
#include "db/db_integration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char SQL_CREATE[] =
    "WITH i AS (INSERT INTO integrations (name, kind, key_hash, secret, model, services,"
    "             environments, default_duration_s, created_by)"
    "           VALUES ($2, $3, decode($4, 'hex'), $5, $6,"
    "             ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8::jsonb, $9::int, $10)"
    "           RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'integration.created', 'integration', i.id::text,"
    "              jsonb_build_object('name', i.name, 'kind', i.kind, 'model', i.model,"
    "                                 'services', to_jsonb(i.services),"
    "                                 'environments', i.environments,"
    "                                 'default_duration_s', i.default_duration_s) FROM i)"
    " SELECT integration_doc(i) FROM i";
static const char SQL_LIST[] =
    "SELECT integration_doc(i) FROM integrations i WHERE i.deleted_at IS NULL AND i.id > $1"
    " ORDER BY i.id LIMIT $2";
static const char SQL_GET[] = "SELECT integration_doc(i) FROM integrations i WHERE i.id = $1";
static const char SQL_UPDATE[] =
    "WITH i AS (UPDATE integrations SET name = $3, model = $4,"
    "             services = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),"
    "             environments = $6::jsonb, default_duration_s = $7::int,"
    "             enabled = $8::boolean, updated_at = now()"
    "           WHERE id = $2 AND deleted_at IS NULL RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'integration.updated', 'integration', i.id::text,"
    "              jsonb_build_object('changed', $9::jsonb, 'name', i.name, 'model', i.model,"
    "                                 'services', to_jsonb(i.services),"
    "                                 'environments', i.environments,"
    "                                 'default_duration_s', i.default_duration_s,"
    "                                 'enabled', i.enabled) FROM i)"
    " SELECT integration_doc(i) FROM i";
static const char SQL_DELETE[] =
    "WITH i AS (UPDATE integrations SET deleted_at = now(), enabled = false, updated_at = now()"
    "           WHERE id = $2 AND deleted_at IS NULL RETURNING *)"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT $1, 'integration.deleted', 'integration', i.id::text,"
    "        jsonb_build_object('name', i.name) FROM i";
static const char SQL_ROTATE[] =
    "WITH i AS (UPDATE integrations SET"
    "             prev_key_hash = CASE WHEN $5::int > 0 THEN key_hash END,"
    "             prev_secret = CASE WHEN $5::int > 0 THEN secret END,"
    "             prev_until = CASE WHEN $5::int > 0 THEN now() + make_interval(secs => $5::int)"
    "                          END,"
    "             key_hash = decode($3, 'hex'), secret = $4, rotated_at = now(),"
    "             updated_at = now()"
    "           WHERE id = $2 AND deleted_at IS NULL RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'integration.rotated', 'integration', i.id::text,"
    "              jsonb_build_object('grace_s', $5::int) FROM i)"
    " SELECT integration_doc(i) FROM i";
static const char SQL_DELIVERIES[] =
    "SELECT hook_delivery_doc(d) FROM hook_deliveries d"
    " WHERE d.integration_id = $1 AND ($2::bigint = 0 OR d.id < $2::bigint)"
    " ORDER BY d.id DESC LIMIT $3";
static const char SQL_LINK[] =
    "SELECT json_build_object('id', i.id, 'kind', i.kind,"
    "         'secret', CASE WHEN i.key_hash = decode($1, 'hex') THEN i.secret"
    "                        ELSE i.prev_secret END,"
    "         'model', i.model, 'services', to_json(i.services),"
    "         'environments', i.environments, 'default_duration_s', i.default_duration_s,"
    "         'created_by', i.created_by)"
    " FROM integrations i"
    " WHERE (i.key_hash = decode($1, 'hex')"
    "        OR (i.prev_key_hash = decode($1, 'hex') AND i.prev_until > now()))"
    "   AND i.enabled AND i.deleted_at IS NULL";
static const char SQL_CLAIM[] =
    "INSERT INTO hook_deliveries (integration_id, delivery_id, event, status, response)"
    " VALUES ($1, $2, $3, 0, '')"
    " ON CONFLICT (integration_id, delivery_id) WHERE result = 'accepted'"
    "   AND delivery_id IS NOT NULL DO NOTHING"
    " RETURNING id";
static const char SQL_FIRST[] =
    "SELECT status, response, COALESCE(change_id, 0) FROM hook_deliveries"
    " WHERE integration_id = $1 AND delivery_id = $2 AND result = 'accepted'";
static const char SQL_FINISH[] = "UPDATE hook_deliveries SET status = $2::int, response = $3,"
                                 "   change_id = NULLIF($4::bigint, 0), callback_url = $5"
                                 " WHERE id = $1";
static const char SQL_RECORD[] =
    "INSERT INTO hook_deliveries (integration_id, delivery_id, event, result, status, response,"
    "   reason, change_id)"
    " VALUES ($1, $2, $3, $4, $5::int, '', $6, NULLIF($7::bigint, 0))";
/* Serialises the deliveries about one external reference (GitHub sends a
 * deployment and its protection rule at once): the second finds the
 * change the first raised rather than raising another. */
static const char SQL_REF_LOCK[] = "SELECT pg_advisory_xact_lock(1667326568, hashtext($1))";
static const char SQL_FIND_REF[] =
    "SELECT id FROM changes WHERE external_ref = $1 AND change_is_open(state)";
static const char SQL_ORIGIN[] = "UPDATE changes SET integration_id = $2 WHERE id = $1";
static const char SQL_CALLBACK[] = "UPDATE changes SET callback_url = $2 WHERE id = $1";
static const char SQL_TIMES[] =
    "UPDATE changes SET"
    "   started_at = CASE WHEN $2::timestamptz IS NOT NULL AND started_at IS NOT NULL"
    "                     THEN $2::timestamptz ELSE started_at END,"
    "   completed_at = CASE WHEN $3::timestamptz IS NOT NULL AND completed_at IS NOT NULL"
    "                       THEN $3::timestamptz ELSE completed_at END"
    " WHERE id = $1";

enum outcome
db_integration_create(struct db *db, const char *actor, int64_t user_id,
                      const struct db_integration_set *s, const char *key_hash, const char *secret,
                      json_t **out)
{
    char dur[DB_NUM], uid[DB_NUM];
    const char *params[10] = {actor,
                              s->name,
                              s->kind,
                              key_hash,
                              secret,
                              s->model,
                              s->services,
                              s->environments,
                              db_num(s->default_duration_s, dur),
                              db_num(user_id, uid)};

    return db_json(db, SQL_CREATE, 10, params, out);
}

enum outcome
db_integration_list(struct db *db, int64_t after, int limit, json_t **out)
{
    return db_json_page(db, SQL_LIST, after, limit, out);
}

enum outcome
db_integration_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_GET, id, out);
}

enum outcome
db_integration_update(struct db *db, const char *actor, int64_t id,
                      const struct db_integration_set *s, const char *changed, json_t **out)
{
    char sid[DB_NUM], dur[DB_NUM];
    const char *params[9] = {actor,
                             db_num(id, sid),
                             s->name,
                             s->model,
                             s->services,
                             s->environments,
                             db_num(s->default_duration_s, dur),
                             s->enabled ? "true" : "false",
                             changed};

    return db_json(db, SQL_UPDATE, 9, params, out);
}

enum outcome
db_integration_delete(struct db *db, const char *actor, int64_t id)
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
db_integration_rotate(struct db *db, const char *actor, int64_t id, const char *key_hash,
                      const char *secret, int64_t grace_s, json_t **out)
{
    char sid[DB_NUM], g[DB_NUM];
    const char *params[5] = {actor, db_num(id, sid), key_hash, secret, db_num(grace_s, g)};

    return db_json(db, SQL_ROTATE, 5, params, out);
}

enum outcome
db_integration_deliveries(struct db *db, int64_t id, int64_t before, int limit, json_t **out)
{
    char sid[DB_NUM], b[DB_NUM], l[DB_NUM];
    const char *params[3] = {db_num(id, sid), db_num(before, b), db_num(limit, l)};

    return db_json_list(db, SQL_DELIVERIES, 3, params, out);
}

enum outcome
db_hook_link(struct db *db, const char *key_hash, json_t **out)
{
    const char *params[1] = {key_hash};

    return db_json(db, SQL_LINK, 1, params, out);
}

enum outcome
db_hook_claim(struct db *db, int64_t integration_id, const char *delivery_id, const char *event,
              int64_t *row)
{
    char iid[DB_NUM], buf[DB_NUM];
    const char *params[3] = {db_num(integration_id, iid), delivery_id, event};
    enum outcome rc;

    *row = 0;
    rc = db_text(db, SQL_CLAIM, 3, params, buf, sizeof buf);
    if (rc == ERR_NOT_FOUND)
        return OK;
    if (rc == OK)
        *row = strtoll(buf, NULL, 10);
    return rc;
}

enum outcome
db_hook_first(struct db *db, int64_t integration_id, const char *delivery_id, int *status,
              char **response, int64_t *change_id)
{
    char iid[DB_NUM];
    const char *params[2] = {db_num(integration_id, iid), delivery_id};
    PGresult *res = NULL;
    enum outcome rc;

    *response = NULL;
    if ((rc = db_run(db, SQL_FIRST, 2, params, &res)) != OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    *status = atoi(PQgetvalue(res, 0, 0));
    *response = strdup(PQgetvalue(res, 0, 1));
    *change_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    return *response ? OK : ERR_INTERNAL;
}

enum outcome
db_hook_finish(struct db *db, int64_t row, int status, const char *response, int64_t change_id,
               const char *callback_url)
{
    char rid[DB_NUM], st[DB_NUM], cid[DB_NUM];
    const char *params[5] = {db_num(row, rid), db_num(status, st), response, db_num(change_id, cid),
                             callback_url};

    return db_exec(db, SQL_FINISH, 5, params, NULL);
}

enum outcome
db_hook_record(struct db *db, int64_t integration_id, const char *delivery_id, const char *event,
               const char *result, int status, const char *reason, int64_t change_id)
{
    char iid[DB_NUM], st[DB_NUM], cid[DB_NUM];
    const char *params[7] = {
        db_num(integration_id, iid), delivery_id, event, result, db_num(status, st), reason,
        db_num(change_id, cid)};

    return db_exec(db, SQL_RECORD, 7, params, NULL);
}

enum outcome
db_hook_find_ref(struct db *db, const char *external_ref, int64_t *id)
{
    const char *params[1] = {external_ref};
    char buf[DB_NUM];
    enum outcome rc;

    if ((rc = db_exec(db, SQL_REF_LOCK, 1, params, NULL)) != OK)
        return rc;
    if ((rc = db_text(db, SQL_FIND_REF, 1, params, buf, sizeof buf)) == OK)
        *id = strtoll(buf, NULL, 10);
    return rc;
}

enum outcome
db_hook_set_origin(struct db *db, int64_t change_id, int64_t integration_id)
{
    char cid[DB_NUM], iid[DB_NUM];
    const char *params[2] = {db_num(change_id, cid), db_num(integration_id, iid)};

    return db_exec(db, SQL_ORIGIN, 2, params, NULL);
}

enum outcome
db_hook_set_callback(struct db *db, int64_t change_id, const char *url)
{
    char cid[DB_NUM];
    const char *params[2] = {db_num(change_id, cid), url};

    return db_exec(db, SQL_CALLBACK, 2, params, NULL);
}

enum outcome
db_hook_times(struct db *db, int64_t change_id, const char *started_at, const char *finished_at)
{
    char cid[DB_NUM];
    const char *params[3] = {db_num(change_id, cid), started_at, finished_at};

    if (started_at == NULL && finished_at == NULL)
        return OK;
    return db_exec(db, SQL_TIMES, 3, params, NULL);
}
