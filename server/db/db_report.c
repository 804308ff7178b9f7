/*
 * The summary report, one statement. Relies on cab_ts() (0001).
 */
#include "db/db_report.h"

#include "db/db_internal.h"

/* Rates are fractions of the finished changes (those with an outcome);
 * medians are whole seconds (percentile_cont, rounded). */
static const char SQL_SUMMARY[] =
    "WITH c AS (SELECT c.*, m.kind FROM changes c JOIN models m ON m.name = c.model"
    "           WHERE c.created_at >= $1::timestamptz AND c.created_at < $2::timestamptz),"
    " fin AS (SELECT count(*) AS n,"
    "         count(*) FILTER (WHERE outcome = 'successful') AS ok,"
    "         count(*) FILTER (WHERE outcome IN ('failed', 'rolled_back')) AS bad"
    "         FROM c WHERE outcome IS NOT NULL),"
    " weeks AS (SELECT date_trunc('week', created_at AT TIME ZONE 'UTC') AS wk,"
    "           count(*) AS created,"
    "           count(*) FILTER (WHERE outcome = 'successful') AS successful,"
    "           count(*) FILTER (WHERE outcome = 'failed') AS failed,"
    "           count(*) FILTER (WHERE outcome = 'rolled_back') AS rolled_back,"
    "           count(*) FILTER (WHERE kind = 'emergency') AS emergency"
    "           FROM c GROUP BY 1)"
    " SELECT json_build_object("
    "  'from', cab_ts($1::timestamptz), 'to', cab_ts($2::timestamptz),"
    "  'total', (SELECT count(*) FROM c),"
    "  'by_state', COALESCE((SELECT json_object_agg(state, n) FROM"
    "              (SELECT state, count(*) AS n FROM c GROUP BY state) s), '{}'),"
    "  'by_model', COALESCE((SELECT json_object_agg(model, n) FROM"
    "              (SELECT model, count(*) AS n FROM c GROUP BY model) s), '{}'),"
    "  'success_rate', (SELECT CASE WHEN n = 0 THEN NULL ELSE round(ok::numeric / n, 4) END"
    "                   FROM fin),"
    "  'failure_rate', (SELECT CASE WHEN n = 0 THEN NULL ELSE round(bad::numeric / n, 4) END"
    "                   FROM fin),"
    "  'emergency_share', (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE"
    "                      round((count(*) FILTER (WHERE kind = 'emergency'))::numeric"
    "                            / count(*), 4) END FROM c),"
    "  'unauthorized', (SELECT count(*) FROM c WHERE 'unauthorized' = ANY (flags)),"
    "  'lead_time_median_s', (SELECT round(percentile_cont(0.5) WITHIN GROUP"
    "                         (ORDER BY extract(epoch FROM lower(win) - submitted_at)))::bigint"
    "                         FROM c WHERE submitted_at IS NOT NULL AND win IS NOT NULL),"
    "  'approval_turnaround_median_s', (SELECT round(percentile_cont(0.5) WITHIN GROUP"
    "                         (ORDER BY extract(epoch FROM approved_at - submitted_at)))::bigint"
    "                         FROM c WHERE submitted_at IS NOT NULL AND approved_at IS NOT NULL),"
    "  'weekly', COALESCE((SELECT json_agg(json_build_object("
    "              'week', to_char(wk, 'YYYY-MM-DD'), 'created', created,"
    "              'successful', successful, 'failed', failed, 'rolled_back', rolled_back,"
    "              'emergency', emergency) ORDER BY wk) FROM weeks), '[]'))";

enum outcome
db_report_summary(struct db *db, const char *from, const char *to, json_t **out)
{
    const char *params[2] = {from, to};

    return db_json(db, SQL_SUMMARY, 2, params, out);
}
