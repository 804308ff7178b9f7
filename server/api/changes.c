/* Changes: raised by anyone, edited by their owner or a manager until they
 * start (lifecycle.c's table says when), listed and searched by anyone.
 * Each handler decodes the request, loads the change, asks domain/ what
 * follows, stores it in one transaction (db_tx) and renders the reply. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/assess.h"
#include "api/decode.h"
#include "db/db_change.h"
#include "db/db_service.h"
#include "db/db_workflow.h"
#include "domain/decision.h"
#include "domain/validate.h"
#include "sec/sec.h"

/* A change's writable fields as a request gives them. */
struct changes_body {
    const char *title;
    const char *description;
    const char *model;
    struct decode_names services;
    struct decode_window window;
    const char *business_impact;
    const char *implementation_plan;
    const char *backout_plan;
    const char *test_plan;
    const char *external_ref;
};

/* Types and characters only: the rules of the content are
 * change_validate's. Text of several lines is stored with LF line ends. */
/* clang-format off */
#define CHANGES_FIELD(name, type) \
    {#name, type, offsetof(struct changes_body, name), false, 0, CHANGE_TEXT_MAX, NULL, NULL}
/* clang-format on */
static const struct decode_field changes_fields[] = {
    CHANGES_FIELD(title, DECODE_LINE),
    CHANGES_FIELD(description, DECODE_TEXT),
    CHANGES_FIELD(model, DECODE_LINE),
    {"services", DECODE_NAMES, offsetof(struct changes_body, services), false, 0, 0, NULL, NULL},
    {"window", DECODE_WINDOW, offsetof(struct changes_body, window), false, 0, 0, NULL, NULL},
    CHANGES_FIELD(business_impact, DECODE_LINE),
    CHANGES_FIELD(implementation_plan, DECODE_TEXT),
    CHANGES_FIELD(backout_plan, DECODE_TEXT),
    CHANGES_FIELD(test_plan, DECODE_TEXT),
    CHANGES_FIELD(external_ref, DECODE_LINE),
};
#define CHANGES_NFIELDS (sizeof changes_fields / sizeof changes_fields[0])

/* A change decoded from JSON: the content (borrowing from the JSON), and the
 * forms the database takes. */
struct changes_input {
    struct changes_body body;
    struct change_content content;
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
    memset(in, 0, sizeof *in);
}

/* Names every service of the list that does not exist. */
static enum outcome
changes_services_exist(struct http_ctx *ctx, struct changes_input *in)
{
    json_t *missing = NULL;
    enum outcome rc;
    size_t i;

    if (in->content.nservices == 0)
        return OK;
    if ((rc = db_service_missing(ctx->db, in->services_json, &missing)) != OK)
        return rc;
    for (i = 0; i < json_array_size(missing); i++) {
        size_t at = (size_t)json_integer_value(json_array_get(missing, i));
        char field[48];

        snprintf(field, sizeof field, "services[%zu]", at);
        http_field(ctx, field, "no service is named %s", in->content.services[at]);
    }
    json_decref(missing);
    return OK;
}

/* The content of a decoded body (absent text is ""; model defaults to
 * normal). */
static enum outcome
changes_content(struct changes_input *in)
{
    const struct changes_body *b = &in->body;
    struct change_content *c = &in->content;
    size_t i;

    c->title = b->title;
    c->description = b->description ? b->description : "";
    c->model = b->model ? b->model : "normal";
    c->business_impact = b->business_impact;
    c->implementation_plan = b->implementation_plan ? b->implementation_plan : "";
    c->backout_plan = b->backout_plan ? b->backout_plan : "";
    c->test_plan = b->test_plan ? b->test_plan : "";
    snprintf(c->window_start, sizeof c->window_start, "%s", b->window.start);
    snprintf(c->window_end, sizeof c->window_end, "%s", b->window.end);
    if (b->services.n > 0) {
        if ((in->services = calloc(b->services.n, sizeof *in->services)) == NULL)
            return ERR_INTERNAL;
        for (i = 0; i < b->services.n; i++)
            in->services[i] = json_string_value(json_array_get(b->services.list, i));
    }
    c->services = in->services;
    c->nservices = b->services.n;
    in->services_json = b->services.n ? json_dumps(b->services.list, JSON_COMPACT) : strdup("[]");
    return in->services_json ? OK : ERR_INTERNAL;
}

/* Names the model and each service of the content that does not exist. */
static enum outcome
changes_refs_exist(struct http_ctx *ctx, struct changes_input *in)
{
    enum outcome rc;

    if (validate_slug(in->content.model) &&
        (rc = db_change_model_exists(ctx->db, in->content.model)) != OK) {
        if (rc != ERR_NOT_FOUND)
            return rc;
        http_field(ctx, "model", "no change model is named %s", in->content.model);
    }
    if (!fielderr_has(&ctx->fe, "services"))
        return changes_services_exist(ctx, in);
    return OK;
}

/* Decodes and validates a whole change (a create body, or a change with a
 * merge patch applied), including that its model and services exist; every
 * field at fault is named in one reply. With refs_later, a body with no
 * other fault leaves the model and services to the statement that stores
 * it (their foreign keys; changes_stored_refs names them if it fails). */
static enum outcome
changes_decode(struct http_ctx *ctx, json_t *obj, struct changes_input *in, bool refs_later)
{
    enum outcome rc;

    (void)decode_body(ctx, obj, changes_fields, CHANGES_NFIELDS, &in->body, NULL);
    if ((rc = changes_content(in)) != OK)
        return rc;
    if (in->body.external_ref != NULL &&
        !validate_text(in->body.external_ref, 1, CHANGE_EXTERNAL_REF_MAX))
        http_field(ctx, "external_ref", "1 to %d characters", CHANGE_EXTERNAL_REF_MAX);
    (void)change_validate(&in->content, &ctx->fe);
    if ((!refs_later || ctx->fe.n > 0) && (rc = changes_refs_exist(ctx, in)) != OK)
        return rc;
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    change_canonical(&in->content, &in->canonical);
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
    out->external_ref =
        in->body.external_ref && in->body.external_ref[0] ? in->body.external_ref : NULL;
    out->content_hash = in->hash;
    out->canonical = in->canonical.buf;
}

/* The id of the change the path names ("42" or "CHG-42"). */
static enum outcome
changes_path_id(struct http_ctx *ctx, int64_t *id)
{
    if (!decode_id(http_param(ctx, 0), "CHG-", id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    return OK;
}

enum outcome
api_changes_get(struct http_ctx *ctx)
{
    struct change ch = {0};
    json_t *doc = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = changes_path_id(ctx, &id)) != OK)
        return rc;
    rc = db_change_load(ctx->db, id, ctx->user.id, false, &ch, &doc);
    if (rc == ERR_NOT_FOUND)
        rc = http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    if (rc == OK)
        rc = api_change_reply(ctx, 200, &ch, doc);
    change_clear(&ch);
    return rc;
}

/* ---- create ---------------------------------------------------------- */

struct changes_create {
    struct http_ctx *ctx;
    const char *key; /* Idempotency-Key, or NULL */
    char req_hash[SEC_HEX256_LEN];
    struct changes_input in;
    struct db_change_content dc;
    struct change ch;
    json_t *reply;
    char location[64];
};

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

/* The key's request hash; OK with *replayed when the key was seen. With
 * check_only nothing is replayed: a key seen with this body is fine, one
 * seen with another is the same 422 as for a create. */
static enum outcome
changes_idempotency(struct http_ctx *ctx, const json_t *body, struct changes_create *s,
                    bool check_only, bool *replayed)
{
    char *canon, stored[65], *location = NULL, *response = NULL;
    int status = 0;
    enum outcome rc;

    *replayed = false;
    if (s->key == NULL)
        return OK;
    if (!validate_text(s->key, 1, 255) || strlen(s->key) > 255) {
        http_field(ctx, "Idempotency-Key", "must be 1 to 255 characters");
        return http_fields_ok(ctx);
    }
    if ((canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
        return ERR_INTERNAL;
    sec_sha256_hex(canon, strlen(canon), s->req_hash);
    free(canon);
    if (!check_only) {
        rc = changes_replay(ctx, s->key, s->req_hash);
        *replayed = rc != ERR_NOT_FOUND;
        return rc == ERR_NOT_FOUND ? OK : rc;
    }
    rc = db_idem_get(ctx->db, ctx->user.id, s->key, stored, &status, &location, &response);
    free(location);
    free(response);
    if (rc == OK && strcmp(stored, s->req_hash) != 0) {
        http_field(ctx, "Idempotency-Key", "was used before with another body");
        return http_fail(ctx, ERR_INVALID, "this Idempotency-Key was used for a different request");
    }
    return rc == ERR_NOT_FOUND ? OK : rc;
}

/* Creates the draft (one statement) and, with a key, stores the response
 * to replay in the same transaction. */
static enum outcome
changes_create_step(struct db *db, void *arg)
{
    struct changes_create *s = arg;
    struct http_ctx *ctx = s->ctx;
    char gate[SEC_TOKEN_LEN], *text = NULL;
    json_t *doc = NULL;
    enum outcome rc;

    change_clear(&s->ch);
    json_decref(s->reply);
    s->reply = NULL;
    sec_token("gt_", gate);
    if ((rc = db_change_create(db, ctx->user.id, ctx->user.token_id ? "api" : "web", &s->dc, gate,
                               &s->ch, &doc)) != OK)
        return rc;
    if ((s->reply = api_change_doc(ctx, &s->ch, doc)) == NULL)
        return ERR_INTERNAL;
    snprintf(s->location, sizeof s->location, "/api/v1/changes/%lld", (long long)s->ch.id);
    if (s->key == NULL)
        return OK;
    if ((text = json_dumps(s->reply, JSON_COMPACT)) == NULL)
        return ERR_INTERNAL;
    rc = db_idem_put(db, ctx->user.id, s->key, s->req_hash, 201, s->location, text);
    free(text);
    return rc;
}

/* validate=only: *only when given so; any other value is 400. */
static enum outcome
changes_validate_param(struct http_ctx *ctx, bool *only)
{
    char buf[16];
    int got = http_query(ctx, "validate", buf, sizeof buf);

    *only = got == 1 && strcmp(buf, "only") == 0;
    if (got == 0 || *only)
        return OK;
    http_field(ctx, "validate", "must be only");
    return http_fail(ctx, ERR_MALFORMED, "validate must be only (or left out)");
}

/* The 409 of an external_ref that an open change already has. */
static enum outcome
changes_ref_taken(struct http_ctx *ctx, const char *ref)
{
    http_field(ctx, "external_ref", "an active change already has this reference");
    return http_fail(ctx, ERR_CONFLICT, "an active change already has external_ref %s", ref);
}

/* The 409 a store would meet: an open change already has the
 * external_ref (the unique index's own rule, read). */
static enum outcome
changes_external_ref_free(struct http_ctx *ctx, const struct changes_input *in, int64_t self)
{
    const char *ref = in->body.external_ref;
    enum outcome rc;

    if (ref == NULL || ref[0] == '\0')
        return OK;
    if ((rc = db_change_external_ref_open(ctx->db, ref, self)) == ERR_NOT_FOUND)
        return OK;
    if (rc != OK)
        return rc;
    return changes_ref_taken(ctx, ref);
}

/* A unique violation: the external_ref is taken, or the key committed
 * first in another request. */
static enum outcome
changes_create_conflict(struct http_ctx *ctx, struct changes_create *s)
{
    if (strcmp(db_last_constraint(ctx->db), "changes_external_ref_active") == 0)
        return changes_ref_taken(ctx, s->dc.external_ref ? s->dc.external_ref : "");
    if (s->key != NULL)
        return changes_replay(ctx, s->key, s->req_hash);
    return http_fail(ctx, ERR_CONFLICT, "the change could not be stored; try again");
}

/* A store refused by a foreign key: the model or a service named is not
 * (or no longer) there. Each is named; ERR_INVALID as it was otherwise. */
static enum outcome
changes_stored_refs(struct http_ctx *ctx, struct changes_input *in)
{
    enum outcome rc;

    if ((rc = changes_refs_exist(ctx, in)) != OK)
        return rc;
    return ctx->fe.n > 0 ? http_fields_ok(ctx) : ERR_INVALID;
}

/* POST /changes?validate=only: every check of a create, by reads; nothing
 * is stored. */
static enum outcome
changes_create_check(struct http_ctx *ctx)
{
    struct changes_create s = {.ctx = ctx, .key = http_header(ctx, "Idempotency-Key")};
    json_t *body = NULL;
    bool replayed = false;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) == OK &&
        (rc = changes_idempotency(ctx, body, &s, true, &replayed)) == OK &&
        (rc = changes_decode(ctx, body, &s.in, false)) == OK &&
        (rc = changes_external_ref_free(ctx, &s.in, 0)) == OK)
        http_reply(ctx, 200, json_pack("{s:b}", "valid", 1));
    changes_input_free(&s.in);
    json_decref(body);
    return rc;
}

enum outcome
api_changes_create(struct http_ctx *ctx)
{
    struct changes_create s = {.ctx = ctx, .key = http_header(ctx, "Idempotency-Key")};
    json_t *body = NULL;
    bool replayed = false, only;
    enum outcome rc;

    if ((rc = changes_validate_param(ctx, &only)) != OK || only)
        return only ? changes_create_check(ctx) : rc;
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = changes_idempotency(ctx, body, &s, false, &replayed)) != OK || replayed ||
        (rc = changes_decode(ctx, body, &s.in, true)) != OK)
        goto out;
    changes_db_content(&s.in, &s.dc);
    /* without a key the create is one statement, its own transaction */
    rc = s.key ? db_tx(ctx->db, changes_create_step, &s) : changes_create_step(ctx->db, &s);
    if (rc == ERR_CONFLICT)
        rc = changes_create_conflict(ctx, &s);
    else if (rc == ERR_INVALID)
        rc = changes_stored_refs(ctx, &s.in);
    else if (rc == OK) {
        http_add_header(ctx, "Location", "%s", s.location);
        http_add_header(ctx, "ETag", "\"%lld\"", (long long)s.ch.rev);
        http_reply(ctx, 201, s.reply);
        s.reply = NULL;
    }
