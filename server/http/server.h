/*
 * The HTTP server: CivetWeb configured safely (no file serving of its own,
 * no CGI, TCP_NODELAY, timeouts), one dispatcher that routes, authenticates,
 * checks roles and CSRF, runs the handler and writes the whole response in
 * one write. Each client may hold at most CABINET_MAX_PER_CLIENT of the
 * workers at once: its connections, or, through a proxy in
 * CABINET_TRUSTED_PROXIES, its requests (the client then named by
 * X-Forwarded-For); past that, 503 and the connection closes. Started and
 * stopped by `cabinet serve` on the main thread.
 */
#ifndef CABINET_HTTP_SERVER_H
#define CABINET_HTTP_SERVER_H

#include "app.h"
#include "domain/strbuf.h"
#include "http/http.h"

struct http_server;

/* Starts serving config->listen with the given route table; every request
 * reaches app as ctx->app (borrowed: it must outlive the server). *out is
 * freed by http_server_stop. */
enum outcome http_server_start(const struct app *app, const struct http_route *routes,
                               size_t nroutes, struct http_server **out);
/* Stops CivetWeb (which cuts whatever request is still reading or writing)
 * and frees srv; NULL-safe. */
void http_server_stop(struct http_server *srv);
/* The first step of a graceful stop: new connections are refused from now
 * on, and every response closes its connection; requests under way go on.
 * Returns at once. */
void http_server_drain(struct http_server *srv);
/* How many requests are being served right now. */
int http_server_busy(struct http_server *srv);

/* For the /metrics handler: appends the exposition text. */
void http_server_metrics(struct http_ctx *ctx, struct strbuf *sb);

#endif
