#include "http/http.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/etag.h"
#include "domain/role.h"
#include "domain/validate.h"
#include "sec/sec.h"

const char *
http_param(const struct http_ctx *ctx, int i)
{
    return i < ctx->match.nparams ? ctx->match.params[i] : "";
}

const char *
http_header(const struct http_ctx *ctx, const char *name)
{
    return mg_get_header(ctx->conn, name);
}

int
http_query(const struct http_ctx *ctx, const char *name, char *buf, size_t size)
{
    int n;

    if (ctx->query == NULL)
        return 0;
    n = mg_get_var(ctx->query, strlen(ctx->query), name, buf, size);
    if (n == -1)
        return 0;
    if (n < 0)
        return -1;
    return 1;
}

/* Whether the media type of a Content-Type value is want (parameters such as
 * "; charset=utf-8" may follow). */
static bool
http_is_type(const char *type, const char *want)
{
    size_t n = strlen(want);

    if (type == NULL || strncasecmp(type, want, n) != 0)
        return false;
    return type[n] == '\0' || type[n] == ';' || type[n] == ' ' || type[n] == '\t';
}

/* JSON, or for a PATCH also a JSON merge patch document (RFC 7396), which
 * is what every PATCH of this API applies. */
static bool
http_is_json(const struct http_ctx *ctx, const char *type)
{
    return http_is_type(type, "application/json") ||
           (strcmp(ctx->method, "PATCH") == 0 &&
            http_is_type(type, "application/merge-patch+json"));
}

/* How deeply arrays and objects nest in the JSON text (strings skipped);
 * stops counting past limit. A linear scan, so that a hostile body is
 * refused before a recursive parser sees it. */
