/*
 * The API's route table and every handler. One file per resource; each
 * handler decodes and validates, calls domain/ and db/, and renders.
 */
#ifndef CABINET_API_H
#define CABINET_API_H

#include <stddef.h>

#include "domain/change.h"
#include "http/http.h"

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* ops.c */
enum outcome api_healthz(struct http_ctx *ctx);
enum outcome api_readyz(struct http_ctx *ctx);
enum outcome api_metrics(struct http_ctx *ctx);
enum outcome api_config(struct http_ctx *ctx);
enum outcome api_openapi(struct http_ctx *ctx);

/* session.c */
enum outcome api_session_create(struct http_ctx *ctx);
enum outcome api_session_delete(struct http_ctx *ctx);
enum outcome api_me(struct http_ctx *ctx);
enum outcome api_me_activity(struct http_ctx *ctx);
enum outcome api_me_password(struct http_ctx *ctx);
/* notifications.c */
enum outcome api_me_notifications(struct http_ctx *ctx);
enum outcome api_me_notifications_update(struct http_ctx *ctx);

/* users.c */
enum outcome api_users_list(struct http_ctx *ctx);
enum outcome api_users_create(struct http_ctx *ctx);
enum outcome api_users_get(struct http_ctx *ctx);
enum outcome api_users_update(struct http_ctx *ctx);
enum outcome api_users_unlock(struct http_ctx *ctx);
/* The password policy: a field error on `password` unless it is valid
 * UTF-8 of USERS_PASSWORD_MIN characters to USERS_PASSWORD_MAX bytes. */
#define USERS_PASSWORD_MIN 10
#define USERS_PASSWORD_MAX 1024
void api_users_password(struct http_ctx *ctx, const char *password);

/* tokens.c */
enum outcome api_tokens_list(struct http_ctx *ctx);
enum outcome api_tokens_create(struct http_ctx *ctx);
enum outcome api_tokens_delete(struct http_ctx *ctx);

/* services.c */
enum outcome api_services_list(struct http_ctx *ctx);
enum outcome api_services_create(struct http_ctx *ctx);
enum outcome api_services_get(struct http_ctx *ctx);
enum outcome api_services_update(struct http_ctx *ctx);
enum outcome api_services_delete(struct http_ctx *ctx);
enum outcome api_services_impact(struct http_ctx *ctx);

/* models.c */
enum outcome api_models_list(struct http_ctx *ctx);
enum outcome api_models_create(struct http_ctx *ctx);
enum outcome api_models_get(struct http_ctx *ctx);
enum outcome api_models_update(struct http_ctx *ctx);

/* changes.c */
enum outcome api_changes_list(struct http_ctx *ctx);
enum outcome api_changes_create(struct http_ctx *ctx);
enum outcome api_changes_get(struct http_ctx *ctx);
enum outcome api_changes_update(struct http_ctx *ctx);
/* Decodes body as POST /changes does (each field at fault recorded in ctx,
 * the model and services checked to exist) and creates the draft in the
 * caller's transaction on ctx->db, owned by user_id, from source (webhook
 * links: "hook"). ERR_CONFLICT when an open change has its external_ref.
 * The caller change_clears *out and owns *doc. */
enum outcome api_changes_raise(struct http_ctx *ctx, json_t *body, int64_t user_id,
                               const char *source, struct change *out, json_t **doc);

/* render.c */
/* The change document of a {"doc","rev","gate_token"} row, with its gate
 * URL (new reference). */
json_t *api_change_render(const json_t *row);
/* doc (stolen: change_doc of c) with its gate URL and the `actions` the
 * caller may take now; NULL when out of memory. */
json_t *api_change_doc(const struct http_ctx *ctx, const struct change *c, json_t *doc);
/* Replies with c's document (doc stolen) and its ETag. */
enum outcome api_change_reply(struct http_ctx *ctx, int status, const struct change *c,
                              json_t *doc);

/* workflow.c */
enum outcome api_changes_submit(struct http_ctx *ctx);
enum outcome api_changes_start(struct http_ctx *ctx);
enum outcome api_changes_complete(struct http_ctx *ctx);
enum outcome api_changes_close(struct http_ctx *ctx);
enum outcome api_changes_cancel(struct http_ctx *ctx);
enum outcome api_changes_assessment(struct http_ctx *ctx);
enum outcome api_approvals_list(struct http_ctx *ctx);
enum outcome api_approvals_create(struct http_ctx *ctx);

/* audit.c */
enum outcome api_audit_list(struct http_ctx *ctx);
enum outcome api_audit_checkpoint(struct http_ctx *ctx);
enum outcome api_audit_checkpoint_sign(struct http_ctx *ctx);
enum outcome api_server_key(struct http_ctx *ctx);
enum outcome api_changes_timeline(struct http_ctx *ctx);
enum outcome api_comments_list(struct http_ctx *ctx);
enum outcome api_comments_create(struct http_ctx *ctx);
enum outcome api_changes_evidence(struct http_ctx *ctx);

/* reports.c */
enum outcome api_reports_summary(struct http_ctx *ctx);

/* schedule.c */
enum outcome api_conflicts_list(struct http_ctx *ctx);
enum outcome api_changes_conflicts(struct http_ctx *ctx);
enum outcome api_conflicts_acknowledge(struct http_ctx *ctx);
enum outcome api_schedule(struct http_ctx *ctx);
enum outcome api_agenda(struct http_ctx *ctx);
enum outcome api_me_queue(struct http_ctx *ctx);
enum outcome api_schedule_ics(struct http_ctx *ctx);
enum outcome api_schedule_slots(struct http_ctx *ctx);
enum outcome api_changes_recent(struct http_ctx *ctx);

/* webhooks.c */
enum outcome api_webhooks_list(struct http_ctx *ctx);
enum outcome api_webhooks_create(struct http_ctx *ctx);
enum outcome api_webhooks_delete(struct http_ctx *ctx);
enum outcome api_webhooks_deliveries(struct http_ctx *ctx);
enum outcome api_webhooks_retry(struct http_ctx *ctx);

/* integrations.c */
enum outcome api_integrations_list(struct http_ctx *ctx);
enum outcome api_integrations_create(struct http_ctx *ctx);
enum outcome api_integrations_get(struct http_ctx *ctx);
enum outcome api_integrations_update(struct http_ctx *ctx);
enum outcome api_integrations_delete(struct http_ctx *ctx);
enum outcome api_integrations_rotate(struct http_ctx *ctx);
enum outcome api_integrations_deliveries(struct http_ctx *ctx);

/* hooks.c */
enum outcome api_hooks_receive(struct http_ctx *ctx);

/* keys.c */
enum outcome api_keys_create(struct http_ctx *ctx);
enum outcome api_keys_delete(struct http_ctx *ctx);
enum outcome api_keys_list(struct http_ctx *ctx);

/* freezes.c */
enum outcome api_freezes_list(struct http_ctx *ctx);
enum outcome api_freezes_create(struct http_ctx *ctx);
enum outcome api_freezes_get(struct http_ctx *ctx);
enum outcome api_freezes_update(struct http_ctx *ctx);
enum outcome api_freezes_delete(struct http_ctx *ctx);

#endif
