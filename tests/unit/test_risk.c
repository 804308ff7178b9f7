/* The impact assessment's score: each factor alone and in combination, the
 * reasons it gives, and the levels. */
#include <string.h>

#include "domain/risk.h"
#include "unit.h"

/* Submission time of every row: 2026-01-05T09:00:00Z. */
#define RK_SUBMIT INT64_C(1767603600)
#define RK_H (INT64_C(3600))

/* The factors as the assessment names them. */
#define TIER "tier"
#define BLAST "blast_radius"
#define IMPACT "business_impact"
#define NOTEST "no_test_plan"
#define NOBACK "no_backout_plan"
#define SHORT "short_notice"
#define CONFL "conflicts"
#define FREEZE "freeze"
#define HIST "failure_history"

enum { STD = KIND_STANDARD, NRM = KIND_NORMAL, EMG = KIND_EMERGENCY };

/* Facts, then what they score. tp/bp: has a test / backout plan; notice:
 * seconds from submission to the window's start. */
static const struct {
    const char *name;
    int tier, blast;
    const char *impact;
    bool tp, bp;
    int kind;
    int64_t notice;
    int conflicts;
    bool frozen;
    int finished, failed;
    int score;
    const char *level;
    int nreasons;
    struct {
        const char *factor;
        int points;
    } reasons[RISK_MAX_REASONS];
} rk_rows[] = {
    /* clang-format off */
    {"nothing applies", 0, 0, NULL, true, true, STD, 72 * RK_H, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"nothing applies (normal, 48 h)", 0, 0, "low", true, true, NRM, 48 * RK_H, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},

    /* tier of the most critical service */
    {"tier 1", 1, 0, NULL, true, true, STD, 0, 0, false, 0, 0, 40, "medium", 1, {{TIER, 40}}},
    {"tier 2", 2, 0, NULL, true, true, STD, 0, 0, false, 0, 0, 25, "medium", 1, {{TIER, 25}}},
    {"tier 3", 3, 0, NULL, true, true, STD, 0, 0, false, 0, 0, 10, "low", 1, {{TIER, 10}}},
    {"tier 4", 4, 0, NULL, true, true, STD, 0, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},

    /* blast radius: 2 a service, at most 20 */
    {"blast 1", 0, 1, NULL, true, true, STD, 0, 0, false, 0, 0, 2, "low", 1, {{BLAST, 2}}},
    {"blast 3", 0, 3, NULL, true, true, STD, 0, 0, false, 0, 0, 6, "low", 1, {{BLAST, 6}}},
    {"blast 9", 0, 9, NULL, true, true, STD, 0, 0, false, 0, 0, 18, "low", 1, {{BLAST, 18}}},
    {"blast 10", 0, 10, NULL, true, true, STD, 0, 0, false, 0, 0, 20, "low", 1, {{BLAST, 20}}},
    {"blast 11", 0, 11, NULL, true, true, STD, 0, 0, false, 0, 0, 20, "low", 1, {{BLAST, 20}}},
    {"blast 500", 0, 500, NULL, true, true, STD, 0, 0, false, 0, 0, 20, "low", 1, {{BLAST, 20}}},

    /* declared business impact */
    {"impact low", 0, 0, "low", true, true, STD, 0, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"impact medium", 0, 0, "medium", true, true, STD, 0, 0, false, 0, 0, 10, "low", 1, {{IMPACT, 10}}},
    {"impact high", 0, 0, "high", true, true, STD, 0, 0, false, 0, 0, 20, "low", 1, {{IMPACT, 20}}},

    /* plans */
    {"no test plan", 0, 0, NULL, false, true, STD, 0, 0, false, 0, 0, 10, "low", 1, {{NOTEST, 10}}},
    {"no backout plan", 0, 0, NULL, true, false, STD, 0, 0, false, 0, 0, 15, "low", 1, {{NOBACK, 15}}},
    {"no plans", 0, 0, NULL, false, false, STD, 0, 0, false, 0, 0, 25, "medium", 2, {{NOTEST, 10}, {NOBACK, 15}}},

    /* notice: a normal change's window less than 48 h after submission */
    {"normal, 47:59:59", 0, 0, NULL, true, true, NRM, 48 * RK_H - 1, 0, false, 0, 0, 10, "low", 1, {{SHORT, 10}}},
    {"normal, 48 h exactly", 0, 0, NULL, true, true, NRM, 48 * RK_H, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"normal, 48 h + 1 s", 0, 0, NULL, true, true, NRM, 48 * RK_H + 1, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"normal, at submission", 0, 0, NULL, true, true, NRM, 0, 0, false, 0, 0, 10, "low", 1, {{SHORT, 10}}},
    {"normal, window already begun", 0, 0, NULL, true, true, NRM, -RK_H, 0, false, 0, 0, 10, "low", 1, {{SHORT, 10}}},
    {"emergency, 1 h", 0, 0, NULL, true, true, EMG, RK_H, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"standard, 1 h", 0, 0, NULL, true, true, STD, RK_H, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},

    /* conflicts: 10 each, at most 20 */
    {"1 conflict", 0, 0, NULL, true, true, STD, 0, 1, false, 0, 0, 10, "low", 1, {{CONFL, 10}}},
    {"2 conflicts", 0, 0, NULL, true, true, STD, 0, 2, false, 0, 0, 20, "low", 1, {{CONFL, 20}}},
    {"3 conflicts", 0, 0, NULL, true, true, STD, 0, 3, false, 0, 0, 20, "low", 1, {{CONFL, 20}}},
    {"40 conflicts", 0, 0, NULL, true, true, STD, 0, 40, false, 0, 0, 20, "low", 1, {{CONFL, 20}}},

    /* freeze */
    {"frozen", 0, 0, NULL, true, true, STD, 0, 0, true, 0, 0, 30, "medium", 1, {{FREEZE, 30}}},

    /* failure history: at least 20 % of the finished changes */
    {"history 1/5", 0, 0, NULL, true, true, STD, 0, 0, false, 5, 1, 10, "low", 1, {{HIST, 10}}},
    {"history 1/6", 0, 0, NULL, true, true, STD, 0, 0, false, 6, 1, 0, "low", 0, {{NULL, 0}}},
    {"history 0/0", 0, 0, NULL, true, true, STD, 0, 0, false, 0, 0, 0, "low", 0, {{NULL, 0}}},
    {"history 0/5", 0, 0, NULL, true, true, STD, 0, 0, false, 5, 0, 0, "low", 0, {{NULL, 0}}},
    {"history 1/1", 0, 0, NULL, true, true, STD, 0, 0, false, 1, 1, 10, "low", 1, {{HIST, 10}}},
    {"history 1/4", 0, 0, NULL, true, true, STD, 0, 0, false, 4, 1, 10, "low", 1, {{HIST, 10}}},
    {"history 3/20", 0, 0, NULL, true, true, STD, 0, 0, false, 20, 3, 0, "low", 0, {{NULL, 0}}},
    {"history 4/20", 0, 0, NULL, true, true, STD, 0, 0, false, 20, 4, 10, "low", 1, {{HIST, 10}}},
    {"history 20/20", 0, 0, NULL, true, true, STD, 0, 0, false, 20, 20, 10, "low", 1, {{HIST, 10}}},

    /* combinations, in the table's order; the level at each threshold */
    {"everything, at most", 1, 30, "high", false, false, NRM, RK_H, 5, true, 10, 5, 175, "critical", 9,
     {{TIER, 40}, {BLAST, 20}, {IMPACT, 20}, {NOTEST, 10}, {NOBACK, 15}, {SHORT, 10}, {CONFL, 20}, {FREEZE, 30}, {HIST, 10}}},
    {"24: tier 3 + 7 services", 3, 7, NULL, true, true, STD, 0, 0, false, 0, 0, 24, "low", 2, {{TIER, 10}, {BLAST, 14}}},
    {"25: tier 3 + no backout plan", 3, 0, NULL, true, false, STD, 0, 0, false, 0, 0, 25, "medium", 2, {{TIER, 10}, {NOBACK, 15}}},
    {"49: tier 2 + high impact + 2 services", 2, 2, "high", true, true, STD, 0, 0, false, 0, 0, 49, "medium", 3,
     {{TIER, 25}, {BLAST, 4}, {IMPACT, 20}}},
    {"50: tier 1 + a conflict", 1, 0, NULL, true, true, STD, 0, 1, false, 0, 0, 50, "high", 2, {{TIER, 40}, {CONFL, 10}}},
    {"74: tier 2 + 7 services + high impact + no backout", 2, 7, "high", true, false, STD, 0, 0, false, 0, 0, 74, "high", 4,
     {{TIER, 25}, {BLAST, 14}, {IMPACT, 20}, {NOBACK, 15}}},
    {"75: tier 1 + high impact + no backout", 1, 0, "high", true, false, STD, 0, 0, false, 0, 0, 75, "critical", 3,
     {{TIER, 40}, {IMPACT, 20}, {NOBACK, 15}}},
    {"notice, freeze, history", 4, 1, "medium", true, true, NRM, 24 * RK_H, 0, true, 5, 1, 62, "high", 5,
     {{BLAST, 2}, {IMPACT, 10}, {SHORT, 10}, {FREEZE, 30}, {HIST, 10}}},
    {"emergency with everything else", 1, 30, "high", false, false, EMG, RK_H, 5, true, 10, 5, 165, "critical", 8,
     {{TIER, 40}, {BLAST, 20}, {IMPACT, 20}, {NOTEST, 10}, {NOBACK, 15}, {CONFL, 20}, {FREEZE, 30}, {HIST, 10}}},
    /* clang-format on */
};

