/*
 * The service map's statements. Relies on service_doc() (0002) and
 * impact_set() (0002, rewritten on service_walk() in 0006); every write
 * inserts its audit_log entry (0001) in the same statement.
 */
#include "db/db_service.h"

#include <stdio.h>

#include "db/db_internal.h"

static const char SQL_MISSING[] =
    "SELECT COALESCE(json_agg(u.ord - 1 ORDER BY u.ord), '[]')"
    " FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS u(name, ord)"
    " WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.name = u.name)";
static const char SQL_CREATE[] =
    "WITH s AS (INSERT INTO services (name, title, tier, owner, description)"
    "           VALUES ($2, $3, $4::smallint, COALESCE($5, ''), COALESCE($6, ''))"
    "           RETURNING *),"
    " d AS (INSERT INTO service_deps (service, depends_on)"
    "       SELECT s.name, x FROM s, jsonb_array_elements_text(COALESCE($7::jsonb, '[]')) x),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'service.created', 'service', s.name,"
    "              jsonb_build_object('title', s.title, 'tier', s.tier,"
    "                                 'depends_on', COALESCE($7::jsonb, '[]')) FROM s)"
    " SELECT s.name FROM s";
static const char SQL_GET[] = "SELECT service_doc(s) FROM services s WHERE s.name = $1";
static const char SQL_LIST[] = "SELECT service_doc(s) FROM services s WHERE s.name > $1"
                               " AND ($3::text IS NULL OR strpos(lower(s.name), lower($3)) > 0"
                               "      OR strpos(lower(s.title), lower($3)) > 0)"
                               " ORDER BY s.name LIMIT $2";
static const char SQL_UPDATE[] =
    "WITH s AS (UPDATE services SET"
    "             title = COALESCE($3, title),"
    "             tier = COALESCE($4::smallint, tier),"
    "             owner = COALESCE($5, owner),"
    "             description = COALESCE($6, description),"
    "             updated_at = now()"
    "           WHERE name = $2 RETURNING *),"
    " gone AS (DELETE FROM service_deps d USING s"
    "          WHERE $7::jsonb IS NOT NULL AND d.service = s.name"
    "          AND NOT ($7::jsonb ? d.depends_on)),"
    " added AS (INSERT INTO service_deps (service, depends_on)"
    "           SELECT s.name, x FROM s, jsonb_array_elements_text(COALESCE($7::jsonb, '[]')) x"
    "           ON CONFLICT DO NOTHING),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'service.updated', 'service', s.name,"
    "              jsonb_strip_nulls(jsonb_build_object('title', $3::text,"
    "                  'tier', $4::smallint, 'owner', $5::text, 'description', $6::text,"
    "                  'depends_on', $7::jsonb)) FROM s)"
    " SELECT s.name FROM s";
static const char SQL_USERS[] =
    "SELECT json_build_object("
    " 'changes', COALESCE((SELECT json_agg('CHG-' || cs.change_id ORDER BY cs.change_id)"
    "                      FROM change_services cs WHERE cs.service = $1), '[]'),"
    " 'dependents', COALESCE((SELECT json_agg(d.service ORDER BY d.service)"
    "                         FROM service_deps d WHERE d.depends_on = $1), '[]'),"
    " 'freezes', COALESCE((SELECT json_agg(f.freeze_id ORDER BY f.freeze_id)"
    "                      FROM freeze_services f WHERE f.service = $1), '[]'))";
static const char SQL_DELETE[] =
    "WITH s AS (DELETE FROM services WHERE name = $2 RETURNING *)"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT $1, 'service.deleted', 'service', s.name,"
    "        jsonb_build_object('title', s.title, 'tier', s.tier) FROM s";
static const char SQL_IMPACT[] =
    "SELECT json_build_object("
    " 'service', $1::text,"
    " 'impact_set', COALESCE(json_agg(json_build_object('name', s.name, 'title', s.title,"
    "                        'tier', s.tier, 'depth', i.depth)"
    "                        ORDER BY i.depth, s.tier, s.name), '[]'),"
    " 'blast_radius', count(*),"
    " 'max_tier', min(s.tier))"
    " FROM impact_set(ARRAY[$1]) i JOIN services s ON s.name = i.name";

