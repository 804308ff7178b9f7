/* POST /hooks/<key>: a dev tool's delivery (README "Webhook links"). The
 * link must be known (404), the body within 1 MiB (413), the signature or
 * token good (401, no detail); then the delivery claims its id (a replay
 * gets the first result and does nothing), and what it asks for is done in
 * the same transaction through the workflow's functions: the change raised
 * and submitted at once, found by its ref, started and completed as the
 * tool reports (hooklink_plan says how). Every delivery of a known link is
 * recorded, refusals too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/assess.h"
#include "api/decode.h"
#include "api/hooks.h"
#include "db/db_change.h"
#include "db/db_integration.h"
#include "db/db_workflow.h"
#include "domain/decision.h"
#include "domain/validate.h"
#include "http/metrics.h"
#include "sec/sec.h"

struct hook {
    struct http_ctx *ctx;
    json_t *row; /* db_hook_link's */
    struct hook_link link;
    const char *secret;
    int64_t owner; /* who changes raised by the link belong to: its maker */
    char actor[48];
    json_t *payload;
    struct hook_intent in;
    enum metrics_hook why; /* of a refusal */
    const char *reason;    /* recorded for a refusal with no detail (401) */
    /* what the transaction did */
    bool replayed;
    bool created;
    struct change ch; /* locked */
    int status;
    char *response;
    int64_t change_id;
};

static void
hook_free(struct hook *h)
{
    change_clear(&h->ch);
    free(h->response);
    json_decref(h->in.raise);
    json_decref(h->in.reply);
    json_decref(h->payload);
    json_decref(h->row);
}

/* The link of the path: 404 when unknown, disabled or rotated out. */
static enum outcome
hooks_link(struct http_ctx *ctx, struct hook *h)
{
    const char *key = http_param(ctx, 0);
    char hash[SEC_HEX256_LEN];
    enum outcome rc;

    sec_sha256_hex(key, strlen(key), hash);
    if ((rc = db_hook_link(ctx->db, hash, &h->row)) == ERR_NOT_FOUND) {
        metrics_hook_refused(METRICS_HOOK_UNKNOWN_LINK);
        return http_fail(ctx, rc, "no such link");
    }
    if (rc != OK)
        return rc;
    h->link.id = json_integer_value(json_object_get(h->row, "id"));
    h->link.kind = json_string_value(json_object_get(h->row, "kind"));
    h->link.row = h->row;
    h->secret = json_string_value(json_object_get(h->row, "secret"));
    h->owner = json_integer_value(json_object_get(h->row, "created_by"));
    snprintf(h->actor, sizeof h->actor, "integration:%lld", (long long)h->link.id);
    return OK;
}

/* 401 with no detail; why and reason say what was wrong, for the record. */
static enum outcome
hooks_unsigned(struct hook *h, enum metrics_hook why, const char *reason)
{
    h->why = why;
    h->reason = reason;
    h->ctx->detail[0] = '\0';
    return ERR_UNAUTHENTICATED;
}

/* Standard Webhooks: webhook-id, webhook-timestamp within 5 min,
 * webhook-signature. */
static enum outcome
hooks_verify_generic(struct http_ctx *ctx, struct hook *h)
{
    const char *id = http_header(ctx, "webhook-id");
    const char *ts = http_header(ctx, "webhook-timestamp");
    const char *sig = http_header(ctx, "webhook-signature");
    long long t = 0;
    enum hooklink_ts when;

    if (id == NULL || ts == NULL || sig == NULL)
        return hooks_unsigned(h, METRICS_HOOK_SIGNATURE,
                              "webhook-id, webhook-timestamp or "
                              "webhook-signature missing");
    if (!validate_text(id, 1, 255))
        return hooks_unsigned(h, METRICS_HOOK_SIGNATURE, "webhook-id is not 1 to 255 characters");
    snprintf(h->in.delivery_id, sizeof h->in.delivery_id, "%s", id);
    if ((when = hooklink_timestamp(ts, (int64_t)time(NULL), &t)) != HOOKLINK_TS_OK)
        return hooks_unsigned(h, METRICS_HOOK_TIMESTAMP,
                              when == HOOKLINK_TS_SKEWED ? "webhook-timestamp more than 5 min away"
                                                         : "webhook-timestamp malformed");
    if (!sec_webhook_verify(h->secret, id, t, ctx->body ? ctx->body : "", ctx->body_len, sig))
        return hooks_unsigned(h, METRICS_HOOK_SIGNATURE, "bad signature");
    return OK;
}

