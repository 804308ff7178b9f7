/* Webhook links (admins): an integration is made with its link and secret
 * shown once, listed, read, edited, rotated (the previous pair kept for a
 * grace period) and deleted (disabled for good, its deliveries and changes
 * kept); the deliveries it received are listed. README "Webhook links". */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "config.h"
#include "db/db_change.h"
#include "db/db_integration.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define INTEGRATIONS_ENV_MAX 50

static const char *const integrations_kinds[] = {"generic", "github", "gitlab", NULL};

/* An integration's settings as a request gives them. */
struct integrations_body {
    const char *name;
    const char *kind;
    const char *model;
    struct decode_names services;
    const json_t *environments;
    int64_t default_duration_s;
    bool enabled;
};
#define INTEGRATIONS_AT(m) offsetof(struct integrations_body, m)
#define INTEGRATIONS_COMMON                                                                        \
    {"name", DECODE_LINE, INTEGRATIONS_AT(name), true, 1, 100, NULL, "1 to 100 characters"},       \
        {"model", DECODE_SLUG, INTEGRATIONS_AT(model), false, 0, 0, NULL, NULL},                   \
        {"services", DECODE_SLUGS, INTEGRATIONS_AT(services), false, 0, 100, NULL, NULL},          \
        {"environments",                                                                           \
         DECODE_OBJECT,                                                                            \
         INTEGRATIONS_AT(environments),                                                            \
         false,                                                                                    \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "{\"<environment>\": [\"<service>\", …]}"},                                               \
    {                                                                                              \
        "default_duration_s", DECODE_INT, INTEGRATIONS_AT(default_duration_s), false, 60, 604800,  \
            NULL, "60 to 604800 seconds"                                                           \
    }
static const struct decode_field integrations_create_fields[] = {
    INTEGRATIONS_COMMON,
    {"kind", DECODE_ONEOF, INTEGRATIONS_AT(kind), true, 0, 0, integrations_kinds,
     "generic, github or gitlab"},
};
static const struct decode_field integrations_update_fields[] = {
    INTEGRATIONS_COMMON,
    {"enabled", DECODE_BOOL, INTEGRATIONS_AT(enabled), false, 0, 0, NULL, NULL},
};

/* The environment map: names of one line, each a list of services that
 * exist, each once. */
