#include "http/server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db/db_auth.h"
#include "domain/etag.h"
#include "domain/role.h"
#include "http/metrics.h"
#include "http/static.h"
#include "log.h"
#include "sec/sec.h"

#define HTTP_SESSION_COOKIE "cabinet_session"

static const char http_security_headers[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n";

/* An IP address; IPv4 as the IPv4-mapped IPv6 address, as config_net. */
struct http_addr {
    unsigned char b[16];
};

/* One client and how many connections, or requests through a trusted
 * proxy, it has open now. */
struct http_client {
    struct http_addr addr;
    int n; /* 0: a free entry */
};

/* Every client counted. Each connection or request counted runs on a
 * worker thread, so there are never more clients than threads: a table of
 * that many, searched in full under the lock, is enough. */
struct http_clients {
    pthread_mutex_t lock;
    int cap;  /* CABINET_MAX_PER_CLIENT; 0: no limit, nothing counted */
    int size; /* CABINET_THREADS */
    struct http_client *e;
};

struct http_server {
    const struct app *app;
    struct mg_context *mg;
    const struct http_route *routes;
    size_t nroutes;
    const char **metric_methods;
    const char **metric_routes;
    struct http_clients clients;
    atomic_int busy;      /* requests in http_dispatch now */
    atomic_bool draining; /* a stop is under way: every response closes its connection */
    int quiet[2];         /* the pipe put in place of the listening sockets; -1: none */
    int ports[4];         /* the ports they listened on (0: none) */
};

/* An address as a client or proxy writes it in X-Forwarded-For (or CivetWeb
 * the peer): "192.0.2.7", "2001:db8::7", optionally with a port
 * ("192.0.2.7:443", "[2001:db8::7]:443"), white space around it. False for
 * anything else. */
static bool
http_parse_addr(const char *text, size_t len, struct http_addr *out)
{
    char buf[64], *p = buf, *end;
    unsigned char v4[4];

    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (buf[0] == '[') {
        if ((end = strchr(buf, ']')) == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        *end = '\0';
        p = buf + 1;
    } else if ((end = strchr(buf, ':')) != NULL && strchr(end + 1, ':') == NULL) {
        *end = '\0'; /* an IPv4 address and a port */
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, p, v4) == 1) {
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, p, out->b) == 1;
}

/* The address as text: IPv4 for IPv4-mapped addresses. */
static void
http_format_addr(const struct http_addr *a, char *buf, size_t size)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(a->b, mapped, sizeof mapped) == 0)
        inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)size);
    else
        inet_ntop(AF_INET6, a->b, buf, (socklen_t)size);
}

/* Whether a is in CABINET_TRUSTED_PROXIES. */
static bool
http_trusted(const struct http_addr *a)
{
    int i;

    for (i = 0; i < config->ntrusted; i++) {
        const struct config_net *net = &config->trusted_nets[i];
        int whole = net->bits / 8, rest = net->bits % 8;

        if (memcmp(a->b, net->addr, (size_t)whole) != 0)
            continue;
        if (rest == 0 || ((a->b[whole] ^ net->addr[whole]) & (0xff << (8 - rest)) & 0xff) == 0)
            return true;
    }
    return false;
}

/* The client a request that came through a trusted proxy is for: walking
 * the X-Forwarded-For lines from the right (the address the nearest proxy
 * saw), the first address that is not a trusted proxy, or the leftmost when
 * all are. An entry that is not an address ends the walk at the one before
 * it (to its right), so that nobody picks the name they are counted under
 * by sending nonsense. Without the header, the peer itself. */
static void
http_forwarded_client(const struct mg_request_info *ri, const struct http_addr *peer,
                      struct http_addr *out)
{
    int i;

    *out = *peer;
    for (i = ri->num_headers - 1; i >= 0; i--) {
        const char *v = ri->http_headers[i].value;
        size_t end;

        if (strcasecmp(ri->http_headers[i].name, "X-Forwarded-For") != 0 || v == NULL)
            continue;
        for (end = strlen(v);;) {
            size_t start = end;
            struct http_addr a;

            while (start > 0 && v[start - 1] != ',')
                start--;
            if (!http_parse_addr(v + start, end - start, &a))
                return;
            *out = a;
            if (!http_trusted(&a))
                return;
            if (start == 0)
                break;
            end = start - 1;
        }
    }
}

/* Counts one more for a: the entry counting it, or NULL, counting nothing,
 * when a has cap already. */
static struct http_client *
http_clients_take(struct http_clients *c, const struct http_addr *a)
{
    struct http_client *e = NULL;
    int i;

    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->size; i++) {
        if (c->e[i].n > 0 && memcmp(&c->e[i].addr, a, sizeof *a) == 0) {
            e = &c->e[i];
            break;
        }
        if (c->e[i].n == 0 && e == NULL)
            e = &c->e[i];
    }
    if (e != NULL && e->n < c->cap) {
        if (e->n++ == 0)
            e->addr = *a;
    } else {
        e = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

/* Counts one less on e, an entry http_clients_take returned (it stays that
 * client's while its count is above 0, so the pointer is the count). */
static void
http_clients_put(struct http_clients *c, struct http_client *e)
{
    pthread_mutex_lock(&c->lock);
    e->n--;
    pthread_mutex_unlock(&c->lock);
}

/* CivetWeb's connection_close, however a connection ends: a connection
 * straight from a client holds its client's entry (its user data) from its
 * first request on, idle or not, since it holds the worker all that time. */
static void
http_conn_close(const struct mg_connection *conn)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    struct http_client *e = mg_get_user_connection_data(conn);

    if (e != NULL)
        http_clients_put(&srv->clients, e);
}

/* Admits a request within its client's share of the workers. A connection
 * straight from a client counts for its address from its first request
 * until it closes (CivetWeb tells nobody the peer earlier; until then the
 * header deadline bounds it); a request through a trusted proxy counts for
 * the client X-Forwarded-For names until its response is written (*held is
 * the entry to give back then). Otherwise ERR_UNAVAILABLE, and the
 * connection closes after the 503. */
