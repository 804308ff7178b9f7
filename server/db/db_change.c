#include "db/db_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char SQL_INSERT[] =
    "WITH c AS (INSERT INTO changes (title, description, model, win, business_impact,"
    "             implementation_plan, backout_plan, test_plan, external_ref,"
    "             content_hash, gate_token, requester_id, source)"
    "           VALUES ($1, $2, $3,"
    "             CASE WHEN $4::timestamptz IS NULL THEN NULL"
    "                  ELSE tstzrange($4::timestamptz, $5::timestamptz) END,"
    "             $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    "           RETURNING *),"
    " s AS (INSERT INTO change_services (change_id, service)"
    "       SELECT c.id, x FROM c, jsonb_array_elements_text($15::jsonb) x),"
    " v AS (INSERT INTO change_versions (change_id, version, content, content_hash)"
    "       SELECT c.id, 1, $16::jsonb, c.content_hash FROM c),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || $13, 'change.created', 'change', c.id::text,"
    "              jsonb_build_object('ref', 'CHG-' || c.id, 'title', c.title,"
    "                                 'version', 1, 'content_hash', c.content_hash,"
    "                                 'source', c.source) FROM c)"
    " SELECT c.id FROM c";
static const char SQL_GET[] =
    "SELECT json_build_object('doc', change_doc(c), 'rev', c.rev, 'gate_token', c.gate_token)"
    " FROM changes c WHERE c.id = $1";
static const char SQL_UPDATE[] =
    "WITH c AS (UPDATE changes SET"
    "             title = $4, description = $5, model = $6,"
    "             win = CASE WHEN $7::timestamptz IS NULL THEN NULL"
    "                        ELSE tstzrange($7::timestamptz, $8::timestamptz) END,"
    "             business_impact = $9, implementation_plan = $10, backout_plan = $11,"
    "             test_plan = $12, external_ref = $13, content_hash = $14,"
    "             version = version + 1, rev = rev + 1, updated_at = now()"
    "           WHERE id = $2 AND rev = $3 AND state IN ('draft', 'awaiting_approval', 'approved')"
    "           RETURNING *),"
    " gone AS (DELETE FROM change_services cs USING c"
    "          WHERE cs.change_id = c.id AND NOT ($15::jsonb ? cs.service)),"
    " added AS (INSERT INTO change_services (change_id, service)"
    "           SELECT c.id, x FROM c, jsonb_array_elements_text($15::jsonb) x"
    "           ON CONFLICT DO NOTHING),"
    " v AS (INSERT INTO change_versions (change_id, version, content, content_hash)"
    "       SELECT c.id, c.version, $16::jsonb, c.content_hash FROM c),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'change.updated', 'change', c.id::text,"
    "              jsonb_build_object('ref', 'CHG-' || c.id, 'version', c.version,"
    "                                 'content_hash', c.content_hash, 'fields', $17::jsonb)"
    "       FROM c)"
    " SELECT c.id FROM c";
static const char SQL_LIST[] =
    "SELECT json_build_object('doc', change_doc(c), 'rev', c.rev, 'gate_token', c.gate_token)"
    " FROM changes c"
    " WHERE ($1::text IS NULL OR c.state = ANY (string_to_array($1, ',')))"
    " AND ($2::text IS NULL OR c.model = $2)"
    " AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM change_services cs"
    "                                 WHERE cs.change_id = c.id AND cs.service = $3))"
    " AND ($4::timestamptz IS NULL OR upper(c.win) > $4::timestamptz)"
    " AND ($5::timestamptz IS NULL OR lower(c.win) < $5::timestamptz)"
    " AND ($6::text IS NULL"
    "      OR c.title ILIKE '%' || replace(replace(replace($6, '\\', '\\\\'),"
    "                         '%', '\\%'), '_', '\\_') || '%'"
    "      OR c.description ILIKE '%' || replace(replace(replace($6, '\\', '\\\\'),"
    "                         '%', '\\%'), '_', '\\_') || '%'"
    "      OR 'CHG-' || c.id = upper($6) OR c.external_ref = $6)"
    " AND ($7::text IS NULL OR c.requester_id = (SELECT u.id FROM users u"
    "      WHERE u.id::text = $7 OR lower(u.email) = lower($7) LIMIT 1))"
    " AND ($8::bigint = 0 OR c.id < $8::bigint)"
    " ORDER BY c.id DESC LIMIT $9";
