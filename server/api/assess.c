#include "api/assess.h"

#include <stdio.h>
#include <string.h>

#include "db/db_workflow.h"
#include "domain/risk.h"

enum outcome
assess_change(struct db *db, struct change *c, bool *hard_frozen)
{
    struct db_facts facts;
    struct risk_input in;
    struct risk_result r;
    struct policy p;
    enum outcome rc;

    if ((rc = db_workflow_facts(db, c->id, &facts)) != OK)
        return rc;
    memset(&in, 0, sizeof in);
    in.min_tier = facts.min_tier;
    in.blast_radius = facts.blast_radius;
    in.business_impact = c->content.business_impact;
    in.has_test_plan = risk_has_text(c->content.test_plan);
    in.has_backout_plan = risk_has_text(c->content.backout_plan);
    in.kind = c->kind;
    in.submitted_at = facts.now;
    in.window_start = facts.window_start;
    in.conflicts = facts.conflicts;
    in.frozen = facts.frozen;
    in.recent_finished = facts.recent_finished;
    in.recent_failed = facts.recent_failed;
    risk_assess(&in, &r);
    change_policy(c, r.level, &p);
    *hard_frozen = facts.hard_frozen;
    rc = db_workflow_assess(db, c, &r, &p, facts.impact_set, &c->rev);
    if (rc == OK) {
        snprintf(c->level, sizeof c->level, "%s", r.level);
        c->needed = policy_needed(&p);
        c->have = 0;
    }
    db_facts_free(&facts);
    return rc;
}