out:
    changes_input_free(&s.in);
    change_clear(&s.ch);
    json_decref(s.reply);
    json_decref(body);
    return rc;
}

enum outcome
api_changes_raise(struct http_ctx *ctx, json_t *body, int64_t user_id, const char *source,
                  struct change *out, json_t **doc)
{
    struct changes_input in = {0};
    struct db_change_content dc;
    char gate[SEC_TOKEN_LEN];
    enum outcome rc;

    if ((rc = changes_decode(ctx, body, &in, false)) == OK) {
        changes_db_content(&in, &dc);
        sec_token("gt_", gate);
        rc = db_change_create(ctx->db, user_id, source, &dc, gate, out, doc);
    }
    changes_input_free(&in);
    return rc;
}

/* ---- edit ------------------------------------------------------------ */

struct changes_edit {
    struct http_ctx *ctx;
    int64_t id;
    bool check_only; /* validate=only: every check, nothing stored */
    json_t *patch;
    json_t *after; /* the stored change with the patch applied; in borrows from it */
    struct changes_input in;
    struct change ch;
    json_t *reply;
};

/* The writable fields of a change as a request would give them. */
static json_t *
changes_as_input(const struct change *ch)
{
    const struct change_content *c = &ch->content;
    json_t *in = json_object(), *services = json_array();
    size_t i;

    if (in == NULL || services == NULL) {
        json_decref(in);
        json_decref(services);
        return NULL;
    }
    for (i = 0; i < c->nservices; i++)
        json_array_append_new(services, json_string(c->services[i]));
    json_object_set_new(in, "title", json_string(c->title));
    json_object_set_new(in, "description", json_string(c->description));
    json_object_set_new(in, "model", json_string(c->model));
    json_object_set_new(in, "services", services);
    if (c->window_start[0])
        json_object_set_new(
            in, "window", json_pack("{s:s, s:s}", "start", c->window_start, "end", c->window_end));
    if (c->business_impact)
        json_object_set_new(in, "business_impact", json_string(c->business_impact));
    json_object_set_new(in, "implementation_plan", json_string(c->implementation_plan));
    json_object_set_new(in, "backout_plan", json_string(c->backout_plan));
    json_object_set_new(in, "test_plan", json_string(c->test_plan));
    if (ch->external_ref)
        json_object_set_new(in, "external_ref", json_string(ch->external_ref));
    return in;
}

