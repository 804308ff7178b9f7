/* The change workflow: submit (with the impact assessment), start, complete,
 * close, cancel, and signed decisions. The rules are domain/'s lifecycle,
 * risk and policy; this file gathers facts, applies them and stores the
 * outcome in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/decode.h"
#include "api/workflow.h"
#include "db/db_change.h"
#include "db/db_key.h"
#include "db/db_workflow.h"
#include "domain/lifecycle.h"
#include "domain/policy.h"
#include "domain/risk.h"
#include "domain/role.h"
#include "domain/statement.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define WORKFLOW_SKEW_SECONDS 300

static const char *
workflow_str(const json_t *w, const char *key)
{
    const char *s = json_string_value(json_object_get(w, key));
    return s ? s : "";
}

static bool
workflow_flag(const json_t *w, const char *flag)
{
    const json_t *flags = json_object_get(w, "flags");
    size_t i;

    for (i = 0; i < json_array_size(flags); i++)
        if (strcmp(json_string_value(json_array_get(flags, i)), flag) == 0)
            return true;
    return false;
}

static enum model_kind
workflow_kind(const json_t *w)
{
    int k = lifecycle_kind_parse(workflow_str(w, "kind"));
    return k < 0 ? KIND_NORMAL : (enum model_kind)k;
}

/* The policy at level: the model's override for that level, else the
 * default of its kind. */
static void
workflow_policy(const json_t *w, const char *level, struct policy *p)
{
    const json_t *quotas = json_object_get(json_object_get(w, "model_policy"), level);
    size_t i;

    if (!json_is_array(quotas) || json_array_size(quotas) == 0) {
        policy_default(workflow_kind(w), level, p);
        return;
    }
    memset(p, 0, sizeof *p);
    for (i = 0; i < json_array_size(quotas) && i < POLICY_MAX_QUOTAS; i++) {
        const json_t *q = json_array_get(quotas, i);
        p->quotas[p->nquotas].role = role_bit(workflow_str(q, "role"));
        p->quotas[p->nquotas].count = (int)json_integer_value(json_object_get(q, "count"));
        p->nquotas++;
    }
}

static json_t *
workflow_roles_json(unsigned roles)
{
    static const char *const names[] = {"cab", "ecab", "manager", "admin"};
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (roles & role_bit(names[i]))
            json_array_append_new(list, json_string(names[i]));
    return list;
}

