/* Change models and their approval policies: read by anyone, written by
 * admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_model.h"
#include "domain/role.h"
#include "domain/validate.h"

static const char *const models_fields[] = {"name", "kind", "title", "description", "policy", NULL};
static const char *const models_kinds[] = {"standard", "normal", "emergency", NULL};
static const char *const models_levels[] = {"low", "medium", "high", "critical", NULL};
/* The fields of several lines, stored with LF line breaks only. */
static const char *const models_lines[] = {"description", NULL};

/* A policy: null, or {"<level>": [{"role": R, "count": N}, ...]}. */
static void
models_policy(struct http_ctx *ctx, const json_t *policy)
{
    const char *level;
    json_t *quotas;

    if (json_is_null(policy))
        return;
    if (!json_is_object(policy)) {
        http_field(ctx, "policy", "must be null or an object from risk level to quotas");
        return;
    }
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

/* Checks the fields of a model body into m; policy JSON into *policy. */
static void
models_decode(struct http_ctx *ctx, const json_t *body, bool creating, struct db_model *m,
              char **policy)
{
    enum decode_presence p;
    const json_t *pol;

    p = decode_string(ctx, body, "kind", &m->kind);
    if ((p == DECODE_SET && !validate_oneof(m->kind, models_kinds)) || p == DECODE_NULL ||
        (p == DECODE_ABSENT && creating))
        http_field(ctx, "kind", "is required: standard, normal or emergency");
    p = decode_string(ctx, body, "title", &m->title);
    if ((p == DECODE_SET && !validate_text(m->title, 1, 200)) || p == DECODE_NULL ||
        (p == DECODE_ABSENT && creating))
        http_field(ctx, "title", "is required: 1 to 200 characters");
    else if (p == DECODE_SET)
        http_check_line(ctx, "title", m->title);
    p = decode_string(ctx, body, "description", &m->description);
    if (p == DECODE_NULL)
        m->description = "";
    else if (p == DECODE_SET && !validate_text(m->description, 0, 10000))
        http_field(ctx, "description", "at most 10000 characters");
    else if (p == DECODE_SET)
        http_check_lines(ctx, "description", m->description);
    if ((pol = json_object_get(body, "policy")) != NULL) {
        models_policy(ctx, pol);
        *policy = json_dumps(pol, JSON_COMPACT | JSON_ENCODE_ANY);
    }
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
        (rc = http_known_fields(ctx, body, models_fields)) != OK ||
        (rc = http_newlines(body, models_lines)) != OK)
        goto out;
    if (decode_string(ctx, body, "name", &m.name) != DECODE_BAD && !validate_slug(m.name))
        http_field(ctx, "name", "is required: lowercase letters, digits and -");
    models_decode(ctx, body, true, &m, &policy);
    if ((rc = http_fields_ok(ctx)) != OK)
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
    const char *name = NULL;
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
        (rc = http_known_fields(ctx, body, models_fields)) != OK ||
        (rc = http_newlines(body, models_lines)) != OK)
        goto out;
    if (decode_string(ctx, body, "name", &name) != DECODE_ABSENT &&
        (name == NULL || strcmp(name, http_param(ctx, 0)) != 0) && !fielderr_has(&ctx->fe, "name"))
        http_field(ctx, "name", "cannot change");
    m.name = http_param(ctx, 0);
    models_decode(ctx, body, false, &m, &policy);
    if ((rc = http_fields_ok(ctx)) != OK)
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
