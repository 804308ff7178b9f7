/* Changes: raised by anyone, edited by their owner or a manager until they
 * start, listed and searched by anyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "api/workflow.h"
#include "config.h"
#include "db/db_change.h"
#include "db/db_service.h"
#include "db/db_webhook.h"
#include "db/db_workflow.h"
#include "domain/change.h"
#include "domain/role.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define CHANGES_RETRIES 3

/* What a request may write. */
static const char *const changes_fields[] = {"title",
                                             "description",
                                             "model",
                                             "services",
                                             "window",
                                             "business_impact",
                                             "implementation_plan",
                                             "backout_plan",
                                             "test_plan",
                                             "external_ref",
                                             NULL};

/* A change decoded from JSON: the content (borrowing from the JSON), and the
 * forms the database takes. */
struct changes_input {
    struct change_content content;
    const char *external_ref;
    const char **services;
    char *services_json;
    struct strbuf canonical;
    char hash[SEC_HEX256_LEN];
};

static void
changes_input_free(struct changes_input *in)
{
    free(in->services);
    free(in->services_json);
    strbuf_free(&in->canonical);
}

/* A text field: absent or null is "". */
static const char *
changes_text(struct http_ctx *ctx, const json_t *obj, const char *key)
{
    const char *s = "";

    decode_string(ctx, obj, key, &s);
    return s ? s : "";
}

/* Decodes and validates a whole change (a create body, or the result of a
 * merge patch), including that its model and services exist. */
static enum outcome
changes_decode(struct http_ctx *ctx, const json_t *obj, struct changes_input *in)
{
    struct change_content *c = &in->content;
    const json_t *list = NULL;
    json_t *missing = NULL;
    enum decode_presence p;
    enum outcome rc;
    size_t i, n = 0;

    c->title = NULL;
    if (decode_string(ctx, obj, "title", &c->title) != DECODE_SET)
        c->title = NULL;
    c->description = changes_text(ctx, obj, "description");
    c->implementation_plan = changes_text(ctx, obj, "implementation_plan");
    c->backout_plan = changes_text(ctx, obj, "backout_plan");
    c->test_plan = changes_text(ctx, obj, "test_plan");
    c->model = "normal";
    if (decode_string(ctx, obj, "model", &c->model) == DECODE_NULL)
        c->model = "normal";
    p = decode_string(ctx, obj, "business_impact", &c->business_impact);
    if (p != DECODE_SET)
        c->business_impact = NULL;
    in->external_ref = NULL;
    if (decode_string(ctx, obj, "external_ref", &in->external_ref) == DECODE_SET &&
        !validate_text(in->external_ref, 1, CHANGE_EXTERNAL_REF_MAX))
        http_field(ctx, "external_ref", "1 to %d characters", CHANGE_EXTERNAL_REF_MAX);
    if (in->external_ref != NULL && in->external_ref[0] == '\0')
        in->external_ref = NULL;
    decode_window(ctx, obj, false, c->window_start, c->window_end);

    if (decode_strings(ctx, obj, "services", &list, &n) == DECODE_SET && n > 0) {
        in->services = calloc(n, sizeof *in->services);
        if (in->services == NULL)
            return ERR_INTERNAL;
        for (i = 0; i < n; i++)
            in->services[i] = json_string_value(json_array_get(list, i));
    }
    c->services = in->services;
    c->nservices = in->services ? n : 0;
    (void)change_validate(c, &ctx->fe);
    if (ctx->fe.n > 0)
        return http_fields_ok(ctx);

    rc = db_change_model_exists(ctx->db, c->model);
    if (rc == ERR_NOT_FOUND)
        http_field(ctx, "model", "no change model is named %s", c->model);
    else if (rc != OK)
        return rc;
    in->services_json = list && c->nservices ? json_dumps(list, JSON_COMPACT) : strdup("[]");
    if (in->services_json == NULL)
        return ERR_INTERNAL;
    if (c->nservices > 0) {
        if ((rc = db_service_missing(ctx->db, in->services_json, &missing)) != OK)
            return rc;
        for (i = 0; i < json_array_size(missing); i++) {
            size_t at = (size_t)json_integer_value(json_array_get(missing, i));
            char field[48];

            snprintf(field, sizeof field, "services[%zu]", at);
            http_field(ctx, field, "no service is named %s", c->services[at]);
        }
        json_decref(missing);
    }
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;

    change_canonical(c, &in->canonical);
    if (strbuf_failed(&in->canonical))
        return ERR_INTERNAL;
    sec_sha256_hex(in->canonical.buf, in->canonical.len, in->hash);
    return OK;
}

