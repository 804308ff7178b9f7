/* Logging in and out, and who the caller is. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "config.h"
#include "db/db_audit.h"
#include "db/db_auth.h"
#include "db/db_user.h"
#include "sec/sec.h"

#define SESSION_COOKIE "cabinet_session"

/* A login as a request gives it: both kept as sent, for the account and
 * its password hash to judge. */
struct session_body {
    const char *email;
    const char *password;
};
static const struct decode_field session_fields[] = {
    {"email", DECODE_STRING, offsetof(struct session_body, email), true, 0, HTTP_BODY_MAX, NULL,
     NULL},
    {"password", DECODE_STRING, offsetof(struct session_body, password), true, 0, HTTP_BODY_MAX,
     NULL, NULL},
};

enum outcome
api_session_create(struct http_ctx *ctx)
{
    struct session_body b = {0};
    char hash[SEC_PWHASH_LEN], token[SEC_TOKEN_LEN], csrf[SEC_TOKEN_LEN];
    char token_hash[SEC_HEX256_LEN];
    json_t *body = NULL, *doc = NULL;
    int64_t user_id = 0;
    bool disabled = false;
    int locked_for;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, session_fields, DECODE_NFIELDS(session_fields), &b, NULL)) !=
            OK)
        goto out;
    if ((rc = db_auth_lockout(ctx->db, b.email, &locked_for)) != OK)
        goto out;
    if (locked_for > 0) {
        ctx->retry_after = locked_for;
        rc = http_fail(ctx, ERR_TOO_MANY,
                       "too many failed logins for this account: try again in %d s", locked_for);
        goto out;
    }
    rc = db_auth_account(ctx->db, b.email, &user_id, hash, sizeof hash, &disabled);
    if (rc == ERR_NOT_FOUND)
        sec_password_waste(b.password); /* as slow as a real check */
    else if (rc != OK)
        goto out;
    if (rc == ERR_NOT_FOUND || !sec_password_verify(hash, b.password) || disabled) {
        if ((rc = db_auth_failed(ctx->db, b.email)) == OK)
            rc = http_fail(ctx, ERR_UNAUTHENTICATED, "wrong e-mail address or password");
        goto out;
    }
    sec_token("cs_", token);
    sec_token("", csrf);
    sec_sha256_hex(token, strlen(token), token_hash);
    if ((rc = db_auth_login(ctx->db, user_id, token_hash, csrf, config->session_hours, &doc)) != OK)
        goto out;
    http_add_header(ctx, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                    SESSION_COOKIE, token, config->session_hours * 3600,
                    config->cookie_secure ? "; Secure" : "");
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    sec_wipe(token, sizeof token);
    sec_wipe(hash, sizeof hash);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_session_delete(struct http_ctx *ctx)
{
    enum outcome rc;

    if (ctx->user.session_id == 0)
        return http_fail(ctx, ERR_CONFLICT,
                         "an API token is not a session: revoke it at /api/v1/tokens");
    if ((rc = db_auth_logout(ctx->db, ctx->user.session_id, ctx->user.id)) != OK)
        return rc;
    http_add_header(ctx, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                    SESSION_COOKIE, config->cookie_secure ? "; Secure" : "");
    http_reply(ctx, 204, NULL);
    return OK;
}

enum outcome
api_me(struct http_ctx *ctx)
{
    json_t *user = NULL;
    enum outcome rc;

    if ((rc = db_user_get(ctx->db, ctx->user.id, &user)) != OK)
        return rc;
    http_reply(ctx, 200,
               json_pack("{s:o, s:o}", "user", user, "csrf_token",
                         ctx->user.session_id ? json_string(ctx->user.csrf) : json_null()));
    return OK;
}

enum outcome
api_me_activity(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t before = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "activity", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &before))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_audit_by_actor(ctx->db, http_actor(ctx), before, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "activity", "id"));
    return OK;
}