static char *
workflow_policy_text(const char *level, const struct policy *p, const unsigned *roles)
{
    json_t *quotas = json_array(), *o;
    char *text;
    int i;

    for (i = 0; i < p->nquotas; i++) {
        json_t *r = workflow_roles_json(p->quotas[i].role);
        json_array_append_new(quotas, json_pack("{s:O, s:i}", "role", json_array_get(r, 0), "count",
                                                p->quotas[i].count));
        json_decref(r);
    }
    o = json_pack("{s:s, s:o}", "level", level, "quotas", quotas);
    if (roles != NULL)
        json_object_set_new(o, "roles", workflow_roles_json(*roles));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Runs the impact assessment of the change w (its current version) inside
 * the caller's transaction; *level is a static string. */
static enum outcome
workflow_assess(struct http_ctx *ctx, const json_t *w, int64_t id, const char **level,
                bool *hard_frozen)
{
    struct risk_input in;
    struct risk_result r;
    struct policy p;
    json_t *facts = NULL, *reasons = NULL;
    char *reasons_text = NULL, *impact_text = NULL, *policy_text = NULL;
    enum outcome rc;
    int i;

    if ((rc = db_workflow_facts(ctx->db, id, &facts)) != OK)
        return rc;
    memset(&in, 0, sizeof in);
    in.min_tier = (int)json_integer_value(json_object_get(facts, "min_tier"));
    in.blast_radius = (int)json_integer_value(json_object_get(facts, "blast_radius"));
    in.business_impact = json_string_value(json_object_get(w, "business_impact"));
    in.has_test_plan = risk_has_text(workflow_str(w, "test_plan"));
    in.has_backout_plan = risk_has_text(workflow_str(w, "backout_plan"));
    in.kind = workflow_kind(w);
    in.submitted_at = json_integer_value(json_object_get(facts, "now"));
    in.window_start = json_integer_value(json_object_get(facts, "window_start"));
    in.conflicts = (int)json_integer_value(json_object_get(facts, "conflicts"));
    in.frozen = json_is_true(json_object_get(facts, "frozen"));
    in.recent_finished = (int)json_integer_value(json_object_get(facts, "recent_finished"));
    in.recent_failed = (int)json_integer_value(json_object_get(facts, "recent_failed"));
    risk_assess(&in, &r);
    *level = r.level;
    *hard_frozen = json_is_true(json_object_get(facts, "hard_frozen"));

    reasons = json_array();
    for (i = 0; i < r.nreasons; i++)
        json_array_append_new(reasons,
                              json_pack("{s:s, s:i, s:s}", "factor", r.reasons[i].factor, "points",
                                        r.reasons[i].points, "detail", r.reasons[i].detail));
    workflow_policy(w, r.level, &p);
    reasons_text = json_dumps(reasons, JSON_COMPACT);
    impact_text = json_dumps(json_object_get(facts, "impact_set"), JSON_COMPACT);
    policy_text = workflow_policy_text(r.level, &p, NULL);
    if (reasons_text == NULL || impact_text == NULL || policy_text == NULL)
        rc = ERR_INTERNAL;
    else
        rc = db_workflow_assess(ctx->db, id, (int)json_integer_value(json_object_get(w, "version")),
                                r.score, r.level, reasons_text, impact_text, policy_text,
                                policy_needed(&p), 0);
    free(reasons_text);
    free(impact_text);
    free(policy_text);
    json_decref(reasons);
    json_decref(facts);
    return rc;
}

/* Loads the change of the path for the workflow. */
static enum outcome
workflow_load(struct http_ctx *ctx, int64_t *id, json_t **w)
{
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), "CHG-", id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_workflow_load(ctx->db, *id, false, w);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    return rc;
}

static void
workflow_lifecycle_in(struct http_ctx *ctx, const json_t *w, enum change_action action,
                      struct lifecycle_in *in)
{
    int st = lifecycle_state_parse(workflow_str(w, "state"));

    memset(in, 0, sizeof *in);
    in->state = st < 0 ? STATE_DRAFT : (enum change_state)st;
    in->action = action;
    in->kind = workflow_kind(w);
    in->is_owner = json_integer_value(json_object_get(w, "requester_id")) == ctx->user.id;
    in->is_manager = http_has_role(ctx, ROLE_MANAGER);
    in->unauthorized = workflow_flag(w, "unauthorized");
    in->level = json_string_value(json_object_get(w, "level"));
}

enum outcome
workflow_reassess_after_edit(struct http_ctx *ctx, int64_t id, int64_t rev)
{
    struct lifecycle_in in;
    struct lifecycle_out out;
    struct db_transition t = {0};
    json_t *w = NULL;
    const char *level = NULL;
    bool hard = false;
    char why[160];
    enum outcome rc;

    if ((rc = db_workflow_load(ctx->db, id, true, &w)) != OK)
        return rc;
    if (strcmp(workflow_str(w, "state"), "draft") == 0)
        goto out;
    if ((rc = workflow_assess(ctx, w, id, &level, &hard)) != OK)
        goto out;
    workflow_lifecycle_in(ctx, w, ACTION_EDIT, &in);
    in.is_owner = true; /* the edit itself was authorised */
    in.level = level;
    if ((rc = lifecycle_apply(&in, &out, why, sizeof why)) != OK) {
        rc = http_fail(ctx, rc, "%s", why);
        goto out;
    }
    t.action = "edit";
    t.from = workflow_str(w, "state");
    t.to = lifecycle_state_name(out.next);
    /* the assessment bumped rev once more */
    rc = db_workflow_transition(ctx->db, http_actor(ctx), id, rev + 1, &t);
out:
    json_decref(w);
    return rc;
}

