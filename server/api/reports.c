/* Reports: the change summary of a period (default: the last 30 days). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "db/db_report.h"
#include "domain/timefmt.h"

enum outcome
api_reports_summary(struct http_ctx *ctx)
{
    char buf[64], from[TIMEFMT_LEN], to[TIMEFMT_LEN];
    int64_t now = (int64_t)time(NULL);
    json_t *doc = NULL;
    enum outcome rc;

    timefmt_format(now - (int64_t)30 * 86400, from);
    timefmt_format(now + 1, to);
    if (http_query(ctx, "from", buf, sizeof buf) != 0 && timefmt_normalize(buf, from) != OK)
        http_field(ctx, "from", "must be an RFC 3339 date-time");
    if (http_query(ctx, "to", buf, sizeof buf) != 0 && timefmt_normalize(buf, to) != OK)
        http_field(ctx, "to", "must be an RFC 3339 date-time");
    if (ctx->fe.n == 0 && strcmp(from, to) >= 0)
        http_field(ctx, "to", "must be after from");
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    if ((rc = db_report_summary(ctx->db, from, to, &doc)) != OK)
        return rc;
    http_reply(ctx, 200, doc);
    return OK;
}
