/* What the fuzz targets that link api/ files (decode.c, hooks_tools.c) need
 * of http/ and db/ without CivetWeb or a database: http_field and
 * http_fields_ok as http.c has them (the field errors in ctx->fe), and a
 * db_service_missing that says no service exists (no target calls it: it is
 * here only so that decode.c links). */
#include <stdarg.h>
#include <stdio.h>

#include "api/decode.h"
#include "db/db_service.h"
#include "http/http.h"

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
    return ctx->fe.n == 0 ? OK : ERR_INVALID;
}

enum outcome
db_service_missing(struct db *db, const char *names_json, json_t **missing)
{
    (void)db;
    (void)names_json;
    *missing = NULL;
    return ERR_INTERNAL;
}
