/* Each tool's deliveries as what Cabinet does (README "Webhook links"):
 * generic (Standard Webhooks) bodies are a change or an action on one;
 * GitHub's deployment events and GitLab's Deployment Hook raise a change
 * tied by its external_ref, and report its start and finish. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/decode.h"
#include "api/hooks.h"
#include "domain/validate.h"

/* A string member along a dotted path of objects, or NULL. */
static const char *
hooks_str(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(obj, a);

    if (b != NULL)
        v = json_object_get(v, b);
    return json_string_value(v);
}

/* The raise body: base (copied) with the integration's defaults for what
 * it leaves out: model, services (those of the environment when the map
 * names it), and a window from receipt for the default duration. */
static json_t *
hooks_raise_body(const struct hook_link *l, const json_t *base, const char *environment)
{
    json_t *b = json_deep_copy(base), *envs = json_object_get(l->row, "environments");
    const json_t *services = json_object_get(l->row, "services");
    char start[TIMEFMT_LEN], end[TIMEFMT_LEN];
    time_t now = time(NULL);

    if (b == NULL)
        return NULL;
    if (environment != NULL && json_is_array(json_object_get(envs, environment)))
        services = json_object_get(envs, environment);
    if (json_is_null(json_object_get(b, "model")) || !json_object_get(b, "model"))
        json_object_set(b, "model", json_object_get(l->row, "model"));
    if (json_is_null(json_object_get(b, "services")) || !json_object_get(b, "services"))
        json_object_set_new(b, "services", json_deep_copy(services));
    if (json_is_null(json_object_get(b, "window")) || !json_object_get(b, "window")) {
        timefmt_format((int64_t)now, start);
        timefmt_format(
            (int64_t)now + json_integer_value(json_object_get(l->row, "default_duration_s")), end);
        json_object_set_new(b, "window", json_pack("{s:s, s:s}", "start", start, "end", end));
    }
    return b;
}

/* ---- generic: Standard Webhooks -------------------------------------- */

struct hooks_action_body {
    const char *action;
    const char *ref;
    const char *outcome;
    char started_at[TIMEFMT_LEN];
    char finished_at[TIMEFMT_LEN];
};
static const char *const hooks_actions[] = {"start", "complete", NULL};
static const char *const hooks_outcomes[] = {"successful", "failed", "rolled_back", NULL};
#define HOOKS_AT(m) offsetof(struct hooks_action_body, m)
static const struct decode_field hooks_action_fields[] = {
    {"action", DECODE_ONEOF, HOOKS_AT(action), true, 0, 0, hooks_actions, "start or complete"},
    {"ref", DECODE_LINE, HOOKS_AT(ref), true, 1, CHANGE_EXTERNAL_REF_MAX, NULL,
     "CHG-<n> or the change's external_ref"},
    {"outcome", DECODE_ONEOF, HOOKS_AT(outcome), false, 0, 0, hooks_outcomes,
     "successful, failed or rolled_back"},
    {"started_at", DECODE_TIME, HOOKS_AT(started_at), false, 0, 0, NULL, NULL},
    {"finished_at", DECODE_TIME, HOOKS_AT(finished_at), false, 0, 0, NULL, NULL},
};

enum outcome
hooks_generic_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                     struct hook_intent *in)
{
    struct hooks_action_body b = {0};
    const char *ref;
    enum outcome rc;

    in->act = true;
    if (json_object_get(payload, "action") == NULL) {
        snprintf(in->event, sizeof in->event, "change");
        ref = json_string_value(json_object_get(payload, "external_ref"));
        snprintf(in->ref, sizeof in->ref, "%s", ref && strncmp(ref, "CHG-", 4) != 0 ? ref : "");
        in->raise = hooks_raise_body(l, payload, NULL);
        return in->raise ? OK : ERR_INTERNAL;
    }
    if ((rc = decode_body(ctx, payload, hooks_action_fields, DECODE_NFIELDS(hooks_action_fields),
                          &b, NULL)) != OK)
        return rc;
    if (strcmp(b.action, "complete") == 0 && b.outcome == NULL) {
        http_field(ctx, "outcome", "is required to complete: successful, failed or rolled_back");
        return http_fields_ok(ctx);
    }
    snprintf(in->event, sizeof in->event, "%s", b.action);
    snprintf(in->ref, sizeof in->ref, "%s", b.ref);
    in->report = true;
    in->what = strcmp(b.action, "start") == 0 ? HOOKLINK_START : HOOKLINK_COMPLETE;
    in->outcome =
        b.outcome ? (enum change_outcome)lifecycle_outcome_parse(b.outcome) : OUTCOME_NONE;
    memcpy(in->started_at, b.started_at, sizeof in->started_at);
    memcpy(in->finished_at, b.finished_at, sizeof in->finished_at);
    return OK;
}

