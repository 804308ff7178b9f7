/*
 * What the webhook link's handler (hooks.c) and the translation of each
 * tool's deliveries into what Cabinet does (hooks_tools.c) share: a
 * delivery, once its link is known and its signature checked, becomes a
 * hook_intent — raise a change, find one, record a reported start or
 * finish — that hooks.c carries out through the workflow's own functions.
 */
#ifndef CABINET_HOOKS_H
#define CABINET_HOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/change.h"
#include "domain/hooklink.h"
#include "domain/timefmt.h"
#include "http/http.h"

/* What one delivery asks for. */
struct hook_intent {
    char event[64];        /* as recorded with the delivery */
    char delivery_id[256]; /* what replays are known by; "" for none */
    /* false: answer status with reply (a ping, an event not acted on) */
    bool act;
    int status;
    json_t *reply;
    /* the change a later event names: "CHG-n" or an external reference
     * ("" for none) */
    char ref[CHANGE_EXTERNAL_REF_MAX + 1];
    /* the change to raise when ref finds none (a POST /changes body, owned;
     * NULL: raise none, a ref that finds nothing is refused) */
    json_t *raise;
    /* a start or finish to record */
    bool report;
    enum hooklink_report what;
    enum change_outcome outcome;
    char started_at[TIMEFMT_LEN]; /* "" for the time of receipt */
    char finished_at[TIMEFMT_LEN];
    const char *callback_url; /* borrowed from the payload */
};

/* The integration a link belongs to, as db_hook_link gives it. */
struct hook_link {
    int64_t id;
    const char *kind;
    const json_t *row; /* model, services, environments, default_duration_s */
};

/* What a delivery of each kind asks for, from its headers and payload
 * (each fault a field error or a problem in ctx). The payload is borrowed;
 * the intent's raise body is new; event and delivery_id come filled from
 * the headers, and a kind may set them from the payload. */
enum outcome hooks_generic_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                                  struct hook_intent *in);
enum outcome hooks_github_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                                 struct hook_intent *in);
enum outcome hooks_gitlab_intent(struct http_ctx *ctx, const struct hook_link *l, json_t *payload,
                                 struct hook_intent *in);

#endif
