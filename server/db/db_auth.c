/*
 * Sessions, API tokens and the login throttle. Relies on user_doc() (0002),
 * the sessions, api_tokens and login_failures tables (0001) and
 * login_retry_after() (0024); logins,
 * failed logins and logouts insert their audit_log entry (0001) in the
 * statement that writes.
 */
#include "db/db_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_audit.h"
#include "db/db_internal.h"
#include "domain/strbuf.h"

static const char SQL_SESSION[] =
    "SELECT u.id, u.email, u.name, array_to_string(u.roles, ','), s.id, s.csrf_token"
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = decode($1, 'hex') AND s.expires_at > now() AND NOT u.disabled";
/* A read: the use is recorded later, off the request path
 * (db_auth_tokens_used), when last_used_at is over a minute old. */
static const char SQL_TOKEN[] =
    "SELECT u.id, u.email, u.name, array_to_string(u.roles, ','), t.id, t.scope,"
    "       t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'"
    " FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL AND NOT u.disabled";
static const char SQL_TOKENS_USED[] =
    "UPDATE api_tokens SET last_used_at = now()"
    " WHERE id = ANY ($1::bigint[])"
    " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')";
/* Reads first: a known address (every use but the first) writes nothing. */
static const char SQL_TOKEN_ADDR[] =
    "INSERT INTO api_token_addrs (token_id, addr) SELECT $1, $2"
    " WHERE NOT EXISTS (SELECT 1 FROM api_token_addrs WHERE token_id = $1 AND addr = $2)"
    " ON CONFLICT DO NOTHING";
/* login_retry_after and login_locked_for: sql/0024_login_throttle.sql */
static const char SQL_THROTTLE[] =
    "SELECT login_retry_after(count(*), max(at)) FROM login_failures"
    " WHERE email = lower($1) AND addr = $2 AND at > now() - interval '15 minutes'";