static enum outcome
http_admit(struct http_server *srv, struct http_ctx *ctx, struct http_client **held)
{
    const struct mg_request_info *ri = mg_get_request_info(ctx->conn);
    struct http_addr peer, client;
    char text[INET6_ADDRSTRLEN];
    bool proxy;

    *held = NULL;
    if (srv->clients.cap == 0 || mg_get_user_connection_data(ctx->conn) != NULL)
        return OK;
    /* not an IP address (cannot happen on a TCP listener): all such count as one */
    if (!http_parse_addr(ri->remote_addr, strlen(ri->remote_addr), &peer))
        memset(&peer, 0, sizeof peer);
    if ((proxy = http_trusted(&peer))) {
        http_forwarded_client(ri, &peer, &client);
        if ((*held = http_clients_take(&srv->clients, &client)) != NULL)
            return OK;
    } else {
        struct http_client *e = http_clients_take(&srv->clients, &peer);
        client = peer;
        if (e != NULL) {
            mg_set_user_connection_data(ctx->conn, e);
            return OK;
        }
    }
    ctx->close = true;
    ctx->retry_after = 1;
    http_format_addr(&client, text, sizeof text);
    return http_fail(ctx, ERR_UNAVAILABLE,
                     "%s has %d %s open here already, the most one client may have; "
                     "try again when one has finished",
                     text, srv->clients.cap, proxy ? "requests" : "connections");
}

void
http_client_address(const struct http_ctx *ctx, char *buf, size_t size)
{
    const struct mg_request_info *ri = mg_get_request_info(ctx->conn);
    struct http_addr peer, client;

    if (!http_parse_addr(ri->remote_addr, strlen(ri->remote_addr), &peer))
        memset(&peer, 0, sizeof peer);
    if (http_trusted(&peer))
        http_forwarded_client(ri, &peer, &client);
    else
        client = peer;
    http_format_addr(&client, buf, size);
}

void
http_uncount(struct http_ctx *ctx)
{
    struct http_client *e = mg_get_user_connection_data(ctx->conn);

    if (ctx->held != NULL) {
        http_clients_put(&ctx->server->clients, ctx->held);
        ctx->held = NULL;
    } else if (e != NULL) {
        http_clients_put(&ctx->server->clients, e);
        mg_set_user_connection_data(ctx->conn, NULL);
        /* an uncounted connection serves no further request */
        ctx->close = true;
    }
}

