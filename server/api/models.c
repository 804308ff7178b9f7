/* Change models and their approval policies: read by anyone, written by
 * admins. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_model.h"
#include "domain/role.h"
#include "domain/validate.h"

static const char *const models_kinds[] = {"standard", "normal", "emergency", NULL};
static const char *const models_levels[] = {"low", "medium", "high", "critical", NULL};

/* A model as a request gives it. */
struct models_body {
    const char *name;
    const char *kind;
    const char *title;
    const char *description;
    const json_t *policy;
};
#define MODELS_AT(m) offsetof(struct models_body, m)
/* On update nothing is required, and only description and policy can be
 * cleared (to "" and the default policy). */
enum { MODELS_NAME, MODELS_KIND, MODELS_TITLE, MODELS_DESCRIPTION, MODELS_POLICY, MODELS_NFIELDS };
/* clang-format off */
#define MODELS_FIELDS(req) {                                                                     \
    [MODELS_NAME] = {"name", DECODE_SLUG, MODELS_AT(name), req, 0, 0, NULL,                       \
                     "lowercase letters, digits and -"},                                          \
    [MODELS_KIND] = {"kind", DECODE_ONEOF, MODELS_AT(kind), req, 0, 0, models_kinds,              \
                     "standard, normal or emergency"},                                            \
    [MODELS_TITLE] = {"title", DECODE_LINE, MODELS_AT(title), req, 1, 200, NULL, NULL},           \
    [MODELS_DESCRIPTION] = {"description", DECODE_TEXT, MODELS_AT(description), false, 0, 10000,  \
                            NULL, NULL},                                                          \
    [MODELS_POLICY] = {"policy", DECODE_OBJECT, MODELS_AT(policy), false, 0, 0, NULL,             \
                       "null or an object from risk level to quotas"},                            \
}
/* clang-format on */
static const struct decode_field models_create_fields[MODELS_NFIELDS] = MODELS_FIELDS(true);
static const struct decode_field models_update_fields[MODELS_NFIELDS] = MODELS_FIELDS(false);

/* The shape of a policy object: {"<level>": [{"role": R, "count": N}, ...]}. */
static void
models_policy(struct http_ctx *ctx, const json_t *policy)
{
    const char *level;
    json_t *quotas;

    json_object_foreach((json_t *)(uintptr_t)policy, level, quotas)
    {
        char field[96];
        unsigned seen = 0;
        size_t i;

        snprintf(field, sizeof field, "policy.%s", level);
        if (!validate_oneof(level, models_levels)) {
            http_field(ctx, field, "must be one of low, medium, high, critical");
            continue;
        }
        if (!json_is_array(quotas) || json_array_size(quotas) == 0 || json_array_size(quotas) > 4) {
            http_field(ctx, field, "must be a list of 1 to 4 {role, count} quotas");
            continue;
        }
        for (i = 0; i < json_array_size(quotas); i++) {
            const json_t *q = json_array_get(quotas, i);
            const json_t *role = json_object_get(q, "role"), *count = json_object_get(q, "count");
            unsigned bit = json_is_string(role) ? role_bit(json_string_value(role)) : 0;

            snprintf(field, sizeof field, "policy.%s[%zu]", level, i);
            if (!json_is_object(q) || json_object_size(q) != 2 || bit == 0 || bit == ROLE_ADMIN ||
                !json_is_integer(count) || json_integer_value(count) < 1 ||
                json_integer_value(count) > 20)
                http_field(ctx, field, "must be {\"role\": cab|ecab|manager, \"count\": 1 to 20}");
            else if (seen & bit)
                http_field(ctx, field, "names a role twice");
            seen |= bit;
        }
    }
}

/* Decodes a model body into m (name from the body, or the path's when
 * updating, which the body may only repeat); the policy as JSON text into
 * *policy ("null" to clear it). */
static enum outcome
models_decode(struct http_ctx *ctx, json_t *body, bool creating, struct db_model *m, char **policy)
{
    static const int keep[] = {MODELS_KIND, MODELS_TITLE};
    struct models_body b = {0};
    enum decode_presence p[MODELS_NFIELDS];
    enum outcome rc;
    size_t i;

    (void)decode_body(ctx, body, creating ? models_create_fields : models_update_fields,
                      MODELS_NFIELDS, &b, p);
    if (!creating && p[MODELS_NAME] != DECODE_ABSENT &&
        (b.name == NULL || strcmp(b.name, http_param(ctx, 0)) != 0) &&
        !fielderr_has(&ctx->fe, "name"))
        http_field(ctx, "name", "cannot change");
    for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (p[keep[i]] == DECODE_NULL)
            http_field(ctx, models_update_fields[keep[i]].name, "cannot be cleared");
    if (b.policy != NULL)
        models_policy(ctx, b.policy);
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    m->name = creating ? b.name : http_param(ctx, 0);
    m->kind = b.kind;
    m->title = b.title;
    m->description = p[MODELS_DESCRIPTION] == DECODE_NULL ? "" : b.description;
    if (b.policy == NULL && p[MODELS_POLICY] != DECODE_NULL)
        return OK;
    *policy = json_dumps(b.policy ? b.policy : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    return *policy ? OK : ERR_INTERNAL;
}

enum outcome
api_models_list(struct http_ctx *ctx)
{
    json_t *items = NULL;
    enum outcome rc;

    if ((rc = db_model_list(ctx->db, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

enum outcome
api_models_get(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    enum outcome rc;

    if (!validate_slug(http_param(ctx, 0)) ||
        (rc = db_model_get(ctx->db, http_param(ctx, 0), &doc)) == ERR_NOT_FOUND)
        return http_fail(ctx, ERR_NOT_FOUND, "no such model");
    if (rc != OK)
        return rc;
    http_reply(ctx, 200, doc);
    return OK;
}

enum outcome
api_models_create(struct http_ctx *ctx)
{
    struct db_model m = {0};
    json_t *body = NULL, *doc = NULL;
    char *policy = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = models_decode(ctx, body, true, &m, &policy)) != OK)
        goto out;
    m.policy = policy && strcmp(policy, "null") != 0 ? policy : NULL;
    rc = db_model_create(ctx->db, http_actor(ctx), &m, &doc);
    if (rc == ERR_CONFLICT) {
        http_field(ctx, "name", "is taken by another model");
        rc = http_fail(ctx, rc, "a model named %s exists", m.name);
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/models/%s", m.name);
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    free(policy);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_models_update(struct http_ctx *ctx)
{
    struct db_model m = {0};
    json_t *body = NULL, *doc = NULL;
    char *policy = NULL;
    enum outcome rc;

    if (!validate_slug(http_param(ctx, 0)) ||
        (rc = db_model_get(ctx->db, http_param(ctx, 0), &doc)) == ERR_NOT_FOUND) {
        rc = http_fail(ctx, ERR_NOT_FOUND, "no such model");
        goto out;
    }
    if (rc != OK || (rc = http_authorize(ctx)) != OK)
        goto out;
    json_decref(doc);
    doc = NULL;
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = models_decode(ctx, body, false, &m, &policy)) != OK)
        goto out;
    m.policy = policy;
    if ((rc = db_model_update(ctx->db, http_actor(ctx), &m, &doc)) != OK)
        goto out;
    http_reply(ctx, 200, doc);
    doc = NULL;
out:
    free(policy);
    json_decref(body);
    json_decref(doc);
    return rc;
}
