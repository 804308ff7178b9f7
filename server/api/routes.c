/* The route table: every path Cabinet answers, who may call it, how, and
 * the query parameters its handler reads (any other is refused). */
#include "api/api.h"
#include "api/gate.h"
#include "domain/role.h"

#define V1 "/api/v1"

/* Query parameters, each list what one kind of handler reads. */
static const char *const q_paged[] = {"limit", "cursor", NULL};
static const char *const q_services[] = {"limit", "cursor", "q", NULL};
static const char *const q_period[] = {"from", "to", NULL};
static const char *const q_schedule[] = {"from",   "to",    "service", "limit",
                                         "cursor", "group", "tz",      NULL};
static const char *const q_agenda[] = {"from", "to", "limit", "cursor", NULL};
static const char *const q_changes[] = {"limit", "cursor", "state",     "model", "service", "from",
                                        "to",    "q",      "requester", "view",  NULL};
static const char *const q_recent[] = {"service", "hours", NULL};
static const char *const q_audit[] = {"limit", "cursor", "after", NULL};
static const char *const q_conflicts[] = {"limit", "cursor", "open", NULL};
static const char *const q_conflicts_all[] = {"limit", "cursor", "open", "change", "kind", NULL};
static const char *const q_ics[] = {"token", "service", "mine", NULL};
static const char *const q_slots[] = {"services", "duration", "after", "limit", NULL};
static const char *const q_freezes[] = {"limit", "cursor", "from", "to", NULL};
static const char *const q_gate[] = {"wait", NULL};
static const char *const q_validate[] = {"validate", NULL};

/* A route whose handler reads no query parameter. */
#define NO_QUERY NULL

