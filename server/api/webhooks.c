/* Outbound subscriptions (managers and admins): made with a secret shown
 * once, listed, deleted; their deliveries listed and retried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "db/db_webhook.h"
#include "domain/validate.h"
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

/* A subscription as asked for: borrowed from the body, events as a
 * PostgreSQL array. */
struct webhooks_input {
    const char *url, *format;
    struct strbuf events;
};

/* Validates a subscription body into in. */
static void
webhooks_decode(struct http_ctx *ctx, const json_t *body, struct webhooks_input *in)
{
    static const char *const formats[] = {"standard", "chat", NULL};
    const json_t *events = NULL;
    char field[48], whybuf[128];
    const char *why;
    size_t i, j, n = 0;

    if (decode_string(ctx, body, "url", &in->url) != DECODE_BAD) {
        if (in->url == NULL || !validate_text(in->url, 10, 2000) ||
            (strncmp(in->url, "https://", 8) != 0 && strncmp(in->url, "http://", 7) != 0) ||
            strpbrk(in->url, " \t\r\n") != NULL)
            http_field(ctx, "url", "is required: an http:// or https:// URL");
        else if (http_check_line(ctx, "url", in->url) &&
                 (why = ctx->app->check_receiver(in->url, whybuf, sizeof whybuf)) != NULL)
            http_field(ctx, "url", "%s", why);
    }
    if (decode_strings(ctx, body, "events", &events, &n) != DECODE_BAD && n == 0)
        http_field(ctx, "events", "is required: a list of event types, or [\"*\"]");
    for (i = 0; i < n; i++) {
        const char *e = json_string_value(json_array_get(events, i));
        snprintf(field, sizeof field, "events[%zu]", i);
        if (!validate_oneof(e, webhooks_events))
            http_field(ctx, field, "is not an event Cabinet sends");
        for (j = 0; j < i; j++)
            if (strcmp(e, json_string_value(json_array_get(events, j))) == 0)
                http_field(ctx, field, "is listed twice");
    }
    if (decode_string(ctx, body, "format", &in->format) == DECODE_SET &&
        !validate_oneof(in->format, formats))
        http_field(ctx, "format", "must be standard or chat");
    if (in->format == NULL)
        in->format = "standard";
    strbuf_putc(&in->events, '{');
    for (i = 0; i < n; i++)
        strbuf_printf(&in->events, "%s\"%s\"", i ? "," : "",
                      json_string_value(json_array_get(events, i)));
    strbuf_putc(&in->events, '}');
}

enum outcome
api_webhooks_create(struct http_ctx *ctx)
{
    static const char *const fields[] = {"url", "events", "format", NULL};
    struct webhooks_input in = {.format = "standard", .events = STRBUF_INIT};
    char secret[SEC_WEBHOOK_SECRET_LEN];
    json_t *body = NULL, *doc = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = http_known_fields(ctx, body, fields)) != OK)
        goto out;
    webhooks_decode(ctx, body, &in);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    if (strbuf_failed(&in.events)) {
        rc = ERR_INTERNAL;
        goto out;
    }
    sec_webhook_secret(secret);
    if ((rc = db_webhook_create(ctx->db, http_actor(ctx), ctx->user.id, in.url,
                                strbuf_str(&in.events), in.format, secret, &doc)) != OK)
        goto out;
    json_object_set_new(doc, "secret", json_string(secret));
    http_add_header(ctx, "Location", "/api/v1/webhooks/%lld",
                    (long long)json_integer_value(json_object_get(doc, "id")));
    http_reply(ctx, 201, doc);
    doc = NULL;
out:
    sec_wipe(secret, sizeof secret);
    strbuf_free(&in.events);
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