static double
http_elapsed(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static bool
http_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

/* How a request frames its body (RFC 9112 §6): a Content-Length, or
 * chunked, or neither (no body). */
struct http_frame {
    int64_t length; /* the Content-Length; -1 without one */
    bool chunked;
};

/* The value of a Content-Length line into *n: a comma-separated list of
 * decimal numbers that must all be equal (a list is what two lines folded
 * into one look like). False for anything else. Saturates past 2^62. */
static bool
http_content_length(const char *v, int64_t *n)
{
    bool seen = false;

    for (;;) {
        int64_t x = 0;
        size_t digits = 0;

        while (*v == ' ' || *v == '\t')
            v++;
        for (; *v >= '0' && *v <= '9'; v++, digits++)
            x = x > ((int64_t)1 << 62) / 10 ? (int64_t)1 << 62 : x * 10 + (*v - '0');
        while (*v == ' ' || *v == '\t')
            v++;
        if (digits == 0 || (*v != ',' && *v != '\0') || (seen && x != *n))
            return false;
        *n = x;
        seen = true;
        if (*v++ == '\0')
            return true;
    }
}

/* Reads how the request frames its body from every header line (CivetWeb
 * looks at the first Content-Length or Transfer-Encoding line only, lets
 * Transfer-Encoding win over Content-Length, and takes "5, 7" for 5: the
 * ingredients of request smuggling). ERR_MALFORMED, detail recorded, for
 * two lengths, a length that is not a number, Transfer-Encoding with
 * Content-Length, a coding other than chunked alone, or more header lines
 * than CivetWeb keeps (it drops the rest unseen). */
static enum outcome
http_framing(struct http_ctx *ctx, struct http_frame *f)
{
    const struct mg_request_info *ri = mg_get_request_info(ctx->conn);
    int i, codings = 0;

    f->length = -1;
    f->chunked = false;
    if (ri->num_headers >= MG_MAX_HEADERS)
        return http_fail(ctx, ERR_MALFORMED, "at most %d header lines", MG_MAX_HEADERS - 1);
    for (i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        int64_t n = 0;

        if (strcasecmp(name, "Content-Length") == 0) {
            if (!http_content_length(value, &n))
                return http_fail(ctx, ERR_MALFORMED, "Content-Length must be one number");
            if (f->length >= 0 && n != f->length)
                return http_fail(ctx, ERR_MALFORMED, "two different Content-Length values");
            f->length = n;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            size_t len = strlen(value);

            while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
                len--;
            if (++codings > 1 || len != 7 || strncasecmp(value, "chunked", 7) != 0)
                return http_fail(ctx, ERR_MALFORMED, "the only transfer coding taken is chunked");
            f->chunked = true;
        }
    }
    if (f->chunked && f->length >= 0)
        return http_fail(ctx, ERR_MALFORMED,
                         "Transfer-Encoding and Content-Length together frame a body two ways");
    if (f->chunked && ri->http_version != NULL && strcmp(ri->http_version, "1.1") != 0)
        return http_fail(ctx, ERR_MALFORMED, "chunked bodies need HTTP/1.1");
    return OK;
}

/* What reading a body came to. */
enum http_read { HTTP_READ_OK, HTTP_READ_CLOSED, HTTP_READ_STALLED, HTTP_READ_NOMEM };

/* The most one mg_read asks for: CivetWeb goes on reading until it has all
 * it was asked for, so the deadline is checked between pieces. */
#define HTTP_READ_PIECE 16384

static bool
http_past_deadline(const struct timespec *t0)
{
    return http_elapsed(t0) * 1000 >= HTTP_BODY_DEADLINE_MS;
}

/* Reads exactly f->length bytes. mg_read returns 0 only when CivetWeb's
 * request timeout passed without a byte, and less than 0 when the client
 * closed the connection or it broke. */
static enum http_read
http_read_length(struct http_ctx *ctx, const struct http_frame *f, const struct timespec *t0)
{
    size_t want = (size_t)f->length, piece;
    int n;

    if ((ctx->body = malloc(want + 1)) == NULL)
        return HTTP_READ_NOMEM;
    while (ctx->body_len < want) {
        if (http_past_deadline(t0))
            return HTTP_READ_STALLED;
        piece = want - ctx->body_len < HTTP_READ_PIECE ? want - ctx->body_len : HTTP_READ_PIECE;
        n = mg_read(ctx->conn, ctx->body + ctx->body_len, piece);
        if (n < 0)
            return HTTP_READ_CLOSED;
        if (n == 0)
            return HTTP_READ_STALLED;
        ctx->body_len += (size_t)n;
    }
    ctx->body[ctx->body_len] = '\0';
    return HTTP_READ_OK;
}

/* Reads a chunked body up to just past the limit. mg_read returns 0 after
 * the last chunk, and less than 0 for a broken chunk, a closed connection or
 * a client that stalled past CivetWeb's request timeout (which is the body
 * deadline: the time tells them apart). */
static enum http_read
http_read_chunked(struct http_ctx *ctx, const struct timespec *t0)
{
    size_t cap = 0, piece;
    int n;

    for (;;) {
        if (ctx->body_len == cap) {
            char *more;
            if (cap > HTTP_BODY_MAX) {
                ctx->body_too_large = true;
                return HTTP_READ_OK;
            }
            cap = cap ? cap * 2 : 4096;
            if ((more = realloc(ctx->body, cap + 1)) == NULL)
                return HTTP_READ_NOMEM;
            ctx->body = more;
        }
        if (http_past_deadline(t0))
            return HTTP_READ_STALLED;
        piece = cap - ctx->body_len < HTTP_READ_PIECE ? cap - ctx->body_len : HTTP_READ_PIECE;
        n = mg_read(ctx->conn, ctx->body + ctx->body_len, piece);
        if (n == 0)
            break;
        if (n < 0)
            return http_past_deadline(t0) ? HTTP_READ_STALLED : HTTP_READ_CLOSED;
        ctx->body_len += (size_t)n;
    }
    if (ctx->body_len > HTTP_BODY_MAX)
        ctx->body_too_large = true;
    ctx->body[ctx->body_len] = '\0';
    return HTTP_READ_OK;
}

/* Reads the whole body before the handler runs: a handler sees a body only
 * when every byte it was declared with arrived within HTTP_BODY_DEADLINE_MS
 * of the request (checked between pieces; no piece waits longer than that
 * for its next byte). Over the limit, notes it and reads no more (CivetWeb
 * discards the rest after the reply). Otherwise ERR_MALFORMED, and the
 * connection closes after the refusal: 400 when the client closed early or
 * broke a chunk, 408 when it stalled. */
static enum outcome
http_read_body(struct http_ctx *ctx, const struct http_frame *f, const struct timespec *t0)
{
    enum http_read got;

    if (f->length > HTTP_BODY_MAX) {
        ctx->body_too_large = true;
        return OK;
    }
    if (!f->chunked && f->length <= 0)
        return OK;
    got = f->chunked ? http_read_chunked(ctx, t0) : http_read_length(ctx, f, t0);
    if (got == HTTP_READ_OK)
        return OK;
    if (got == HTTP_READ_NOMEM)
        return ERR_INTERNAL;
    ctx->close = true;
    if (got == HTTP_READ_CLOSED)
        return http_fail(ctx, ERR_MALFORMED,
                         "the connection ended, or a chunk was malformed, before the whole body "
                         "arrived (%zu bytes came)",
                         ctx->body_len);
    ctx->fail_status = 408;
    return http_fail(ctx, ERR_MALFORMED,
                     "the body did not arrive within %d seconds (%zu bytes came)",
                     HTTP_BODY_DEADLINE_MS / 1000, ctx->body_len);
}

static void
http_set_user(struct http_ctx *ctx, const struct db_principal *p)
{
    char bad[32];

    ctx->authed = true;
    ctx->user.id = p->user_id;
    snprintf(ctx->user.email, sizeof ctx->user.email, "%s", p->email);
    snprintf(ctx->user.name, sizeof ctx->user.name, "%s", p->name);
    if (!role_parse_list(p->roles, &ctx->user.roles, bad, sizeof bad))
        ctx->user.roles = ROLE_REQUESTER; /* the database CHECK makes this unreachable */
    ctx->user.session_id = p->session_id;
    ctx->user.token_id = p->token_id;
    snprintf(ctx->user.csrf, sizeof ctx->user.csrf, "%s", p->csrf);
    ctx->user.feed_only = strcmp(p->scope, "feed") == 0;
}

/* Logs auth.token_new_address when the caller's token was never used from
 * its address before: a token that turns up somewhere new may have leaked.
 * A database that cannot record it (a read-only one) does not stop the
 * request. */
static void
http_token_address(struct http_ctx *ctx)
{
    char addr[HTTP_ADDR_LEN], id[24];
    const char *kv[] = {"token_id", id, "user_id", NULL, "addr", addr};
    char uid[24];
    bool fresh = false;

    http_client_address(ctx, addr, sizeof addr);
    if (db_auth_token_address(ctx->db, ctx->user.token_id, addr, &fresh) != OK || !fresh)
        return;
    snprintf(id, sizeof id, "%lld", (long long)ctx->user.token_id);
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->user.id);
    kv[3] = uid;
    log_event(LOG_WARN, "auth.token_new_address", kv, 3);
}

static enum outcome
http_authenticate(struct http_ctx *ctx, const struct http_route *route)
{
    const char *authz = http_header(ctx, "Authorization");
    const char *cookies = http_header(ctx, "Cookie");
    char token[256], hash[SEC_HEX256_LEN];
    struct db_principal p;
    enum outcome rc;

    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        sec_sha256_hex(t, strlen(t), hash);
        rc = db_auth_token(ctx->db, hash, &p);
        if (rc == ERR_NOT_FOUND)
            return http_fail(ctx, ERR_UNAUTHENTICATED, "the API token is unknown or revoked");
        if (rc != OK)
            return rc;
        http_set_user(ctx, &p);
        http_token_address(ctx);
        if (p.use_stale && ctx->app->note_token_use != NULL)
            ctx->app->note_token_use(ctx->app->usage, p.token_id);
        if (ctx->user.feed_only && !(route->flags & HTTP_FEED))
            return http_fail(ctx, ERR_FORBIDDEN,
                             "a feed token reads the calendar feed and nothing else");
        return OK;
    }
    if (authz != NULL)
        return http_fail(ctx, ERR_UNAUTHENTICATED, "only Bearer tokens are accepted");
    if (cookies == NULL || mg_get_cookie(cookies, HTTP_SESSION_COOKIE, token, sizeof token) <= 0)
        return http_fail(ctx, ERR_UNAUTHENTICATED, "log in, or send an API token");
    sec_sha256_hex(token, strlen(token), hash);
    sec_wipe(token, sizeof token);
    rc = db_auth_session(ctx->db, hash, &p);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, ERR_UNAUTHENTICATED, "your session has ended: log in again");
    if (rc != OK)
        return rc;
    http_set_user(ctx, &p);
    if (http_has_body(ctx->method)) {
        const char *sent = http_header(ctx, "X-CSRF-Token");
        if (sent == NULL || !sec_equal(sent, ctx->user.csrf))
            return http_fail(ctx, ERR_FORBIDDEN,
                             "a missing or wrong X-CSRF-Token header (see GET /api/v1/me)");
    }
    return OK;
}