static void
changes_db_content(const struct changes_input *in, struct db_change_content *out)
{
    const struct change_content *c = &in->content;

    out->title = c->title;
    out->description = c->description;
    out->model = c->model;
    out->services = in->services_json;
    out->win_start = c->window_start[0] ? c->window_start : NULL;
    out->win_end = c->window_start[0] ? c->window_end : NULL;
    out->business_impact = c->business_impact;
    out->implementation_plan = c->implementation_plan;
    out->backout_plan = c->backout_plan;
    out->test_plan = c->test_plan;
    out->external_ref = in->external_ref;
    out->content_hash = in->hash;
    out->canonical = in->canonical.buf;
}

json_t *
api_change_render(const json_t *row)
{
    json_t *doc = json_deep_copy(json_object_get(row, "doc"));
    char url[1024];

    if (doc == NULL)
        return NULL;
    snprintf(url, sizeof url, "%s/gate/%s", config->base_url,
             json_string_value(json_object_get(row, "gate_token")));
    json_object_set_new(doc, "gate_url", json_string(url));
    return doc;
}

static void
changes_etag(struct http_ctx *ctx, const json_t *row)
{
    http_add_header(ctx, "ETag", "\"%lld\"",
                    (long long)json_integer_value(json_object_get(row, "rev")));
}

/* Loads the change named by the path ("42" or "CHG-42"). */
static enum outcome
changes_load(struct http_ctx *ctx, int64_t *id, json_t **row)
{
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), "CHG-", id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_change_get(ctx->db, *id, row);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    return rc;
}

enum outcome
api_changes_get(struct http_ctx *ctx)
{
    json_t *row = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = changes_load(ctx, &id, &row)) != OK)
        return rc;
    changes_etag(ctx, row);
    http_reply(ctx, 200, api_change_render(row));
    json_decref(row);
    return OK;
}

/* Answers a repeated Idempotency-Key: the first response again, or 422 when
 * the body differs. ERR_NOT_FOUND when the key is new. */
static enum outcome
changes_replay(struct http_ctx *ctx, const char *key, const char *hash)
{
    char stored[65], *location = NULL, *response = NULL;
    int status = 0;
    enum outcome rc;

    rc = db_idem_get(ctx->db, ctx->user.id, key, stored, &status, &location, &response);
    if (rc != OK)
        return rc;
    if (strcmp(stored, hash) != 0) {
        http_field(ctx, "Idempotency-Key", "was used before with another body");
        rc = http_fail(ctx, ERR_INVALID, "this Idempotency-Key was used for a different request");
    } else {
        if (location)
            http_add_header(ctx, "Location", "%s", location);
        http_add_header(ctx, "Idempotent-Replayed", "true");
        rc = http_reply_raw(ctx, status, "application/json", response, strlen(response));
    }
    free(location);
    free(response);
    return rc;
}

enum outcome
api_changes_create(struct http_ctx *ctx)
{
    struct changes_input in = {0};
    struct db_change_content dc;
    char gate[SEC_TOKEN_LEN], req_hash[SEC_HEX256_LEN] = "", location[64];
    const char *key = http_header(ctx, "Idempotency-Key");
    json_t *body = NULL, *row = NULL, *doc = NULL;
    char *text = NULL;
    int64_t id = 0;
    enum outcome rc;
    int attempt;

    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    if (key != NULL && (!validate_text(key, 1, 255) || strlen(key) > 255)) {
        http_field(ctx, "Idempotency-Key", "must be 1 to 255 characters");
        rc = http_fields_ok(ctx);
        goto out;
    }
    if (key != NULL) {
        char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        if (canon == NULL) {
            rc = ERR_INTERNAL;
            goto out;
        }
        sec_sha256_hex(canon, strlen(canon), req_hash);
        free(canon);
        if ((rc = changes_replay(ctx, key, req_hash)) != ERR_NOT_FOUND)
            goto out;
    }
    if ((rc = http_known_fields(ctx, body, changes_fields)) != OK ||
        (rc = changes_decode(ctx, body, &in)) != OK)
        goto out;
    changes_db_content(&in, &dc);

    for (attempt = 0; attempt < CHANGES_RETRIES; attempt++) {
        sec_token("gt_", gate);
        if ((rc = db_begin(ctx->db)) != OK)
            goto out;
        rc = db_change_insert(ctx->db, ctx->user.id, ctx->user.token_id ? "api" : "web", &dc, gate,
                              &id);
        if (rc == OK)
            rc = db_webhook_emit_change(ctx->db, "change.created", id, NULL);
        if (rc == OK)
            rc = db_change_get(ctx->db, id, &row);
        if (rc == OK && (doc = api_change_render(row)) == NULL)
            rc = ERR_INTERNAL;
        snprintf(location, sizeof location, "/api/v1/changes/%lld", (long long)id);
        if (rc == OK && key != NULL) {
            text = json_dumps(doc, JSON_COMPACT);
            rc = text ? db_idem_put(ctx->db, ctx->user.id, key, req_hash, 201, location, text)
                      : ERR_INTERNAL;
        }
        if (rc == OK)
            rc = db_commit(ctx->db);
        if (rc == OK)
            break;
        db_rollback(ctx->db);
        json_decref(row);
        json_decref(doc);
        free(text);
        row = doc = NULL;
        text = NULL;
        if (rc == ERR_CONFLICT && key != NULL) {
            /* the same key committed first in another request */
            rc = changes_replay(ctx, key, req_hash);
            goto out;
        }
        if (rc == ERR_CONFLICT &&
            strcmp(db_last_constraint(ctx->db), "changes_external_ref_active") == 0) {
            http_field(ctx, "external_ref", "an active change already has this reference");
            rc = http_fail(ctx, ERR_CONFLICT, "an active change already has external_ref %s",
                           in.external_ref);
            goto out;
        }
        if (rc != ERR_RETRY && rc != ERR_CONFLICT)
            goto out;
    }
    if (rc != OK)
        goto out;
    http_add_header(ctx, "Location", "%s", location);
    changes_etag(ctx, row);
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    changes_input_free(&in);
    free(text);
    json_decref(body);
    json_decref(row);
    json_decref(doc);
    return rc;
}