static const char SQL_COMMENT[] =
    "WITH k AS (INSERT INTO comments (change_id, author_id, body) VALUES ($1, $2, $3)"
    "           RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || k.author_id, 'change.commented', 'change', k.change_id::text,"
    "              jsonb_build_object('comment', k.id, 'body', k.body) FROM k)"
    " SELECT json_build_object('id', k.id, 'author', user_ref(k.author_id), 'body', k.body,"
    "                          'created_at', cab_ts(k.created_at)) FROM k";
static const char SQL_COMMENTS[] =
    "SELECT json_build_object('id', k.id, 'author', user_ref(k.author_id), 'body', k.body,"
    "                         'created_at', cab_ts(k.created_at))"
    " FROM comments k WHERE k.change_id = $1 ORDER BY k.id";
static const char SQL_EVIDENCE[] =
    "SELECT json_build_object("
    " 'change', change_doc(c),"
    " 'versions', (SELECT json_agg(json_build_object('version', v.version,"
    "              'content', v.content, 'content_hash', v.content_hash,"
    "              'created_at', cab_ts(v.created_at)) ORDER BY v.version)"
    "              FROM change_versions v WHERE v.change_id = c.id),"
    " 'assessments', COALESCE((SELECT json_agg(json_build_object('version', a.version,"
    "              'score', a.score, 'level', a.level, 'reasons', a.reasons,"
    "              'impact_set', to_json(a.impact_set), 'created_at', cab_ts(a.created_at))"
    "              ORDER BY a.id) FROM assessments a WHERE a.change_id = c.id), '[]'),"
    " 'approvals', COALESCE((SELECT json_agg(approval_doc(a, c.version) ORDER BY a.id)"
    "              FROM approvals a WHERE a.change_id = c.id), '[]'),"
    " 'conflicts', COALESCE((SELECT json_agg(json_build_object('id', k.id, 'kind', k.kind,"
    "              'change_a', k.change_a, 'change_b', k.change_b, 'freeze_id', k.freeze_id,"
    "              'state', k.state, 'services', to_json(k.services), 'note', k.note,"
    "              'detected_at', cab_ts(k.detected_at), 'resolved_at', cab_ts(k.resolved_at))"
    "              ORDER BY k.id) FROM conflicts k"
    "              WHERE k.change_a = c.id OR k.change_b = c.id), '[]'),"
    " 'audit_range', (SELECT json_build_object('first', min(l.seq), 'last', max(l.seq),"
    "              'unchained', count(*) FILTER (WHERE l.seq IS NULL))"
    "              FROM audit_log l WHERE l.entity = 'change' AND l.entity_id = c.id::text))"
    " FROM changes c WHERE c.id = $1";
static const char SQL_SPAN[] =
    "SELECT audit_doc(a) FROM audit_log a WHERE a.seq BETWEEN $1 AND $2 ORDER BY a.seq";
static const char SQL_MODEL[] = "SELECT name FROM models WHERE name = $1";
static const char SQL_IDEM_GET[] =
    "SELECT request_hash, status, location, response FROM idempotency_keys"
    " WHERE user_id = $1 AND key = $2";
static const char SQL_IDEM_PUT[] =
    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, location, response)"
    " VALUES ($1, $2, $3, $4, $5, $6)";