/* Renders the change after a workflow step, with its ETag. */
static enum outcome
workflow_reply(struct http_ctx *ctx, int64_t id, int status)
{
    json_t *row = NULL;
    enum outcome rc;

    if ((rc = db_change_get(ctx->db, id, &row)) != OK)
        return rc;
    http_add_header(ctx, "ETag", "\"%lld\"",
                    (long long)json_integer_value(json_object_get(row, "rev")));
    http_reply(ctx, status, api_change_render(row));
    json_decref(row);
    return OK;
}

/* The parts every lifecycle action shares, in the check order of DESIGN §3:
 * the change exists (404), the caller may act (403), If-Match (412), the
 * body (400/413/415/422, fields in `fields`), the state (409). */
struct workflow_step {
    int64_t id;
    json_t *w;
    json_t *body;
    struct lifecycle_in in;
    struct lifecycle_out out;
    enum outcome state_rc;
    char why[160];
};

static enum outcome
workflow_begin(struct http_ctx *ctx, enum change_action action, const char *const *fields,
               struct workflow_step *s)
{
    char etag[24];
    enum outcome rc;

    memset(s, 0, sizeof *s);
    if ((rc = workflow_load(ctx, &s->id, &s->w)) != OK)
        return rc;
    workflow_lifecycle_in(ctx, s->w, action, &s->in);
    s->state_rc = lifecycle_apply(&s->in, &s->out, s->why, sizeof s->why);
    if (s->state_rc == ERR_FORBIDDEN)
        return http_fail(ctx, ERR_FORBIDDEN, "%s", s->why);
    snprintf(etag, sizeof etag, "%lld",
             (long long)json_integer_value(json_object_get(s->w, "rev")));
    if ((rc = http_if_match(ctx, etag)) != OK)
        return rc;
    if ((rc = http_body(ctx, true, &s->body)) != OK ||
        (rc = http_known_fields(ctx, s->body, fields)) != OK)
        return rc;
    return OK;
}

static void
workflow_end(struct workflow_step *s)
{
    json_decref(s->w);
    json_decref(s->body);
}

/* Moves the change as s->out says, in a transaction of its own. */
static enum outcome
workflow_commit(struct http_ctx *ctx, struct workflow_step *s, struct db_transition *t)
{
    enum outcome rc;

    t->from = workflow_str(s->w, "state");
    t->to = lifecycle_state_name(s->out.next);
    if ((rc = db_begin(ctx->db)) != OK)
        return rc;
    if ((rc = db_workflow_lock(ctx->db)) == OK)
        rc = db_workflow_transition(ctx->db, http_actor(ctx), s->id,
                                    json_integer_value(json_object_get(s->w, "rev")), t);
    if (rc == OK)
        rc = db_commit(ctx->db);
    if (rc != OK)
        db_rollback(ctx->db);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, ERR_CONFLICT, "the change was changed meanwhile: read it again");
    if (rc != OK)
        return rc;
    return workflow_reply(ctx, s->id, 200);
}

enum outcome
api_changes_submit(struct http_ctx *ctx)
{
    static const char *const fields[] = {NULL};
    struct workflow_step s;
    struct db_transition t = {0};
    const char *level = NULL;
    bool hard = false;
    enum outcome rc;

    if ((rc = workflow_begin(ctx, ACTION_SUBMIT, fields, &s)) != OK)
        goto out;
    if (s.state_rc != OK) {
        rc = http_fail(ctx, s.state_rc, "%s", s.why);
        goto out;
    }
    if (!json_is_true(json_object_get(s.w, "has_window")))
        http_field(ctx, "window", "is required to submit a change");
    if (!json_is_true(json_object_get(s.w, "has_services")))
        http_field(ctx, "services", "name at least one service to submit a change");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if ((rc = db_begin(ctx->db)) != OK)
        goto out;
    t.action = "submit";
    t.from = "draft";
    if ((rc = db_workflow_lock(ctx->db)) == OK &&
        (rc = workflow_assess(ctx, s.w, s.id, &level, &hard)) == OK) {
        s.in.level = level;
        rc = lifecycle_apply(&s.in, &s.out, s.why, sizeof s.why);
    }
    if (rc == OK) {
        t.to = lifecycle_state_name(s.out.next);
        /* the assessment bumped rev */
        rc = db_workflow_transition(ctx->db, http_actor(ctx), s.id,
                                    json_integer_value(json_object_get(s.w, "rev")) + 1, &t);
    }
    if (rc == OK)
        rc = db_commit(ctx->db);
    if (rc != OK)
        db_rollback(ctx->db);
    if (rc == ERR_NOT_FOUND)
        rc = http_fail(ctx, ERR_CONFLICT, "the change was changed meanwhile: read it again");
    if (rc == OK)
        rc = workflow_reply(ctx, s.id, 200);
out:
    workflow_end(&s);
    return rc;
}

