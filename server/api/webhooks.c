/* Outbound subscriptions (managers and admins): made with a secret shown
 * once, listed, deleted; their deliveries listed and retried. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_webhook.h"
#include "sec/sec.h"

static const char *const webhooks_events[] = {"change.created",
                                              "change.submitted",
                                              "change.state_changed",
                                              "change.approved",
                                              "change.rejected",
                                              "change.conflict_detected",
                                              "change.conflict_resolved",
                                              "freeze.created",
                                              "*",
                                              NULL};

enum outcome
api_webhooks_list(struct http_ctx *ctx)
{
    json_t *items = NULL;
    enum outcome rc;

    if ((rc = db_webhook_list(ctx->db, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(items));
    return OK;
}

/* A subscription as a request asks for it; format defaults to standard. */
struct webhooks_body {
    const char *url;
    struct decode_names events;
    const char *format;
};
static const char *const webhooks_formats[] = {"standard", "chat", NULL};
static const struct decode_field webhooks_fields[] = {
    {"url", DECODE_LINE, offsetof(struct webhooks_body, url), true, 10, 2000, NULL,
     "an http:// or https:// URL"},
    {"events", DECODE_WORDS, offsetof(struct webhooks_body, events), true, 1, 100, webhooks_events,
     "a list of event types, or [\"*\"]"},
    {"format", DECODE_ONEOF, offsetof(struct webhooks_body, format), false, 0, 0, webhooks_formats,
     "standard or chat"},
};

/* The checks of a subscription beyond each field's own: where the URL
 * points, and each event once (over the list as sent, so that a repeat is
 * named beside an unknown event). */
static void
webhooks_check(struct http_ctx *ctx, const json_t *body, const struct webhooks_body *b)
{
    const json_t *events = json_object_get(body, "events");
    char field[48], whybuf[128];
    const char *why, *e;
    size_t i, j;

    if (b->url != NULL &&
        ((strncmp(b->url, "https://", 8) != 0 && strncmp(b->url, "http://", 7) != 0) ||
         strchr(b->url, ' ') != NULL))
        http_field(ctx, "url", "must be an http:// or https:// URL");
    else if (b->url != NULL &&
             (why = ctx->app->check_receiver(b->url, whybuf, sizeof whybuf)) != NULL)
        http_field(ctx, "url", "%s", why);
    for (i = 0; i < json_array_size(events); i++) {
        if ((e = json_string_value(json_array_get(events, i))) == NULL)
            continue;
        for (j = 0; j < i; j++)
            if (json_is_string(json_array_get(events, j)) &&
                strcmp(e, json_string_value(json_array_get(events, j))) == 0) {
                snprintf(field, sizeof field, "events[%zu]", i);
                http_field(ctx, field, "is listed twice");
            }
    }
}

/* The events as a PostgreSQL array literal (the names need no quoting
 * beyond the quotes). */
static void
webhooks_events_pg(const struct decode_names *events, struct strbuf *pg)
{
    size_t i;

    strbuf_putc(pg, '{');
    for (i = 0; i < events->n; i++)
        strbuf_printf(pg, "%s\"%s\"", i ? "," : "",
                      json_string_value(json_array_get(events->list, i)));
    strbuf_putc(pg, '}');
}

enum outcome
api_webhooks_create(struct http_ctx *ctx)
{
    struct webhooks_body b = {.format = "standard"};
    struct strbuf events = STRBUF_INIT;
    char secret[SEC_WEBHOOK_SECRET_LEN];
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK)
        goto out;
    (void)decode_body(ctx, body, webhooks_fields, DECODE_NFIELDS(webhooks_fields), &b, NULL);
    webhooks_check(ctx, body, &b);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    webhooks_events_pg(&b.events, &events);
    if (strbuf_failed(&events)) {
        rc = ERR_INTERNAL;
        goto out;
    }
    sec_webhook_secret(secret);
    if ((rc = db_webhook_create(ctx->db, http_actor(ctx), ctx->user.id, b.url, strbuf_str(&events),
                                b.format, secret, &doc)) != OK)
        goto out;
    json_object_set_new(doc, "secret", json_string(secret));
    http_add_header(ctx, "Location", "/api/v1/webhooks/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    sec_wipe(secret, sizeof secret);
    strbuf_free(&events);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* The subscription of the path must exist (404), then the caller's role. */
static enum outcome
webhooks_load(struct http_ctx *ctx, int64_t *id)
{
    json_t *doc = NULL;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such webhook");
    rc = db_webhook_get(ctx->db, *id, &doc);
    json_decref(doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such webhook");
    if (rc != OK)
        return rc;
    return http_authorize(ctx);
}

enum outcome
api_webhooks_delete(struct http_ctx *ctx)
{
    int64_t id;
    enum outcome rc;

    if ((rc = webhooks_load(ctx, &id)) != OK ||
        (rc = db_webhook_delete(ctx->db, http_actor(ctx), id)) != OK)
        return rc;
    http_reply(ctx, 204, NULL);
    return OK;
}

enum outcome
api_webhooks_deliveries(struct http_ctx *ctx)
{
    char cursor[32];
    int64_t id, before = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = webhooks_load(ctx, &id)) != OK ||
        (rc = http_paging(ctx, "deliveries", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &before))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((rc = db_webhook_deliveries(ctx->db, id, before, limit + 1, &items)) != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "deliveries", "id"));
    return OK;
}

enum outcome
api_webhooks_retry(struct http_ctx *ctx)
{
    int64_t id, delivery;
    json_t *doc = NULL;
    enum outcome rc;

    if ((rc = webhooks_load(ctx, &id)) != OK)
        return rc;
    if (!decode_id(http_param(ctx, 1), NULL, &delivery))
        return http_fail(ctx, ERR_NOT_FOUND, "no such delivery");
    rc = db_webhook_retry(ctx->db, http_actor(ctx), id, delivery, &doc);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such delivery of this webhook");
    if (rc != OK)
        return rc;
    http_reply(ctx, 202, doc);
    return OK;
}
