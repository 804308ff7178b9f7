/* Freeze windows: read by anyone, written by managers. A freeze with no
 * services covers every service. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_key.h"

/* A freeze as a request gives it, or a stored freeze merged with a patch;
 * hard defaults to true, reason to "". */
struct freezes_body {
    const char *name;
    struct decode_window window;
    struct decode_names services;
    bool hard;
    const char *reason;
};
#define FREEZES_AT(m) offsetof(struct freezes_body, m)
static const struct decode_field freezes_fields[] = {
    {"name", DECODE_LINE, FREEZES_AT(name), true, 1, 200, NULL, NULL},
    {"window", DECODE_WINDOW, FREEZES_AT(window), true, 0, 0, NULL, "{start, end}"},
    {"services", DECODE_SLUGS, FREEZES_AT(services), false, 0, 100, NULL, NULL},
    {"hard", DECODE_BOOL, FREEZES_AT(hard), false, 0, 0, NULL, NULL},
    {"reason", DECODE_TEXT, FREEZES_AT(reason), false, 0, 10000, NULL, NULL},
};

/* A freeze decoded and checked, and the form the database takes. */
struct freezes_input {
    struct freezes_body b;
    char *services; /* JSON text, malloc'd; "[]" covers every service */
    struct db_freeze f;
};

/* Decodes and checks a whole freeze (a create body, or a stored freeze
 * merged with a patch) into in: every field at fault is named in one
 * reply, the services that do not exist too. */
static enum outcome
freezes_decode(struct http_ctx *ctx, json_t *obj, struct freezes_input *in)
{
    struct freezes_body *b = &in->b;
    enum outcome rc;

    *b = (struct freezes_body){.hard = true, .reason = ""};
    (void)decode_body(ctx, obj, freezes_fields, DECODE_NFIELDS(freezes_fields), b, NULL);
    if (b->window.start[0] && strcmp(b->window.end, b->window.start) <= 0)
        http_field(ctx, "window.end", "must be after the start of the window");
    if ((rc = decode_services_exist(ctx, "services", &b->services, &in->services)) != OK ||
        (rc = http_fields_ok(ctx)) != OK)
        return rc;
    in->f = (struct db_freeze){.name = b->name,
                               .start = b->window.start,
                               .end = b->window.end,
                               .services = in->services,
                               .hard = b->hard ? "true" : "false",
                               .reason = b->reason};
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
    struct freezes_input in = {0};
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK || (rc = freezes_decode(ctx, body, &in)) != OK)
        goto out;
    if ((rc = db_freeze_create(ctx->db, http_actor(ctx), ctx->user.id, &in.f, &doc)) != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/freezes/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    free(in.services);
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

/* The stored freeze doc with the patch applied (new reference), after
 * recording that name and window cannot be cleared. */
static json_t *
freezes_patched(struct http_ctx *ctx, const json_t *doc, const json_t *patch)
{
    static const char *const keep[] = {"name", "window"};
    json_t *merged;
    size_t i;

    for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (json_is_null(json_object_get(patch, keep[i])))
            http_field(ctx, keep[i], "cannot be cleared");
    merged =
        json_pack("{s:O, s:O, s:O, s:O, s:O}", "name", json_object_get(doc, "name"), "window",
                  json_object_get(doc, "window"), "services", json_object_get(doc, "services"),
                  "hard", json_object_get(doc, "hard"), "reason", json_object_get(doc, "reason"));
    if (merged != NULL)
        decode_merge_patch(merged, patch);
    return merged;
}

enum outcome
api_freezes_update(struct http_ctx *ctx)
{
    struct freezes_input in = {0};
    json_t *body = NULL, *doc = NULL, *merged = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = freezes_load(ctx, &id, &doc)) != OK || (rc = http_authorize(ctx)) != OK ||
        (rc = http_body(ctx, false, &body)) != OK)
        goto out;
    if ((merged = freezes_patched(ctx, doc, body)) == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    if ((rc = freezes_decode(ctx, merged, &in)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = db_freeze_update(ctx->db, http_actor(ctx), id, &in.f, &doc)) != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    free(in.services);
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