/* GitHub: X-Hub-Signature-256 over the raw body. GitLab: X-Gitlab-Token
 * is the secret itself. Both compared in constant time. */
static enum outcome
hooks_verify_tool(struct http_ctx *ctx, struct hook *h)
{
    const char *key = http_header(ctx, "Idempotency-Key");
    const char *given, *event, *delivery;
    char hex[SEC_HEX256_LEN], expected[SEC_HEX256_LEN + 8];
    bool github = strcmp(h->link.kind, "github") == 0, good;

    event = http_header(ctx, github ? "X-GitHub-Event" : "X-Gitlab-Event");
    delivery = github ? http_header(ctx, "X-GitHub-Delivery") : NULL;
    snprintf(h->in.event, sizeof h->in.event, "%s", event ? event : "");
    if (delivery == NULL)
        delivery = key;
    if (delivery != NULL && validate_text(delivery, 1, 255))
        snprintf(h->in.delivery_id, sizeof h->in.delivery_id, "%s", delivery);
    given = http_header(ctx, github ? "X-Hub-Signature-256" : "X-Gitlab-Token");
    if (given == NULL)
        return hooks_unsigned(h, METRICS_HOOK_SIGNATURE, "signature missing");
    if (github) {
        sec_hmac_sha256_hex(h->secret, ctx->body ? ctx->body : "", ctx->body_len, hex);
        snprintf(expected, sizeof expected, "sha256=%s", hex);
        good = sec_equal(given, expected);
        sec_wipe(expected, sizeof expected);
    } else
        good = sec_equal(given, h->secret);
    return good ? OK : hooks_unsigned(h, METRICS_HOOK_SIGNATURE, "bad signature");
}

/* The size, the signature, the body, and what it asks for. */
static enum outcome
hooks_check(struct http_ctx *ctx, struct hook *h)
{
    bool generic = strcmp(h->link.kind, "generic") == 0;
    enum outcome rc;

    h->why = METRICS_HOOK_INVALID;
    if (ctx->body_too_large) {
        h->why = METRICS_HOOK_TOO_LARGE;
        return http_fail(ctx, ERR_TOO_LARGE, "a delivery is at most 1 MiB");
    }
    if ((rc = generic ? hooks_verify_generic(ctx, h) : hooks_verify_tool(ctx, h)) != OK ||
        (rc = http_body(ctx, false, &h->payload)) != OK)
        return rc;
    if (generic)
        return hooks_generic_intent(ctx, &h->link, h->payload, &h->in);
    if (strcmp(h->link.kind, "github") == 0)
        return hooks_github_intent(ctx, &h->link, h->payload, &h->in);
    return hooks_gitlab_intent(ctx, &h->link, h->payload, &h->in);
}

/* ---- acting on the change -------------------------------------------- */

/* Submits the change just raised, as POST /changes/{id}/submit does: the
 * lifecycle's question, what a submit needs, the assessment, the move. */
static enum outcome
hooks_submit(struct db *db, struct hook *h)
{
    struct decision_actor who = {h->owner, 0};
    struct lifecycle_in in;
    struct lifecycle_out out;
    struct db_transition t = {.action = ACTION_SUBMIT};
    char why[160];
    bool hard = false;
    enum outcome rc;

    decision_lifecycle_in(&h->ch, ACTION_SUBMIT, &who, &in);
    if ((rc = lifecycle_apply(&in, &out, why, sizeof why)) != OK)
        return http_fail(h->ctx, rc, "%s", why);
    if (!decision_submit_ready(&h->ch, (int64_t)time(NULL), &h->ctx->fe))
        return http_fields_ok(h->ctx);
    if ((rc = assess_change(db, &h->ch, &hard)) != OK)
        return rc;
    in.level = h->ch.level;
    if ((rc = lifecycle_apply(&in, &out, why, sizeof why)) != OK)
        return http_fail(h->ctx, rc, "%s", why);
    t.from = h->ch.state;
    t.to = out.next;
    return db_workflow_transition(db, h->actor, h->ch.id, h->ch.rev, &t, &h->ch.rev);
}

