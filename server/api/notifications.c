/* The caller's e-mail notifications: what they hear (README "E-mail
 * notifications"). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/decode.h"
#include "config.h"
#include "db/db_mail.h"
#include "domain/mailmsg.h"

/* {"email","sending","kinds":{kind: bool}}, taking the reference to kinds. */
static json_t *
notifications_doc(const struct http_ctx *ctx, json_t *kinds)
{
    return json_pack("{s:s, s:b, s:o}", "email", ctx->user.email, "sending",
                     config->smtp_url[0] != '\0', "kinds", kinds);
}

enum outcome
api_me_notifications(struct http_ctx *ctx)
{
    json_t *kinds = NULL;
    enum outcome rc;

    if ((rc = db_mail_preferences(ctx->db, ctx->user.id, &kinds)) != OK)
        return rc;
    http_reply(ctx, 200, notifications_doc(ctx, kinds));
    return OK;
}

struct notifications_body {
    const json_t *kinds;
};
static const struct decode_field notifications_fields[] = {
    {"kinds", DECODE_OBJECT, offsetof(struct notifications_body, kinds), true, 0, 0, NULL,
     "an object of awaiting_approval, decision and conflict, each true or false"},
};

/* Merges the kinds a request names into have (what the user hears now),
 * recording every member at fault. */
static void
notifications_merge(struct http_ctx *ctx, const json_t *kinds, json_t *have)
{
    const char *key;
    json_t *v;
    char name[96];

    json_object_foreach((json_t *)(uintptr_t)kinds, key, v)
    {
        snprintf(name, sizeof name, "kinds.%.80s", key);
        if (mailmsg_kind_parse(key) < 0)
            http_field(ctx, name,
                       "is not a kind of notification: awaiting_approval, decision or "
                       "conflict");
        else if (!json_is_boolean(v))
            http_field(ctx, name, "must be true or false");
        else
            json_object_set(have, key, v);
    }
}

/* What a user hears, as the PostgreSQL array of the kinds switched off. */
static void
notifications_off(const json_t *have, struct strbuf *sb)
{
    int i, n = 0;

    strbuf_putc(sb, '{');
    for (i = 0; i < MAIL_KINDS; i++)
        if (json_is_false(json_object_get(have, mailmsg_kinds[i])))
            strbuf_printf(sb, "%s%s", n++ ? "," : "", mailmsg_kinds[i]);
    strbuf_putc(sb, '}');
}

enum outcome
api_me_notifications_update(struct http_ctx *ctx)
{
    struct notifications_body b = {0};
    struct strbuf off = STRBUF_INIT;
    json_t *body = NULL, *have = NULL, *kinds = NULL;
    enum outcome rc;

    if ((rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, notifications_fields, DECODE_NFIELDS(notifications_fields), &b,
                          NULL)) != OK ||
        (rc = db_mail_preferences(ctx->db, ctx->user.id, &have)) != OK)
        goto out;
    notifications_merge(ctx, b.kinds, have);
    if ((rc = http_fields_ok(ctx)) != OK)
        goto out;
    notifications_off(have, &off);
    if (strbuf_failed(&off)) {
        rc = ERR_INTERNAL;
        goto out;
    }
    if ((rc = db_mail_set_preferences(ctx->db, ctx->user.id, strbuf_str(&off), &kinds)) != OK)
        goto out;
    http_reply(ctx, 200, notifications_doc(ctx, kinds));
out:
    strbuf_free(&off);
    json_decref(have);
    json_decref(body);
    return rc;
}