enum outcome
db_service_missing(struct db *db, const char *names, json_t **out)
{
    return db_json(db, SQL_MISSING, 1, &names, out);
}

/* A create or update with the document it leaves, as a step of db_tx. */
struct db_service_tx {
    const char *sql;
    const char *actor;
    const struct db_service *s;
    json_t *doc; /* the service as written; owned */
};

static enum outcome
db_service_write_step(struct db *db, void *arg)
{
    struct db_service_tx *t = arg;
    const struct db_service *s = t->s;
    const char *params[7] = {t->actor, s->name,        s->title,     s->tier,
                             s->owner, s->description, s->depends_on};
    char name[128];
    enum outcome rc;

    json_decref(t->doc);
    t->doc = NULL;
    if ((rc = db_text(db, t->sql, 7, params, name, sizeof name)) != OK)
        return rc;
    return db_service_get(db, s->name, &t->doc);
}

static enum outcome
db_service_write(struct db *db, const char *sql, const char *actor, const struct db_service *s,
                 json_t **out)
{
    struct db_service_tx t = {sql, actor, s, NULL};
    enum outcome rc;

    if ((rc = db_tx(db, db_service_write_step, &t)) != OK) {
        json_decref(t.doc);
        t.doc = NULL;
    }
    *out = t.doc;
    return rc;
}

enum outcome
db_service_create(struct db *db, const char *actor, const struct db_service *s, json_t **out)
{
    return db_service_write(db, SQL_CREATE, actor, s, out);
}

enum outcome
db_service_update(struct db *db, const char *actor, const struct db_service *s, json_t **out)
{
    return db_service_write(db, SQL_UPDATE, actor, s, out);
}

enum outcome
db_service_get(struct db *db, const char *name, json_t **out)
{
    return db_json(db, SQL_GET, 1, &name, out);
}

enum outcome
db_service_list(struct db *db, const char *after, const char *q, int limit, json_t **out)
{
    char l[16];
    const char *params[3] = {after, l, q};

    snprintf(l, sizeof l, "%d", limit);
    return db_json_list(db, SQL_LIST, 3, params, out);
}

/* A delete, refused while anything uses the service, as a step of db_tx. */
struct db_service_delete_tx {
    const char *actor;
    const char *name;
    json_t *users; /* on ERR_CONFLICT, what still uses it; owned */
};

static enum outcome
db_service_delete_step(struct db *db, void *arg)
{
    struct db_service_delete_tx *t = arg;
    const char *params[2] = {t->actor, t->name};
    json_t *u = NULL;
    enum outcome rc;
    long n = 0;

    json_decref(t->users);
    t->users = NULL;
    if ((rc = db_json(db, SQL_USERS, 1, &t->name, &u)) != OK)
        return rc;
    if (json_array_size(json_object_get(u, "changes")) > 0 ||
        json_array_size(json_object_get(u, "dependents")) > 0 ||
        json_array_size(json_object_get(u, "freezes")) > 0) {
        t->users = u;
        return ERR_CONFLICT;
    }
    json_decref(u);
    rc = db_exec(db, SQL_DELETE, 2, params, &n);
    if (rc == ERR_INVALID) {
        /* a change or dependency arrived since the check: still in use */
        t->users = json_object();
        return ERR_CONFLICT;
    }
    if (rc != OK)
        return rc;
    return n == 1 ? OK : ERR_NOT_FOUND;
}

enum outcome
db_service_delete(struct db *db, const char *actor, const char *name, json_t **users)
{
    struct db_service_delete_tx t = {actor, name, NULL};
    enum outcome rc;

    if ((rc = db_tx(db, db_service_delete_step, &t)) != ERR_CONFLICT) {
        json_decref(t.users);
        t.users = NULL;
    }
    *users = t.users;
    return rc;
}

enum outcome
db_service_impact(struct db *db, const char *name, json_t **out)
{
    return db_json(db, SQL_IMPACT, 1, &name, out);
}