static const char SQL_THROTTLED[] =
    "INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " VALUES ('system', 'session.login_throttled', 'session', lower($1),"
    "         jsonb_build_object('address', $2::text, 'retry_after', $3::int))";
static const char SQL_FAILED[] =
    "WITH f AS (INSERT INTO login_failures (email, addr) VALUES (lower($1), $2))"
    " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    " VALUES ('system', 'session.login_failed', 'session', lower($1),"
    "         jsonb_build_object('address', $2::text))";
static const char SQL_ACCOUNT[] =
    "SELECT id, password_hash, disabled FROM users WHERE lower(email) = lower($1)";
static const char SQL_LOGIN[] =
    "WITH s AS (INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)"
    "           VALUES (decode($1, 'hex'), $2, $3, now() + make_interval(hours => $4::int))"
    "           RETURNING id),"
    " clear AS (DELETE FROM login_failures f USING users u"
    "           WHERE u.id = $2 AND f.email = lower(u.email) AND f.addr = $5),"
    " gone AS (DELETE FROM sessions WHERE expires_at < now() - interval '1 day'),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || $2, 'session.login', 'user', $2::text,"
    "              json_build_object('session', s.id)::jsonb FROM s)"
    " SELECT json_build_object('user', user_doc(u), 'csrf_token', $3::text)"
    " FROM users u WHERE u.id = $2";
static const char SQL_SET_PASSWORD[] =
    "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1"
    "           RETURNING id, email),"
    " s AS (DELETE FROM sessions WHERE user_id = $1 AND id <> $3 RETURNING id),"
    " f AS (DELETE FROM login_failures f USING u WHERE f.email = lower(u.email)),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || u.id, 'user.password_changed', 'user', u.id::text,"
    "              jsonb_build_object('sessions_ended', (SELECT count(*) FROM s)) FROM u)"
    " SELECT u.id FROM u";
static const char SQL_LOGOUT[] = "WITH d AS (DELETE FROM sessions WHERE id = $1 RETURNING id)"
                                 " INSERT INTO audit_log (actor, action, entity, entity_id, data)"
                                 " SELECT 'user:' || $2, 'session.logout', 'user', $2::text,"
                                 "        json_build_object('session', d.id)::jsonb FROM d";

static enum outcome
db_auth_principal(struct db *db, const char *sql, const char *hash_hex, bool token,
                  struct db_principal *out)
{
    PGresult *res;
    enum outcome rc;

    memset(out, 0, sizeof *out);
    if ((rc = db_run(db, sql, 1, &hash_hex, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    out->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(out->email, sizeof out->email, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->name, sizeof out->name, "%s", PQgetvalue(res, 0, 2));
    snprintf(out->roles, sizeof out->roles, "%s", PQgetvalue(res, 0, 3));
    if (token) {
        out->token_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        snprintf(out->scope, sizeof out->scope, "%s", PQgetvalue(res, 0, 5));
        out->use_stale = PQgetvalue(res, 0, 6)[0] == 't';
    } else {
        out->session_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        snprintf(out->csrf, sizeof out->csrf, "%s", PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    return OK;
}

enum outcome
db_auth_session(struct db *db, const char *hash_hex, struct db_principal *out)
{
    return db_auth_principal(db, SQL_SESSION, hash_hex, false, out);
}

enum outcome
db_auth_token(struct db *db, const char *hash_hex, struct db_principal *out)
{
    return db_auth_principal(db, SQL_TOKEN, hash_hex, true, out);
}

enum outcome
db_auth_tokens_used(struct db *db, const int64_t *ids, int n)
{
    struct strbuf list = STRBUF_INIT;
    const char *params[1];
    enum outcome rc;
    int i;

    strbuf_putc(&list, '{');
    for (i = 0; i < n; i++)
        strbuf_printf(&list, "%s%lld", i ? "," : "", (long long)ids[i]);
    strbuf_putc(&list, '}');
    params[0] = strbuf_str(&list);
    rc = strbuf_failed(&list) ? ERR_INTERNAL : db_exec(db, SQL_TOKENS_USED, 1, params, NULL);
    strbuf_free(&list);
    return rc;
}

enum outcome
db_auth_token_address(struct db *db, int64_t token_id, const char *addr, bool *fresh)
{
    char id[DB_NUM];
    const char *params[2] = {id, addr};
    long affected = 0;
    enum outcome rc;

    snprintf(id, sizeof id, "%lld", (long long)token_id);
    rc = db_exec(db, SQL_TOKEN_ADDR, 2, params, &affected);
    *fresh = rc == OK && affected == 1;
    return rc;
}

enum outcome
db_auth_throttle(struct db *db, const char *email, const char *addr, int *retry_after)
{
    const char *params[2] = {email, addr};
    char buf[DB_NUM];
    enum outcome rc;

    *retry_after = 0;
    if ((rc = db_text(db, SQL_THROTTLE, 2, params, buf, sizeof buf)) != OK)
        return rc;
    *retry_after = atoi(buf);
    return OK;
}

enum outcome
db_auth_throttled(struct db *db, const char *email, const char *addr, int retry_after)
{
    char ra[DB_NUM];
    const char *params[3] = {email, addr, db_num(retry_after, ra)};

    return db_exec(db, SQL_THROTTLED, 3, params, NULL);
}

enum outcome
db_auth_failed(struct db *db, const char *email, const char *addr)
{
    const char *params[2] = {email, addr};

    return db_exec(db, SQL_FAILED, 2, params, NULL);
}

enum outcome
db_auth_account(struct db *db, const char *email, int64_t *user_id, char *hash, size_t hash_size,
                bool *disabled)
{
    PGresult *res;
    enum outcome rc;

    if ((rc = db_run(db, SQL_ACCOUNT, 1, &email, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    *user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(hash, hash_size, "%s", PQgetvalue(res, 0, 1));
    *disabled = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    return OK;
}

enum outcome
db_auth_login(struct db *db, int64_t user_id, const char *addr, const char *hash_hex,
              const char *csrf, int hours, json_t **out)
{
    char uid[24], h[16];
    const char *params[5] = {hash_hex, uid, csrf, h, addr};

    db_num(user_id, uid);
    snprintf(h, sizeof h, "%d", hours);
    return db_json(db, SQL_LOGIN, 5, params, out);
}

enum outcome
db_auth_set_password(struct db *db, int64_t user_id, const char *hash, int64_t keep)
{
    char uid[DB_NUM], sid[DB_NUM];
    const char *params[3] = {db_num(user_id, uid), hash, db_num(keep, sid)};
    char buf[DB_NUM];

    return db_text(db, SQL_SET_PASSWORD, 3, params, buf, sizeof buf);
}

enum outcome
db_auth_logout(struct db *db, int64_t session_id, int64_t user_id)
{
    char sid[24], uid[24];
    const char *params[2] = {sid, uid};

    db_num(session_id, sid);
    db_num(user_id, uid);
    return db_exec(db, SQL_LOGOUT, 2, params, NULL);
}
