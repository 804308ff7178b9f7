/* Freeze windows: read by anyone, written by managers. A freeze with no
 * services covers every service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_key.h"
#include "domain/validate.h"

static const char *const freezes_fields[] = {"name", "window", "services", "hard", "reason", NULL};
/* The fields of several lines, stored with LF line breaks only. */
static const char *const freezes_lines[] = {"reason", NULL};

/* Validates a whole freeze (a create body, or a stored freeze merged with a
 * patch) into f; the services JSON is malloc'd into *services. */
static enum outcome
freezes_decode(struct http_ctx *ctx, const json_t *obj, struct db_freeze *f, char *start, char *end,
               char **services)
{
    const char *name = NULL, *reason = "";
    bool hard = true;
    enum outcome rc;

    if (decode_string(ctx, obj, "name", &name) != DECODE_BAD &&
        (name == NULL || !validate_text(name, 1, 200)))
        http_field(ctx, "name", "is required: 1 to 200 characters");
    else
        http_check_line(ctx, "name", name);
    decode_window(ctx, obj, true, start, end);
    if (start[0] && end[0] && strcmp(end, start) <= 0)
        http_field(ctx, "window.end", "must be after window.start");
    if (decode_bool(ctx, obj, "hard", &hard) == DECODE_NULL)
        hard = true;
    if (decode_string(ctx, obj, "reason", &reason) == DECODE_SET &&
        !validate_text(reason, 0, 10000))
        http_field(ctx, "reason", "at most 10000 characters");
    else
        http_check_lines(ctx, "reason", reason);
    if ((rc = decode_services(ctx, obj, "services", services)) != OK)
        return rc;
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    f->name = name;
    f->start = start;
    f->end = end;
    f->services = *services;
    f->hard = hard ? "true" : "false";
    f->reason = reason ? reason : "";
    return OK;
}

enum outcome
api_freezes_list(struct http_ctx *ctx)
{
    char cursor[32], buf[64], from[TIMEFMT_LEN], to[TIMEFMT_LEN];
    const char *f = NULL, *t = NULL;
    int64_t after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "freezes", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if (http_query(ctx, "from", buf, sizeof buf) != 0) {
        if (timefmt_normalize(buf, from) != OK)
            http_field(ctx, "from", "must be an RFC 3339 date-time");
        f = from;
    }
    if (http_query(ctx, "to", buf, sizeof buf) != 0) {
        if (timefmt_normalize(buf, to) != OK)
            http_field(ctx, "to", "must be an RFC 3339 date-time");
        t = to;
    }
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    if ((rc = db_freeze_list(ctx->db, f, t, after, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "freezes", "id"));
    return OK;
}

enum outcome
api_freezes_create(struct http_ctx *ctx)
{
    char start[TIMEFMT_LEN], end[TIMEFMT_LEN], *services = NULL;
    struct db_freeze f;
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, freezes_fields)) != OK ||
        (rc = http_newlines(body, freezes_lines)) != OK ||
        (rc = freezes_decode(ctx, body, &f, start, end, &services)) != OK)
        goto out;
    if ((rc = db_freeze_create(ctx->db, http_actor(ctx), ctx->user.id, &f, &doc)) != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/freezes/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    free(services);
    json_decref(body);
    json_decref(doc);
    return rc;
}

static enum outcome
freezes_load(struct http_ctx *ctx, int64_t *id, json_t **doc)
{
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such freeze");
    rc = db_freeze_get(ctx->db, *id, doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such freeze");
    return rc;
}

enum outcome
api_freezes_get(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = freezes_load(ctx, &id, &doc)) != OK)
        return rc;
    http_reply(ctx, 200, doc);
    return OK;
}

enum outcome
api_freezes_update(struct http_ctx *ctx)
{
    char start[TIMEFMT_LEN], end[TIMEFMT_LEN], *services = NULL;
    json_t *body = NULL, *doc = NULL, *merged = NULL;
    struct db_freeze f;
    int64_t id;
    enum outcome rc;

    if ((rc = freezes_load(ctx, &id, &doc)) != OK || (rc = http_authorize(ctx)) != OK ||
        (rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, freezes_fields)) != OK)
        goto out;
    if (json_is_null(json_object_get(body, "name")) ||
        json_is_null(json_object_get(body, "window")))
        http_field(ctx, json_is_null(json_object_get(body, "name")) ? "name" : "window",
                   "cannot be cleared");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    merged =
        json_pack("{s:O, s:O, s:O, s:O, s:O}", "name", json_object_get(doc, "name"), "window",
                  json_object_get(doc, "window"), "services", json_object_get(doc, "services"),
                  "hard", json_object_get(doc, "hard"), "reason", json_object_get(doc, "reason"));
    if (merged == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    decode_merge_patch(merged, body);
    if ((rc = http_newlines(merged, freezes_lines)) != OK ||
        (rc = freezes_decode(ctx, merged, &f, start, end, &services)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = db_freeze_update(ctx->db, http_actor(ctx), id, &f, &doc)) != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    free(services);
    json_decref(body);
    json_decref(doc);
    json_decref(merged);
    return rc;
}

enum outcome
api_freezes_delete(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = freezes_load(ctx, &id, &doc)) != OK || (rc = http_authorize(ctx)) != OK)
        goto out;
    if ((rc = db_freeze_delete(ctx->db, http_actor(ctx), id)) != OK)
        goto out;
    http_reply(ctx, 204, NULL);
out:
    json_decref(doc);
    return rc;
}