/* The names of the fields whose value the patch changes (new reference). */
static json_t *
changes_changed(const json_t *before, const json_t *after)
{
    json_t *names = json_array();
    size_t i;

    for (i = 0; names != NULL && i < CHANGES_NFIELDS; i++) {
        const char *f = changes_fields[i].name;
        const json_t *a = json_object_get(before, f), *b = json_object_get(after, f);

        if (!(a == NULL && b == NULL) && (a == NULL || b == NULL || !json_equal(a, b)))
            json_array_append_new(names, json_string(f));
    }
    return names;
}

/* The patch applied to the stored change, decoded and validated;
 * *changed names what it changes (new reference). */
static enum outcome
changes_patched(struct changes_edit *s, json_t **changed)
{
    struct http_ctx *ctx = s->ctx;
    json_t *before = changes_as_input(&s->ch);
    enum outcome rc;

    *changed = NULL;
    if (json_is_null(json_object_get(s->patch, "title")))
        http_field(ctx, "title", "cannot be cleared");
    if (json_is_null(json_object_get(s->patch, "model")))
        http_field(ctx, "model", "cannot be cleared");
    if (before == NULL || (s->after = json_deep_copy(before)) == NULL) {
        json_decref(before);
        return ERR_INTERNAL;
    }
    decode_merge_patch(s->after, s->patch);
    if ((rc = changes_decode(ctx, s->after, &s->in, false)) == OK &&
        (*changed = changes_changed(before, s->after)) == NULL)
        rc = ERR_INTERNAL;
    json_decref(before);
    return rc;
}