enum outcome
api_changes_start(struct http_ctx *ctx)
{
    static const char *const fields[] = {"retrospective", "reason", NULL};
    struct workflow_step s;
    struct db_transition t = {0};
    const char *reason = NULL;
    bool retro = false;
    char flags[64];
    enum outcome rc;

    if ((rc = workflow_begin(ctx, ACTION_START, fields, &s)) != OK)
        goto out;
    if (decode_bool(ctx, s.body, "retrospective", &retro) == DECODE_NULL)
        retro = false;
    if (decode_string(ctx, s.body, "reason", &reason) == DECODE_SET &&
        !validate_text(reason, 0, 10000))
        http_field(ctx, "reason", "at most 10000 characters");
    if (retro && (reason == NULL || !validate_text(reason, 1, 10000)))
        http_field(ctx, "reason", "is required to start before approval");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    t.action = "start";
    if (retro) {
        s.in.action = ACTION_START_RETROSPECTIVE;
        s.state_rc = lifecycle_apply(&s.in, &s.out, s.why, sizeof s.why);
        snprintf(flags, sizeof flags, "{unauthorized,retrospective}");
        t.flags = flags;
        t.reason = reason;
    }
    if (s.state_rc != OK) {
        rc = http_fail(ctx, s.state_rc, "%s", s.why);
        goto out;
    }
    rc = workflow_commit(ctx, &s, &t);
out:
    workflow_end(&s);
    return rc;
}

enum outcome
api_changes_complete(struct http_ctx *ctx)
{
    static const char *const fields[] = {"outcome", "notes", NULL};
    struct workflow_step s;
    struct db_transition t = {0};
    const char *outcome = NULL, *notes = NULL;
    int o = -1;
    enum outcome rc;

    if ((rc = workflow_begin(ctx, ACTION_COMPLETE, fields, &s)) != OK)
        goto out;
    if (decode_string(ctx, s.body, "outcome", &outcome) != DECODE_BAD &&
        (o = lifecycle_outcome_parse(outcome)) < 0)
        http_field(ctx, "outcome", "is required: successful, failed or rolled_back");
    if (decode_string(ctx, s.body, "notes", &notes) == DECODE_SET &&
        !validate_text(notes, 0, 100000))
        http_field(ctx, "notes", "at most 100000 characters");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    s.in.outcome = (enum change_outcome)o;
    s.state_rc = lifecycle_apply(&s.in, &s.out, s.why, sizeof s.why);
    if (s.state_rc != OK) {
        rc = http_fail(ctx, s.state_rc, "%s", s.why);
        goto out;
    }
    t.action = "complete";
    t.outcome = outcome;
    t.notes = notes;
    rc = workflow_commit(ctx, &s, &t);
out:
    workflow_end(&s);
    return rc;
}

