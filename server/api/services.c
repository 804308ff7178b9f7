/* The service map: read by anyone, written by admins. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_service.h"
#include "domain/validate.h"

/* A service as a request gives it. */
struct services_body {
    const char *name;
    const char *title;
    int64_t tier;
    const char *owner;
    const char *description;
    struct decode_names depends_on;
};
#define SERVICES_AT(m) offsetof(struct services_body, m)
/* On update nothing is required; owner, description and depends_on can be
 * cleared (to "", "" and none), title and tier cannot. */
enum {
    SERVICES_NAME,
    SERVICES_TITLE,
    SERVICES_TIER,
    SERVICES_OWNER,
    SERVICES_DESCRIPTION,
    SERVICES_DEPENDS_ON,
    SERVICES_NFIELDS
};
/* clang-format off */
#define SERVICES_FIELDS(req) {                                                                   \
    [SERVICES_NAME] = {"name", DECODE_SLUG, SERVICES_AT(name), req, 0, 0, NULL,                   \
                       "lowercase letters, digits and -, starting with a letter or digit, "       \
                       "at most 63"},                                                             \
    [SERVICES_TITLE] = {"title", DECODE_LINE, SERVICES_AT(title), req, 1, 200, NULL, NULL},       \
    [SERVICES_TIER] = {"tier", DECODE_INT, SERVICES_AT(tier), req, 1, 4, NULL,                    \
                       "1 (most critical) to 4"},                                                 \
    [SERVICES_OWNER] = {"owner", DECODE_LINE, SERVICES_AT(owner), false, 0, 200, NULL, NULL},     \
    [SERVICES_DESCRIPTION] = {"description", DECODE_TEXT, SERVICES_AT(description), false, 0,     \
                              10000, NULL, NULL},                                                 \
    [SERVICES_DEPENDS_ON] = {"depends_on", DECODE_SLUGS, SERVICES_AT(depends_on), false, 0, 100,  \
                             NULL, NULL},                                                         \
}
/* clang-format on */
static const struct decode_field services_create_fields[SERVICES_NFIELDS] = SERVICES_FIELDS(true);
static const struct decode_field services_update_fields[SERVICES_NFIELDS] = SERVICES_FIELDS(false);

/* A service decoded and checked, and the form the database takes. */
struct services_input {
    struct services_body b;
    enum decode_presence p[SERVICES_NFIELDS];
    char tier[8];
    char *deps; /* depends_on as JSON text, malloc'd; NULL: keep */
    struct db_service s;
};

/* The checks of depends_on beyond its own: not the service itself (name),
 * and every one existing. */
static enum outcome
services_deps(struct http_ctx *ctx, struct services_input *in, const char *name)
{
    const struct decode_names *deps = &in->b.depends_on;
    size_t i;

    if (in->p[SERVICES_DEPENDS_ON] == DECODE_NULL) {
        in->deps = strdup("[]");
        return in->deps ? OK : ERR_INTERNAL;
    }
    if (deps->list == NULL)
        return OK;
    for (i = 0; i < deps->n; i++)
        if (name != NULL && strcmp(json_string_value(json_array_get(deps->list, i)), name) == 0) {
            char field[48];

            snprintf(field, sizeof field, "depends_on[%zu]", i);
            http_field(ctx, field, "a service cannot depend on itself");
        }
    return decode_services_exist(ctx, "depends_on", deps, &in->deps);
}

/* Decodes and checks a service body into in; name is the path's when
 * updating (which the body may only repeat). */
static enum outcome
services_decode(struct http_ctx *ctx, json_t *body, const char *name, struct services_input *in)
{
    static const int keep[] = {SERVICES_TITLE, SERVICES_TIER};
    const struct decode_field *fields = name ? services_update_fields : services_create_fields;
    struct services_body *b = &in->b;
    enum decode_presence *p = in->p;
    enum outcome rc;
    size_t i;

    (void)decode_body(ctx, body, fields, SERVICES_NFIELDS, b, p);
    if (name != NULL && p[SERVICES_NAME] != DECODE_ABSENT &&
        (b->name == NULL || strcmp(b->name, name) != 0) && !fielderr_has(&ctx->fe, "name"))
        http_field(ctx, "name", "cannot change: create a new service instead");
    for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (p[keep[i]] == DECODE_NULL)
            http_field(ctx, fields[keep[i]].name, "cannot be cleared");
    if (name == NULL)
        name = b->name;
    if ((rc = services_deps(ctx, in, name)) != OK || (rc = http_fields_ok(ctx)) != OK)
        return rc;
    if (p[SERVICES_TIER] == DECODE_SET)
        snprintf(in->tier, sizeof in->tier, "%d", (int)b->tier);
    in->s = (struct db_service){
        .name = name,
        .title = b->title,
        .tier = in->tier[0] ? in->tier : NULL,
        .owner = p[SERVICES_OWNER] == DECODE_NULL ? "" : b->owner,
        .description = p[SERVICES_DESCRIPTION] == DECODE_NULL ? "" : b->description,
        .depends_on = in->deps,
    };
    return OK;
}

enum outcome
api_services_list(struct http_ctx *ctx)
{
    char cursor[128], q[256];
    json_t *items = NULL;
    enum outcome rc;
    int limit, got;

    if ((rc = http_paging(ctx, "services", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !validate_slug(cursor))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((got = http_query(ctx, "q", q, sizeof q)) < 0 || (got == 1 && !validate_utf8(q, NULL)))
        http_field(ctx, "q", "at most 255 bytes of UTF-8");
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    if ((rc = db_service_list(ctx->db, cursor, got == 1 && q[0] ? q : NULL, limit + 1, &items)) !=
        OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "services", "name"));
    return OK;
}

enum outcome
api_services_create(struct http_ctx *ctx)
{
    struct services_input in = {0};
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = services_decode(ctx, body, NULL, &in)) != OK)
        goto out;
    rc = db_service_create(ctx->db, http_actor(ctx), &in.s, &doc);
    if (rc == ERR_CONFLICT) {
        http_field(ctx, "name", "is taken by another service");
        rc = http_fail(ctx, rc, "a service named %s exists", in.s.name);
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/services/%s", in.s.name);
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    free(in.deps);
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
    struct services_input in = {0};
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = services_load(ctx, &doc)) != OK || (rc = http_authorize(ctx)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = services_decode(ctx, body, http_param(ctx, 0), &in)) != OK ||
        (rc = db_service_update(ctx->db, http_actor(ctx), &in.s, &doc)) != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    free(in.deps);
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