enum outcome
db_change_insert(struct db *db, int64_t user_id, const char *source,
                 const struct db_change_content *c, const char *gate_token, int64_t *id)
{
    char uid[24], buf[24];
    const char *params[16] = {c->title,
                              c->description,
                              c->model,
                              c->win_start,
                              c->win_end,
                              c->business_impact,
                              c->implementation_plan,
                              c->backout_plan,
                              c->test_plan,
                              c->external_ref,
                              c->content_hash,
                              gate_token,
                              uid,
                              source,
                              c->services,
                              c->canonical};
    enum outcome rc;

    db_num(user_id, uid);
    if ((rc = db_text(db, SQL_INSERT, 16, params, buf, sizeof buf)) != OK)
        return rc;
    *id = strtoll(buf, NULL, 10);
    return OK;
}

enum outcome
db_change_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_GET, id, out);
}

enum outcome
db_change_update(struct db *db, const char *actor, int64_t id, int64_t rev,
                 const struct db_change_content *c, const char *changed)
{
    char sid[24], srev[24], buf[24];
    const char *params[17] = {actor,
                              sid,
                              srev,
                              c->title,
                              c->description,
                              c->model,
                              c->win_start,
                              c->win_end,
                              c->business_impact,
                              c->implementation_plan,
                              c->backout_plan,
                              c->test_plan,
                              c->external_ref,
                              c->content_hash,
                              c->services,
                              c->canonical,
                              changed};

    db_num(id, sid);
    db_num(rev, srev);
    return db_text(db, SQL_UPDATE, 17, params, buf, sizeof buf);
}

enum outcome
db_change_list(struct db *db, const struct db_change_filter *f, json_t **out)
{
    char before[24], limit[16];
    const char *params[9] = {f->states, f->model,     f->service, f->from, f->to,
                             f->q,      f->requester, before,     limit};

    db_num(f->before, before);
    snprintf(limit, sizeof limit, "%d", f->limit);
    return db_json_list(db, SQL_LIST, 9, params, out);
}

enum outcome
db_change_model_exists(struct db *db, const char *model)
{
    char buf[80];

    return db_text(db, SQL_MODEL, 1, &model, buf, sizeof buf);
}

enum outcome
db_idem_get(struct db *db, int64_t user_id, const char *key, char hash[65], int *status,
            char **location, char **response)
{
    char uid[24];
    const char *params[2] = {uid, key};
    PGresult *res;
    enum outcome rc;

    *location = *response = NULL;
    db_num(user_id, uid);
    if ((rc = db_run(db, SQL_IDEM_GET, 2, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    snprintf(hash, 65, "%s", PQgetvalue(res, 0, 0));
    *status = atoi(PQgetvalue(res, 0, 1));
    if (!PQgetisnull(res, 0, 2))
        *location = strdup(PQgetvalue(res, 0, 2));
    *response = strdup(PQgetvalue(res, 0, 3));
    PQclear(res);
    if (*response == NULL) {
        free(*location);
        *location = NULL;
        return ERR_INTERNAL;
    }
    return OK;
}

enum outcome
db_idem_put(struct db *db, int64_t user_id, const char *key, const char *hash, int status,
            const char *location, const char *response)
{
    char uid[24], st[8];
    const char *params[6] = {uid, key, hash, st, location, response};

    db_num(user_id, uid);
    snprintf(st, sizeof st, "%d", status);
    return db_exec(db, SQL_IDEM_PUT, 6, params, NULL);
}

enum outcome
db_change_comment(struct db *db, int64_t id, int64_t user_id, const char *body, json_t **out)
{
    char cid[24], uid[24];
    const char *params[3] = {cid, uid, body};

    db_num(id, cid);
    db_num(user_id, uid);
    return db_json(db, SQL_COMMENT, 3, params, out);
}

enum outcome
db_change_comments(struct db *db, int64_t id, json_t **out)
{
    return db_json_list_id(db, SQL_COMMENTS, id, out);
}

enum outcome
db_change_evidence(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_EVIDENCE, id, out);
}

enum outcome
db_change_audit_span(struct db *db, int64_t first, int64_t last, json_t **out)
{
    char f[24], l[24];
    const char *params[2] = {f, l};

    db_num(first, f);
    db_num(last, l);
    return db_json_list(db, SQL_SPAN, 2, params, out);
}