/* One parameter name of a query string, as sent, made fit to quote in a
 * problem (bytes outside printable ASCII become '?'). */
static void
http_query_name(const char *p, size_t len, char *buf, size_t size)
{
    size_t i;

    if (len >= size)
        len = size - 1;
    for (i = 0; i < len; i++)
        buf[i] = (char)(p[i] > ' ' && p[i] < 0x7f ? p[i] : '?');
    buf[len] = '\0';
}

/* ERR_MALFORMED naming every parameter of the query string that is not in
 * known (NULL-terminated; NULL: none), so that a misspelt filter never
 * silently does nothing. Names compare as http_query finds them: as sent,
 * ignoring case. */
static enum outcome
http_known_query(struct http_ctx *ctx, const char *const *known)
{
    const char *p = ctx->query;
    char name[64];
    int unknown = 0;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "&"), nlen = strcspn(p, "=&");
        const char *const *k;
        bool ok = nlen == 0; /* "a=1&&b=2": nothing between the & */

        for (k = known; k != NULL && *k != NULL && !ok; k++)
            ok = strlen(*k) == nlen && strncasecmp(*k, p, nlen) == 0;
        if (!ok) {
            http_query_name(p, nlen, name, sizeof name);
            http_field(ctx, name, "is not a query parameter of this resource");
            unknown++;
        }
        p += len + (p[len] == '&');
    }
    if (unknown == 0)
        return OK;
    if (unknown == 1)
        return http_fail(ctx, ERR_MALFORMED, "%s is not a query parameter of this resource",
                         ctx->fe.e[0].field);
    return http_fail(ctx, ERR_MALFORMED, "%d query parameters are unknown here", unknown);
}

static enum outcome
http_run(struct http_server *srv, struct http_ctx *ctx, const struct http_route *route,
         const struct http_frame *frame, const struct timespec *t0)
{
    enum outcome rc;

    ctx->route_roles = route->roles;
    if (http_has_body(ctx->method) && (rc = http_read_body(ctx, frame, t0)) != OK)
        return rc;
    if (!(route->flags & HTTP_NO_DB) && (rc = db_acquire(srv->app->pool, &ctx->db)) != OK) {
        ctx->db = NULL;
        return http_fail(ctx, rc, "the database is unavailable; try again shortly");
    }
    if (!(route->flags & HTTP_PUBLIC)) {
        if ((rc = http_authenticate(ctx, route)) != OK)
            return rc;
        if (!(route->flags & HTTP_DEFER_ROLE) && (rc = http_authorize(ctx)) != OK)
            return rc;
    }
    if ((rc = http_known_query(ctx, route->query)) != OK)
        return rc;
    return route->handler(ctx);
}

static json_t *
http_problem(struct http_ctx *ctx, enum outcome rc, int status)
{
    char type[64];
    json_t *p, *errs;
    int i;

    /* the one status no outcome has: a body that stopped arriving */
    snprintf(type, sizeof type, "urn:cabinet:problem:%s",
             status == 408 ? "timeout" : outcome_name(rc));
    p = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", http_reason(status), "status",
                  status, "detail", ctx->detail[0] ? ctx->detail : http_reason(status));
    if (p == NULL)
        return NULL;
    if (ctx->fe.n > 0) {
        errs = json_array();
        for (i = 0; i < ctx->fe.n && i < FIELDERR_MAX; i++)
            json_array_append_new(errs, json_pack("{s:s, s:s}", "field", ctx->fe.e[i].field,
                                                  "message", ctx->fe.e[i].message));
        json_object_set_new(p, "errors", errs);
    }
    return p;
}

/* Whether the client asked to close the connection after this response
 * (CivetWeb closes it; the response says so). */
static bool
http_wants_close(struct http_ctx *ctx)
{
    const char *c = http_header(ctx, "Connection");
    const struct mg_request_info *ri = mg_get_request_info(ctx->conn);

    if (c != NULL)
        return strcasestr(c, "close") != NULL;
    return ri->http_version != NULL && strcmp(ri->http_version, "1.0") == 0;
}

/* Writes the whole response in one mg_write; when ctx->close, CivetWeb
 * then closes the connection rather than read another request from it. */
static void
http_write(struct http_ctx *ctx, int status, const char *type, const char *body, size_t len)
{
    struct strbuf out = STRBUF_INIT;

    /* a stop began while this request was under way */
    if (atomic_load(&ctx->server->draining))
        ctx->close = true;
    strbuf_printf(&out, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    if (status != 204 && status != 304)
        strbuf_printf(&out, "Content-Type: %s\r\nContent-Length: %zu\r\n", type, len);
    strbuf_puts(&out, "Cache-Control: no-store\r\n");
    if (ctx->close || http_wants_close(ctx))
        strbuf_puts(&out, "Connection: close\r\n");
    strbuf_puts(&out, http_security_headers);
    strbuf_puts(&out, strbuf_str(&ctx->headers));
    strbuf_puts(&out, "\r\n");
    if (strcmp(ctx->method, "HEAD") != 0 && status != 204 && status != 304)
        strbuf_append(&out, body, len);
    if (!strbuf_failed(&out))
        mg_write(ctx->conn, out.buf, out.len);
    strbuf_free(&out);
    if (ctx->close)
        mg_disable_connection_keep_alive(ctx->conn);
}

enum outcome
http_stream_begin(struct http_ctx *ctx, int status, const char *type)
{
    const struct mg_request_info *ri = mg_get_request_info(ctx->conn);
    struct strbuf out = STRBUF_INIT;
    bool sent;

    ctx->status = status;
    ctx->stream_begun = true;
    ctx->stream_head = strcmp(ctx->method, "HEAD") == 0;
    ctx->stream_chunked = ri->http_version == NULL || strcmp(ri->http_version, "1.0") != 0;
    if (!ctx->stream_chunked || atomic_load(&ctx->server->draining))
        ctx->close = true;
    strbuf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status, http_reason(status),
                  type);
    if (ctx->stream_chunked)
        strbuf_puts(&out, "Transfer-Encoding: chunked\r\n");
    strbuf_puts(&out, "Cache-Control: no-store\r\n");
    if (ctx->close || http_wants_close(ctx))
        strbuf_puts(&out, "Connection: close\r\n");
    strbuf_puts(&out, http_security_headers);
    strbuf_puts(&out, strbuf_str(&ctx->headers));
    strbuf_puts(&out, "\r\n");
    sent = !strbuf_failed(&out) && mg_write(ctx->conn, out.buf, out.len) == (int)out.len;
    strbuf_free(&out);
    if (!sent) {
        ctx->stream_ended = true; /* nothing more goes out */
        return http_fail(ctx, ERR_UNAVAILABLE, "the client went away");
    }
    return OK;
}