/* Loads (locked) the change id, as the link's owner sees it. */
static enum outcome
hooks_load(struct db *db, struct hook *h, int64_t id)
{
    change_clear(&h->ch);
    return db_change_load(db, id, h->owner, true, &h->ch, NULL);
}

/* Raises the change of the intent, marks it the link's, and submits it. */
static enum outcome
hooks_raise(struct db *db, struct hook *h, int64_t *id)
{
    struct change ch = {0};
    json_t *doc = NULL;
    enum outcome rc;

    rc = api_changes_raise(h->ctx, h->in.raise, h->owner, "hook", &ch, &doc);
    *id = ch.id;
    change_clear(&ch);
    json_decref(doc);
    if (rc != OK || (rc = db_hook_set_origin(db, *id, h->link.id)) != OK ||
        (rc = hooks_load(db, h, *id)) != OK)
        return rc;
    h->created = true;
    if ((rc = hooks_submit(db, h)) != OK)
        return rc;
    return hooks_load(db, h, *id); /* as submitted: its state, level and rev */
}

/* Records the reported start or finish (hooklink_plan's moves), with the
 * actual times when the tool gave them. */
static enum outcome
hooks_report(struct db *db, struct hook *h)
{
    struct hooklink_move m[2];
    const char *started = NULL, *finished = NULL;
    char why[160];
    int i, n = 0;
    enum outcome rc;

    if ((rc = hooklink_plan(&h->ch, h->in.what, h->in.outcome, m, &n, why, sizeof why)) != OK)
        return http_fail(h->ctx, rc, "%s", why);
    for (i = 0; i < n; i++) {
        struct db_transition t = {.action = m[i].action,
                                  .from = m[i].from,
                                  .to = m[i].to,
                                  .outcome = m[i].outcome,
                                  .set_flags = m[i].set_flags,
                                  .flags = m[i].flags};
        if ((rc = db_workflow_transition(db, h->actor, h->ch.id, h->ch.rev, &t, &h->ch.rev)) != OK)
            return rc;
        if (m[i].action == ACTION_START && h->in.started_at[0])
            started = h->in.started_at;
        else if (m[i].action == ACTION_START && h->in.finished_at[0])
            started = h->in.finished_at; /* started and finished, as far as is known, then */
        if (m[i].action == ACTION_COMPLETE && h->in.finished_at[0])
            finished = h->in.finished_at;
    }
    return db_hook_times(db, h->ch.id, started, finished);
}

/* The change the intent's ref names (0: none). */
static enum outcome
hooks_find(struct db *db, struct hook *h, int64_t *id)
{
    enum outcome rc;

    *id = 0;
    if (h->in.ref[0] == '\0')
        return OK;
    if (strncmp(h->in.ref, "CHG-", 4) == 0)
        return decode_id(h->in.ref, "CHG-", id) ? OK : ERR_NOT_FOUND;
    rc = db_hook_find_ref(db, h->in.ref, id);
    return rc == ERR_NOT_FOUND ? OK : rc;
}

/* The reply: {"change", "gate_url"} (and the callback URL recorded). */
static enum outcome
hooks_render(struct db *db, struct hook *h)
{
    json_t *doc = NULL, *reply;
    enum outcome rc;

    change_clear(&h->ch);
    if ((rc = db_change_load(db, h->change_id, h->owner, false, &h->ch, &doc)) != OK)
        return rc;
    if ((doc = api_change_doc(h->ctx, &h->ch, doc)) == NULL)
        return ERR_INTERNAL;
    reply = json_pack("{s:o, s:O}", "change", doc, "gate_url", json_object_get(doc, "gate_url"));
    if (reply != NULL && h->in.callback_url != NULL)
        json_object_set_new(reply, "callback_url", json_string(h->in.callback_url));
    h->status = h->created ? 201 : 200;
    h->response = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    return h->response ? OK : ERR_INTERNAL;
}

