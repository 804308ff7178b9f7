/*
 * The change workflow's database side: the facts an assessment needs, the
 * stored assessment and policy, guarded state transitions (a zero-row
 * update means someone else moved the change first) and signed decisions.
 * Every write records its audit entry in the same transaction. Thread-safe
 * per connection.
 */
#ifndef CABINET_DB_WORKFLOW_H
#define CABINET_DB_WORKFLOW_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

/* The workflow's view of a change: {id, ref, state, kind, model, version,
 * content_hash, requester_id, flags, level, policy, model_policy,
 * approvals_needed, has_window, has_services, test_plan, backout_plan,
 * business_impact, rev}. With lock, the row is locked FOR UPDATE (inside
 * the caller's transaction). */
enum outcome db_workflow_load(struct db *db, int64_t id, bool lock, json_t **out);

/* Serialises the writes that decide conflicts (taken first in the
 * transaction), so that changes submitted at once see each other. */
enum outcome db_workflow_lock(struct db *db);
/* Brings the change's conflict records up to date with its impact rows. */
enum outcome db_workflow_conflicts(struct db *db, int64_t id);

/* {impact_set:[names], min_tier, blast_radius, conflicts, frozen,
 * hard_frozen, recent_finished, recent_failed, now, window_start}. */
enum outcome db_workflow_facts(struct db *db, int64_t id, json_t **out);

/* Stores an assessment of the current version and the policy that follows
 * from it; replaces the change's impact rows (for conflict detection; the
 * transition that follows refreshes the conflict records). */
enum outcome db_workflow_assess(struct db *db, int64_t id, int version, int score,
                                const char *level, const char *reasons, const char *impact_set,
                                const char *policy, int needed, int have);

struct db_transition {
    const char *action; /* submit, start, complete, close, cancel, decide */
    const char *from;
    const char *to;
    const char *outcome; /* complete */
    const char *notes;   /* complete */
    const char *review;  /* close */
    const char *reason;  /* cancel, retrospective start */
    const char *flags;   /* PostgreSQL array literal to set, or NULL to keep */
};

/* Moves the change from t->from to t->to if its rev is still rev. ERR_NOT_FOUND
 * when it moved on meanwhile. Audit entry "change.<action>". */
enum outcome db_workflow_transition(struct db *db, const char *actor, int64_t id, int64_t rev,
                                    const struct db_transition *t);

/* Records a verified decision; ERR_CONFLICT when the approver decided on this
 * version already. policy is {"level","quotas","roles"} as it applied. */
enum outcome db_workflow_decide(struct db *db, int64_t id, int64_t approver, int64_t key_id,
                                const char *decision, const char *comment, int version,
                                const char *hash, const char *signed_at, const char *statement,
                                const char *signature, const char *policy, int64_t *approval_id);
/* The distinct approvers approving the current version: a JSON array of
 * their roles as recorded ({"roles":[...]}). */
enum outcome db_workflow_approvers(struct db *db, int64_t id, json_t **out);
/* Sets approvals_have (and bumps rev). */
enum outcome db_workflow_set_have(struct db *db, int64_t id, int have);
/* One approval document. */
enum outcome db_workflow_approval(struct db *db, int64_t approval_id, json_t **out);
/* Every approval of the change, oldest first. */
enum outcome db_workflow_approvals(struct db *db, int64_t id, json_t **out);

#endif