enum outcome
http_stream_write(struct http_ctx *ctx, const char *data, size_t len)
{
    int n;

    if (!ctx->stream_begun || ctx->stream_ended)
        return http_fail(ctx, ERR_UNAVAILABLE, "the stream is not open");
    if (ctx->stream_head || len == 0)
        return OK;
    if (ctx->stream_chunked)
        n = mg_send_chunk(ctx->conn, data, (unsigned)len);
    else
        n = mg_write(ctx->conn, data, len) == (int)len ? 1 : -1;
    if (n <= 0) {
        ctx->stream_ended = true;
        ctx->close = true;
        return http_fail(ctx, ERR_UNAVAILABLE, "the client went away");
    }
    return OK;
}

enum outcome
http_stream_end(struct http_ctx *ctx)
{
    if (!ctx->stream_begun || ctx->stream_ended)
        return http_fail(ctx, ERR_UNAVAILABLE, "the stream is not open");
    ctx->stream_ended = true;
    if (ctx->stream_chunked && !ctx->stream_head && mg_write(ctx->conn, "0\r\n\r\n", 5) != 5) {
        ctx->close = true;
        return http_fail(ctx, ERR_UNAVAILABLE, "the client went away");
    }
    ctx->stream_done = true;
    return OK;
}

/* What a log line names for the request's path: the matched route's
 * pattern, so that a credential in the path (/hooks/{key}, /gate/{token})
 * stays out of the log; the path itself when no route matched. */
static const char *
http_log_path(const struct http_ctx *ctx)
{
    int i = ctx->match.index;

    return i >= 0 && (size_t)i < ctx->server->nroutes ? ctx->server->routes[i].r.pattern
                                                      : ctx->path;
}

/* After a streamed reply, nothing is written: a stream cut short (an
 * error after the headers, or no http_stream_end) closes the connection
 * without the last chunk. Returns the status that was sent. */
static int
http_stream_finish(struct http_ctx *ctx, enum outcome rc)
{
    if (rc != OK || !ctx->stream_done) {
        if (rc != OK && rc != ERR_UNAVAILABLE)
            log_error("%s %s: a streamed %d reply cut short: %s", ctx->method, http_log_path(ctx),
                      ctx->status, ctx->detail);
        ctx->close = true;
    }
    if (ctx->close)
        mg_disable_connection_keep_alive(ctx->conn);
    return ctx->status;
}

