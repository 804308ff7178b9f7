/* Personal API tokens: made, listed, revoked; the secret is shown once. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_user.h"
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

/* A token as a request asks for it; scope defaults to full. */
struct tokens_body {
    const char *name;
    const char *scope;
};
static const char *const tokens_scopes[] = {"full", "feed", NULL};
static const struct decode_field tokens_fields[] = {
    {"name", DECODE_LINE, offsetof(struct tokens_body, name), true, 1, 100, NULL,
     "what the token is for"},
    {"scope", DECODE_ONEOF, offsetof(struct tokens_body, scope), false, 0, 0, tokens_scopes,
     "full or feed"},
};

enum outcome
api_tokens_create(struct http_ctx *ctx)
{
    struct tokens_body b = {.scope = "full"};
    char token[SEC_TOKEN_LEN], hash[SEC_HEX256_LEN];
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, tokens_fields, DECODE_NFIELDS(tokens_fields), &b, NULL)) != OK)
        goto out;
    sec_token("cab_", token);
    sec_sha256_hex(token, strlen(token), hash);
    if ((rc = db_token_create(ctx->db, ctx->user.id, b.name, b.scope, hash, &doc)) != OK)
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
