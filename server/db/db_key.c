/*
 * Approvers' keys and freezes. Relies on key_doc() and freeze_doc() (0002),
 * conflicts_lock_freeze() (0012), freeze_conflicts_refresh() (0005,
 * rewritten in 0007 and on change_impact_sets in 0012) and
 * freeze_conflicts_resolve() (0005); the conflicts_emit trigger (0004)
 * turns the records a freeze opens or resolves into events, and
 * outbox_emit() (0004, through db_webhook) records freeze.created. Every
 * write inserts its audit_log entry (0001) in the statement that writes.
 */
#include "db/db_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/db_webhook.h"

static const char SQL_KEY_ADD[] =
    "WITH k AS (INSERT INTO user_keys (user_id, public_key, label)"
    "           VALUES ($1, $2, $3) RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || k.user_id, 'key.registered', 'key', k.id::text,"
    "              jsonb_build_object('public_key', k.public_key, 'label', k.label) FROM k)"
    " SELECT key_doc(k) FROM k";
static const char SQL_KEY_REVOKE[] =
    "WITH k AS (UPDATE user_keys SET revoked_at = now()"
    "           WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL RETURNING *)"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT 'user:' || k.user_id, 'key.revoked', 'key', k.id::text,"
    "        jsonb_build_object('public_key', k.public_key) FROM k";
static const char SQL_KEY_LIST[] =
    "SELECT key_doc(k) FROM user_keys k WHERE k.id > $1 ORDER BY k.id LIMIT $2";
static const char SQL_KEY_GET[] =
    "SELECT user_id, public_key, revoked_at IS NOT NULL FROM user_keys WHERE id = $1";

static const char SQL_FREEZE_CREATE[] =
    "WITH f AS (INSERT INTO freezes (name, win, hard, reason, created_by)"
    "           VALUES ($2, tstzrange($3::timestamptz, $4::timestamptz), $6::boolean,"
    "                   COALESCE($7, ''), $8) RETURNING *),"
    " s AS (INSERT INTO freeze_services (freeze_id, service)"
    "       SELECT f.id, x FROM f, jsonb_array_elements_text($5::jsonb) x),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'freeze.created', 'freeze', f.id::text,"
    "              jsonb_build_object('name', f.name, 'start', $3::text, 'end', $4::text,"
    "                                 'services', $5::jsonb, 'hard', f.hard) FROM f)"
    " SELECT f.id FROM f";
/* The conflict locks of the freeze's windows (sql/0012): $1 the freeze (0
 * for a new one), $2 and $3 the window it is given (NULL when deleted). */
static const char SQL_FREEZE_LOCK[] =
    "SELECT conflicts_lock_freeze($1, tstzrange($2::timestamptz, $3::timestamptz))";
/* Refreshes the conflicts of the changes a freeze may touch and bumps
 * the ETag of those whose conflicts changed (sql/0005_freeze_etag.sql). */
static const char SQL_FREEZE_REFRESH[] = "SELECT freeze_conflicts_refresh($1)";
static const char SQL_FREEZE_RESOLVE[] = "SELECT freeze_conflicts_resolve($1)";
static const char SQL_FREEZE_GET[] = "SELECT freeze_doc(f) FROM freezes f WHERE f.id = $1";
static const char SQL_FREEZE_LIST[] =
    "SELECT freeze_doc(f) FROM freezes f"
    " WHERE ($1::timestamptz IS NULL OR upper(f.win) > $1::timestamptz)"
    " AND ($2::timestamptz IS NULL OR lower(f.win) < $2::timestamptz)"
    " AND f.id > $3 ORDER BY f.id LIMIT $4";
static const char SQL_FREEZE_UPDATE[] =
    "WITH f AS (UPDATE freezes SET name = $3,"
    "             win = tstzrange($4::timestamptz, $5::timestamptz),"
    "             hard = $7::boolean, reason = COALESCE($8, ''), updated_at = now()"
    "           WHERE id = $2 RETURNING *),"
    " gone AS (DELETE FROM freeze_services fs USING f"
    "          WHERE fs.freeze_id = f.id AND NOT ($6::jsonb ? fs.service)),"
    " added AS (INSERT INTO freeze_services (freeze_id, service)"
    "           SELECT f.id, x FROM f, jsonb_array_elements_text($6::jsonb) x"
    "           ON CONFLICT DO NOTHING),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'freeze.updated', 'freeze', f.id::text,"
    "              jsonb_build_object('name', f.name, 'start', $4::text, 'end', $5::text,"
    "                                 'services', $6::jsonb, 'hard', f.hard) FROM f)"
    " SELECT f.id FROM f";
static const char SQL_FREEZE_DELETE[] =
    "WITH f AS (DELETE FROM freezes WHERE id = $2 RETURNING *)"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT $1, 'freeze.deleted', 'freeze', f.id::text,"
    "        jsonb_build_object('name', f.name) FROM f";

enum outcome
db_key_add(struct db *db, int64_t user_id, const char *public_key, const char *label, json_t **out)
{
    char uid[24];
    const char *params[3] = {uid, public_key, label};

    db_num(user_id, uid);
    return db_json(db, SQL_KEY_ADD, 3, params, out);
}

enum outcome
db_key_revoke(struct db *db, int64_t user_id, int64_t id)
{
    char uid[24], kid[24];
    const char *params[2] = {uid, kid};
    long n = 0;
    enum outcome rc;

    db_num(user_id, uid);
    db_num(id, kid);
    if ((rc = db_exec(db, SQL_KEY_REVOKE, 2, params, &n)) != OK)
        return rc;
    return n == 1 ? OK : ERR_NOT_FOUND;
}