static int
http_json_depth(const char *p, size_t n, int limit)
{
    int depth = 0, max = 0;
    bool in_string = false;
    size_t i;

    for (i = 0; i < n && max <= limit; i++) {
        char c = p[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

enum outcome
http_body(struct http_ctx *ctx, bool empty_ok, json_t **out)
{
    json_error_t err;
    json_t *v;

    *out = NULL;
    if (ctx->body_too_large)
        return http_fail(ctx, ERR_TOO_LARGE, "the body is over the limit of %d bytes",
                         HTTP_BODY_MAX);
    if (ctx->body_len == 0 && empty_ok &&
        (http_header(ctx, "Content-Type") == NULL ||
         http_is_json(ctx, http_header(ctx, "Content-Type")))) {
        *out = json_object();
        return *out ? OK : ERR_INTERNAL;
    }
    if (!http_is_json(ctx, http_header(ctx, "Content-Type")))
        return http_fail(ctx, ERR_MEDIA_TYPE,
                         strcmp(ctx->method, "PATCH") == 0
                             ? "the body must be application/json or application/merge-patch+json"
                             : "the body must be application/json");
    if (http_json_depth(ctx->body ? ctx->body : "", ctx->body_len, HTTP_JSON_DEPTH) >
        HTTP_JSON_DEPTH)
        return http_fail(ctx, ERR_MALFORMED, "the JSON nests deeper than %d levels",
                         HTTP_JSON_DEPTH);
    v = json_loadb(ctx->body ? ctx->body : "", ctx->body_len, JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        return http_fail(ctx, ERR_MALFORMED, "the body is not JSON: %s (at byte %d)", err.text,
                         err.position);
    if (!json_is_object(v)) {
        json_decref(v);
        return http_fail(ctx, ERR_MALFORMED, "the body must be a JSON object");
    }
    *out = v;
    return OK;
}

enum outcome
http_fail(struct http_ctx *ctx, enum outcome rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->detail, sizeof ctx->detail, fmt, ap);
    va_end(ap);
    return rc;
}

void
http_field(struct http_ctx *ctx, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fielderr_add(&ctx->fe, field, "%s", msg);
}

enum outcome
http_fields_ok(struct http_ctx *ctx)
{
    if (ctx->fe.n == 0)
        return OK;
    if (ctx->fe.n == 1)
        return http_fail(ctx, ERR_INVALID, "%s %s", ctx->fe.e[0].field, ctx->fe.e[0].message);
    return http_fail(ctx, ERR_INVALID, "%d fields are invalid", ctx->fe.n);
}

void
http_reply(struct http_ctx *ctx, int status, json_t *body)
{
    json_decref(ctx->reply);
    ctx->status = status;
    ctx->reply = body;
}

enum outcome
http_reply_raw(struct http_ctx *ctx, int status, const char *type, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return ERR_INTERNAL;
    memcpy(copy, body, len);
    copy[len] = '\0';
    free(ctx->raw_body);
    ctx->raw_body = copy;
    ctx->raw_len = len;
    ctx->raw_type = type;
    ctx->status = status;
    return OK;
}

void
http_add_header(struct http_ctx *ctx, const char *name, const char *fmt, ...)
{
    char value[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    /* a header value never carries a line break */
    value[strcspn(value, "\r\n")] = '\0';
    strbuf_printf(&ctx->headers, "%s: %s\r\n", name, value);
}

/* True when the caller holds any of the roles in mask. */
static bool
http_has_role(const struct http_ctx *ctx, unsigned mask)
{
    return (ctx->user.roles & mask) != 0;
}

enum outcome
http_authorize(struct http_ctx *ctx)
{
    if (ctx->route_roles == 0 || http_has_role(ctx, ctx->route_roles))
        return OK;
    return http_fail(ctx, ERR_FORBIDDEN, "your roles do not allow this");
}

enum outcome
http_if_match(struct http_ctx *ctx, const char *etag)
{
    const char *h = http_header(ctx, "If-Match");
    char tag[80];

    snprintf(tag, sizeof tag, "\"%s\"", etag);
    if (h == NULL || etag_matches(h, tag, false))
        return OK;
    return http_fail(ctx, ERR_PRECONDITION,
                     "the resource has changed since you read it (its ETag is now \"%s\")", etag);
}

const char *
http_actor(struct http_ctx *ctx)
{
    snprintf(ctx->actor, sizeof ctx->actor, "user:%lld", (long long)ctx->user.id);
    return ctx->actor;
}

enum outcome
http_paging(struct http_ctx *ctx, const char *kind, int *limit, char *after, size_t size)
{
    char buf[16], cursor[512], raw[384], *end;
    size_t klen = strlen(kind);
    long n, got;

    *limit = 50;
    after[0] = '\0';
    switch (http_query(ctx, "limit", buf, sizeof buf)) {
    case -1: return http_fail(ctx, ERR_MALFORMED, "limit must be a whole number from 1 to 200");
    case 1:
        n = strtol(buf, &end, 10);
        if (*buf == '\0' || *end != '\0' || n < 1 || n > 200)
            return http_fail(ctx, ERR_MALFORMED, "limit must be a whole number from 1 to 200");
        *limit = (int)n;
        break;
    default: break;
    }
    switch (http_query(ctx, "cursor", cursor, sizeof cursor)) {
    case 0: return OK;
    case 1:
        got = sec_b64url_decode(cursor, raw, sizeof raw - 1);
        if (got > (long)klen && (size_t)got - klen - 1 < size && memcmp(raw, kind, klen) == 0 &&
            raw[klen] == ':' && memchr(raw, '\0', (size_t)got) == NULL) {
            memcpy(after, raw + klen + 1, (size_t)got - klen - 1);
            after[got - (long)klen - 1] = '\0';
            return OK;
        }
        break;
    default: break;
    }
    return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made for this list");
}

json_t *
http_page(json_t *items, int limit, const char *kind, const char *key)
{
    char raw[384], cursor[520];
    const json_t *v;
    json_t *next = json_null();

    if (json_array_size(items) > (size_t)limit) {
        while (json_array_size(items) > (size_t)limit)
            json_array_remove(items, json_array_size(items) - 1);
        v = json_object_get(json_array_get(items, (size_t)limit - 1), key);
        if (json_is_integer(v))
            snprintf(raw, sizeof raw, "%s:%lld", kind, (long long)json_integer_value(v));
        else
            snprintf(raw, sizeof raw, "%s:%s", kind,
                     json_string_value(v) ? json_string_value(v) : "");
        if (sec_b64url_encode(raw, strlen(raw), cursor, sizeof cursor))
            next = json_string(cursor);
    }
    return json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
}

json_t *
http_page_all(json_t *items)
{
    return json_pack("{s:o, s:n}", "items", items, "next_cursor");
}

const char *
http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

int
http_status(enum outcome rc)
{
    switch (rc) {
    case OK: return 200;
    case ERR_MALFORMED: return 400;
    case ERR_UNAUTHENTICATED: return 401;
    case ERR_FORBIDDEN: return 403;
    case ERR_NOT_FOUND: return 404;
    case ERR_METHOD: return 405;
    case ERR_CONFLICT: return 409;
    case ERR_PRECONDITION: return 412;
    case ERR_TOO_LARGE: return 413;
    case ERR_MEDIA_TYPE: return 415;
    case ERR_INVALID: return 422;
    case ERR_TOO_MANY: return 429;
    case ERR_UNAVAILABLE: return 503;
    case ERR_INTERNAL:
    case ERR_RETRY: return 500;
    }
    return 500;
}