static enum outcome
integrations_envs(struct http_ctx *ctx, json_t *envs)
{
    const char *env;
    const json_t *list;
    char field[160];
    enum outcome rc;

    if (json_object_size(envs) > INTEGRATIONS_ENV_MAX)
        http_field(ctx, "environments", "at most %d environments", INTEGRATIONS_ENV_MAX);
    json_object_foreach(envs, env, list)
    {
        struct decode_names names = {list, json_array_size(list)};
        char *json = NULL;
        size_t i, j;
        bool good = json_is_array(list) && names.n <= 100;

        snprintf(field, sizeof field, "environments.%.100s", env);
        if (!validate_text(env, 1, 100) || strchr(env, '\n') != NULL) {
            http_field(ctx, field, "an environment is named by 1 to 100 characters of one line");
            continue;
        }
        for (i = 0; good && i < names.n; i++) {
            const char *s = json_string_value(json_array_get(list, i));
            good = s != NULL && validate_slug(s);
            for (j = 0; good && j < i; j++)
                good = strcmp(s, json_string_value(json_array_get(list, j))) != 0;
        }
        if (!good) {
            http_field(ctx, field, "a list of at most 100 service names, each once");
            continue;
        }
        rc = decode_services_exist(ctx, field, &names, &json);
        free(json);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* The checks beyond each field's own: the model and services exist, the
 * environment map (obj's, which b was decoded from). */
static enum outcome
integrations_check(struct http_ctx *ctx, json_t *obj, const struct integrations_body *b,
                   char **services)
{
    enum outcome rc;

    *services = NULL;
    if (b->model != NULL && !fielderr_has(&ctx->fe, "model") &&
        (rc = db_change_model_exists(ctx->db, b->model)) != OK) {
        if (rc != ERR_NOT_FOUND)
            return rc;
        http_field(ctx, "model", "no change model is named %s", b->model);
    }
    if (!fielderr_has(&ctx->fe, "services") &&
        (rc = decode_services_exist(ctx, "services", &b->services, services)) != OK)
        return rc;
    if (b->environments != NULL && !fielderr_has(&ctx->fe, "environments") &&
        (rc = integrations_envs(ctx, json_object_get(obj, "environments"))) != OK)
        return rc;
    return http_fields_ok(ctx);
}

/* The stored form of a checked body. */
static enum outcome
integrations_set(const struct integrations_body *b, const char *services,
                 struct db_integration_set *s, char **envs)
{
    *envs = b->environments ? json_dumps(b->environments, JSON_COMPACT) : strdup("{}");
    *s = (struct db_integration_set){b->name,   b->kind, b->model ? b->model : "normal",
                                     services,  *envs,   b->default_duration_s,
                                     b->enabled};
    return *envs ? OK : ERR_INTERNAL;
}

/* A fresh link key and secret for kind; *doc gains `url` and `secret`
 * (shown once), hash is the key's SHA-256 to store. */
static void
integrations_credentials(const char *kind, char key[SEC_TOKEN_LEN], char hash[SEC_HEX256_LEN],
                         char secret[SEC_TOKEN_LEN])
{
    sec_token("hk_", key);
    sec_sha256_hex(key, strlen(key), hash);
    if (strcmp(kind, "generic") == 0)
        sec_webhook_secret(secret);
    else
        sec_token("", secret);
}

static void
integrations_reveal(json_t *doc, const char *key, const char *secret)
{
    char url[512];

    snprintf(url, sizeof url, "%s/hooks/%s", config->base_url, key);
    json_object_set_new(doc, "url", json_string(url));
    json_object_set_new(doc, "secret", json_string(secret));
}

enum outcome
api_integrations_create(struct http_ctx *ctx)
{
    struct integrations_body b = {.default_duration_s = 3600, .enabled = true};
    struct db_integration_set set;
    char key[SEC_TOKEN_LEN], hash[SEC_HEX256_LEN], secret[SEC_TOKEN_LEN];
    char *services = NULL, *envs = NULL;
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    (void)decode_body(ctx, body, integrations_create_fields,
                      DECODE_NFIELDS(integrations_create_fields), &b, NULL);
    if ((rc = integrations_check(ctx, body, &b, &services)) != OK ||
        (rc = integrations_set(&b, services, &set, &envs)) != OK)
        goto out;
    integrations_credentials(b.kind, key, hash, secret);
    if ((rc = db_integration_create(ctx->db, http_actor(ctx), ctx->user.id, &set, hash, secret,
                                    &doc)) != OK)
        goto out;
    integrations_reveal(doc, key, secret);
    http_add_header(ctx, "Location", "/api/v1/integrations/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    sec_wipe(key, sizeof key);
    sec_wipe(secret, sizeof secret);
    free(services);
    free(envs);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_integrations_list(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "integrations", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_integration_list(ctx->db, after, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "integrations", "id"));
    return OK;
}

/* The integration of the path must exist (404), then the caller's role;
 * with live, a deleted one is not found either. */
static enum outcome
integrations_load(struct http_ctx *ctx, bool live, int64_t *id, json_t **doc)
{
    enum outcome rc;

    *doc = NULL;
    if (!decode_id(http_param(ctx, 0), NULL, id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such integration");
    rc = db_integration_get(ctx->db, *id, doc);
    if (rc == OK && live && !json_is_null(json_object_get(*doc, "deleted_at")))
        rc = ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such integration");
    if (rc != OK)
        return rc;
    return http_authorize(ctx);
}

enum outcome
api_integrations_get(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = integrations_load(ctx, false, &id, &doc)) == OK) {
        http_reply(ctx, 200, doc);
        doc = NULL;
    }
    json_decref(doc);
    return rc;
}

/* The writable settings of a stored integration, as a request gives them. */
static json_t *
integrations_as_input(const json_t *doc)
{
    static const char *const keys[] = {
        "name", "model", "services", "environments", "default_duration_s", "enabled"};
    json_t *in = json_object();
    size_t i;

    for (i = 0; in != NULL && i < sizeof keys / sizeof keys[0]; i++)
        json_object_set(in, keys[i], json_object_get(doc, keys[i]));
    return in;
}

enum outcome
api_integrations_update(struct http_ctx *ctx)
{
    struct integrations_body b = {.default_duration_s = 3600};
    struct db_integration_set set;
    char *services = NULL, *envs = NULL, *changed = NULL;
    json_t *patch = NULL, *doc = NULL, *after = NULL, *names = json_array();
    const char *k;
    json_t *v;
    int64_t id;
    enum outcome rc;

    if ((rc = integrations_load(ctx, true, &id, &doc)) != OK ||
        (rc = http_body(ctx, false, &patch)) != OK)
        goto out;
    if ((after = integrations_as_input(doc)) == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    /* the settings as patched, decoded whole: a field is named as the
     * patch names it, and kind (never changed) is not one of them */
    decode_merge_patch(after, patch);
    (void)decode_body(ctx, after, integrations_update_fields,
                      DECODE_NFIELDS(integrations_update_fields), &b, NULL);
    if ((rc = integrations_check(ctx, after, &b, &services)) != OK ||
        (rc = integrations_set(&b, services, &set, &envs)) != OK)
        goto out;
    json_object_foreach(patch, k, v) json_array_append_new(names, json_string(k));
    if ((changed = json_dumps(names, JSON_COMPACT)) == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    json_decref(doc);
    doc = NULL;
    rc = db_integration_update(ctx->db, http_actor(ctx), id, &set, changed, &doc);
    if (rc == ERR_NOT_FOUND)
        rc = http_fail(ctx, rc, "no such integration");
    if (rc == OK) {
        http_reply(ctx, 200, doc);
        doc = NULL;
    }
out:
    free(services);
    free(envs);
    free(changed);
    json_decref(names);
    json_decref(after);
    json_decref(patch);
    json_decref(doc);
    return rc;
}

enum outcome
api_integrations_delete(struct http_ctx *ctx)
{
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = integrations_load(ctx, true, &id, &doc)) == OK &&
        (rc = db_integration_delete(ctx->db, http_actor(ctx), id)) == OK)
        http_reply(ctx, 204, NULL);
    json_decref(doc);
    return rc;
}

struct integrations_rotate_body {
    int64_t grace_s;
};
static const struct decode_field integrations_rotate_fields[] = {
    {"grace_s", DECODE_INT, offsetof(struct integrations_rotate_body, grace_s), false, 0, 604800,
     NULL, "0 to 604800 seconds"},
};

enum outcome
api_integrations_rotate(struct http_ctx *ctx)
{
    struct integrations_rotate_body b = {0};
    char key[SEC_TOKEN_LEN], hash[SEC_HEX256_LEN], secret[SEC_TOKEN_LEN];
    json_t *doc = NULL, *body = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = integrations_load(ctx, true, &id, &doc)) != OK ||
        (rc = http_body(ctx, true, &body)) != OK ||
        (rc = decode_body(ctx, body, integrations_rotate_fields,
                          DECODE_NFIELDS(integrations_rotate_fields), &b, NULL)) != OK)
        goto out;
    integrations_credentials(json_string_value(json_object_get(doc, "kind")), key, hash, secret);
    json_decref(doc);
    doc = NULL;
    rc = db_integration_rotate(ctx->db, http_actor(ctx), id, hash, secret, b.grace_s, &doc);
    if (rc == ERR_NOT_FOUND)
        rc = http_fail(ctx, rc, "no such integration");
    if (rc == OK) {
        integrations_reveal(doc, key, secret);
        http_reply(ctx, 200, doc);
        doc = NULL;
    }
out:
    sec_wipe(key, sizeof key);
    sec_wipe(secret, sizeof secret);
    json_decref(body);
    json_decref(doc);
    return rc;
}

enum outcome
api_integrations_deliveries(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t id, before = 0;
    json_t *items = NULL, *doc = NULL;
    enum outcome rc;
    int limit;

    if ((rc = integrations_load(ctx, false, &id, &doc)) != OK ||
        (rc = http_paging(ctx, "hook-deliveries", &limit, cursor, sizeof cursor)) != OK)
        goto out;
    if (cursor[0] && !decode_id(cursor, NULL, &before)) {
        rc = http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
        goto out;
    }
    if ((rc = db_integration_deliveries(ctx->db, id, before, limit + 1, &items)) == OK)
        http_reply(ctx, 200, http_page(items, limit, "hook-deliveries", "id"));
out:
    json_decref(doc);
    return rc;
}
