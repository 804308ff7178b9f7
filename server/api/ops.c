/* Operations: liveness, readiness, metrics, what the UI needs first, and the
 * API's own description. */
#include <string.h>

#include "api/api.h"
#include "config.h"
#include "db/db_tally.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/static.h"
#include "version.h"

enum outcome
api_healthz(struct http_ctx *ctx)
{
    http_reply(ctx, 200, json_pack("{s:s}", "status", "ok"));
    return OK;
}

enum outcome
api_readyz(struct http_ctx *ctx)
{
    struct db_pool *pool = ctx->app->pool;
    struct db *db = NULL;
    enum outcome rc;

    if ((rc = db_acquire(pool, &db)) == OK) {
        rc = db_ping(db);
        db_release(pool, db);
    }
    if (rc != OK)
        return http_fail(ctx, ERR_UNAVAILABLE, "the database does not answer");
    http_reply(ctx, 200, json_pack("{s:s, s:s}", "status", "ok", "database", "ok"));
    return OK;
}

/* The gauges of the data, when the database answers: a connection of the
 * pool for one statement over the tallies (db/db_tally.h), so a scrape
 * costs the same at a million changes as at ten. Without the database the
 * rest is still worth scraping: the gauges are left out. */
static void
api_metrics_tallies(struct http_ctx *ctx, struct strbuf *sb)
{
    struct db_pool *pool = ctx->app->pool;
    struct db *db = NULL;
    json_t *tallies = NULL;

    if (pool == NULL || db_acquire(pool, &db) != OK)
        return;
    if (db_tally_read(db, &tallies) == OK)
        metrics_render_tallies(sb, tallies);
    db_release(pool, db);
    json_decref(tallies);
}

enum outcome
api_metrics(struct http_ctx *ctx)
{
    struct strbuf sb = STRBUF_INIT;
    enum outcome rc;

    http_server_metrics(ctx, &sb);
    api_metrics_tallies(ctx, &sb);
    rc = strbuf_failed(&sb) ? ERR_INTERNAL
                            : http_reply_raw(ctx, 200, "text/plain; version=0.0.4; charset=utf-8",
                                             strbuf_str(&sb), sb.len);
    strbuf_free(&sb);
    return rc;
}

enum outcome
api_config(struct http_ctx *ctx)
{
    http_reply(ctx, 200,
               json_pack("{s:s, s:s, s:s, s:s}", "product", "Cabinet", "version", CABINET_VERSION,
                         "support_contact", config->support_contact, "base_url", config->base_url));
    return OK;
}

/* The OpenAPI description of this API, web/openapi.json as the web root holds
 * it, so that the server describes the routes it serves; a JSON reply under
 * /api/v1 gets its ETag and 304 as every other GET does. */
enum outcome
api_openapi(struct http_ctx *ctx)
{
    struct strbuf body = STRBUF_INIT;
    char etag[STATIC_ETAG_LEN];
    const char *type;
    enum outcome rc;

    rc = static_load(config->web_root, "/openapi.json", &body, &type, etag);
    if (rc == ERR_NOT_FOUND)
        rc = http_fail(ctx, rc, "openapi.json is not in the web root");
    else if (rc == OK)
        rc = strbuf_failed(&body)
                 ? ERR_INTERNAL
                 : http_reply_raw(ctx, 200, "application/json", strbuf_str(&body), body.len);
    strbuf_free(&body);
    return rc;
}
