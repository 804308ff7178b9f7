/* The change document as the API sends it: what db/ renders (change_doc),
 * its gate URL, and — for a caller — the actions the caller may take now,
 * from domain/decision.c, so that no client repeats the rules. */
#include <stdio.h>

#include "api/api.h"
#include "config.h"
#include "domain/decision.h"

static void
render_gate(json_t *doc, const char *token)
{
    char url[1024];

    snprintf(url, sizeof url, "%s/gate/%s", config->base_url, token ? token : "");
    json_object_set_new(doc, "gate_url", json_string(url));
}

json_t *
api_change_render(const json_t *row)
{
    json_t *doc = json_deep_copy(json_object_get(row, "doc"));

    if (doc != NULL)
        render_gate(doc, json_string_value(json_object_get(row, "gate_token")));
    return doc;
}

json_t *
api_change_doc(const struct http_ctx *ctx, const struct change *c, json_t *doc)
{
    struct decision_actor who = {ctx->user.id, ctx->user.roles};
    unsigned verbs = decision_actions(c, &who);
    json_t *actions = json_array();
    int v;

    if (doc == NULL || actions == NULL) {
        json_decref(doc);
        json_decref(actions);
        return NULL;
    }
    for (v = 0; v < VERB_COUNT; v++)
        if (verbs & (1u << v))
            json_array_append_new(actions, json_string(decision_verb_name((enum decision_verb)v)));
    json_object_set_new(doc, "actions", actions);
    render_gate(doc, c->gate_token);
    return doc;
}

enum outcome
api_change_reply(struct http_ctx *ctx, int status, const struct change *c, json_t *doc)
{
    json_t *full = api_change_doc(ctx, c, doc);

    if (full == NULL)
        return ERR_INTERNAL;
    http_add_header(ctx, "ETag", "\"%lld\"", (long long)c->rev);
    http_reply(ctx, status, full);
    return OK;
}