/* The writable fields of a stored change, as a request would give them. */
static json_t *
changes_as_input(const json_t *doc)
{
    json_t *in = json_object();
    const char *const *f;

    if (in == NULL)
        return NULL;
    for (f = changes_fields; *f; f++) {
        json_t *v = json_object_get(doc, *f);
        if (v != NULL && !json_is_null(v))
            json_object_set(in, *f, v);
    }
    return in;
}

/* The names of the fields whose value the patch changes, as a JSON array. */
static char *
changes_changed(const json_t *before, const json_t *after)
{
    json_t *names = json_array();
    const char *const *f;
    char *text;

    for (f = changes_fields; *f; f++) {
        const json_t *a = json_object_get(before, *f), *b = json_object_get(after, *f);
        if (!(a == NULL && b == NULL) && (a == NULL || b == NULL || !json_equal(a, b)))
            json_array_append_new(names, json_string(*f));
    }
    text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    return text;
}

enum outcome
api_changes_update(struct http_ctx *ctx)
{
    struct changes_input in = {0};
    struct db_change_content dc;
    json_t *row = NULL, *patch = NULL, *before = NULL, *after = NULL;
    char etag[24], *changed = NULL;
    const json_t *doc;
    const char *state;
    int64_t id, rev;
    enum outcome rc = OK;
    int attempt;

    for (attempt = 0; attempt < CHANGES_RETRIES; attempt++) {
        json_decref(row);
        json_decref(before);
        json_decref(after);
        free(changed);
        changes_input_free(&in);
        memset(&in, 0, sizeof in);
        row = before = after = NULL;
        changed = NULL;
        ctx->fe.n = 0;

        if ((rc = changes_load(ctx, &id, &row)) != OK)
            goto out;
        doc = json_object_get(row, "doc");
        rev = json_integer_value(json_object_get(row, "rev"));
        if (json_integer_value(json_object_get(json_object_get(doc, "requester"), "id")) !=
                ctx->user.id &&
            !http_has_role(ctx, ROLE_MANAGER)) {
            rc = http_fail(ctx, ERR_FORBIDDEN, "only its owner or a manager may edit a change");
            goto out;
        }
        snprintf(etag, sizeof etag, "%lld", (long long)rev);
        if ((rc = http_if_match(ctx, etag)) != OK)
            goto out;
        if (patch == NULL && ((rc = http_body(ctx, false, &patch)) != OK ||
                              (rc = http_known_fields(ctx, patch, changes_fields)) != OK))
            goto out;
        if (json_is_null(json_object_get(patch, "title")))
            http_field(ctx, "title", "cannot be cleared");
        if (json_is_null(json_object_get(patch, "model")))
            http_field(ctx, "model", "cannot be cleared");
        if ((rc = http_fields_ok(ctx)) != OK)
            goto out;
        if ((before = changes_as_input(doc)) == NULL || (after = json_deep_copy(before)) == NULL) {
            rc = ERR_INTERNAL;
            goto out;
        }
        decode_merge_patch(after, patch);
        if ((rc = changes_decode(ctx, after, &in)) != OK)
            goto out;
        state = json_string_value(json_object_get(doc, "state"));
        if (strcmp(state, "draft") != 0 && strcmp(state, "awaiting_approval") != 0 &&
            strcmp(state, "approved") != 0) {
            rc = http_fail(ctx, ERR_CONFLICT, "a change in state %s cannot be edited", state);
            goto out;
        }
        if ((changed = changes_changed(before, after)) == NULL) {
            rc = ERR_INTERNAL;
            goto out;
        }
        changes_db_content(&in, &dc);
        if ((rc = db_begin(ctx->db)) != OK)
            goto out;
        rc = db_workflow_lock(ctx->db);
        if (rc == OK)
            rc = db_change_update(ctx->db, http_actor(ctx), id, rev, &dc, changed);
        /* an edit after submit voids the approvals and re-assesses */
        if (rc == OK && strcmp(state, "draft") != 0)
            rc = workflow_reassess_after_edit(ctx, id, rev + 1);
        if (rc == OK)
            rc = db_commit(ctx->db);
        if (rc != OK)
            db_rollback(ctx->db);
        if (rc == ERR_NOT_FOUND && http_header(ctx, "If-Match") != NULL) {
            rc = http_fail(ctx, ERR_PRECONDITION,
                           "the change was changed by someone else meanwhile");
            goto out;
        }
        if (rc != ERR_NOT_FOUND && rc != ERR_RETRY)
            break; /* done, or failed for good */
    }
    if (rc == ERR_NOT_FOUND || rc == ERR_RETRY)
        rc = http_fail(ctx, ERR_CONFLICT, "the change kept changing; try again");
    if (rc != OK)
        goto out;
    json_decref(row);
    row = NULL;
    if ((rc = db_change_get(ctx->db, id, &row)) != OK)
        goto out;
    changes_etag(ctx, row);
    http_reply(ctx, 200, api_change_render(row));
out:
    changes_input_free(&in);
    free(changed);
    json_decref(row);
    json_decref(patch);
    json_decref(before);
    json_decref(after);
    return rc;
}

