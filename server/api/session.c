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
#include "log.h"
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

/* The e-mail address as a log line may show it: at most 100 bytes, any
 * control character as '?', so that nobody writes lines of their own. */
static void
session_log_email(const char *email, char *buf, size_t size)
{
    size_t i;

    for (i = 0; email[i] != '\0' && i + 1 < size && i < 100; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c < 0x20 || c == 0x7f)
            buf[i] = '?';
        else
            buf[i] = email[i];
    }
    buf[i] = '\0';
}

/* An auth log line (README "Monitoring"): event, the account as typed
 * (shown clean) or the user's id, and the client's address. */
static void
session_log(struct http_ctx *ctx, enum log_level level, const char *event, const char *email,
            int64_t user_id, const char *extra_name, const char *extra)
{
    char shown[128], id[24] = "", addr[HTTP_ADDR_LEN];
    const char *kv[] = {"email", shown, "user_id", id, "addr", addr, extra_name, extra};

    session_log_email(email ? email : "", shown, sizeof shown);
    if (user_id > 0)
        snprintf(id, sizeof id, "%lld", (long long)user_id);
    http_client_address(ctx, addr, sizeof addr);
    kv[1] = email ? shown : NULL;
    kv[3] = user_id > 0 ? id : NULL;
    log_event(level, event, kv, extra_name ? 4 : 3);
}

/* OK when a login attempt on email from addr may go on; else 429 with
 * Retry-After, a log line and an audit entry. */
static enum outcome
session_throttle(struct http_ctx *ctx, const char *email, const char *addr)
{
    char shown[128];
    int wait;
    enum outcome rc;

    if ((rc = db_auth_throttle(ctx->db, email, addr, &wait)) != OK || wait == 0)
        return rc;
    if ((rc = db_auth_throttled(ctx->db, email, addr, wait)) != OK)
        return rc;
    snprintf(shown, sizeof shown, "%d", wait);
    session_log(ctx, LOG_WARN, "auth.throttled", email, 0, "retry_after", shown);
    ctx->retry_after = wait;
    return http_fail(ctx, ERR_TOO_MANY,
                     "too many failed logins for this account from your address: try again "
                     "in %d s",
                     wait);
}

/* Records a failed login (the count, an audit entry, a log line). */
static enum outcome
session_failed(struct http_ctx *ctx, const char *email, const char *addr)
{
    session_log(ctx, LOG_INFO, "auth.login_failed", email, 0, NULL, NULL);
    return db_auth_failed(ctx->db, email, addr);
}

enum outcome
api_session_create(struct http_ctx *ctx)
{
    struct session_body b = {0};
    char hash[SEC_PWHASH_LEN], token[SEC_TOKEN_LEN], csrf[SEC_TOKEN_LEN];
    char token_hash[SEC_HEX256_LEN], addr[HTTP_ADDR_LEN];
    json_t *body = NULL, *doc = NULL;
    int64_t user_id = 0;
    bool disabled = false;
    enum outcome rc;

    http_client_address(ctx, addr, sizeof addr);
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, session_fields, DECODE_NFIELDS(session_fields), &b, NULL)) !=
            OK ||
        (rc = session_throttle(ctx, b.email, addr)) != OK)
        goto out;
    rc = db_auth_account(ctx->db, b.email, &user_id, hash, sizeof hash, &disabled);
    if (rc == ERR_NOT_FOUND)
        sec_password_waste(b.password); /* as slow as a real check */
    else if (rc != OK)
        goto out;
    if (rc == ERR_NOT_FOUND || !sec_password_verify(hash, b.password) || disabled) {
        if ((rc = session_failed(ctx, b.email, addr)) == OK)
            rc = http_fail(ctx, ERR_UNAUTHENTICATED, "wrong e-mail address or password");
        goto out;
    }
    sec_token("cs_", token);
    sec_token("", csrf);
    sec_sha256_hex(token, strlen(token), token_hash);
    if ((rc = db_auth_login(ctx->db, user_id, addr, token_hash, csrf, config->session_hours,
                            &doc)) != OK)
        goto out;
    http_add_header(ctx, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                    SESSION_COOKIE, token, config->session_hours * 3600,
                    config->cookie_secure ? "; Secure" : "");
    session_log(ctx, LOG_INFO, "auth.login", b.email, user_id, NULL, NULL);
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
    session_log(ctx, LOG_INFO, "auth.logout", NULL, ctx->user.id, NULL, NULL);
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

/* A change of one's own password as a request gives it. */
struct session_password_body {
    const char *current_password;
    const char *password;
};
static const struct decode_field session_password_fields[] = {
    {"current_password", DECODE_STRING, offsetof(struct session_password_body, current_password),
     true, 0, HTTP_BODY_MAX, NULL, NULL},
    {"password", DECODE_STRING, offsetof(struct session_password_body, password), true, 0,
     USERS_PASSWORD_MAX, NULL, NULL},
};

/* Whether current is the caller's password; a wrong one counts as a failed
 * login (429 once this address is throttled, as at login). */
static enum outcome
session_current_ok(struct http_ctx *ctx, const char *current)
{
    char hash[SEC_PWHASH_LEN], addr[HTTP_ADDR_LEN];
    int64_t user_id = 0;
    bool disabled = false, good;
    enum outcome rc;

    http_client_address(ctx, addr, sizeof addr);
    if ((rc = session_throttle(ctx, ctx->user.email, addr)) != OK)
        return rc;
    if ((rc = db_auth_account(ctx->db, ctx->user.email, &user_id, hash, sizeof hash, &disabled)) !=
        OK)
        return rc;
    good = user_id == ctx->user.id && sec_password_verify(hash, current);
    sec_wipe(hash, sizeof hash);
    if (!good) {
        if ((rc = session_failed(ctx, ctx->user.email, addr)) != OK)
            return rc;
        http_field(ctx, "current_password", "is not your password");
    }
    return OK;
}

enum outcome
api_me_password(struct http_ctx *ctx)
{
    struct session_password_body b = {0};
    char hash[SEC_PWHASH_LEN] = "";
    json_t *body = NULL;
    enum outcome rc;

    if (ctx->user.session_id == 0)
        return http_fail(ctx, ERR_FORBIDDEN,
                         "an API token cannot change the password: sign in with your password");
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, session_password_fields,
                          DECODE_NFIELDS(session_password_fields), &b, NULL)) != OK)
        goto out;
    api_users_password(ctx, b.password);
    if ((rc = session_current_ok(ctx, b.current_password)) != OK ||
        (rc = http_fields_ok(ctx)) != OK || (rc = sec_password_hash(b.password, hash)) != OK ||
        (rc = db_auth_set_password(ctx->db, ctx->user.id, hash, ctx->user.session_id)) != OK)
        goto out;
    session_log(ctx, LOG_INFO, "auth.password_changed", NULL, ctx->user.id, NULL, NULL);
    http_reply(ctx, 204, NULL);
out:
    sec_wipe(hash, sizeof hash);
    json_decref(body);
    return rc;
}