/* Stores the edit; after submit it voids the approvals, re-assesses the
 * change and moves it where the lifecycle says (README "States"). */
static enum outcome
changes_store_edit(struct changes_edit *s, const json_t *changed)
{
    struct http_ctx *ctx = s->ctx;
    struct decision_actor who = {ctx->user.id, ctx->user.roles};
    struct db_transition t = {.action = ACTION_EDIT, .from = s->ch.state};
    struct db_change_content dc;
    struct lifecycle_in in;
    struct lifecycle_out out;
    char *names = json_dumps(changed, JSON_COMPACT), why[160];
    bool hard = false;
    enum outcome rc;

    if (names == NULL)
        return ERR_INTERNAL;
    changes_db_content(&s->in, &dc);
    rc = db_change_update(ctx->db, http_actor(ctx), s->id, s->ch.rev, &dc, names, &s->ch.rev);
    free(names);
    if (rc != OK || t.from == STATE_DRAFT)
        return rc;
    /* assess what the edit made of it (content, model, version) */
    change_clear(&s->ch);
    if ((rc = db_change_load(ctx->db, s->id, ctx->user.id, true, &s->ch, NULL)) != OK ||
        (rc = assess_change(ctx->db, &s->ch, &hard)) != OK)
        return rc;
    decision_lifecycle_in(&s->ch, ACTION_EDIT, &who, &in);
    if ((rc = lifecycle_apply(&in, &out, why, sizeof why)) != OK)
        return http_fail(ctx, rc, "%s", why);
    t.to = out.next;
    return db_workflow_transition(ctx->db, http_actor(ctx), s->id, s->ch.rev, &t, &s->ch.rev);
}

