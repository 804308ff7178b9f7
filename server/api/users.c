/* Accounts and their roles: admins only. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_user.h"
#include "domain/role.h"
#include "domain/validate.h"
#include "sec/sec.h"

static const char *const users_role_names[] = {"requester", "cab",   "ecab",
                                               "manager",   "admin", NULL};

/* An account's writable fields as a request gives them. */
struct users_body {
    const char *email;
    const char *name;
    const char *password;
    struct decode_names roles;
    bool disabled;
};

#define USERS_AT(m) offsetof(struct users_body, m)
enum { USERS_C_EMAIL, USERS_C_NAME, USERS_C_PASSWORD, USERS_C_ROLES, USERS_NCREATE };
static const struct decode_field users_create_fields[USERS_NCREATE] = {
    [USERS_C_EMAIL] = {"email", DECODE_EMAIL, USERS_AT(email), true, 0, 0, NULL,
                       "an e-mail address"},
    [USERS_C_NAME] = {"name", DECODE_LINE, USERS_AT(name), true, 1, 200, NULL, NULL},
    [USERS_C_PASSWORD] = {"password", DECODE_STRING, USERS_AT(password), true, 0,
                          USERS_PASSWORD_MAX, NULL, NULL},
    [USERS_C_ROLES] = {"roles", DECODE_WORDS, USERS_AT(roles), false, 0, 100, users_role_names,
                       NULL},
};
/* Nothing of an account can be cleared: a null is refused. */
enum { USERS_U_NAME, USERS_U_PASSWORD, USERS_U_ROLES, USERS_U_DISABLED, USERS_NUPDATE };
static const struct decode_field users_update_fields[USERS_NUPDATE] = {
    [USERS_U_NAME] = {"name", DECODE_LINE, USERS_AT(name), false, 1, 200, NULL, NULL},
    [USERS_U_PASSWORD] = {"password", DECODE_STRING, USERS_AT(password), false, 0,
                          USERS_PASSWORD_MAX, NULL, NULL},
    [USERS_U_ROLES] = {"roles", DECODE_WORDS, USERS_AT(roles), false, 0, 100, users_role_names,
                       NULL},
    [USERS_U_DISABLED] = {"disabled", DECODE_BOOL, USERS_AT(disabled), false, 0, 0, NULL, NULL},
};

/* The granted roles of a decoded `roles` list. */
static unsigned
users_mask(const struct decode_names *roles)
{
    unsigned mask = 0;
    size_t i;

    for (i = 0; i < roles->n; i++)
        mask |= role_bit(json_string_value(json_array_get(roles->list, i)));
    return mask;
}

void
api_users_password(struct http_ctx *ctx, const char *password)
{
    size_t chars = 0;

    if (!validate_utf8(password, &chars) || chars < USERS_PASSWORD_MIN ||
        strlen(password) > USERS_PASSWORD_MAX)
        http_field(ctx, "password", "must be %d to %d characters", USERS_PASSWORD_MIN,
                   USERS_PASSWORD_MAX);
}

enum outcome
api_users_list(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "users", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_user_list(ctx->db, after, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "users", "id"));
    return OK;
}

enum outcome
api_users_create(struct http_ctx *ctx)
{
    struct users_body b = {0};
    enum decode_presence p[USERS_NCREATE];
    struct strbuf roles = STRBUF_INIT;
    char hash[SEC_PWHASH_LEN] = "";
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    (void)decode_body(ctx, body, users_create_fields, USERS_NCREATE, &b, p);
    if (p[USERS_C_ROLES] == DECODE_NULL)
        http_field(ctx, "roles", "must be a list (empty for none)");
    if (b.password != NULL)
        api_users_password(ctx, b.password);
    if ((rc = http_fields_ok(ctx)) != OK || (rc = sec_password_hash(b.password, hash)) != OK)
        goto out;
    role_pg_array(users_mask(&b.roles), &roles);
    rc = db_user_create(ctx->db, http_actor(ctx), b.email, b.name, hash, strbuf_str(&roles), &doc);
    if (rc == ERR_CONFLICT) {
        http_field(ctx, "email", "is taken by another account");
        rc = http_fail(ctx, ERR_CONFLICT, "an account with this e-mail address exists");
        goto out;
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/users/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    sec_wipe(hash, sizeof hash);
    strbuf_free(&roles);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* Loads the user named by the path into *doc, then checks the caller's
 * role: 404 before 403. */
static enum outcome
users_load(struct http_ctx *ctx, int64_t *id, json_t **doc)
{
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such user");
    rc = db_user_get(ctx->db, *id, doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such user");
    if (rc != OK)
        return rc;
    return http_authorize(ctx);
}

enum outcome
api_users_get(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = users_load(ctx, &id, &doc)) != OK) {
        json_decref(doc);
        return rc;
    }
    http_reply(ctx, 200, doc);
    return OK;
}

/* The checks of a PATCH for user id beyond each field's own: nothing can
 * be cleared, and admins cannot lock themselves out. */
static void
users_patch_check(struct http_ctx *ctx, const struct users_body *b, const enum decode_presence *p,
                  int64_t id)
{
    size_t i;

    for (i = 0; i < USERS_NUPDATE; i++)
        if (p[i] == DECODE_NULL)
            http_field(ctx, users_update_fields[i].name,
                       i == USERS_U_ROLES ? "must be a list (empty for none)"
                                          : "cannot be cleared");
    if (b->password != NULL)
        api_users_password(ctx, b->password);
    if (b->disabled && id == ctx->user.id)
        http_field(ctx, "disabled", "you cannot disable your own account");
    if (b->roles.list != NULL && id == ctx->user.id && !(users_mask(&b->roles) & ROLE_ADMIN))
        http_field(ctx, "roles", "you cannot take the admin role from yourself");
}

enum outcome
api_users_update(struct http_ctx *ctx)
{
    struct users_body b = {0};
    enum decode_presence p[USERS_NUPDATE];
    struct strbuf roles = STRBUF_INIT;
    char hash[SEC_PWHASH_LEN] = "";
    json_t *body = NULL, *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = users_load(ctx, &id, &doc)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    (void)decode_body(ctx, body, users_update_fields, USERS_NUPDATE, &b, p);
    users_patch_check(ctx, &b, p, id);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (b.password != NULL && (rc = sec_password_hash(b.password, hash)) != OK)
        goto out;
    if (b.roles.list != NULL)
        role_pg_array(users_mask(&b.roles), &roles);
    rc = db_user_update(ctx->db, http_actor(ctx), id, b.name,
                        b.roles.list != NULL ? strbuf_str(&roles) : NULL,
                        b.password != NULL ? hash : NULL,
                        p[USERS_U_DISABLED] == DECODE_SET ? b.disabled : -1, &doc);
    if (rc != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    sec_wipe(hash, sizeof hash);
    strbuf_free(&roles);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* Clears the failed logins of every client address of an account, so that
 * its owner may try again at once (what `cabinet user unlock` does). */
enum outcome
api_users_unlock(struct http_ctx *ctx)
{
    int64_t id;
    long cleared = 0;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such user");
    rc = db_user_unlock(ctx->db, http_actor(ctx), id, &cleared);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such user");
    if (rc != OK)
        return rc;
    http_reply(ctx, 200,
               json_pack("{s:I, s:I}", "user", (json_int_t)id, "cleared", (json_int_t)cleared));
    return OK;
}