/* A query parameter that must be an RFC 3339 time, normalised into out. */
static bool
changes_time_param(struct http_ctx *ctx, const char *name, char *out, const char **set)
{
    char buf[64];
    int got = http_query(ctx, name, buf, sizeof buf);

    *set = NULL;
    if (got == 0)
        return true;
    if (got < 0 || timefmt_normalize(buf, out) != OK) {
        http_field(ctx, name, "must be an RFC 3339 date-time");
        return false;
    }
    *set = out;
    return true;
}

enum outcome
api_changes_list(struct http_ctx *ctx)
{
    static const char *const states[] = {"draft",    "awaiting_approval", "approved",
                                         "rejected", "in_progress",       "review",
                                         "closed",   "cancelled",         NULL};
    struct db_change_filter f = {0};
    int limit;
    char cursor[32], state[256], model[80], service[80], q[256], requester[256];
    char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
    json_t *rows = NULL, *items = NULL;
    enum outcome rc;
    size_t i;

    if ((rc = http_paging(ctx, "changes", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    f.limit = limit + 1;
    if (cursor[0] && !decode_id(cursor, NULL, &f.before))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if (http_query(ctx, "state", state, sizeof state) != 0) {
        char copy[256], *save = NULL, *tok;
        snprintf(copy, sizeof copy, "%s", state);
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            if (!validate_oneof(tok, states))
                http_field(ctx, "state", "%s is not a state", tok);
        f.states = state;
    }
    if (http_query(ctx, "model", model, sizeof model) != 0) {
        if (!validate_slug(model))
            http_field(ctx, "model", "must be a model name");
        f.model = model;
    }
    if (http_query(ctx, "service", service, sizeof service) != 0) {
        if (!validate_slug(service))
            http_field(ctx, "service", "must be a service name");
        f.service = service;
    }
    changes_time_param(ctx, "from", from, &f.from);
    changes_time_param(ctx, "to", to, &f.to);
    switch (http_query(ctx, "q", q, sizeof q)) {
    case -1: http_field(ctx, "q", "at most 255 bytes"); break;
    case 1: f.q = q[0] ? q : NULL; break;
    default: break;
    }
    if (http_query(ctx, "requester", requester, sizeof requester) == 1 && requester[0])
        f.requester = requester;
    if (f.from && f.to && strcmp(f.from, f.to) >= 0)
        http_field(ctx, "to", "must be after from");
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    if ((rc = db_change_list(ctx->db, &f, &rows)) != OK)
        return rc;
    if ((items = json_array()) == NULL) {
        json_decref(rows);
        return ERR_INTERNAL;
    }
    for (i = 0; i < json_array_size(rows); i++)
        json_array_append_new(items, api_change_render(json_array_get(rows, i)));
    json_decref(rows);
    http_reply(ctx, 200, http_page(items, limit, "changes", "id"));
    return OK;
}