/* ---- GitHub ---------------------------------------------------------- */

/* The change a GitHub deployment raises: its external_ref, title and
 * description from the repository and the deployment. */
static enum outcome
hooks_github_raise(struct http_ctx *ctx, const struct hook_link *l, const json_t *p,
                   struct hook_intent *in)
{
    const char *repo = hooks_str(p, "repository", "full_name");
    const char *env = hooks_str(p, "deployment", "environment");
    const char *ref = hooks_str(p, "deployment", "ref");
    const char *task = hooks_str(p, "deployment", "task");
    char sha[HOOKLINK_SHA_LEN], title[400], desc[1200];
    json_t *base;

    if (env == NULL)
        env = hooks_str(p, "environment", NULL);
    if (repo == NULL || !validate_text(repo, 1, 200))
        http_field(ctx, "repository.full_name", "is required: owner/name");
    if (env == NULL || !validate_text(env, 1, 200))
        http_field(ctx, "deployment.environment", "is required");
    if (!hooklink_sha(hooks_str(p, "deployment", "sha"), sha))
        http_field(ctx, "deployment.sha", "must be the full 40-hex commit SHA");
    if (ctx->fe.n > 0)
        return http_fields_ok(ctx);
    if (!hooklink_external_ref("github", repo, env, sha, in->ref, sizeof in->ref)) {
        http_field(ctx, "repository.full_name", "makes an external reference too long");
        return http_fields_ok(ctx);
    }
    snprintf(title, sizeof title, "Deploy %s %s to %s", repo, ref ? ref : sha, env);
    hooklink_clip(title, CHANGE_TITLE_MAX);
    snprintf(desc, sizeof desc, "GitHub deployment %lld of %s at %s (%s) to %s.",
             (long long)json_integer_value(json_object_get(json_object_get(p, "deployment"), "id")),
             repo, sha, task ? task : "deploy", env);
    /* a long repository, task or environment is cut: never inside a character */
    hooklink_clip(desc, sizeof desc - 4);
    base =
        json_pack("{s:s, s:s, s:s}", "title", title, "description", desc, "external_ref", in->ref);
    in->raise = base ? hooks_raise_body(l, base, env) : NULL;
    json_decref(base);
    return in->raise ? OK : ERR_INTERNAL;
}

/* A deployment_status's state as a report; false for a state acted on by
 * nobody (queued, pending, waiting, inactive). */
static bool
hooks_github_status(const char *state, struct hook_intent *in)
{
    in->report = true;
    if (state != NULL && strcmp(state, "in_progress") == 0)
        in->what = HOOKLINK_START;
    else if (state != NULL && strcmp(state, "success") == 0) {
        in->what = HOOKLINK_COMPLETE;
        in->outcome = OUTCOME_SUCCESSFUL;
    } else if (state != NULL && (strcmp(state, "failure") == 0 || strcmp(state, "error") == 0)) {
        in->what = HOOKLINK_COMPLETE;
        in->outcome = OUTCOME_FAILED;
    } else
        in->report = false;
    return in->report;
}

static void
hooks_plain(struct hook_intent *in, int status, json_t *reply)
{
    in->act = false;
    in->status = status;
    in->reply = reply;
}

