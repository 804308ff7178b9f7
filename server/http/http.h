/*
 * The request context handed to every API handler, and the helpers handlers
 * use to read the request and shape the reply. Handlers never touch CivetWeb
 * directly. A context lives on one worker thread for one request.
 *
 * A handler returns OK after http_reply(), or an error outcome; the detail
 * and the fields at fault travel in the context (http_fail, http_field).
 */
#ifndef CABINET_HTTP_H
#define CABINET_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "db/db.h"
#include "domain/fielderr.h"
#include "domain/outcome.h"
#include "domain/strbuf.h"
#include "http/router.h"

struct mg_connection;

#define HTTP_BODY_MAX 1048576 /* 1 MiB */
/* A request's body must arrive within this long of its headers; it is also
 * how long any one read or write waits for the client (CivetWeb's
 * request_timeout_ms) and how long the first request's headers may take. */
#define HTTP_BODY_DEADLINE_MS 5000
#define HTTP_JSON_DEPTH 32
#define HTTP_PATH_MAX 4096
#define HTTP_REQUEST_ID_LEN 65

struct http_user {
    int64_t id;
    char email[256];
    char name[256];
    unsigned roles;     /* enum role bits */
    int64_t session_id; /* cookie login */
    int64_t token_id;   /* bearer token */
    char csrf[64];
    bool feed_only;
};

struct http_server;
struct http_client;

struct http_ctx {
    struct mg_connection *conn;
    struct http_server *server;
    const struct app *app; /* what every handler may use: the pool, the server key */
    const char *method;
    const char *path;  /* percent-decoded */
    const char *query; /* as sent: http_query decodes */
    struct router_match match;
    unsigned route_roles; /* roles the route admits; 0 = any signed-in user */
    struct db *db;
    bool authed;
    struct http_user user;

    /* the request body, read before the handler runs */
    char *body;
    size_t body_len;
    bool body_too_large;

    /* the reply */
    int status;
    json_t *reply;
    struct strbuf headers; /* extra "Name: value\r\n" lines */
    const char *raw_type;  /* with raw_body: a non-JSON reply */
    char *raw_body;
    size_t raw_len;
    /* a streamed reply (http_stream_begin): once begun, its status and
     * headers are on the wire and http_send writes nothing more */
    bool stream_begun;
    bool stream_chunked; /* false for HTTP/1.0: the body ends as the connection closes */
    bool stream_ended;   /* nothing more goes out */
    bool stream_done;    /* the whole body went out */
    bool stream_head;    /* a HEAD request: the body is not sent */

    /* an error */
    char detail[512];
    struct fielderr fe;
    int retry_after;
    int fail_status; /* with an error outcome, a status other than its own (408) */
    bool close;      /* the connection closes after the response */

    char actor[32];
    char request_id[HTTP_REQUEST_ID_LEN]; /* X-Request-Id of the response and the log */
    /* server.c's count of this request against its client's share
     * (CABINET_MAX_PER_CLIENT), when it came through a trusted proxy */
    struct http_client *held;
    /* called with sent_arg once the response is written (or could not
     * be), whatever the handler returned: what a handler holds until its
     * client has its answer */
    void (*sent)(void *sent_arg);
    void *sent_arg;
};

typedef enum outcome (*http_handler)(struct http_ctx *ctx);

enum http_route_flags {
    HTTP_PUBLIC = 1u << 0,     /* no login needed */
    HTTP_FEED = 1u << 1,       /* a feed-scope token may call it */
    HTTP_NO_DB = 1u << 2,      /* needs no database connection */
    HTTP_DEFER_ROLE = 1u << 3, /* the handler calls http_authorize itself */
};

struct http_route {
    struct router_route r; /* first: the router reads the table through it */
    http_handler handler;
    unsigned flags;
    unsigned roles; /* enum role bits admitted; 0 = any signed-in user */
    /* The query parameters the handler reads (with http_query or
     * http_paging), NULL-terminated; NULL when it reads none. Any other
     * parameter is refused with 400 before the handler runs. */
    const char *const *query;
};

/* The i-th {placeholder} of the route's pattern. */
const char *http_param(const struct http_ctx *ctx, int i);
/* A request header, or NULL. */
const char *http_header(const struct http_ctx *ctx, const char *name);
/* Copies the decoded query parameter into buf: 1 when present, 0 when
 * absent, -1 when longer than size allows. */
int http_query(const struct http_ctx *ctx, const char *name, char *buf, size_t size);

