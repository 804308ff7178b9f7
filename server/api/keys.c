/* Approvers' public keys: registered and revoked by their owners, listed
 * for anyone to verify approvals with. */
#include <stddef.h>
#include <stdio.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_key.h"
#include "sec/sec.h"

/* A key as a request registers it; the label defaults to "". */
struct keys_body {
    const char *public_key;
    const char *label;
};
static const struct decode_field keys_fields[] = {
    {"public_key", DECODE_LINE, offsetof(struct keys_body, public_key), true, 0, 200, NULL,
     "an Ed25519 public key: 32 bytes in padded base64"},
    {"label", DECODE_LINE, offsetof(struct keys_body, label), false, 0, 100, NULL, NULL},
};

enum outcome
api_keys_create(struct http_ctx *ctx)
{
    struct keys_body b = {.label = ""};
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    (void)decode_body(ctx, body, keys_fields, DECODE_NFIELDS(keys_fields), &b, NULL);
    if (b.public_key != NULL && !sec_ed25519_public_ok(b.public_key))
        http_field(ctx, "public_key", "must be an Ed25519 public key: 32 bytes in padded base64");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    rc = db_key_add(ctx->db, ctx->user.id, b.public_key, b.label, &doc);
    if (rc == ERR_CONFLICT) {
        http_field(ctx, "public_key", "is registered already");
        rc = http_fail(ctx, rc, "this public key is registered already");
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/keys/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_keys_delete(struct http_ctx *ctx)
{
    int64_t id;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such key");
    rc = db_key_revoke(ctx->db, ctx->user.id, id);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such key of yours that is not revoked");
    if (rc != OK)
        return rc;
    http_reply(ctx, 204, NULL);
    return OK;
}

enum outcome
api_keys_list(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "keys", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_key_list(ctx->db, after, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "keys", "id"));
    return OK;
}