enum outcome
hooks_github_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                    struct hook_intent *in)
{
    const char *status_at = hooks_str(payload, "deployment_status", "created_at");
    char *at;

    if (strcmp(in->event, "ping") == 0) {
        hooks_plain(in, 200, json_pack("{s:b}", "ok", 1));
        return OK;
    }
    if (strcmp(in->event, "deployment_status") == 0 &&
        !hooks_github_status(hooks_str(payload, "deployment_status", "state"), in)) {
        hooks_plain(in, 202, json_pack("{s:b}", "ignored", 1));
        return OK;
    }
    if (strcmp(in->event, "deployment") != 0 && strcmp(in->event, "deployment_status") != 0 &&
        strcmp(in->event, "deployment_protection_rule") != 0) {
        hooks_plain(in, 202, json_pack("{s:b}", "ignored", 1));
        return OK;
    }
    in->act = true;
    if (strcmp(in->event, "deployment_protection_rule") == 0)
        in->callback_url = hooks_str(payload, "deployment_callback_url", NULL);
    /* the status's own time is when it happened */
    at = in->what == HOOKLINK_START ? in->started_at : in->finished_at;
    if (in->report && status_at != NULL && timefmt_normalize(status_at, at) != OK)
        at[0] = '\0';
    return hooks_github_raise(ctx, l, payload, in);
}

/* ---- GitLab ---------------------------------------------------------- */

/* A Deployment Hook's status as a report (running raises and starts);
 * false for a status acted on by nobody. A cancelled deployment is
 * recorded as failed: it did not do what was planned, and a failed change
 * goes to review, where someone says what state it left. */
static bool
hooks_gitlab_status(const char *status, struct hook_intent *in)
{
    in->report = true;
    if (status != NULL && strcmp(status, "running") == 0)
        in->what = HOOKLINK_START;
    else if (status != NULL && strcmp(status, "success") == 0) {
        in->what = HOOKLINK_COMPLETE;
        in->outcome = OUTCOME_SUCCESSFUL;
    } else if (status != NULL &&
               (strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0)) {
        in->what = HOOKLINK_COMPLETE;
        in->outcome = OUTCOME_FAILED;
    } else
        in->report = false;
    return in->report;
}

enum outcome
hooks_gitlab_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                    struct hook_intent *in)
{
    const char *project = hooks_str(payload, "project", "path_with_namespace");
    const char *env = hooks_str(payload, "environment", NULL);
    const char *status = hooks_str(payload, "status", NULL);
    char sha[HOOKLINK_SHA_LEN], title[400], desc[1200], *at;
    json_t *base;

    if (strcmp(in->event, "Deployment Hook") != 0 || !hooks_gitlab_status(status, in)) {
        hooks_plain(in, 202, json_pack("{s:b}", "ignored", 1));
        return OK;
    }
    in->act = true;
    if (project == NULL || !validate_text(project, 1, 200))
        http_field(ctx, "project.path_with_namespace", "is required: group/project");
    if (env == NULL || !validate_text(env, 1, 200))
        http_field(ctx, "environment", "is required");
    if (!hooklink_commit_url_sha(hooks_str(payload, "commit_url", NULL), sha))
        http_field(ctx, "commit_url", "must end in the full 40-hex commit SHA");
    if (ctx->fe.n == 0 &&
        !hooklink_external_ref("gitlab", project, env, sha, in->ref, sizeof in->ref))
        http_field(ctx, "project.path_with_namespace", "makes an external reference too long");
    if (ctx->fe.n > 0)
        return http_fields_ok(ctx);
    if (in->delivery_id[0] == '\0')
        snprintf(in->delivery_id, sizeof in->delivery_id, "deployment:%lld:%s",
                 (long long)json_integer_value(json_object_get(payload, "deployment_id")), status);
    at = in->what == HOOKLINK_START ? in->started_at : in->finished_at;
    if (!hooklink_gitlab_time(hooks_str(payload, "status_changed_at", NULL), at))
        at[0] = '\0';
    snprintf(title, sizeof title, "Deploy %s %.12s to %s", project, sha, env);
    hooklink_clip(title, CHANGE_TITLE_MAX);
    snprintf(desc, sizeof desc, "GitLab deployment %lld of %s at %s to %s.",
             (long long)json_integer_value(json_object_get(payload, "deployment_id")), project, sha,
             env);
    hooklink_clip(desc, sizeof desc - 4);
    base =
        json_pack("{s:s, s:s, s:s}", "title", title, "description", desc, "external_ref", in->ref);
    in->raise = base ? hooks_raise_body(l, base, env) : NULL;
    json_decref(base);
    return in->raise ? OK : ERR_INTERNAL;
}