static void
changes_edit_reset(struct changes_edit *s)
{
    changes_input_free(&s->in);
    change_clear(&s->ch);
    json_decref(s->after);
    json_decref(s->reply);
    s->after = s->reply = NULL;
}

/* Load (404), owner or manager (403), If-Match (412), the patch (400, 415,
 * 422), the state (409); an edit that changes nothing stores nothing. */
static enum outcome
changes_edit_step(struct db *db, void *arg)
{
    struct changes_edit *s = arg;
    struct http_ctx *ctx = s->ctx;
    struct decision_actor who = {ctx->user.id, ctx->user.roles};
    struct lifecycle_in in;
    struct lifecycle_out out;
    json_t *changed = NULL, *doc = NULL;
    char why[160], etag[24];
    enum outcome rc, state_rc;

    changes_edit_reset(s);
    ctx->fe.n = 0; /* a rerun starts afresh */
    if ((rc = db_workflow_lock(db, s->id)) != OK ||
        (rc = db_change_load(db, s->id, ctx->user.id, true, &s->ch, NULL)) != OK)
        return rc == ERR_NOT_FOUND ? http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0))
                                   : rc;
    decision_lifecycle_in(&s->ch, ACTION_EDIT, &who, &in);
    if ((state_rc = lifecycle_apply(&in, &out, why, sizeof why)) == ERR_FORBIDDEN)
        return http_fail(ctx, state_rc, "only its owner or a manager may edit a change");
    snprintf(etag, sizeof etag, "%lld", (long long)s->ch.rev);
    if ((rc = http_if_match(ctx, etag)) != OK ||
        (s->patch == NULL && (rc = http_body(ctx, false, &s->patch)) != OK) ||
        (rc = changes_patched(s, &changed)) != OK)
        goto out;
    if (state_rc != OK) {
        rc = http_fail(ctx, state_rc, "%s", why);
        goto out;
    }
    if (s->check_only) {
        rc = changes_external_ref_free(ctx, &s->in, s->id);
        if (rc == OK && (s->reply = json_pack("{s:b}", "valid", 1)) == NULL)
            rc = ERR_INTERNAL;
        goto out;
    }
    if (json_array_size(changed) > 0 && (rc = changes_store_edit(s, changed)) != OK)
        goto out;
    change_clear(&s->ch);
    if ((rc = db_change_load(db, s->id, ctx->user.id, false, &s->ch, &doc)) == OK &&
        (s->reply = api_change_doc(ctx, &s->ch, doc)) == NULL)
        rc = ERR_INTERNAL;