/* The body as a JSON object (new reference in *out): ERR_MEDIA_TYPE unless
 * application/json (or, for a PATCH, application/merge-patch+json), with any
 * parameters, ERR_TOO_LARGE over 1 MiB, ERR_MALFORMED unless it parses to an
 * object. An empty body is {} when empty_ok. */
enum outcome http_body(struct http_ctx *ctx, bool empty_ok, json_t **out);

/* Records the detail of an error and returns rc. */
enum outcome http_fail(struct http_ctx *ctx, enum outcome rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a field at fault (the request goes on being checked). */
void http_field(struct http_ctx *ctx, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ERR_INVALID with a summary detail when fields were recorded, else OK. */
enum outcome http_fields_ok(struct http_ctx *ctx);

/* Sets the reply; takes the reference to body (NULL for no body). */
void http_reply(struct http_ctx *ctx, int status, json_t *body);
/* Sets a reply that is not JSON; copies body. */
enum outcome http_reply_raw(struct http_ctx *ctx, int status, const char *type, const char *body,
                            size_t len);
/* A reply streamed as it is made, for one too large to hold in memory:
 * http_stream_begin sends the status and headers (those added so far, with
 * Transfer-Encoding: chunked; to an HTTP/1.0 client no framing and the
 * connection closes after the body), http_stream_write sends a piece of the
 * body as one chunk (nothing for HEAD) and http_stream_end the last chunk.
 * Whatever can fail before the first byte should have been tried before
 * http_stream_begin: once it is called, the handler returns OK after
 * http_stream_end, and an error outcome from the handler can no longer
 * change the status. A handler that returns without http_stream_end (an
 * error mid-stream, or OK without it) has its connection closed without
 * the last chunk, so that the client sees the body cut short rather than a
 * whole one; the error is logged unless it is ERR_UNAVAILABLE (the client
 * went, or the database, whose loss db/ logs). A write that fails is
 * ERR_UNAVAILABLE, as is every write after it. The headers are written as
 * every other reply's are (its security headers, Cache-Control, those
 * added), not by mg_send_http_ok, which would send its own. */
enum outcome http_stream_begin(struct http_ctx *ctx, int status, const char *type);
enum outcome http_stream_write(struct http_ctx *ctx, const char *data, size_t len);
enum outcome http_stream_end(struct http_ctx *ctx);

/* Adds a response header. */
void http_add_header(struct http_ctx *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ERR_FORBIDDEN unless the caller holds one of the route's roles; for
 * routes whose object must be found first (check order 404 before 403). */
enum outcome http_authorize(struct http_ctx *ctx);
/* OK when If-Match is absent, `*`, or lists etag (quoted); else
 * ERR_PRECONDITION. */
enum outcome http_if_match(struct http_ctx *ctx, const char *etag);
/* Stops counting this request (or, straight from a client, its
 * connection, which then closes after the response) against its client's
 * share of the workers, CABINET_MAX_PER_CLIENT: for a request that waits
 * long under a cap of its own (a gate's long-poll). */
void http_uncount(struct http_ctx *ctx);
/* The client's address as text ("192.0.2.7", "2001:db8::7"): the peer, or
 * through a proxy of CABINET_TRUSTED_PROXIES the client X-Forwarded-For
 * names (as CABINET_MAX_PER_CLIENT counts it). size: INET6_ADDRSTRLEN. */
#define HTTP_ADDR_LEN 46
void http_client_address(const struct http_ctx *ctx, char *buf, size_t size);
/* "user:<id>" of the caller, for audit entries. */
const char *http_actor(struct http_ctx *ctx);

/* Reads `limit` (1..200, default 50) and `cursor`, an opaque token this
 * server made for lists of `kind`: the position it holds is copied to after
 * ("" without a cursor). ERR_MALFORMED on a bad limit or cursor. Fetch
 * limit + 1 items and hand them to http_page. */
enum outcome http_paging(struct http_ctx *ctx, const char *kind, int *limit, char *after,
                         size_t size);
/* A page {"items", "next_cursor"} from items fetched with limit + 1: trims
 * the extra item and, when there was one, makes a cursor of kind from the
 * last item's member key (a string or integer). Steals items. */
json_t *http_page(json_t *items, int limit, const char *kind, const char *key);
/* A page of everything: {"items": items, "next_cursor": null}. Steals. */
json_t *http_page_all(json_t *items);

/* The reason phrase of an HTTP status (RFC 9110). */
const char *http_reason(int status);
/* Maps an outcome to its HTTP status. */
int http_status(enum outcome rc);

#endif