void
test_risk_assess(void)
{
    size_t i;
    int k;

    for (i = 0; i < UNIT_NELEM(rk_rows); i++) {
        struct risk_input in = {
            .min_tier = rk_rows[i].tier,
            .blast_radius = rk_rows[i].blast,
            .business_impact = rk_rows[i].impact,
            .has_test_plan = rk_rows[i].tp,
            .has_backout_plan = rk_rows[i].bp,
            .kind = (enum model_kind)rk_rows[i].kind,
            .submitted_at = RK_SUBMIT,
            .window_start = RK_SUBMIT + rk_rows[i].notice,
            .conflicts = rk_rows[i].conflicts,
            .frozen = rk_rows[i].frozen,
            .recent_finished = rk_rows[i].finished,
            .recent_failed = rk_rows[i].failed,
        };
        struct risk_result out;
        int sum = 0;

        memset(&out, 0x5a, sizeof out);
        unit_row("%s", rk_rows[i].name);
        risk_assess(&in, &out);
        CHECK_INT(out.score, rk_rows[i].score);
        CHECK_STR(out.level, rk_rows[i].level);
        CHECK_INT(out.nreasons, rk_rows[i].nreasons);
        for (k = 0; k < rk_rows[i].nreasons && k < out.nreasons; k++) {
            unit_row("%s, reason %d", rk_rows[i].name, k);
            CHECK_STR(out.reasons[k].factor, rk_rows[i].reasons[k].factor);
            CHECK_INT(out.reasons[k].points, rk_rows[i].reasons[k].points);
            CHECK(out.reasons[k].detail[0] != '\0');
            sum += out.reasons[k].points;
        }
        /* the score is the sum of the reasons */
        unit_row("%s, sum", rk_rows[i].name);
        CHECK_INT(sum, rk_rows[i].score);
    }
}