const struct http_route api_routes[] = {
    {{"GET", "/healthz"}, api_healthz, HTTP_PUBLIC | HTTP_NO_DB, 0, NO_QUERY},
    {{"GET", "/readyz"}, api_readyz, HTTP_PUBLIC | HTTP_NO_DB, 0, NO_QUERY},
    {{"GET", "/metrics"}, api_metrics, HTTP_PUBLIC | HTTP_NO_DB, 0, NO_QUERY},
    {{"GET", V1 "/config"}, api_config, HTTP_PUBLIC | HTTP_NO_DB, 0, NO_QUERY},
    {{"GET", V1 "/openapi.json"}, api_openapi, HTTP_PUBLIC | HTTP_NO_DB, 0, NO_QUERY},
    /* the token is the credential; the handler takes a database connection
     * for each look only, none while it waits */
    {{"GET", "/gate/{token}"}, api_gate, HTTP_PUBLIC | HTTP_NO_DB, 0, q_gate},
    /* the link's key and the delivery's signature are the credential */
    {{"POST", "/hooks/{key}"}, api_hooks_receive, HTTP_PUBLIC, 0, NO_QUERY},

    {{"POST", V1 "/session"}, api_session_create, HTTP_PUBLIC, 0, NO_QUERY},
    {{"DELETE", V1 "/session"}, api_session_delete, 0, 0, NO_QUERY},
    {{"GET", V1 "/me"}, api_me, 0, 0, NO_QUERY},
    {{"GET", V1 "/me/activity"}, api_me_activity, 0, 0, q_paged},
    {{"POST", V1 "/me/password"}, api_me_password, 0, 0, NO_QUERY},
    {{"GET", V1 "/me/queue"}, api_me_queue, 0, 0, q_paged},
    {{"GET", V1 "/me/notifications"}, api_me_notifications, 0, 0, NO_QUERY},
    {{"PATCH", V1 "/me/notifications"}, api_me_notifications_update, 0, 0, NO_QUERY},

    {{"POST", V1 "/me/keys"}, api_keys_create, 0, 0, NO_QUERY},
    {{"DELETE", V1 "/me/keys/{id}"}, api_keys_delete, 0, 0, NO_QUERY},
    {{"GET", V1 "/keys"}, api_keys_list, 0, 0, q_paged},

    {{"GET", V1 "/tokens"}, api_tokens_list, 0, 0, NO_QUERY},
    {{"POST", V1 "/tokens"}, api_tokens_create, 0, 0, NO_QUERY},
    {{"DELETE", V1 "/tokens/{id}"}, api_tokens_delete, 0, 0, NO_QUERY},

    {{"GET", V1 "/users"}, api_users_list, 0, ROLE_ADMIN, q_paged},
    {{"POST", V1 "/users"}, api_users_create, 0, ROLE_ADMIN, NO_QUERY},
    {{"GET", V1 "/users/{id}"}, api_users_get, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},
    {{"PATCH", V1 "/users/{id}"}, api_users_update, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},
    {{"POST", V1 "/users/{id}/unlock"}, api_users_unlock, 0, ROLE_ADMIN, NO_QUERY},

    {{"GET", V1 "/services"}, api_services_list, 0, 0, q_services},
    {{"POST", V1 "/services"}, api_services_create, 0, ROLE_ADMIN, NO_QUERY},
    {{"GET", V1 "/services/{name}"}, api_services_get, 0, 0, NO_QUERY},
    {{"PATCH", V1 "/services/{name}"}, api_services_update, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},
    {{"DELETE", V1 "/services/{name}"}, api_services_delete, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},
    {{"GET", V1 "/services/{name}/impact"}, api_services_impact, 0, 0, NO_QUERY},

    {{"GET", V1 "/models"}, api_models_list, 0, 0, NO_QUERY},
    {{"POST", V1 "/models"}, api_models_create, 0, ROLE_ADMIN, NO_QUERY},
    {{"GET", V1 "/models/{name}"}, api_models_get, 0, 0, NO_QUERY},
    {{"PATCH", V1 "/models/{name}"}, api_models_update, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},

    {{"GET", V1 "/changes"}, api_changes_list, 0, 0, q_changes},
    {{"POST", V1 "/changes"}, api_changes_create, 0, 0, q_validate},
    /* before /changes/{id}, which would take "recent" for an id */
    {{"GET", V1 "/changes/recent"}, api_changes_recent, 0, 0, q_recent},
    {{"GET", V1 "/changes/{id}"}, api_changes_get, 0, 0, NO_QUERY},
    {{"PATCH", V1 "/changes/{id}"}, api_changes_update, 0, 0, q_validate},
    {{"POST", V1 "/changes/{id}/submit"}, api_changes_submit, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/start"}, api_changes_start, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/complete"}, api_changes_complete, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/close"}, api_changes_close, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/cancel"}, api_changes_cancel, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/assessment"}, api_changes_assessment, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/approvals"}, api_approvals_list, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/approvals"}, api_approvals_create, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/timeline"}, api_changes_timeline, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/comments"}, api_comments_list, 0, 0, NO_QUERY},
    {{"POST", V1 "/changes/{id}/comments"}, api_comments_create, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/evidence"}, api_changes_evidence, 0, 0, NO_QUERY},
    {{"GET", V1 "/changes/{id}/conflicts"}, api_changes_conflicts, 0, 0, q_conflicts},

    {{"GET", V1 "/audit"}, api_audit_list, 0, ROLE_MANAGER | ROLE_ADMIN, q_audit},
    {{"GET", V1 "/audit/checkpoint"}, api_audit_checkpoint, 0, ROLE_MANAGER | ROLE_ADMIN, NO_QUERY},
    {{"POST", V1 "/audit/checkpoint"},
     api_audit_checkpoint_sign,
     0,
     ROLE_MANAGER | ROLE_ADMIN,
     NO_QUERY},
    {{"GET", V1 "/server-key"}, api_server_key, 0, 0, NO_QUERY},
    {{"GET", V1 "/reports/summary"}, api_reports_summary, 0, 0, q_period},

    {{"GET", V1 "/conflicts"}, api_conflicts_list, 0, 0, q_conflicts_all},
    {{"POST", V1 "/conflicts/{id}/acknowledge"}, api_conflicts_acknowledge, 0, 0, NO_QUERY},
    {{"GET", V1 "/schedule"}, api_schedule, 0, 0, q_schedule},
    {{"GET", V1 "/schedule.ics"}, api_schedule_ics, HTTP_PUBLIC, 0, q_ics},
    {{"GET", V1 "/schedule/slots"}, api_schedule_slots, 0, 0, q_slots},
    {{"GET", V1 "/cab/agenda"}, api_agenda, 0, 0, q_agenda},

    {{"GET", V1 "/webhooks"}, api_webhooks_list, 0, ROLE_MANAGER | ROLE_ADMIN, NO_QUERY},
    {{"POST", V1 "/webhooks"}, api_webhooks_create, 0, ROLE_MANAGER | ROLE_ADMIN, NO_QUERY},
    {{"DELETE", V1 "/webhooks/{id}"},
     api_webhooks_delete,
     HTTP_DEFER_ROLE,
     ROLE_MANAGER | ROLE_ADMIN,
     NO_QUERY},
    {{"GET", V1 "/webhooks/{id}/deliveries"},
     api_webhooks_deliveries,
     HTTP_DEFER_ROLE,
     ROLE_MANAGER | ROLE_ADMIN,
     q_paged},
    {{"POST", V1 "/webhooks/{id}/deliveries/{d}/retry"},
     api_webhooks_retry,
     HTTP_DEFER_ROLE,
     ROLE_MANAGER | ROLE_ADMIN,
     NO_QUERY},

    {{"GET", V1 "/integrations"}, api_integrations_list, 0, ROLE_ADMIN, q_paged},
    {{"POST", V1 "/integrations"}, api_integrations_create, 0, ROLE_ADMIN, NO_QUERY},
    {{"GET", V1 "/integrations/{id}"}, api_integrations_get, HTTP_DEFER_ROLE, ROLE_ADMIN, NO_QUERY},
    {{"PATCH", V1 "/integrations/{id}"},
     api_integrations_update,
     HTTP_DEFER_ROLE,
     ROLE_ADMIN,
     NO_QUERY},
    {{"DELETE", V1 "/integrations/{id}"},
     api_integrations_delete,
     HTTP_DEFER_ROLE,
     ROLE_ADMIN,
     NO_QUERY},
    {{"POST", V1 "/integrations/{id}/rotate"},
     api_integrations_rotate,
     HTTP_DEFER_ROLE,
     ROLE_ADMIN,
     NO_QUERY},
    {{"GET", V1 "/integrations/{id}/deliveries"},
     api_integrations_deliveries,
     HTTP_DEFER_ROLE,
     ROLE_ADMIN,
     q_paged},

    {{"GET", V1 "/freezes"}, api_freezes_list, 0, 0, q_freezes},
    {{"POST", V1 "/freezes"}, api_freezes_create, 0, ROLE_MANAGER, NO_QUERY},
    {{"GET", V1 "/freezes/{id}"}, api_freezes_get, 0, 0, NO_QUERY},
    {{"PATCH", V1 "/freezes/{id}"}, api_freezes_update, HTTP_DEFER_ROLE, ROLE_MANAGER, NO_QUERY},
    {{"DELETE", V1 "/freezes/{id}"}, api_freezes_delete, HTTP_DEFER_ROLE, ROLE_MANAGER, NO_QUERY},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
