/* Personal API tokens: made, listed, revoked; the secret is shown once. */
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_user.h"
#include "domain/validate.h"
#include "sec/sec.h"

enum outcome
api_tokens_list(struct http_ctx *ctx)
{
    json_t *items = NULL;
    enum outcome rc;

    if ((rc = db_token_list(ctx->db, ctx->user.id, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

enum outcome
api_tokens_create(struct http_ctx *ctx)
{
    static const char *const fields[] = {"name", "scope", NULL};
    static const char *const scopes[] = {"full", "feed", NULL};
    char token[SEC_TOKEN_LEN], hash[SEC_HEX256_LEN];
    const char *name = NULL, *scope = "full";
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, fields)) != OK)
        goto out;
    if (decode_string(ctx, body, "name", &name) != DECODE_BAD &&
        (name == NULL || !validate_text(name, 1, 100)))
        http_field(ctx, "name", "is required: 1 to 100 characters");
    else
        http_check_line(ctx, "name", name);
    if (decode_string(ctx, body, "scope", &scope) == DECODE_SET && !validate_oneof(scope, scopes))
        http_field(ctx, "scope", "must be full or feed");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (scope == NULL)
        scope = "full";
    sec_token("cab_", token);
    sec_sha256_hex(token, strlen(token), hash);
    if ((rc = db_token_create(ctx->db, ctx->user.id, name, scope, hash, &doc)) != OK)
        goto out;
    json_object_set_new(doc, "token", json_string(token));
    http_add_header(ctx, "Location", "/api/v1/tokens/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    sec_wipe(token, sizeof token);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_tokens_delete(struct http_ctx *ctx)
{
    int64_t id;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such token");
    rc = db_token_revoke(ctx->db, ctx->user.id, id);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such token of yours");
    if (rc != OK)
        return rc;
    http_reply(ctx, 204, NULL);
    return OK;
}