enum outcome
api_changes_close(struct http_ctx *ctx)
{
    static const char *const fields[] = {"review", NULL};
    struct workflow_step s;
    struct db_transition t = {0};
    const char *review = NULL;
    enum outcome rc;

    if ((rc = workflow_begin(ctx, ACTION_CLOSE, fields, &s)) != OK)
        goto out;
    if (decode_string(ctx, s.body, "review", &review) != DECODE_BAD &&
        (review == NULL || !validate_text(review, 1, 100000)))
        http_field(ctx, "review", "is required: what happened and what was learnt");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (s.state_rc != OK) {
        rc = http_fail(ctx, s.state_rc, "%s", s.why);
        goto out;
    }
    t.action = "close";
    t.review = review;
    rc = workflow_commit(ctx, &s, &t);
out:
    workflow_end(&s);
    return rc;
}

enum outcome
api_changes_cancel(struct http_ctx *ctx)
{
    static const char *const fields[] = {"reason", NULL};
    struct workflow_step s;
    struct db_transition t = {0};
    const char *reason = NULL;
    enum outcome rc;

    if ((rc = workflow_begin(ctx, ACTION_CANCEL, fields, &s)) != OK)
        goto out;
    if (decode_string(ctx, s.body, "reason", &reason) == DECODE_SET &&
        !validate_text(reason, 0, 10000))
        http_field(ctx, "reason", "at most 10000 characters");
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (s.state_rc != OK) {
        rc = http_fail(ctx, s.state_rc, "%s", s.why);
        goto out;
    }
    t.action = "cancel";
    t.reason = reason ? reason : "";
    rc = workflow_commit(ctx, &s, &t);
out:
    workflow_end(&s);
    return rc;
}

enum outcome
api_changes_assessment(struct http_ctx *ctx)
{
    json_t *row = NULL, *a;
    int64_t id;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), "CHG-", &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    rc = db_change_get(ctx->db, id, &row);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    if (rc != OK)
        return rc;
    a = json_object_get(json_object_get(row, "doc"), "assessment");
    if (!json_is_object(a)) {
        json_decref(row);
        return http_fail(ctx, ERR_NOT_FOUND, "the change has not been assessed: submit it");
    }
    http_reply(ctx, 200, json_incref(a));
    json_decref(row);
    return OK;
}