out:
    json_decref(changed);
    return rc;
}

enum outcome
api_changes_update(struct http_ctx *ctx)
{
    struct changes_edit s = {.ctx = ctx};
    enum outcome rc;

    if ((rc = changes_path_id(ctx, &s.id)) != OK ||
        (rc = changes_validate_param(ctx, &s.check_only)) != OK)
        return rc;
    rc = db_tx(ctx->db, changes_edit_step, &s);
    if (rc == ERR_NOT_FOUND && ctx->detail[0] == '\0')
        rc = http_fail(ctx, ERR_CONFLICT, "the change kept changing; try again");
    if (rc == ERR_CONFLICT && ctx->detail[0] == '\0' &&
        strcmp(db_last_constraint(ctx->db), "changes_external_ref_active") == 0)
        rc = changes_ref_taken(ctx, s.in.body.external_ref ? s.in.body.external_ref : "");
    if (rc == OK && s.check_only) {
        http_reply(ctx, 200, s.reply);
        s.reply = NULL;
    } else if (rc == OK) {
        http_add_header(ctx, "ETag", "\"%lld\"", (long long)s.ch.rev);
        http_reply(ctx, 200, s.reply);
        s.reply = NULL;
    }
    changes_edit_reset(&s);
    json_decref(s.patch);
    return rc;
}

/* ---- list ------------------------------------------------------------ */

