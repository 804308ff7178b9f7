/* The change workflow: submit (with the impact assessment), start, complete,
 * close, cancel, and signed decisions. Every action runs the same steps in
 * the check order of README "States": the change exists (404), the caller
 * may act (403), If-Match (412), the body (400/413/415/422), the state
 * (409); then it is stored in one transaction (db_tx) and the change is
 * rendered. The rules are domain/'s lifecycle, decision, risk and policy. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/assess.h"
#include "api/decode.h"
#include "db/db_change.h"
#include "db/db_key.h"
#include "db/db_workflow.h"
#include "domain/decision.h"
#include "domain/statement.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define WORKFLOW_SKEW_SECONDS 300

struct workflow_step;
/* What an action does once the change is loaded, the caller allowed and
 * the body decoded: decide (409 and the like) and store. */
typedef enum outcome (*workflow_act)(struct workflow_step *s);

struct workflow_step {
    struct http_ctx *ctx;
    enum change_action action;
    const struct decode_field *fields;
    size_t nfields;
    void *body; /* the decoded body: a struct of body_size bytes */
    size_t body_size;
    workflow_act act;

    int64_t id;
    json_t *json; /* the request body */
    struct decision_actor who;
    struct change ch; /* locked */
    struct lifecycle_in in;
    struct lifecycle_out out;
    enum outcome state_rc; /* lifecycle_apply's answer */
    char why[160];
    json_t *reply;
};

static void
workflow_reset(struct workflow_step *s)
{
    change_clear(&s->ch);
    json_decref(s->reply);
    s->reply = NULL;
    memset(s->body, 0, s->body_size);
}

/* Asks the lifecycle again (the body may change the question). */
static void
workflow_apply(struct workflow_step *s)
{
    s->state_rc = lifecycle_apply(&s->in, &s->out, s->why, sizeof s->why);
}

static enum outcome
workflow_state(struct workflow_step *s)
{
    return s->state_rc == OK ? OK : http_fail(s->ctx, s->state_rc, "%s", s->why);
}

/* Stores the move the lifecycle decided, with what t adds; 409 when the
 * state does not allow it. */
static enum outcome
workflow_move(struct workflow_step *s, struct db_transition *t)
{
    struct http_ctx *ctx = s->ctx;

    if (s->state_rc != OK)
        return workflow_state(s);
    t->action = s->in.action;
    t->from = s->ch.state;
    t->to = s->out.next;
    return db_workflow_transition(ctx->db, http_actor(ctx), s->id, s->ch.rev, t, &s->ch.rev);
}

static enum outcome
workflow_step_run(struct db *db, void *arg)
{
    struct workflow_step *s = arg;
    struct http_ctx *ctx = s->ctx;
    json_t *doc = NULL;
    char etag[24];
    enum outcome rc;

    workflow_reset(s);
    ctx->fe.n = 0; /* a rerun starts afresh */
    if ((rc = db_workflow_lock(db, s->id)) != OK ||
        (rc = db_change_load(db, s->id, ctx->user.id, true, &s->ch, NULL)) != OK)
        return rc == ERR_NOT_FOUND ? http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0))
                                   : rc;
    decision_lifecycle_in(&s->ch, s->action, &s->who, &s->in);
    workflow_apply(s);
    if (s->state_rc == ERR_FORBIDDEN)
        return workflow_state(s);
    snprintf(etag, sizeof etag, "%lld", (long long)s->ch.rev);
    if ((rc = http_if_match(ctx, etag)) != OK ||
        (s->json == NULL && (rc = http_body(ctx, true, &s->json)) != OK) ||
        (rc = decode_body(ctx, s->json, s->fields, s->nfields, s->body, NULL)) != OK ||
        (rc = s->act(s)) != OK)
        return rc;
    change_clear(&s->ch);
    if ((rc = db_change_load(db, s->id, ctx->user.id, false, &s->ch, &doc)) == OK &&
        (s->reply = api_change_doc(ctx, &s->ch, doc)) == NULL)
        rc = ERR_INTERNAL;
    return rc;
}

