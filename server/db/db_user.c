/*
 * Accounts and API tokens. Relies on user_doc() and token_doc() (0002);
 * every write inserts its audit_log entry (0001) in the statement that
 * writes.
 */
#include "db/db_user.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/db_internal.h"

static const char SQL_CREATE[] =
    "WITH u AS (INSERT INTO users (email, name, password_hash, roles)"
    "           VALUES ($2, $3, $4, $5::text[]) RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'user.created', 'user', u.id::text,"
    "              jsonb_build_object('email', u.email, 'name', u.name, 'roles', u.roles)"
    "       FROM u)"
    " SELECT user_doc(u) FROM u";
static const char SQL_GET[] = "SELECT user_doc(u) FROM users u WHERE u.id = $1";
static const char SQL_LIST[] =
    "SELECT user_doc(u) FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2";
static const char SQL_UPDATE[] =
    "WITH u AS (UPDATE users SET"
    "             name = COALESCE($3, name),"
    "             roles = COALESCE($4::text[], roles),"
    "             password_hash = COALESCE($5, password_hash),"
    "             disabled = COALESCE($6::boolean, disabled),"
    "             updated_at = now()"
    "           WHERE id = $2 RETURNING *),"
    " s AS (DELETE FROM sessions WHERE user_id IN"
    "       (SELECT id FROM u WHERE $5 IS NOT NULL OR u.disabled)),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'user.updated', 'user', u.id::text,"
    "              jsonb_strip_nulls(jsonb_build_object('name', $3::text,"
    "                  'roles', $4::text[], 'password_changed', $5 IS NOT NULL,"
    "                  'disabled', $6::boolean))"
    "       FROM u)"
    " SELECT user_doc(u) FROM u";
/* login_locked_for: sql/0024_login_throttle.sql */
static const char SQL_ALL[] = "SELECT (user_doc(u)::jsonb || jsonb_build_object('locked_for', "
                              "login_locked_for(u.email)))::json"
                              " FROM users u ORDER BY u.id";
static const char SQL_BY_EMAIL[] = "SELECT id FROM users WHERE lower(email) = lower($1)";
static const char SQL_UNLOCK[] =
    "WITH u AS (SELECT id, email FROM users WHERE id = $2),"
    " f AS (DELETE FROM login_failures f USING u WHERE f.email = lower(u.email) RETURNING f.id),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'user.unlocked', 'user', u.id::text,"
    "              jsonb_build_object('failures_cleared', (SELECT count(*) FROM f)) FROM u)"
    " SELECT (SELECT count(*) FROM f)::text FROM u";
static const char SQL_TOKEN_CREATE[] =
    "WITH t AS (INSERT INTO api_tokens (user_id, name, scope, token_hash)"
    "           VALUES ($1, $2, $3, decode($4, 'hex')) RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT COALESCE($5, 'user:' || t.user_id), 'token.created', 'token', t.id::text,"
    "              jsonb_build_object('name', t.name, 'scope', t.scope) FROM t)"
    " SELECT token_doc(t) FROM t";
static const char SQL_TOKEN_LIST[] =
    "SELECT token_doc(t) FROM api_tokens t"
    " WHERE t.user_id = $1 AND t.revoked_at IS NULL ORDER BY t.id DESC";
static const char SQL_TOKEN_REVOKE[] =
    "WITH t AS (UPDATE api_tokens SET revoked_at = now()"
    "           WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL RETURNING *)"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " SELECT 'user:' || t.user_id, 'token.revoked', 'token', t.id::text,"
    "        jsonb_build_object('name', t.name) FROM t";

enum outcome
db_user_create(struct db *db, const char *actor, const char *email, const char *name,
               const char *pwhash, const char *roles, json_t **out)
{
    const char *params[5] = {actor, email, name, pwhash, roles};

    return db_json(db, SQL_CREATE, 5, params, out);
}

enum outcome
db_user_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_GET, id, out);
}

enum outcome
db_user_list(struct db *db, int64_t after, int limit, json_t **out)
{
    return db_json_page(db, SQL_LIST, after, limit, out);
}

enum outcome
db_user_all(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_ALL, 0, NULL, out);
}

enum outcome
db_user_by_email(struct db *db, const char *email, int64_t *id)
{
    char buf[DB_NUM];
    enum outcome rc;

    if ((rc = db_text(db, SQL_BY_EMAIL, 1, &email, buf, sizeof buf)) != OK)
        return rc;
    *id = strtoll(buf, NULL, 10);
    return OK;
}

enum outcome
db_user_unlock(struct db *db, const char *actor, int64_t id, long *cleared)
{
    char sid[DB_NUM], buf[DB_NUM];
    const char *params[2] = {actor, db_num(id, sid)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_UNLOCK, 2, params, buf, sizeof buf)) != OK)
        return rc;
    *cleared = strtol(buf, NULL, 10);
    return OK;
}

enum outcome
db_user_update(struct db *db, const char *actor, int64_t id, const char *name, const char *roles,
               const char *pwhash, int disabled, json_t **out)
{
    char sid[24];
    const char *params[6] = {actor, sid,    name,
                             roles, pwhash, disabled < 0 ? NULL : disabled ? "true" : "false"};

    db_num(id, sid);
    return db_json(db, SQL_UPDATE, 6, params, out);
}

enum outcome
db_token_create(struct db *db, int64_t user_id, const char *name, const char *scope,
                const char *hash_hex, json_t **out)
{
    return db_token_create_as(db, NULL, user_id, name, scope, hash_hex, out);
}

enum outcome
db_token_create_as(struct db *db, const char *actor, int64_t user_id, const char *name,
                   const char *scope, const char *hash_hex, json_t **out)
{
    char uid[24];
    const char *params[5] = {uid, name, scope, hash_hex, actor};

    db_num(user_id, uid);
    return db_json(db, SQL_TOKEN_CREATE, 5, params, out);
}

enum outcome
db_token_list(struct db *db, int64_t user_id, json_t **out)
{
    return db_json_list_id(db, SQL_TOKEN_LIST, user_id, out);
}

enum outcome
db_token_revoke(struct db *db, int64_t user_id, int64_t id)
{
    char uid[24], tid[24];
    const char *params[2] = {uid, tid};
    long n = 0;
    enum outcome rc;

    db_num(user_id, uid);
    db_num(id, tid);
    if ((rc = db_exec(db, SQL_TOKEN_REVOKE, 2, params, &n)) != OK)
        return rc;
    return n == 1 ? OK : ERR_NOT_FOUND;
}
