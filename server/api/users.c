/* Accounts and their roles: admins only. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_user.h"
#include "domain/role.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define USERS_PASSWORD_MIN 10
#define USERS_PASSWORD_MAX 1024

/* Reads `roles` (a list of role names) into a PostgreSQL array literal. */
static enum decode_presence
users_roles(struct http_ctx *ctx, const json_t *body, struct strbuf *pg)
{
    const json_t *list = NULL;
    enum decode_presence p;
    unsigned mask = 0;
    size_t i, n = 0;

    p = decode_strings(ctx, body, "roles", &list, &n);
    if (p == DECODE_NULL) {
        http_field(ctx, "roles", "must be a list (empty for none)");
        return DECODE_BAD;
    }
    if (p != DECODE_SET)
        return p;
    for (i = 0; i < n; i++) {
        const char *r = json_string_value(json_array_get(list, i));
        char field[32];

        if (strcmp(r, "requester") == 0)
            continue;
        if (role_bit(r) == 0) {
            snprintf(field, sizeof field, "roles[%zu]", i);
            http_field(ctx, field, "must be one of requester, cab, ecab, manager, admin");
            p = DECODE_BAD;
        }
        mask |= role_bit(r);
    }
    role_pg_array(mask, pg);
    return p;
}

static void
users_password(struct http_ctx *ctx, const char *password)
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
    static const char *const fields[] = {"email", "name", "password", "roles", NULL};
    const char *email = NULL, *name = NULL, *password = NULL;
    struct strbuf roles = STRBUF_INIT;
    char hash[SEC_PWHASH_LEN];
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, fields)) != OK)
        goto out;
    if (decode_string(ctx, body, "email", &email) != DECODE_BAD && !validate_email(email))
        http_field(ctx, "email", "must be an e-mail address");
    if (decode_string(ctx, body, "name", &name) != DECODE_BAD && !validate_text(name, 1, 200))
        http_field(ctx, "name", "is required: 1 to 200 characters");
    else
        http_check_line(ctx, "name", name);
    if (decode_string(ctx, body, "password", &password) != DECODE_BAD) {
        if (password == NULL)
            http_field(ctx, "password", "is required");
        else
            users_password(ctx, password);
    }
    if (users_roles(ctx, body, &roles) == DECODE_ABSENT)
        strbuf_puts(&roles, "{}");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if ((rc = sec_password_hash(password, hash)) != OK)
        goto out;
    rc = db_user_create(ctx->db, http_actor(ctx), email, name, hash, strbuf_str(&roles), &doc);
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

/* What a PATCH of a user asks for. */
struct users_patch {
    const char *name, *password;
    struct strbuf roles; /* a PostgreSQL array, when has_roles is DECODE_SET */
    enum decode_presence has_roles, has_disabled;
    bool disabled;
};

/* Validates a PATCH body for user id into u (strings borrowed from body). */
static void
users_patch_decode(struct http_ctx *ctx, const json_t *body, int64_t id, struct users_patch *u)
{
    switch (decode_string(ctx, body, "name", &u->name)) {
    case DECODE_SET:
        if (!validate_text(u->name, 1, 200))
            http_field(ctx, "name", "must be 1 to 200 characters");
        else
            http_check_line(ctx, "name", u->name);
        break;
    case DECODE_NULL: http_field(ctx, "name", "cannot be cleared"); break;
    default: break;
    }
    switch (decode_string(ctx, body, "password", &u->password)) {
    case DECODE_SET: users_password(ctx, u->password); break;
    case DECODE_NULL: http_field(ctx, "password", "cannot be cleared"); break;
    default: break;
    }
    u->has_roles = users_roles(ctx, body, &u->roles);
    u->has_disabled = decode_bool(ctx, body, "disabled", &u->disabled);
    if (u->has_disabled == DECODE_NULL)
        http_field(ctx, "disabled", "must be true or false");
    if (u->has_disabled == DECODE_SET && u->disabled && id == ctx->user.id)
        http_field(ctx, "disabled", "you cannot disable your own account");
    if (u->has_roles == DECODE_SET && id == ctx->user.id &&
        strstr(strbuf_str(&u->roles), "admin") == NULL)
        http_field(ctx, "roles", "you cannot take the admin role from yourself");
}

enum outcome
api_users_update(struct http_ctx *ctx)
{
    static const char *const fields[] = {"name", "password", "roles", "disabled", NULL};
    struct users_patch u = {.roles = STRBUF_INIT};
    char hash[SEC_PWHASH_LEN] = "";
    json_t *body = NULL, *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = users_load(ctx, &id, &doc)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, fields)) != OK)
        goto out;
    users_patch_decode(ctx, body, id, &u);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (u.password != NULL && (rc = sec_password_hash(u.password, hash)) != OK)
        goto out;
    rc = db_user_update(ctx->db, http_actor(ctx), id, u.name,
                        u.has_roles == DECODE_SET ? strbuf_str(&u.roles) : NULL,
                        u.password != NULL ? hash : NULL,
                        u.has_disabled == DECODE_SET ? u.disabled : -1, &doc);
    if (rc != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    sec_wipe(hash, sizeof hash);
    strbuf_free(&u.roles);
    json_decref(body);
    json_decref(doc);
    return rc;
}
