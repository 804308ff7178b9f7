#include "domain/risk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void risk_add(struct risk_result *out, const char *factor, int points, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
risk_add(struct risk_result *out, const char *factor, int points, const char *fmt, ...)
{
    struct risk_reason *r;
    va_list ap;

    if (out->nreasons == RISK_MAX_REASONS)
        return;
    r = &out->reasons[out->nreasons++];
    snprintf(r->factor, sizeof r->factor, "%s", factor);
    r->points = points;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    out->score += points;
}

/* A length of time as the reasons write it: whole hours from an hour up,
 * else whole minutes, else seconds. */
static void
risk_span(int64_t seconds, char *buf, size_t size)
{
    if (seconds >= 3600)
        snprintf(buf, size, "%lld h", (long long)(seconds / 3600));
    else if (seconds >= 60)
        snprintf(buf, size, "%lld min", (long long)(seconds / 60));
    else
        snprintf(buf, size, "%lld s", (long long)seconds);
}

/* The lead time of a normal change: its window starting less than 48 h after
 * submission, or before it. */
static void
risk_notice(struct risk_result *out, int64_t notice)
{
    char span[32];

    if (notice >= (int64_t)48 * 3600)
        return;
    if (notice >= 0) {
        risk_add(out, "short_notice", 10, "the window starts less than 48 h after submission");
        return;
    }
    risk_span(-notice, span, sizeof span);
    risk_add(out, "short_notice", 10, "the window started %s before submission", span);
}

const char *
risk_level(int score)
{
    return score < 25 ? "low" : score < 50 ? "medium" : score < 75 ? "high" : "critical";
}

bool
risk_has_text(const char *s)
{
    for (; s != NULL && *s; s++)
        if (strchr(" \t\r\n\f\v", *s) == NULL)
            return true;
    return false;
}

void
risk_assess(const struct risk_input *in, struct risk_result *out)
{
    static const int tier_points[] = {0, 40, 25, 10, 0};
    int blast;

    memset(out, 0, sizeof *out);
    if (in->min_tier >= 1 && in->min_tier <= 3)
        risk_add(out, "tier", tier_points[in->min_tier],
                 "the impact set includes a tier %d service", in->min_tier);
    if (in->blast_radius > 0) {
        blast = in->blast_radius * 2 > 20 ? 20 : in->blast_radius * 2;
        risk_add(out, "blast_radius", blast, "%d service%s in the impact set", in->blast_radius,
                 in->blast_radius == 1 ? "" : "s");
    }
    if (in->business_impact != NULL && strcmp(in->business_impact, "medium") == 0)
        risk_add(out, "business_impact", 10, "declared business impact: medium");
    else if (in->business_impact != NULL && strcmp(in->business_impact, "high") == 0)
        risk_add(out, "business_impact", 20, "declared business impact: high");
    if (!in->has_test_plan)
        risk_add(out, "no_test_plan", 10, "no test plan");
    if (!in->has_backout_plan)
        risk_add(out, "no_backout_plan", 15, "no backout plan");
    if (in->kind == KIND_NORMAL)
        risk_notice(out, in->window_start - in->submitted_at);
    if (in->conflicts > 0)
        risk_add(out, "conflicts", in->conflicts >= 2 ? 20 : 10,
                 "conflicts with %d other active change%s", in->conflicts,
                 in->conflicts == 1 ? "" : "s");
    if (in->frozen)
        risk_add(out, "freeze", 30, "the window overlaps a freeze covering its impact set");
    if (in->recent_finished > 0 && in->recent_failed * 5 >= in->recent_finished)
        risk_add(out, "failure_history", 10,
                 "%d of the last %d finished changes on these services failed or were rolled back",
                 in->recent_failed, in->recent_finished);
    out->level = risk_level(out->score);
}