static enum outcome
hooks_change(struct db *db, struct hook *h)
{
    int64_t id = 0;
    enum outcome rc;

    if ((rc = hooks_find(db, h, &id)) != OK && rc != ERR_NOT_FOUND)
        return rc;
    /* the days of an existing change's window are locked before its row (a
     * new one's, by the facts and the transition of its submit) */
    if (rc == OK && id == 0 && h->in.raise != NULL)
        rc = hooks_raise(db, h, &id);
    else if (rc == OK && id != 0 && (rc = db_workflow_lock(db, id)) == OK)
        rc = hooks_load(db, h, id);
    if (rc == ERR_NOT_FOUND || (rc == OK && id == 0)) {
        http_field(h->ctx, "ref", "no open change has this reference");
        return http_fields_ok(h->ctx);
    }
    h->change_id = id;
    if (rc == OK && h->in.report)
        rc = hooks_report(db, h);
    if (rc == OK && h->in.callback_url != NULL)
        rc = db_hook_set_callback(db, id, h->in.callback_url);
    return rc == OK ? hooks_render(db, h) : rc;
}

/* Claims the delivery id, then does what the delivery asks; a replay does
 * nothing. */
static enum outcome
hooks_step(struct db *db, void *arg)
{
    struct hook *h = arg;
    const char *did = h->in.delivery_id[0] ? h->in.delivery_id : NULL;
    int64_t row = 0;
    enum outcome rc;

    change_clear(&h->ch);
    free(h->response);
    h->response = NULL;
    h->replayed = h->created = false;
    h->change_id = 0;
    h->ctx->fe.n = 0;
    if ((rc = db_hook_claim(db, h->link.id, did, h->in.event, &row)) != OK)
        return rc;
    if (row == 0) {
        h->replayed = true;
        return OK;
    }
    if (!h->in.act) {
        h->status = h->in.status;
        h->response = json_dumps(h->in.reply, JSON_COMPACT);
        if (h->response == NULL)
            return ERR_INTERNAL;
    } else if ((rc = hooks_change(db, h)) != OK)
        return rc;
    return db_hook_finish(db, row, h->status, h->response, h->change_id, h->in.callback_url);
}

/* The first result again, recorded as a replay. */
static enum outcome
hooks_replay(struct http_ctx *ctx, struct hook *h)
{
    char *response = NULL;
    int status = 0;
    int64_t change = 0;
    enum outcome rc;

    if ((rc = db_hook_first(ctx->db, h->link.id, h->in.delivery_id, &status, &response, &change)) !=
        OK)
        return rc;
    metrics_hook_replayed();
    (void)db_hook_record(ctx->db, h->link.id, h->in.delivery_id, h->in.event, "replayed", status,
                         NULL, change);
    http_add_header(ctx, "Idempotent-Replayed", "true");
    rc = http_reply_raw(ctx, status, "application/json", response, strlen(response));
    free(response);
    return rc;
}

/* A refusal of a known link's delivery, recorded and counted. */
static void
hooks_refused(struct http_ctx *ctx, struct hook *h, enum outcome rc)
{
    int status = ctx->fail_status ? ctx->fail_status : http_status(rc);
    const char *reason = h->reason ? h->reason : ctx->detail[0] ? ctx->detail : http_reason(status);

    if (rc == ERR_UNAVAILABLE || rc == ERR_INTERNAL)
        return; /* the database's trouble, not the sender's */
    metrics_hook_refused(h->why);
    (void)db_hook_record(ctx->db, h->link.id, h->in.delivery_id[0] ? h->in.delivery_id : NULL,
                         h->in.event, "refused", status, reason, 0);
}

enum outcome
api_hooks_receive(struct http_ctx *ctx)
{
    struct hook h = {.ctx = ctx};
    enum outcome rc;

    if ((rc = hooks_link(ctx, &h)) != OK)
        goto out;
    if ((rc = hooks_check(ctx, &h)) == OK && (rc = db_tx(ctx->db, hooks_step, &h)) == OK) {
        if (h.replayed)
            rc = hooks_replay(ctx, &h);
        else if ((rc = http_reply_raw(ctx, h.status, "application/json", h.response,
                                      strlen(h.response))) == OK)
            metrics_hook_accepted(h.link.kind);
    }
    if (rc != OK)
        hooks_refused(ctx, &h, rc);
out:
    hook_free(&h);
    return rc;
}
