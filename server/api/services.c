/* The service map: read by anyone, written by admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_service.h"
#include "domain/validate.h"

static const char *const services_fields[] = {"name",        "title",      "tier", "owner",
                                              "description", "depends_on", NULL};

/* The fields of several lines, stored with LF line breaks only. */
static const char *const services_lines[] = {"description", NULL};

/* Validates the text fields and the tier of a service body into s
 * (strings borrowed from body, the tier into tier). `creating` makes title
 * and tier required. */
static void
services_decode_fields(struct http_ctx *ctx, const json_t *body, bool creating,
                       struct db_service *s, char *tier, size_t tier_size)
{
    int64_t t = 0;
    enum decode_presence p;

    p = decode_string(ctx, body, "title", &s->title);
    if ((p == DECODE_SET && !validate_text(s->title, 1, 200)) || p == DECODE_NULL ||
        (p == DECODE_ABSENT && creating))
        http_field(ctx, "title", "is required: 1 to 200 characters");
    else if (p == DECODE_SET)
        http_check_line(ctx, "title", s->title);
    p = decode_int(ctx, body, "tier", &t);
    if ((p == DECODE_SET && (t < 1 || t > 4)) || p == DECODE_NULL ||
        (p == DECODE_ABSENT && creating))
        http_field(ctx, "tier", "is required: 1 (most critical) to 4");
    else if (p == DECODE_SET)
        snprintf(tier, tier_size, "%d", (int)t);
    p = decode_string(ctx, body, "owner", &s->owner);
    if (p == DECODE_NULL)
        s->owner = "";
    else if (p == DECODE_SET && !validate_text(s->owner, 0, 200))
        http_field(ctx, "owner", "at most 200 characters");
    else if (p == DECODE_SET)
        http_check_line(ctx, "owner", s->owner);
    p = decode_string(ctx, body, "description", &s->description);
    if (p == DECODE_NULL)
        s->description = "";
    else if (p == DECODE_SET && !validate_text(s->description, 0, 10000))
        http_field(ctx, "description", "at most 10000 characters");
    else if (p == DECODE_SET)
        http_check_lines(ctx, "description", s->description);
}

/* Validates depends_on: distinct service names, not the service itself,
 * all of them existing; *deps (malloc'd) is the list as JSON text. */
static void
services_decode_deps(struct http_ctx *ctx, const json_t *body, const struct db_service *s,
                     char **deps)
{
    const json_t *list = NULL;
    json_t *missing = NULL;
    size_t i, j, n = 0;
    enum decode_presence p;

    p = decode_strings(ctx, body, "depends_on", &list, &n);
    if (p == DECODE_NULL) {
        *deps = strdup("[]");
        return;
    }
    if (p != DECODE_SET)
        return;
    for (i = 0; i < n; i++) {
        const char *d = json_string_value(json_array_get(list, i));
        char field[48];

        snprintf(field, sizeof field, "depends_on[%zu]", i);
        if (!validate_slug(d)) {
            http_field(ctx, field, "must be a service name");
            continue;
        }
        if (s->name != NULL && strcmp(d, s->name) == 0)
            http_field(ctx, field, "a service cannot depend on itself");
        for (j = 0; j < i; j++)
            if (strcmp(d, json_string_value(json_array_get(list, j))) == 0) {
                http_field(ctx, field, "is listed twice");
                break;
            }
    }
    if (ctx->fe.n > 0)
        return;
    *deps = json_dumps(list, JSON_COMPACT);
    if (*deps == NULL || db_service_missing(ctx->db, *deps, &missing) != OK)
        return;
    for (i = 0; i < json_array_size(missing); i++) {
        char field[48];
        size_t at = (size_t)json_integer_value(json_array_get(missing, i));

        snprintf(field, sizeof field, "depends_on[%zu]", at);
        http_field(ctx, field, "no service is named %s",
                   json_string_value(json_array_get(list, at)));
    }
    json_decref(missing);
}

/* Validates a service body; fills s (strings borrowed from body, tier and
 * depends_on into the buffers). `creating` makes title and tier required. */