/* The ETag a handler set (its value, into tag), if any. */
static bool
http_handler_etag(const struct http_ctx *ctx, char *tag, size_t size)
{
    const char *h = strbuf_str(&ctx->headers), *p;

    for (p = h; p != NULL && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
        if (strncasecmp(p, "ETag:", 5) == 0) {
            p += 5;
            p += strspn(p, " ");
            snprintf(tag, size, "%.*s", (int)strcspn(p, "\r\n"), p);
            return true;
        }
    return false;
}

/* A GET of /api/v1 answered 200 with JSON: its ETag (the handler's, else a
 * weak one of the body's hash, added to the headers), and 304 with no body
 * when If-None-Match lists it (RFC 9110 §13.1.2). Returns the status. */
static int
http_conditional(struct http_ctx *ctx, int status, const char *type, const char *body, size_t len)
{
    char tag[128], hex[SEC_HEX256_LEN];
    const char *inm = http_header(ctx, "If-None-Match");

    if (status != 200 || strncmp(ctx->path, "/api/v1/", 8) != 0 ||
        (strcmp(ctx->method, "GET") != 0 && strcmp(ctx->method, "HEAD") != 0) ||
        strncmp(type, "application/json", 16) != 0)
        return status;
    if (!http_handler_etag(ctx, tag, sizeof tag)) {
        sec_sha256_hex(body, len, hex);
        snprintf(tag, sizeof tag, "W/\"%.32s\"", hex);
        http_add_header(ctx, "ETag", "%s", tag);
    }
    return inm != NULL && etag_matches(inm, tag, true) ? 304 : status;
}

/* Sends the reply, or the problem of rc; returns the status. */
static int
http_send(struct http_ctx *ctx, enum outcome rc)
{
    const char *type = "application/json", *body = "";
    char *json = NULL;
    size_t len = 0;
    int status;

    if (ctx->stream_begun)
        return http_stream_finish(ctx, rc);
    if (rc != OK) {
        json_t *p;

        status = ctx->fail_status ? ctx->fail_status : http_status(rc);
        /* a 503's cause is logged once where it arises (an outage when it
         * starts and ends), not once per request it turns away */
        if (status >= 500 && status != 503)
            log_error("%s %s: %d %s", ctx->method, http_log_path(ctx), status, ctx->detail);
        if (status == 503 && ctx->retry_after <= 0)
            ctx->retry_after = db_retry_after();
        p = http_problem(ctx, rc, status);
        json = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
        type = "application/problem+json";
        if (rc == ERR_UNAUTHENTICATED)
            http_add_header(ctx, "WWW-Authenticate", "Bearer realm=\"cabinet\"");
        if (ctx->retry_after > 0)
            http_add_header(ctx, "Retry-After", "%d", ctx->retry_after);
        /* the rest of the body is not read: the client should not reuse the
         * connection (CivetWeb discards what it sends, then may keep it) */
        if (rc == ERR_TOO_LARGE && !ctx->close && !http_wants_close(ctx))
            http_add_header(ctx, "Connection", "close");
    } else if (ctx->raw_body != NULL) {
        status = ctx->status;
        type = ctx->raw_type;
        body = ctx->raw_body;
        len = ctx->raw_len;
    } else {
        status = ctx->status ? ctx->status : 200;
        if (ctx->reply != NULL)
            json = json_dumps(ctx->reply, JSON_COMPACT);
    }
    if (json != NULL) {
        body = json;
        len = strlen(json);
    }
    if (rc == OK)
        status = http_conditional(ctx, status, type, body, len);
    http_write(ctx, status, type, body, len);
    free(json);
    return status;
}

static int
http_send_static(struct http_server *srv, struct http_ctx *ctx)
{
    struct strbuf body = STRBUF_INIT, out = STRBUF_INIT;
    const char *type = NULL, *inm = http_header(ctx, "If-None-Match");
    char etag[STATIC_ETAG_LEN];
    enum outcome rc;
    int status;

    (void)srv;
    if (strcmp(ctx->method, "GET") != 0 && strcmp(ctx->method, "HEAD") != 0) {
        http_add_header(ctx, "Allow", "GET, HEAD");
        return http_send(ctx, http_fail(ctx, ERR_METHOD, "the web UI's files are read-only"));
    }
    rc = static_load(config->web_root, ctx->path, &body, &type, etag);
    if (rc != OK) {
        strbuf_free(&body);
        return http_send(ctx, http_fail(ctx, rc, "no such page"));
    }
    status = inm != NULL && etag_matches(inm, etag, true) ? 304 : 200;
    if (status == 304)
        strbuf_puts(&out, "HTTP/1.1 304 Not Modified\r\n");
    else
        strbuf_printf(&out, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n", type,
                      body.len);
    strbuf_printf(&out, "ETag: %s\r\nCache-Control: no-cache\r\n%s%s%s\r\n", etag,
                  http_wants_close(ctx) ? "Connection: close\r\n" : "", http_security_headers,
                  strbuf_str(&ctx->headers));
    if (status == 200 && strcmp(ctx->method, "HEAD") != 0)
        strbuf_append(&out, strbuf_str(&body), body.len);
    if (!strbuf_failed(&out))
        mg_write(ctx->conn, out.buf, out.len);
    else
        status = http_send(ctx, ERR_INTERNAL);
    strbuf_free(&out);
    strbuf_free(&body);
    return status;
}

/* Routes a request whose framing and path are sound: the route's handler,
 * 405, 404, or a file of the web UI. Returns the status; *slot is the
 * request's line in the metrics. */
static int
http_route_request(struct http_server *srv, struct http_ctx *ctx, const struct http_frame *frame,
                   const struct timespec *t0, int *slot)
{
    switch (router_match(srv->routes, srv->nroutes, sizeof *srv->routes, ctx->method, ctx->path,
                         &ctx->match)) {
    case ROUTER_FOUND:
        *slot = ctx->match.index;
        return http_send(ctx, http_run(srv, ctx, &srv->routes[ctx->match.index], frame, t0));
    case ROUTER_NO_METHOD:
        http_add_header(ctx, "Allow", "%s", ctx->match.allow);
        return http_send(ctx, http_fail(ctx, ERR_METHOD, "%s is not allowed here; use %s",
                                        ctx->method, ctx->match.allow));
    default:
        if (strncmp(ctx->path, "/api/", 5) == 0)
            return http_send(ctx, http_fail(ctx, ERR_NOT_FOUND, "no such resource"));
        *slot = (int)srv->nroutes + METRICS_STATIC;
        return http_send_static(srv, ctx);
    }
}

/* The request's id: the client's (or its proxy's) X-Request-Id when it is
 * 1 to 64 of [A-Za-z0-9._:-], so that one id follows a request through
 * every hop; else 16 random bytes in hex. Anything else a client sends is
 * not taken: it would reach the log and every response. */
static void
http_request_id(const struct mg_connection *conn, char id[HTTP_REQUEST_ID_LEN])
{
    const char *sent = mg_get_header(conn, "X-Request-Id");
    size_t len = sent ? strlen(sent) : 0;

    if (len >= 1 && len < HTTP_REQUEST_ID_LEN &&
        strspn(sent, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len)
        memcpy(id, sent, len + 1);
    else
        sec_random_hex(16, id);
}

/* The access log's line for a request (README "Monitoring"): the route's
 * pattern, never the path, so that no link key, gate token or query
 * string reaches the log. */
static void
http_access_log(struct http_server *srv, struct http_ctx *ctx, int slot, int status, double seconds)
{
    char st[8], ms[32], principal[32], addr[HTTP_ADDR_LEN];
    const char *kv[] = {"method",    ctx->method, "route", srv->metric_routes[slot],
                        "status",    st,          "ms",    ms,
                        "principal", principal,   "addr",  addr};

    if (!config->access_log)
        return;
    snprintf(st, sizeof st, "%d", status);
    snprintf(ms, sizeof ms, "%.3f", seconds * 1000);
    if (ctx->authed && ctx->user.token_id > 0)
        snprintf(principal, sizeof principal, "token:%lld", (long long)ctx->user.token_id);
    else if (ctx->authed)
        snprintf(principal, sizeof principal, "user:%lld", (long long)ctx->user.id);
    else
        snprintf(principal, sizeof principal, "none");
    http_client_address(ctx, addr, sizeof addr);
    log_event(LOG_INFO, "access", kv, 6);
}

static int
http_dispatch(struct mg_connection *conn, void *cbdata)
{
    struct http_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *uri = ri->local_uri ? ri->local_uri : "/";
    struct http_frame frame;
    struct http_ctx ctx;
    struct timespec t0;
    char path[HTTP_PATH_MAX];
    enum outcome rc;
    int slot = (int)srv->nroutes + METRICS_UNMATCHED, status, len;
    double seconds;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_fetch_add(&srv->busy, 1);
    memset(&ctx, 0, sizeof ctx);
    /* while stopping, no connection is kept for another request */
    ctx.close = atomic_load(&srv->draining);
    http_request_id(conn, ctx.request_id);
    log_request_begin(ctx.request_id);
    http_add_header(&ctx, "X-Request-Id", "%s", ctx.request_id);
    ctx.match.index = -1;
    ctx.conn = conn;
    ctx.server = srv;
    ctx.app = srv->app;
    ctx.method = ri->request_method;
    ctx.path = uri;
    ctx.query = ri->query_string;

    /* CivetWeb is told not to decode the path (decode_url=no) so that a NUL
     * from %00 cannot cut it short of what was asked: decode it here */
    len = mg_url_decode(uri, (int)strlen(uri), path, sizeof path, 0);
    if ((rc = http_admit(srv, &ctx, &ctx.held)) != OK) {
        status = http_send(&ctx, rc);
    } else if ((rc = http_framing(&ctx, &frame)) != OK) {
        /* where the body ends is in doubt, so is where the next request
         * starts: none is read from this connection */
        ctx.close = true;
        status = http_send(&ctx, rc);
    } else if (len < 0 || memchr(path, '\0', (size_t)len) != NULL) {
        status = http_send(
            &ctx, http_fail(&ctx, ERR_MALFORMED, "the path is too long or holds a NUL byte"));
    } else {
        ctx.path = path;
        status = http_route_request(srv, &ctx, &frame, &t0, &slot);
    }
    seconds = http_elapsed(&t0);
    metrics_observe(slot, status, seconds);
    http_access_log(srv, &ctx, slot, status, seconds);
    if (ctx.sent != NULL)
        ctx.sent(ctx.sent_arg);
    if (ctx.held != NULL)
        http_clients_put(&srv->clients, ctx.held);
    if (ctx.db != NULL)
        db_release(srv->app->pool, ctx.db);
    json_decref(ctx.reply);
    strbuf_free(&ctx.headers);
    free(ctx.raw_body);
    free(ctx.body);
    sec_wipe(&ctx.user, sizeof ctx.user);
    log_request_end();
    atomic_fetch_sub(&srv->busy, 1);
    return status;
}

static int
http_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("http: %s", message);
    return 1;
}

/* The stand-in for libssl.so that server/http/tls/ssl_shim.c explains,
 * built by the Makefile and carried inside the executable, so that there is
 * no file to install beside it. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "http_ssl_shim:\n"
        ".incbin \"build/ssl-shim.so\"\n"
        "http_ssl_shim_end:\n"
        ".previous\n");
extern const char http_ssl_shim[], http_ssl_shim_end[];

/* Loads the stand-in (from a file in memory) before CivetWeb looks for
 * libssl.so, which it then finds by that name among the loaded libraries.
 * False after logging why it cannot. */
static bool
http_tls_preload(void)
{
    size_t n = (size_t)(http_ssl_shim_end - http_ssl_shim);
    char path[64];
    int fd = memfd_create("libssl.so", MFD_CLOEXEC);
    bool ok = fd >= 0 && write(fd, http_ssl_shim, n) == (ssize_t)n;

    if (ok) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        /* never unloaded: CivetWeb uses it until the process ends */
        ok = dlopen(path, RTLD_NOW | RTLD_GLOBAL) != NULL;
        if (!ok)
            log_error("cannot load OpenSSL for HTTPS: %s (is libssl3 installed?)", dlerror());
    } else {
        log_error("cannot load OpenSSL for HTTPS: %s", strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* CivetWeb reads the certificate and its private key from one PEM file
 * (ssl_certificate), the chain from another (ssl_certificate_chain): the
 * certificate and key files are joined in a file that lives only in memory,
 * which CivetWeb opens by its /proc/self/fd path while mg_start runs. The
 * descriptor, or -1 after logging why. */
static int
http_tls_pem(char *path, size_t size)
{
    const char *files[] = {config->tls_cert, config->tls_key};
    char buf[8192];
    int fd = memfd_create("cabinet-tls", MFD_CLOEXEC);
    bool ok = fd >= 0;

    for (size_t i = 0; ok && i < 2; i++) {
        FILE *f = fopen(files[i], "rb");
        size_t n;

        if (f == NULL) {
            log_error("%s (%s) cannot be read: %s", files[i],
                      i == 0 ? "CABINET_TLS_CERT" : "CABINET_TLS_KEY", strerror(errno));
            ok = false;
            break;
        }
        while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
            ok = write(fd, buf, n) == (ssize_t)n;
        ok = ok && !ferror(f) && write(fd, "\n", 1) == 1;
        (void)fclose(f); /* only read from */
    }
    sec_wipe(buf, sizeof buf);
    if (!ok) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}

enum outcome
http_server_start(const struct app *app, const struct http_route *routes, size_t nroutes,
                  struct http_server **out)
{
    struct mg_callbacks callbacks;
    struct http_server *srv;
    char threads[16], timeout[16], ports[512], pem[64];
    size_t i;
    int pem_fd = -1;
    const char *options[40] = {
        "listening_ports",
        ports,
        "num_threads",
        threads,
        "request_timeout_ms",
        timeout,
        /* a kept-alive connection's next request, headers and all, must
         * arrive within this too (CivetWeb times both from the end of the
         * previous response): every request's headers have the deadline */
        "keep_alive_timeout_ms",
        timeout,
        "enable_keep_alive",
        "yes",
        "tcp_nodelay",
        "1",
        "enable_directory_listing",
        "no",
        "cgi_pattern",
        "",
        "ssi_pattern",
        "",
        "decode_url",
        "no",
        /* same-origin only: CivetWeb would answer CORS preflights with "*" */
        "access_control_allow_origin",
        "",
        "access_control_allow_methods",
        "",
        "access_control_allow_headers",
        "",
        NULL,
    };

    /* HTTPS with CivetWeb's own TLS: an "s" after the port */
    snprintf(ports, sizeof ports, "%s%s", config->listen, config->tls_cert[0] ? "s" : "");
    if (config->tls_cert[0] != '\0') {
        if (!http_tls_preload() || (pem_fd = http_tls_pem(pem, sizeof pem)) < 0)
            return ERR_INVALID;
        for (i = 0; options[i] != NULL; i++)
            ;
        options[i++] = "ssl_certificate";
        options[i++] = pem;
        options[i++] = "ssl_certificate_chain";
        options[i] = config->tls_cert;
    }

    srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        if (pem_fd >= 0)
            close(pem_fd);
        return ERR_INTERNAL;
    }
    srv->quiet[0] = srv->quiet[1] = -1;
    pthread_mutex_init(&srv->clients.lock, NULL);
    srv->clients.cap = config->max_per_client;
    srv->clients.size = config->threads;
    srv->app = app;
    srv->routes = routes;
    srv->nroutes = nroutes;
    srv->metric_methods = calloc(nroutes + METRICS_EXTRA, sizeof *srv->metric_methods);
    srv->metric_routes = calloc(nroutes + METRICS_EXTRA, sizeof *srv->metric_routes);
    srv->clients.e = calloc((size_t)srv->clients.size, sizeof *srv->clients.e);
    if (srv->metric_methods == NULL || srv->metric_routes == NULL || srv->clients.e == NULL ||
        metrics_init((int)nroutes) != 0) {
        if (pem_fd >= 0)
            close(pem_fd);
        http_server_stop(srv);
        return ERR_INTERNAL;
    }
    for (i = 0; i < nroutes; i++) {
        srv->metric_methods[i] = routes[i].r.method;
        srv->metric_routes[i] = routes[i].r.pattern;
    }
    srv->metric_methods[nroutes + METRICS_STATIC] = "GET";
    srv->metric_routes[nroutes + METRICS_STATIC] = "static";
    srv->metric_methods[nroutes + METRICS_UNMATCHED] = "any";
    srv->metric_routes[nroutes + METRICS_UNMATCHED] = "unmatched";

    snprintf(threads, sizeof threads, "%d", config->threads);
    snprintf(timeout, sizeof timeout, "%d", HTTP_BODY_DEADLINE_MS);
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = http_log_message;
    if (srv->clients.cap > 0)
        callbacks.connection_close = http_conn_close;
    mg_init_library(0);
    srv->mg = mg_start(&callbacks, srv, options);
    /* read by now, certificate and key: mg_start set up TLS */
    if (pem_fd >= 0)
        close(pem_fd);
    if (srv->mg == NULL) {
        log_error("cannot listen on %s%s", config->listen,
                  config->tls_cert[0] ? " with HTTPS (see CivetWeb's message above about the "
                                        "certificate or key)"
                                      : "");
        http_server_stop(srv);
        return ERR_INTERNAL;
    }
    mg_set_request_handler(srv->mg, "**", http_dispatch, srv);
    *out = srv;
    return OK;
}

/* Whether fd is a socket listening for connections. */
static bool
http_is_listening(int fd)
{
    int on = 0;
    socklen_t len = sizeof on;

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/* The local TCP port of socket fd, or 0. */
static int
http_local_port(int fd)
{
    struct sockaddr_storage a = {0};
    socklen_t len = sizeof a;

    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    if (a.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&a)->sin_port);
    if (a.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return 0;
}

/* Calls fn on every descriptor of the process. */
static void
http_each_fd(struct http_server *srv, void (*fn)(struct http_server *, int))
{
    struct dirent *de;
    DIR *d = opendir("/proc/self/fd");

    if (d == NULL) {
        log_warn("cannot list the open files (/proc/self/fd): %s", strerror(errno));
        return;
    }
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && atoi(de->d_name) != dirfd(d))
            fn(srv, atoi(de->d_name));
    closedir(d);
}

/* For http_server_drain: a listening socket shut down and replaced. */
static void
http_unlisten(struct http_server *srv, int fd)
{
    size_t i;

    if (!http_is_listening(fd))
        return;
    for (i = 0; i < sizeof srv->ports / sizeof srv->ports[0] && srv->ports[i] != 0; i++)
        ;
    if (i < sizeof srv->ports / sizeof srv->ports[0])
        srv->ports[i] = http_local_port(fd);
    (void)shutdown(fd, SHUT_RDWR); /* the dup2 closes it anyway */
    if (dup2(srv->quiet[0], fd) < 0)
        log_warn("cannot close listening socket %d: %s", fd, strerror(errno));
}

/* For http_server_stop after a drain: a connection to one of the ports
 * that is idle between requests is told its client is done, so that its
 * worker ends now rather than when its poll's 2 s quantum runs out. */
static void
http_end_idle(struct http_server *srv, int fd)
{
    int port = http_local_port(fd);

    for (size_t i = 0; port != 0 && i < sizeof srv->ports / sizeof srv->ports[0]; i++)
        if (srv->ports[i] == port) {
            (void)shutdown(fd, SHUT_RD); /* what is still to be written goes out */
            return;
        }
}

void
http_server_stop(struct http_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->mg != NULL) {
        /* wakes CivetWeb's accept loop on the pipe, so that it sees the
         * stop at once rather than at the end of its poll */
        if (srv->quiet[1] >= 0 && write(srv->quiet[1], "", 1) != 1)
            log_warn("cannot wake the accept loop: the stop may take 2 s more");
        if (srv->quiet[0] >= 0)
            http_each_fd(srv, http_end_idle);
        mg_stop(srv->mg);
        mg_exit_library();
    }
    if (srv->quiet[0] >= 0) {
        close(srv->quiet[0]);
        close(srv->quiet[1]);
    }
    metrics_free();
    free(srv->metric_methods);
    free(srv->metric_routes);
    free(srv->clients.e);
    pthread_mutex_destroy(&srv->clients.lock);
    free(srv);
}

void
http_server_drain(struct http_server *srv)
{
    if (srv == NULL)
        return;
    atomic_store(&srv->draining, true);
    /* CivetWeb closes its listening sockets only in mg_stop, which also
     * fails every read and write under way (its stop flag is checked
     * there): so each is shut down (which refuses new connections and
     * wakes CivetWeb's poll on it, whose hold on the socket would keep it
     * listening until its 2 s quantum ran out) and replaced, under the same
     * descriptor, by the read end of a pipe that stays unreadable until
     * http_server_stop. CivetWeb's accept loop waits on that quietly. Every
     * listening socket in the process is CivetWeb's. */
    if (pipe2(srv->quiet, O_CLOEXEC) != 0) {
        log_warn("cannot stop listening before the requests under way finish: %s", strerror(errno));
        return;
    }
    http_each_fd(srv, http_unlisten);
}

int
http_server_busy(struct http_server *srv)
{
    return srv != NULL ? atomic_load(&srv->busy) : 0;
}

void
http_server_metrics(struct http_ctx *ctx, struct strbuf *sb)
{
    metrics_render(sb, ctx->server->metric_methods, ctx->server->metric_routes,
                   ctx->server->app->pool);
}
