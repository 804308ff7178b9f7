/*
 * Change models. Relies on model_doc() (0002); every write inserts its
 * audit_log entry (0001) in the statement that writes.
 */
#include "db/db_model.h"

#include "db/db_internal.h"

static const char SQL_LIST[] = "SELECT model_doc(m) FROM models m ORDER BY m.name";
static const char SQL_GET[] = "SELECT model_doc(m) FROM models m WHERE m.name = $1";
static const char SQL_CREATE[] =
    "WITH m AS (INSERT INTO models (name, kind, title, description, policy)"
    "           VALUES ($2, $3, $4, COALESCE($5, ''), NULLIF($6::jsonb, 'null'::jsonb))"
    "           RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'model.created', 'model', m.name,"
    "              jsonb_build_object('kind', m.kind, 'title', m.title, 'policy', m.policy)"
    "       FROM m)"
    " SELECT model_doc(m) FROM m";
static const char SQL_UPDATE[] =
    "WITH m AS (UPDATE models SET"
    "             kind = COALESCE($3, kind),"
    "             title = COALESCE($4, title),"
    "             description = COALESCE($5, description),"
    "             policy = CASE WHEN $6::text IS NULL THEN policy"
    "                           ELSE NULLIF($6::jsonb, 'null'::jsonb) END,"
    "             updated_at = now()"
    "           WHERE name = $2 RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'model.updated', 'model', m.name,"
    "              jsonb_build_object('kind', m.kind, 'title', m.title, 'policy', m.policy)"
    "       FROM m)"
    " SELECT model_doc(m) FROM m";

enum outcome
db_model_list(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_LIST, 0, NULL, out);
}

enum outcome
db_model_get(struct db *db, const char *name, json_t **out)
{
    return db_json(db, SQL_GET, 1, &name, out);
}

enum outcome
db_model_create(struct db *db, const char *actor, const struct db_model *m, json_t **out)
{
    const char *params[6] = {actor, m->name, m->kind, m->title, m->description, m->policy};

    return db_json(db, SQL_CREATE, 6, params, out);
}

enum outcome
db_model_update(struct db *db, const char *actor, const struct db_model *m, json_t **out)
{
    const char *params[6] = {actor, m->name, m->kind, m->title, m->description, m->policy};

    return db_json(db, SQL_UPDATE, 6, params, out);
}
