/*
 * The HTTP server: CivetWeb configured safely (no file serving of its own,
 * no CGI, TCP_NODELAY, timeouts), one dispatcher that routes, authenticates,
 * checks roles and CSRF, runs the handler and writes the whole response in
 * one write. Started and stopped by `cabinet serve` on the main thread.
 */
#ifndef CABINET_HTTP_SERVER_H
#define CABINET_HTTP_SERVER_H

#include "db/db.h"
#include "domain/strbuf.h"
#include "http/http.h"

struct http_server;

/* Starts serving config->listen with the given route table; *out is freed
 * by http_server_stop. */
enum outcome http_server_start(struct db_pool *pool, const struct http_route *routes,
                               size_t nroutes, const char *server_secret, struct http_server **out);
void http_server_stop(struct http_server *srv);

/* For the /metrics handler: appends the exposition text. */
void http_server_metrics(struct http_ctx *ctx, struct strbuf *sb);
/* The server's Ed25519 secret key (base64), for on-demand checkpoints. */
const char *http_server_secret(struct http_ctx *ctx);
/* For /readyz: the pool the server uses. */
struct db_pool *http_server_pool(struct http_ctx *ctx);

#endif