enum outcome
api_approvals_list(struct http_ctx *ctx)
{
    json_t *w = NULL, *items = NULL;
    int64_t id;
    enum outcome rc;

    if ((rc = workflow_load(ctx, &id, &w)) != OK)
        return rc;
    json_decref(w);
    if ((rc = db_workflow_approvals(ctx->db, id, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

/* Checks a decision's body into the statement it must be a signature of. */
static void
workflow_decision_fields(struct http_ctx *ctx, const json_t *body, const json_t *w,
                         const char **decision, const char **comment, int64_t *key_id,
                         const char **signed_at, const char **signature)
{
    static const char *const decisions[] = {"approve", "reject", NULL};
    char pk[SEC_ED_PUBLIC_B64 + 8];
    int64_t owner = 0, version = 0;
    const char *hash = NULL;
    bool revoked = false;
    int64_t t;
    enum outcome rc;

    if (decode_string(ctx, body, "decision", decision) != DECODE_BAD &&
        !validate_oneof(*decision, decisions))
        http_field(ctx, "decision", "is required: approve or reject");
    if (decode_string(ctx, body, "comment", comment) == DECODE_SET &&
        !validate_text(*comment, 0, 10000))
        http_field(ctx, "comment", "at most 10000 characters");
    if (decode_string(ctx, body, "signed_at", signed_at) != DECODE_BAD) {
        if (*signed_at == NULL || !timefmt_is_normal(*signed_at))
            http_field(ctx, "signed_at", "is required: YYYY-MM-DDTHH:MM:SSZ");
        else if (timefmt_parse(*signed_at, &t) == OK &&
                 llabs((long long)(t - (int64_t)time(NULL))) > WORKFLOW_SKEW_SECONDS)
            http_field(ctx, "signed_at", "is more than 5 minutes from the server's clock");
    }
    if (decode_string(ctx, body, "signature", signature) != DECODE_BAD && *signature == NULL)
        http_field(ctx, "signature", "is required: the base64 Ed25519 signature");
    switch (decode_int(ctx, body, "key_id", key_id)) {
    case DECODE_SET:
        rc = db_key_get(ctx->db, *key_id, &owner, pk, sizeof pk, &revoked);
        if (rc == ERR_NOT_FOUND || (rc == OK && owner != ctx->user.id))
            http_field(ctx, "key_id", "is not one of your keys");
        else if (rc == OK && revoked)
            http_field(ctx, "key_id", "is revoked");
        break;
    case DECODE_BAD: break;
    default: http_field(ctx, "key_id", "is required: the id of one of your keys");
    }
    /* a client may say which version it signed, to be told it is stale */
    if (decode_int(ctx, body, "version", &version) == DECODE_SET &&
        version != json_integer_value(json_object_get(w, "version")))
        http_field(ctx, "version", "is not the change's current version (%lld)",
                   (long long)json_integer_value(json_object_get(w, "version")));
    if (decode_string(ctx, body, "content_hash", &hash) == DECODE_SET &&
        strcmp(hash, workflow_str(w, "content_hash")) != 0)
        http_field(ctx, "content_hash", "is not the change's current content hash");
}

enum outcome
api_approvals_create(struct http_ctx *ctx)
{
    static const char *const fields[] = {"decision",  "comment", "key_id",       "signed_at",
                                         "signature", "version", "content_hash", NULL};
    const char *decision = NULL, *comment = "", *signed_at = NULL, *signature = NULL;
    struct strbuf statement = STRBUF_INIT;
    json_t *w = NULL, *body = NULL, *approvers = NULL, *doc = NULL, *signed_doc = NULL;
    char pk[SEC_ED_PUBLIC_B64 + 8], *policy_text = NULL;
    const char *level, *state;
    unsigned roles[64];
    struct policy p;
    int64_t id, key_id = 0, owner, approval_id = 0;
    bool revoked, unauthorized, hard = false;
    int n, have, needed;
    size_t i;
    enum outcome rc;

    if ((rc = workflow_load(ctx, &id, &w)) != OK)
        goto out;
    level = json_string_value(json_object_get(w, "level"));
    workflow_policy(w, level ? level : "low", &p);
    if (json_integer_value(json_object_get(w, "requester_id")) == ctx->user.id) {
        rc = http_fail(ctx, ERR_FORBIDDEN, "nobody may decide on their own change");
        goto out;
    }
    if (!policy_counts(&p, ctx->user.roles)) {
        rc = http_fail(ctx, ERR_FORBIDDEN,
                       "the approval policy of this change does not count your roles");
        goto out;
    }
    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, fields)) != OK)
        goto out;
    workflow_decision_fields(ctx, body, w, &decision, &comment, &key_id, &signed_at, &signature);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    state = workflow_str(w, "state");
    unauthorized = workflow_flag(w, "unauthorized");
    {
        int st = lifecycle_state_parse(state);
        if (st < 0 || !lifecycle_takes_decisions((enum change_state)st, unauthorized)) {
            rc = http_fail(ctx, ERR_CONFLICT, "a change in state %s takes no decisions", state);
            goto out;
        }
    }
    statement_approval(&statement, workflow_str(w, "ref"),
                       json_integer_value(json_object_get(w, "version")),
                       workflow_str(w, "content_hash"), decision, signed_at);
    if ((rc = db_key_get(ctx->db, key_id, &owner, pk, sizeof pk, &revoked)) != OK)
        goto out;
    if (strbuf_failed(&statement) ||
        !sec_ed25519_verify(pk, statement.buf, statement.len, signature)) {
        http_field(ctx, "signature", "does not verify against key %lld for the statement",
                   (long long)key_id);
        rc = http_fail(ctx, ERR_INVALID,
                       "the signature does not verify; the statement signed must be: %s",
                       strbuf_str(&statement));
        goto out;
    }

    if ((rc = db_begin(ctx->db)) != OK)
        goto out;
    signed_doc = w;
    w = NULL;
    if ((rc = db_workflow_lock(ctx->db)) != OK ||
        (rc = db_workflow_load(ctx->db, id, true, &w)) != OK)
        goto rollback;
    /* the locked row must still be what was signed, in a state that decides */
    if (strcmp(workflow_str(w, "content_hash"), workflow_str(signed_doc, "content_hash")) != 0 ||
        json_integer_value(json_object_get(w, "version")) !=
            json_integer_value(json_object_get(signed_doc, "version")) ||
        lifecycle_state_parse(workflow_str(w, "state")) < 0 ||
        !lifecycle_takes_decisions(
            (enum change_state)lifecycle_state_parse(workflow_str(w, "state")),
            workflow_flag(w, "unauthorized"))) {
        rc = http_fail(ctx, ERR_CONFLICT, "the change moved on while you decided: read it again");
        goto rollback;
    }
    if (strcmp(decision, "approve") == 0 && workflow_kind(w) != KIND_EMERGENCY) {
        json_t *facts = NULL;
        if ((rc = db_workflow_facts(ctx->db, id, &facts)) != OK)
            goto rollback;
        hard = json_is_true(json_object_get(facts, "hard_frozen"));
        json_decref(facts);
        if (hard) {
            rc = http_fail(ctx, ERR_CONFLICT,
                           "the window overlaps a hard freeze covering this change: move the "
                           "window or ask a manager to lift the freeze");
            goto rollback;
        }
    }
    policy_text = workflow_policy_text(level ? level : "low", &p, &ctx->user.roles);
    rc = db_workflow_decide(ctx->db, id, ctx->user.id, key_id, decision, comment ? comment : "",
                            (int)json_integer_value(json_object_get(w, "version")),
                            workflow_str(w, "content_hash"), signed_at, statement.buf, signature,
                            policy_text, &approval_id);
    if (rc == ERR_CONFLICT) {
        rc = http_fail(ctx, rc, "you have decided on this version already");
        goto rollback;
    }
    if (rc != OK || (rc = db_workflow_approvers(ctx->db, id, &approvers)) != OK)
        goto rollback;
    n = 0;
    for (i = 0; i < json_array_size(approvers) && n < 64; i++) {
        const json_t *r = json_array_get(approvers, i);
        size_t j;
        roles[n] = 0;
        for (j = 0; j < json_array_size(r); j++)
            roles[n] |= role_bit(json_string_value(json_array_get(r, j)));
        n++;
    }
    have = policy_have(&p, roles, n);
    needed = policy_needed(&p);
    if ((rc = db_workflow_set_have(ctx->db, id, have)) != OK)
        goto rollback;
    {
        struct db_transition t = {0};
        char flags[64];
        int64_t rev = json_integer_value(json_object_get(w, "rev")) + 1; /* set_have bumped it */
        bool waiting = strcmp(workflow_str(w, "state"), "awaiting_approval") == 0;

        t.action = "decide";
        t.from = workflow_str(w, "state");
        if (strcmp(decision, "reject") == 0) {
            /* a retrospective emergency stays started and unauthorized */
            t.to = waiting ? "rejected" : t.from;
        } else if (have >= needed) {
            t.to = waiting ? "approved" : t.from;
            if (!waiting) {
                snprintf(flags, sizeof flags, "{retrospective}");
                t.flags = workflow_flag(w, "retrospective") ? flags : "{}";
            }
        }
        if (t.to != NULL &&
            (rc = db_workflow_transition(ctx->db, http_actor(ctx), id, rev, &t)) != OK)
            goto rollback;
    }
    if ((rc = db_commit(ctx->db)) != OK)
        goto rollback;
    if ((rc = db_workflow_approval(ctx->db, approval_id, &doc)) != OK)
        goto out;
    http_add_header(ctx, "Location", "/api/v1/changes/%lld/approvals/%lld", (long long)id,
                    (long long)approval_id);
    http_reply(ctx, 201, doc);
    doc = NULL;
    goto out;
rollback:
    db_rollback(ctx->db);
out:
    strbuf_free(&statement);
    free(policy_text);
    json_decref(w);
    json_decref(signed_doc);
    json_decref(body);
    json_decref(approvers);
    json_decref(doc);
    return rc;
}