static void
services_decode(struct http_ctx *ctx, const json_t *body, bool creating, struct db_service *s,
                char *tier, size_t tier_size, char **deps)
{
    services_decode_fields(ctx, body, creating, s, tier, tier_size);
    services_decode_deps(ctx, body, s, deps);
}

enum outcome
api_services_list(struct http_ctx *ctx)
{
    char cursor[128];
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "services", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !validate_slug(cursor))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_service_list(ctx->db, cursor, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "services", "name"));
    return OK;
}

enum outcome
api_services_create(struct http_ctx *ctx)
{
    struct db_service s = {0};
    char tier[8] = "", *deps = NULL;
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;
    enum decode_presence p;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, services_fields)) != OK ||
        (rc = http_newlines(body, services_lines)) != OK)
        goto out;
    p = decode_string(ctx, body, "name", &s.name);
    if (p != DECODE_BAD && !validate_slug(s.name)) {
        http_field(ctx, "name",
                   "is required: lowercase letters, digits and -, "
                   "starting with a letter or digit, at most 63");
        s.name = NULL;
    }
    services_decode(ctx, body, true, &s, tier, sizeof tier, &deps);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    s.tier = tier;
    s.depends_on = deps;
    rc = db_service_create(ctx->db, http_actor(ctx), &s, &doc);
    if (rc == ERR_CONFLICT) {
        http_field(ctx, "name", "is taken by another service");
        rc = http_fail(ctx, rc, "a service named %s exists", s.name);
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/services/%s", s.name);
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    free(deps);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* The service of the path into *doc; 404 when there is none. */
static enum outcome
services_load(struct http_ctx *ctx, json_t **doc)
{
    enum outcome rc;

    if (!validate_slug(http_param(ctx, 0)))
        return http_fail(ctx, ERR_NOT_FOUND, "no such service");
    rc = db_service_get(ctx->db, http_param(ctx, 0), doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such service: %s", http_param(ctx, 0));
    return rc;
}

enum outcome
api_services_get(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    enum outcome rc;

    if ((rc = services_load(ctx, &doc)) != OK)
        return rc;
    http_reply(ctx, 200, doc);
    return OK;
}

enum outcome
api_services_update(struct http_ctx *ctx)
{
    struct db_service s = {0};
    char tier[8] = "", *deps = NULL;
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = services_load(ctx, &doc)) != OK || (rc = http_authorize(ctx)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, services_fields)) != OK ||
        (rc = http_newlines(body, services_lines)) != OK)
        goto out;
    if (decode_string(ctx, body, "name", &s.name) != DECODE_ABSENT &&
        (s.name == NULL || strcmp(s.name, http_param(ctx, 0)) != 0) &&
        !fielderr_has(&ctx->fe, "name"))
        http_field(ctx, "name", "cannot change: create a new service instead");
    s.name = http_param(ctx, 0);
    services_decode(ctx, body, false, &s, tier, sizeof tier, &deps);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    s.tier = tier[0] ? tier : NULL;
    s.depends_on = deps;
    if ((rc = db_service_update(ctx->db, http_actor(ctx), &s, &doc)) != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    free(deps);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_services_delete(struct http_ctx *ctx)
{
    json_t *doc = NULL, *users = NULL;
    enum outcome rc;

    if ((rc = services_load(ctx, &doc)) != OK || (rc = http_authorize(ctx)) != OK)
        goto out;
    rc = db_service_delete(ctx->db, http_actor(ctx), http_param(ctx, 0), &users);
    if (rc == ERR_CONFLICT) {
        char *what = json_dumps(users, JSON_COMPACT);
        rc = http_fail(ctx, rc, "the service is still in use: %s", what ? what : "");
        free(what);
        goto out;
    }
    if (rc != OK)
        goto out;
    http_reply(ctx, 204, NULL);
out:
    json_decref(doc);
    json_decref(users);
    return rc;
}

enum outcome
api_services_impact(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    enum outcome rc;

    if ((rc = services_load(ctx, &doc)) != OK)
        return rc;
    json_decref(doc);
    if ((rc = db_service_impact(ctx->db, http_param(ctx, 0), &doc)) != OK)
        return rc;
    http_reply(ctx, 200, doc);
    return OK;
}