/* A query parameter that must be an RFC 3339 time, normalised into out. */
static void
changes_time_param(struct http_ctx *ctx, const char *name, char *out, const char **set)
{
    char buf[64];
    int got = http_query(ctx, name, buf, sizeof buf);

    *set = NULL;
    if (got == 0)
        return;
    if (got < 0 || timefmt_normalize(buf, out) != OK) {
        http_field(ctx, name, "must be an RFC 3339 date-time");
        return;
    }
    *set = out;
}

/* state=a,b: each a state, else a field error listing the states. */
static void
changes_state_param(struct http_ctx *ctx, char *state, size_t size, const char **set)
{
    char copy[256], *save = NULL, *tok, names[160] = "";
    int i;

    *set = NULL;
    if (http_query(ctx, "state", state, size) == 0)
        return;
    for (i = 0; i < STATE_COUNT; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 lifecycle_state_name((enum change_state)i));
    snprintf(copy, sizeof copy, "%s", state);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (lifecycle_state_parse(tok) < 0)
            http_field(ctx, "state", "%s is not a state; the states are %s", tok, names);
    *set = state;
}

/* The filters of a search, each checked. */
struct changes_query {
    struct db_change_filter f;
    char state[256], model[80], service[80], q[256], requester[256];
    char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
};

static void
changes_filters(struct http_ctx *ctx, struct changes_query *cq)
{
    struct db_change_filter *f = &cq->f;

    changes_state_param(ctx, cq->state, sizeof cq->state, &f->states);
    if (http_query(ctx, "model", cq->model, sizeof cq->model) != 0) {
        if (!validate_slug(cq->model))
            http_field(ctx, "model", "must be a model name");
        f->model = cq->model;
    }
    if (http_query(ctx, "service", cq->service, sizeof cq->service) != 0) {
        if (!validate_slug(cq->service))
            http_field(ctx, "service", "must be a service name");
        f->service = cq->service;
    }
    changes_time_param(ctx, "from", cq->from, &f->from);
    changes_time_param(ctx, "to", cq->to, &f->to);
    switch (http_query(ctx, "q", cq->q, sizeof cq->q)) {
    case -1: http_field(ctx, "q", "at most 255 bytes"); break;
    case 1: f->q = cq->q[0] ? cq->q : NULL; break;
    default: break;
    }
    if (http_query(ctx, "requester", cq->requester, sizeof cq->requester) == 1 && cq->requester[0])
        f->requester = cq->requester;
    if (f->from && f->to && strcmp(f->from, f->to) >= 0)
        http_field(ctx, "to", "must be after from");
}

enum outcome
api_changes_list(struct http_ctx *ctx)
{
    struct changes_query cq = {0};
    struct db_change_rows rows = {0};
    json_t *items = NULL;
    char cursor[32], view[8] = "";
    int limit;
    size_t i;
    enum outcome rc;

    if ((rc = http_paging(ctx, "changes", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    cq.f.limit = limit + 1;
    if (cursor[0] && !decode_id(cursor, NULL, &cq.f.before))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    changes_filters(ctx, &cq);
    if (http_query(ctx, "view", view, sizeof view) != 0 && strcmp(view, "rows") != 0)
        http_field(ctx, "view", "must be rows (compact rows) or absent (whole changes)");
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    if (view[0]) {
        if ((rc = db_change_list_rows(ctx->db, &cq.f, ctx->user.id, &items)) == OK)
            http_reply(ctx, 200, http_page(items, limit, "changes", "id"));
        return rc;
    }
    if ((rc = db_change_list(ctx->db, &cq.f, ctx->user.id, &rows)) != OK)
        return rc;
    if ((items = json_array()) == NULL)
        rc = ERR_INTERNAL;
    for (i = 0; rc == OK && i < rows.n; i++)
        if (json_array_append_new(items, api_change_doc(ctx, &rows.rows[i],
                                                        json_incref(json_array_get(rows.docs, i)))))
            rc = ERR_INTERNAL;
    db_change_rows_free(&rows);
    if (rc != OK) {
        json_decref(items);
        return rc;
    }
    http_reply(ctx, 200, http_page(items, limit, "changes", "id"));
    return OK;
}
