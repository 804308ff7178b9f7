/* The audit trail over HTTP: the chain, its signed checkpoints, the server's
 * public key, a change's timeline and comments, and its evidence bundle. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/decode.h"
#include "audit/audit_canon.h"
#include "db/db_audit.h"
#include "db/db_change.h"
#include "domain/timefmt.h"

enum outcome
api_audit_list(struct http_ctx *ctx)
{
    char cursor[32], buf[32];
    int64_t after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit, got;

    if ((rc = http_paging(ctx, "audit", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    got = http_query(ctx, "after", buf, sizeof buf);
    if (got == 1 && strcmp(buf, "0") != 0 && !decode_id(buf, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "after must be a seq (a whole number)");
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_audit_list(ctx->db, after, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "audit", "seq"));
    return OK;
}

static enum outcome
audit_checkpoint_reply(struct http_ctx *ctx, int status)
{
    json_t *cp = NULL, *key = NULL;
    enum outcome rc;

    rc = db_audit_checkpoint_get(ctx->db, 0, &cp);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no checkpoint has been signed yet");
    if (rc != OK)
        return rc;
    if ((rc = db_audit_server_key_get(ctx->db, &key)) != OK) {
        json_decref(cp);
        return rc;
    }
    json_object_set(cp, "public_key", json_object_get(key, "public_key"));
    json_decref(key);
    http_reply(ctx, status, cp);
    return OK;
}

enum outcome
api_audit_checkpoint(struct http_ctx *ctx)
{
    return audit_checkpoint_reply(ctx, 200);
}

enum outcome
api_audit_checkpoint_sign(struct http_ctx *ctx)
{
    int64_t seq = 0;
    enum outcome rc;

    if ((rc = db_audit_checkpoint_sign(ctx->db, ctx->app->server_secret, true, &seq)) != OK)
        return rc;
    return audit_checkpoint_reply(ctx, seq ? 201 : 200);
}

enum outcome
api_server_key(struct http_ctx *ctx)
{
    json_t *key = NULL;
    enum outcome rc;

    rc = db_audit_server_key_get(ctx->db, &key);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "the server has no key yet");
    if (rc != OK)
        return rc;
    json_object_set_new(key, "algorithm", json_string("Ed25519"));
    http_reply(ctx, 200, key);
    return OK;
}

/* The change of the path must exist; its id as text into sid. */
static enum outcome
audit_change(struct http_ctx *ctx, int64_t *id, char sid[24])
{
    json_t *row = NULL;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), "CHG-", id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_change_get(ctx->db, *id, &row);
    json_decref(row);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    snprintf(sid, 24, "%lld", (long long)*id);
    return rc;
}

enum outcome
api_changes_timeline(struct http_ctx *ctx)
{
    json_t *items = NULL;
    char sid[24];
    int64_t id;
    enum outcome rc;

    if ((rc = audit_change(ctx, &id, sid)) != OK ||
        (rc = db_audit_entity(ctx->db, "change", sid, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

enum outcome
api_comments_list(struct http_ctx *ctx)
{
    json_t *items = NULL;
    char sid[24];
    int64_t id;
    enum outcome rc;

    if ((rc = audit_change(ctx, &id, sid)) != OK ||
        (rc = db_change_comments(ctx->db, id, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

/* A comment as a request gives it: its text is kept as sent. */
struct audit_comment_body {
    const char *body;
};
static const struct decode_field audit_comment_fields[] = {
    {"body", DECODE_TEXT, offsetof(struct audit_comment_body, body), true, 1, 20000, NULL,
     "the comment's text"},
};

enum outcome
api_comments_create(struct http_ctx *ctx)
{
    struct audit_comment_body b = {0};
    json_t *body = NULL, *doc = NULL;
    char sid[24];
    int64_t id;
    enum outcome rc;

    if ((rc = audit_change(ctx, &id, sid)) != OK || (rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, audit_comment_fields, DECODE_NFIELDS(audit_comment_fields), &b,
                          NULL)) != OK ||
        (rc = db_change_comment(ctx->db, id, ctx->user.id, b.body, &doc)) != OK)
        goto out;
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* The canonical text of each stored version's content, so that a verifier
 * hashes exactly what was hashed. */
static enum outcome
audit_versions_canonical(json_t *versions)
{
    size_t i;

    for (i = 0; i < json_array_size(versions); i++) {
        json_t *v = json_array_get(versions, i);
        struct strbuf sb = STRBUF_INIT;

        if (!audit_canon_json(json_object_get(v, "content"), &sb) || strbuf_failed(&sb)) {
            strbuf_free(&sb);
            return ERR_INTERNAL;
        }
        json_object_set_new(v, "canonical", json_string(strbuf_str(&sb)));
        strbuf_free(&sb);
    }
    return OK;
}

enum outcome
api_changes_evidence(struct http_ctx *ctx)
{
    json_t *ev = NULL, *cp = NULL, *key = NULL, *span = NULL, *range;
    char sid[24], at[TIMEFMT_LEN];
    int64_t id, first, last, signed_seq = 0;
    enum outcome rc;

    if ((rc = audit_change(ctx, &id, sid)) != OK ||
        (rc = db_change_evidence(ctx->db, id, &ev)) != OK ||
        (rc = audit_versions_canonical(json_object_get(ev, "versions"))) != OK)
        goto out;
    range = json_object_get(ev, "audit_range");
    first = json_integer_value(json_object_get(range, "first"));
    last = json_integer_value(json_object_get(range, "last"));
    if (last > 0) {
        /* a checkpoint that covers the change's entries, signed now if needed */
        rc = db_audit_checkpoint_get(ctx->db, last, &cp);
        if (rc == ERR_NOT_FOUND) {
            if ((rc = db_audit_checkpoint_sign(ctx->db, ctx->app->server_secret, true,
                                               &signed_seq)) != OK ||
                (rc = db_audit_checkpoint_get(ctx->db, last, &cp)) != OK)
                goto out;
        } else if (rc != OK) {
            goto out;
        }
        if ((rc = db_change_audit_span(
                 ctx->db, first, json_integer_value(json_object_get(cp, "seq")), &span)) != OK)
            goto out;
    }
    if ((rc = db_audit_server_key_get(ctx->db, &key)) != OK)
        goto out;
    timefmt_format((int64_t)time(NULL), at);
    json_object_set_new(ev, "format", json_string("cabinet-evidence-v1"));
    json_object_set_new(ev, "generated_at", json_string(at));
    json_object_set(ev, "server_public_key", json_object_get(key, "public_key"));
    json_object_set_new(ev, "audit",
                        json_pack("{s:o, s:o}", "entries", span ? span : json_array(), "checkpoint",
                                  cp ? cp : json_null()));
    span = cp = NULL;
    {
        json_t *row = NULL;
        if ((rc = db_change_get(ctx->db, id, &row)) != OK)
            goto out;
        json_object_set_new(ev, "change", api_change_render(row));
        json_decref(row);
    }
    http_reply(ctx, 200, ev);
    ev = NULL;
out:
    json_decref(ev);
    json_decref(cp);
    json_decref(key);
    json_decref(span);
    return rc;
}