/* Runs an action on the change of the path and replies with it. */
static enum outcome
workflow_run(struct workflow_step *s)
{
    struct http_ctx *ctx = s->ctx;
    enum outcome rc;

    s->who = (struct decision_actor){ctx->user.id, ctx->user.roles};
    if (!decode_id(http_param(ctx, 0), "CHG-", &s->id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_tx(ctx->db, workflow_step_run, s);
    if (rc == OK) {
        http_add_header(ctx, "ETag", "\"%lld\"", (long long)s->ch.rev);
        http_reply(ctx, 200, s->reply);
        s->reply = NULL;
    }
    workflow_reset(s);
    json_decref(s->json);
    return rc;
}

#define WORKFLOW_STEP(ctx_, action_, fields_, body_, act_)                                         \
    {                                                                                              \
        .ctx = (ctx_), .action = (action_), .fields = (fields_),                                   \
        .nfields = sizeof(fields_) / sizeof((fields_)[0]), .body = (body_),                        \
        .body_size = sizeof *(body_), .act = (act_)                                                \
    }

/* ---- submit ---------------------------------------------------------- */

struct workflow_nobody {
    int unused;
};

static enum outcome
workflow_submit(struct workflow_step *s)
{
    struct db_transition t = {0};
    bool hard = false;
    enum outcome rc;

    if ((rc = workflow_state(s)) != OK)
        return rc;
    if (!decision_submit_ready(&s->ch, (int64_t)time(NULL), &s->ctx->fe))
        return http_fields_ok(s->ctx);
    if ((rc = assess_change(s->ctx->db, &s->ch, &hard)) != OK)
        return rc;
    s->in.level = s->ch.level;
    workflow_apply(s);
    return workflow_move(s, &t);
}

enum outcome
api_changes_submit(struct http_ctx *ctx)
{
    struct workflow_nobody b;
    struct workflow_step s = {.ctx = ctx,
                              .action = ACTION_SUBMIT,
                              .body = &b,
                              .body_size = sizeof b,
                              .act = workflow_submit};

    return workflow_run(&s);
}

/* ---- start ----------------------------------------------------------- */

struct workflow_start_body {
    bool retrospective;
    const char *reason;
};
static const struct decode_field workflow_start_fields[] = {
    {"retrospective", DECODE_BOOL, offsetof(struct workflow_start_body, retrospective), false, 0, 0,
     NULL, NULL},
    {"reason", DECODE_TEXT, offsetof(struct workflow_start_body, reason), false, 0, 10000, NULL,
     NULL},
};

static enum outcome
workflow_start(struct workflow_step *s)
{
    const struct workflow_start_body *b = s->body;
    struct db_transition t = {0};

    if (b->retrospective && (b->reason == NULL || !validate_text(b->reason, 1, 10000))) {
        http_field(s->ctx, "reason", "is required to start before approval");
        return http_fields_ok(s->ctx);
    }
    if (b->retrospective) {
        s->in.action = ACTION_START_RETROSPECTIVE;
        workflow_apply(s);
        t.reason = b->reason;
        t.set_flags = true;
        t.flags = CHANGE_UNAUTHORIZED | CHANGE_RETROSPECTIVE;
    }
    return workflow_move(s, &t);
}

enum outcome
api_changes_start(struct http_ctx *ctx)
{
    struct workflow_start_body b;
    struct workflow_step s =
        WORKFLOW_STEP(ctx, ACTION_START, workflow_start_fields, &b, workflow_start);

    return workflow_run(&s);
}

/* ---- complete, close, cancel ----------------------------------------- */

struct workflow_text_body {
    const char *outcome;
    const char *text; /* notes, review or reason */
};
static const char *const workflow_outcomes[] = {"successful", "failed", "rolled_back", NULL};
static const struct decode_field workflow_complete_fields[] = {
    {"outcome", DECODE_ONEOF, offsetof(struct workflow_text_body, outcome), true, 0, 0,
     workflow_outcomes, "successful, failed or rolled_back"},
    {"notes", DECODE_TEXT, offsetof(struct workflow_text_body, text), false, 0, 100000, NULL, NULL},
};
static const struct decode_field workflow_close_fields[] = {
    {"review", DECODE_TEXT, offsetof(struct workflow_text_body, text), true, 1, 100000, NULL,
     "what happened and what was learnt"},
};
static const struct decode_field workflow_cancel_fields[] = {
    {"reason", DECODE_TEXT, offsetof(struct workflow_text_body, text), false, 0, 10000, NULL, NULL},
};

static enum outcome
workflow_complete(struct workflow_step *s)
{
    const struct workflow_text_body *b = s->body;
    struct db_transition t = {.notes = b->text};

    s->in.outcome = (enum change_outcome)lifecycle_outcome_parse(b->outcome);
    t.outcome = s->in.outcome;
    workflow_apply(s);
    return workflow_move(s, &t);
}

static enum outcome
workflow_close(struct workflow_step *s)
{
    const struct workflow_text_body *b = s->body;
    struct db_transition t = {.review = b->text};

    return workflow_move(s, &t);
}

static enum outcome
workflow_cancel(struct workflow_step *s)
{
    const struct workflow_text_body *b = s->body;
    struct db_transition t = {.reason = b->text ? b->text : ""};

    return workflow_move(s, &t);
}

enum outcome
api_changes_complete(struct http_ctx *ctx)
{
    struct workflow_text_body b;
    struct workflow_step s =
        WORKFLOW_STEP(ctx, ACTION_COMPLETE, workflow_complete_fields, &b, workflow_complete);

    return workflow_run(&s);
}

enum outcome
api_changes_close(struct http_ctx *ctx)
{
    struct workflow_text_body b;
    struct workflow_step s =
        WORKFLOW_STEP(ctx, ACTION_CLOSE, workflow_close_fields, &b, workflow_close);

    return workflow_run(&s);
}

enum outcome
api_changes_cancel(struct http_ctx *ctx)
{
    struct workflow_text_body b;
    struct workflow_step s =
        WORKFLOW_STEP(ctx, ACTION_CANCEL, workflow_cancel_fields, &b, workflow_cancel);

    return workflow_run(&s);
}

/* ---- reading --------------------------------------------------------- */

/* Loads the change of the path, unlocked (404 when there is none). */
static enum outcome
workflow_load(struct http_ctx *ctx, struct change *ch, json_t **doc)
{
    enum outcome rc;
    int64_t id;

    if (!decode_id(http_param(ctx, 0), "CHG-", &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_change_load(ctx->db, id, ctx->user.id, false, ch, doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    return rc;
}

enum outcome
api_changes_assessment(struct http_ctx *ctx)
{
    struct change ch = {0};
    json_t *doc = NULL, *a;
    enum outcome rc;

    if ((rc = workflow_load(ctx, &ch, &doc)) != OK)
        goto out;
    a = json_object_get(doc, "assessment");
    if (!json_is_object(a))
        rc = http_fail(ctx, ERR_NOT_FOUND, "the change has not been assessed: submit it");
    else
        http_reply(ctx, 200, json_incref(a));
out:
    change_clear(&ch);
    json_decref(doc);
    return rc;
}

enum outcome
api_approvals_list(struct http_ctx *ctx)
{
    struct change ch = {0};
    json_t *items = NULL;
    enum outcome rc;

    if ((rc = workflow_load(ctx, &ch, NULL)) == OK &&
        (rc = db_workflow_approvals(ctx->db, ch.id, &items)) == OK)
        http_reply(ctx, 200, http_page_all(items));
    change_clear(&ch);
    return rc;
}

/* ---- signed decisions ------------------------------------------------ */

struct workflow_decide_body {
    const char *decision;
    const char *comment;
    int64_t key_id;
    const char *signed_at;
    const char *signature;
    int64_t version;
    const char *content_hash;
};
static const char *const workflow_decisions[] = {"approve", "reject", NULL};
#define WORKFLOW_AT(m) offsetof(struct workflow_decide_body, m)
static const struct decode_field workflow_decide_fields[] = {
    {"decision", DECODE_ONEOF, WORKFLOW_AT(decision), true, 0, 0, workflow_decisions,
     "approve or reject"},
    {"comment", DECODE_TEXT, WORKFLOW_AT(comment), false, 0, 10000, NULL, NULL},
    {"key_id", DECODE_INT, WORKFLOW_AT(key_id), true, 1, INT64_MAX, NULL,
     "the id of one of your keys"},
    {"signed_at", DECODE_LINE, WORKFLOW_AT(signed_at), true, 1, 64, NULL, "YYYY-MM-DDTHH:MM:SSZ"},
    {"signature", DECODE_LINE, WORKFLOW_AT(signature), true, 1, 200, NULL,
     "the base64 Ed25519 signature"},
    {"version", DECODE_INT, WORKFLOW_AT(version), false, 1, INT32_MAX, NULL, NULL},
    {"content_hash", DECODE_LINE, WORKFLOW_AT(content_hash), false, 1, 64, NULL, NULL},
};

struct workflow_decide {
    struct http_ctx *ctx;
    json_t *json; /* the request body, which b borrows from */
    struct workflow_decide_body b;
    struct change signed_ch; /* as it was when the signature was checked */
    struct change ch;        /* locked */
    struct strbuf statement;
    int64_t approval_id;
};

/* The checks of a decision's body that need the change and the key:
 * each fault is a field error. */
static enum outcome
workflow_decide_facts(struct http_ctx *ctx, const struct workflow_decide *d, char *pk,
                      size_t pksize)
{
    const struct workflow_decide_body *b = &d->b;
    int64_t owner = 0, t;
    bool revoked = false;
    enum outcome rc;

    if (b->signed_at && !timefmt_is_normal(b->signed_at))
        http_field(ctx, "signed_at", "is required: YYYY-MM-DDTHH:MM:SSZ");
    else if (b->signed_at && timefmt_parse(b->signed_at, &t) == OK &&
             llabs((long long)(t - (int64_t)time(NULL))) > WORKFLOW_SKEW_SECONDS)
        http_field(ctx, "signed_at", "is more than 5 minutes from the server's clock");
    if (b->key_id > 0) {
        rc = db_key_get(ctx->db, b->key_id, &owner, pk, pksize, &revoked);
        if (rc != OK && rc != ERR_NOT_FOUND)
            return rc;
        if (rc == ERR_NOT_FOUND || owner != ctx->user.id)
            http_field(ctx, "key_id", "is not one of your keys");
        else if (revoked)
            http_field(ctx, "key_id", "is revoked");
    }
    /* a client may say which version it signed, to be told it is stale */
    if (b->version > 0 && b->version != d->signed_ch.version)
        http_field(ctx, "version", "is not the change's current version (%d)",
                   d->signed_ch.version);
    if (b->content_hash && strcmp(b->content_hash, d->signed_ch.content_hash) != 0)
        http_field(ctx, "content_hash", "is not the change's current content hash");
    return http_fields_ok(ctx);
}

/* The statement of README "Signed approvals", verified against the key. */
static enum outcome
workflow_verify(struct http_ctx *ctx, struct workflow_decide *d, const char *pk)
{
    const struct workflow_decide_body *b = &d->b;
    char ref[32];

    snprintf(ref, sizeof ref, "CHG-%lld", (long long)d->signed_ch.id);
    statement_approval(&d->statement, ref, d->signed_ch.version, d->signed_ch.content_hash,
                       b->decision, b->signed_at);
    if (!strbuf_failed(&d->statement) &&
        sec_ed25519_verify(pk, d->statement.buf, d->statement.len, b->signature))
        return OK;
    http_field(ctx, "signature", "does not verify against key %lld for the statement",
               (long long)b->key_id);
    return http_fail(ctx, ERR_INVALID,
                     "the signature does not verify; the statement signed must be: %s",
                     strbuf_str(&d->statement));
}

/* Records the decision and moves the change where it leads. */
static enum outcome
workflow_decide_step(struct db *db, void *arg)
{
    struct workflow_decide *d = arg;
    struct http_ctx *ctx = d->ctx;
    unsigned roles[POLICY_MAX_SLOTS];
    struct decision_in in = {.change = &d->ch, .who = {ctx->user.id, ctx->user.roles}};
    struct decision_out out;
    struct db_facts facts = {0};
    struct db_transition t = {.action = ACTION_DECIDE};
    struct db_decision rec;
    char why[200];
    enum outcome rc;

    change_clear(&d->ch);
    in.approve = strcmp(d->b.decision, "approve") == 0;
    if ((rc = db_workflow_lock(db, d->signed_ch.id)) != OK ||
        (rc = db_change_load(db, d->signed_ch.id, ctx->user.id, true, &d->ch, NULL)) != OK)
        return rc;
    if (d->ch.version != d->signed_ch.version ||
        strcmp(d->ch.content_hash, d->signed_ch.content_hash) != 0)
        return http_fail(ctx, ERR_CONFLICT, "the change moved on while you decided: read it again");
    if (in.approve && d->ch.kind != KIND_EMERGENCY) {
        if ((rc = db_workflow_facts(db, d->ch.id, &facts)) != OK)
            return rc;
        in.hard_frozen = facts.hard_frozen;
        db_facts_free(&facts);
    }
    if ((rc = db_workflow_approvers(db, d->ch.id, d->ch.version, roles, POLICY_MAX_SLOTS - 1,
                                    &in.napprovers)) != OK)
        return rc;
    in.approvers = roles;
    if ((rc = decision_apply(&in, &out, why, sizeof why)) != OK)
        return http_fail(ctx, rc, "%s", why);
    rec.change_id = d->ch.id;
    rec.approver_id = ctx->user.id;
    rec.key_id = d->b.key_id;
    rec.approve = in.approve;
    rec.comment = d->b.comment ? d->b.comment : "";
    rec.version = d->ch.version;
    rec.content_hash = d->ch.content_hash;
    rec.signed_at = d->b.signed_at;
    rec.statement = d->statement.buf;
    rec.signature = d->b.signature;
    rec.level = d->ch.level[0] ? d->ch.level : "low";
    rec.policy = &out.policy;
    rec.roles = ctx->user.roles;
    if ((rc = db_workflow_decide(db, &rec, &d->approval_id)) == ERR_CONFLICT)
        return http_fail(ctx, rc, "you have decided on this version already");
    if (rc != OK || (rc = db_workflow_set_have(db, d->ch.id, out.have, &d->ch.rev)) != OK)
        return rc;
    if (out.next == d->ch.state && out.flags == d->ch.flags)
        return OK;
    t.from = d->ch.state;
    t.to = out.next;
    t.set_flags = out.flags != d->ch.flags;
    t.flags = out.flags;
    return db_workflow_transition(db, http_actor(ctx), d->ch.id, d->ch.rev, &t, &d->ch.rev);
}

/* 404, then may this caller decide (403), the body and key (422), the
 * state (409), the signature (422); then the locked change decides. */
static enum outcome
workflow_decide_check(struct http_ctx *ctx, struct workflow_decide *d)
{
    struct decision_actor who = {ctx->user.id, ctx->user.roles};
    char pk[SEC_ED_PUBLIC_B64 + 8], why[160];
    enum outcome rc;

    if ((rc = workflow_load(ctx, &d->signed_ch, NULL)) != OK)
        return rc;
    if ((rc = decision_may(&d->signed_ch, &who, why, sizeof why)) != OK)
        return http_fail(ctx, rc, "%s", why);
    if ((rc = http_body(ctx, false, &d->json)) == OK &&
        (rc = decode_body(ctx, d->json, workflow_decide_fields,
                          sizeof workflow_decide_fields / sizeof workflow_decide_fields[0], &d->b,
                          NULL)) == OK &&
        (rc = workflow_decide_facts(ctx, d, pk, sizeof pk)) == OK) {
        if (!lifecycle_takes_decisions(d->signed_ch.state,
                                       (d->signed_ch.flags & CHANGE_UNAUTHORIZED) != 0))
            rc = http_fail(ctx, ERR_CONFLICT, "a change in state %s takes no decisions",
                           lifecycle_state_name(d->signed_ch.state));
        else
            rc = workflow_verify(ctx, d, pk);
    }
    return rc;
}

enum outcome
api_approvals_create(struct http_ctx *ctx)
{
    struct workflow_decide d = {.ctx = ctx, .statement = STRBUF_INIT};
    json_t *doc = NULL;
    enum outcome rc;

    rc = workflow_decide_check(ctx, &d);
    if (rc == OK && (rc = db_tx(ctx->db, workflow_decide_step, &d)) == OK &&
        (rc = db_workflow_approval(ctx->db, d.approval_id, &doc)) == OK) {
        http_add_header(ctx, "Location", "/api/v1/changes/%lld/approvals/%lld", (long long)d.ch.id,
                        (long long)d.approval_id);
        http_reply(ctx, 201, doc);
    }
    strbuf_free(&d.statement);
    change_clear(&d.signed_ch);
    change_clear(&d.ch);
    json_decref(d.json);
    return rc;
}