/* The reason lines say what applied, with numbers and plurals. notice:
 * seconds from submission to the window's start; a row without a factor
 * expects no reason at all. */
void
test_risk_details(void)
{
    static const struct {
        int kind;
        int64_t notice;
        int tier, blast, conflicts, finished, failed;
        const char *factor;
        int points;
        const char *detail;
    } rows[] = {
        /* clang-format off */
        {STD, 0, 1, 0, 0, 0, 0, TIER, 40, "the impact set includes a tier 1 service"},
        {STD, 0, 3, 0, 0, 0, 0, TIER, 10, "the impact set includes a tier 3 service"},
        {STD, 0, 0, 1, 0, 0, 0, BLAST, 2, "1 service in the impact set"},
        {STD, 0, 0, 12, 0, 0, 0, BLAST, 20, "12 services in the impact set"},
        {STD, 0, 0, 0, 1, 0, 0, CONFL, 10, "conflicts with 1 other active change"},
        {STD, 0, 0, 0, 3, 0, 0, CONFL, 20, "conflicts with 3 other active changes"},
        {STD, 0, 0, 0, 0, 20, 4, HIST, 10, "4 of the last 20 finished changes on these services failed or were rolled back"},

        /* lead time of a normal change: ahead, at submission, already begun */
        {NRM, 72 * RK_H, 0, 0, 0, 0, 0, NULL, 0, NULL},
        {NRM, 10 * RK_H, 0, 0, 0, 0, 0, SHORT, 10, "the window starts less than 48 h after submission"},
        {NRM, 0, 0, 0, 0, 0, 0, SHORT, 10, "the window starts less than 48 h after submission"},
        {NRM, -3 * RK_H, 0, 0, 0, 0, 0, SHORT, 10, "the window started 3 h before submission"},
        {NRM, -(3 * RK_H + 59 * 60), 0, 0, 0, 0, 0, SHORT, 10, "the window started 3 h before submission"},
        {NRM, -RK_H, 0, 0, 0, 0, 0, SHORT, 10, "the window started 1 h before submission"},
        {NRM, -25 * 60, 0, 0, 0, 0, 0, SHORT, 10, "the window started 25 min before submission"},
        {NRM, -59, 0, 0, 0, 0, 0, SHORT, 10, "the window started 59 s before submission"},
        {NRM, -1, 0, 0, 0, 0, 0, SHORT, 10, "the window started 1 s before submission"},
        {NRM, -30 * 24 * RK_H, 0, 0, 0, 0, 0, SHORT, 10, "the window started 720 h before submission"},
        /* an emergency skips lead-time scoring, begun or not */
        {EMG, -3 * RK_H, 0, 0, 0, 0, 0, NULL, 0, NULL},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct risk_input in = {
            .min_tier = rows[i].tier,
            .blast_radius = rows[i].blast,
            .has_test_plan = true,
            .has_backout_plan = true,
            .kind = (enum model_kind)rows[i].kind,
            .submitted_at = RK_SUBMIT,
            .window_start = RK_SUBMIT + rows[i].notice,
            .conflicts = rows[i].conflicts,
            .recent_finished = rows[i].finished,
            .recent_failed = rows[i].failed,
        };
        struct risk_result out;

        unit_row("row %zu: %s", i, rows[i].detail ? rows[i].detail : "no reason");
        risk_assess(&in, &out);
        if (rows[i].factor == NULL) {
            CHECK_INT(out.nreasons, 0);
            CHECK_INT(out.score, 0);
            continue;
        }
        CHECK_INT(out.nreasons, 1);
        CHECK_STR(out.reasons[0].factor, rows[i].factor);
        CHECK_INT(out.reasons[0].points, rows[i].points);
        CHECK_STR(out.reasons[0].detail, rows[i].detail);
    }
}

void
test_risk_level(void)
{
    static const struct {
        int score;
        const char *level;
    } rows[] = {
        {0, "low"},       {1, "low"},       {24, "low"},       {25, "medium"},
        {26, "medium"},   {49, "medium"},   {50, "high"},      {74, "high"},
        {75, "critical"}, {76, "critical"}, {175, "critical"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%d", rows[i].score);
        CHECK_STR(risk_level(rows[i].score), rows[i].level);
    }
}

void
test_risk_has_text(void)
{
    static const struct {
        const char *s;
        bool want;
    } rows[] = {
        /* clang-format off */
        {NULL, false},
        {"", false},
        {" ", false},
        {"    ", false},
        {"\t", false},
        {"\n", false},
        {"\r\n", false},
        {" \t\r\n\f\v", false},
        {"\n\n\t  \n", false},
        {"x", true},
        {"  x  ", true},
        {"\n\nroll back with make undo\n", true},
        {"\t-", true},
        {"0", true},
        {"caf\xc3\xa9", true},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("row %zu", i);
        CHECK_INT(risk_has_text(rows[i].s), rows[i].want);
    }
}
