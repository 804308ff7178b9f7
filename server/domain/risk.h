/*
 * The impact assessment's score (README "Impact assessment"): every factor
 * that applies adds its points and a reason, and the total gives the level.
 * The facts (tiers, conflicts, freezes, history) are gathered by the caller.
 * Pure and thread-safe.
 */
#ifndef CABINET_RISK_H
#define CABINET_RISK_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/lifecycle.h"

#define RISK_MAX_REASONS 9

struct risk_input {
    int min_tier;                /* most critical tier in the impact set; 0: empty set */
    int blast_radius;            /* size of the impact set */
    const char *business_impact; /* low | medium | high, or NULL */
    bool has_test_plan;
    bool has_backout_plan;
    enum model_kind kind;
    int64_t submitted_at; /* seconds since the epoch */
    int64_t window_start;
    int conflicts;       /* other active changes it conflicts with */
    bool frozen;         /* its window overlaps a freeze covering its impact set */
    int recent_finished; /* of the last 20 finished changes on these services */
    int recent_failed;   /* of those, failed or rolled back */
};

struct risk_reason {
    char factor[32];
    int points;
    char detail[160];
};

struct risk_result {
    int score;
    const char *level;
    int nreasons;
    struct risk_reason reasons[RISK_MAX_REASONS];
};

void risk_assess(const struct risk_input *in, struct risk_result *out);
/* low < 25 <= medium < 50 <= high < 75 <= critical */
const char *risk_level(int score);
/* True when s holds more than white space. */
bool risk_has_text(const char *s);

#endif