enum outcome
db_key_list(struct db *db, int64_t after, int limit, json_t **out)
{
    return db_json_page(db, SQL_KEY_LIST, after, limit, out);
}

enum outcome
db_key_get(struct db *db, int64_t id, int64_t *owner, char *public_key, size_t size, bool *revoked)
{
    char kid[24];
    const char *params[1] = {kid};
    PGresult *res;
    enum outcome rc;

    db_num(id, kid);
    if ((rc = db_run(db, SQL_KEY_GET, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    *owner = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(public_key, size, "%s", PQgetvalue(res, 0, 1));
    *revoked = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    return OK;
}

/* A freeze written with its conflicts refreshed, as a step of db_tx: id is
 * the freeze's (0 until created), doc the freeze as written. */
struct db_freeze_tx {
    const char *actor;
    int64_t user_id;
    const struct db_freeze *f;
    int64_t id;
    json_t *doc; /* owned */
};

static enum outcome
db_freeze_create_step(struct db *db, void *arg)
{
    struct db_freeze_tx *t = arg;
    const struct db_freeze *f = t->f;
    char uid[DB_NUM], id[DB_NUM];
    const char *params[8] = {t->actor,    f->name, f->start,  f->end,
                             f->services, f->hard, f->reason, db_num(t->user_id, uid)};
    enum outcome rc;

    json_decref(t->doc);
    t->doc = NULL;
    if ((rc = db_exec(db, SQL_FREEZE_LOCK, 3, (const char *const[]){"0", f->start, f->end},
                      NULL)) != OK ||
        (rc = db_text(db, SQL_FREEZE_CREATE, 8, params, id, sizeof id)) != OK ||
        (rc = db_exec(db, SQL_FREEZE_REFRESH, 1, (const char *const[]){id}, NULL)) != OK)
        return rc;
    t->id = strtoll(id, NULL, 10);
    if ((rc = db_webhook_emit_freeze(db, "freeze.created", t->id)) != OK)
        return rc;
    return db_freeze_get(db, t->id, &t->doc);
}

/* Hands the document over on success, frees it otherwise. */
static enum outcome
db_freeze_finish(struct db_freeze_tx *t, enum outcome rc, json_t **out)
{
    if (rc != OK) {
        json_decref(t->doc);
        t->doc = NULL;
    }
    *out = t->doc;
    return rc;
}

enum outcome
db_freeze_create(struct db *db, const char *actor, int64_t user_id, const struct db_freeze *f,
                 json_t **out)
{
    struct db_freeze_tx t = {actor, user_id, f, 0, NULL};

    return db_freeze_finish(&t, db_tx(db, db_freeze_create_step, &t), out);
}

enum outcome
db_freeze_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_FREEZE_GET, id, out);
}

enum outcome
db_freeze_list(struct db *db, const char *from, const char *to, int64_t after, int limit,
               json_t **out)
{
    char a[24], l[24];
    const char *params[4] = {from, to, a, l};

    db_num(after, a);
    db_num(limit, l);
    return db_json_list(db, SQL_FREEZE_LIST, 4, params, out);
}

static enum outcome
db_freeze_update_step(struct db *db, void *arg)
{
    struct db_freeze_tx *t = arg;
    const struct db_freeze *f = t->f;
    char fid[DB_NUM], buf[DB_NUM];
    const char *params[8] = {t->actor, db_num(t->id, fid), f->name, f->start,
                             f->end,   f->services,        f->hard, f->reason};
    enum outcome rc;

    json_decref(t->doc);
    t->doc = NULL;
    if ((rc = db_exec(db, SQL_FREEZE_LOCK, 3, (const char *const[]){fid, f->start, f->end},
                      NULL)) != OK ||
        (rc = db_text(db, SQL_FREEZE_UPDATE, 8, params, buf, sizeof buf)) != OK ||
        (rc = db_exec(db, SQL_FREEZE_REFRESH, 1, (const char *const[]){fid}, NULL)) != OK)
        return rc;
    return db_freeze_get(db, t->id, &t->doc);
}

enum outcome
db_freeze_update(struct db *db, const char *actor, int64_t id, const struct db_freeze *f,
                 json_t **out)
{
    struct db_freeze_tx t = {actor, 0, f, id, NULL};

    return db_freeze_finish(&t, db_tx(db, db_freeze_update_step, &t), out);
}

static enum outcome
db_freeze_delete_step(struct db *db, void *arg)
{
    const struct db_freeze_tx *t = arg;
    char fid[DB_NUM];
    const char *params[2] = {t->actor, db_num(t->id, fid)};
    long n = 0;
    enum outcome rc;

    if ((rc = db_exec(db, SQL_FREEZE_LOCK, 3, (const char *const[]){fid, NULL, NULL}, NULL)) !=
            OK ||
        (rc = db_exec(db, SQL_FREEZE_RESOLVE, 1, (const char *const[]){fid}, NULL)) != OK ||
        (rc = db_exec(db, SQL_FREEZE_DELETE, 2, params, &n)) != OK)
        return rc;
    return n == 1 ? OK : ERR_NOT_FOUND;
}

enum outcome
db_freeze_delete(struct db *db, const char *actor, int64_t id)
{
    struct db_freeze_tx t = {actor, 0, NULL, id, NULL};

    return db_tx(db, db_freeze_delete_step, &t);
}
