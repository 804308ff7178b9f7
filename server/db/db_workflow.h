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
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "domain/change.h"
#include "domain/lifecycle.h"
#include "domain/policy.h"
#include "domain/risk.h"

/* Serialises the writes that decide the conflicts of change id with those
 * of every change or freeze whose window can overlap its own (the locks of
 * the UTC days its windows cover, sql/0012), so that changes submitted at
 * once see each other while changes in other days do not wait. Taken first
 * in the transaction, before the change's row; the facts and the
 * transition take it again for a window an edit moved. */
enum outcome db_workflow_lock(struct db *db, int64_t id);

/* What an assessment needs to know besides the change itself. */
struct db_facts {
    char *impact_set; /* JSON array of the names, sorted (malloc'd) */
    int min_tier;     /* 0: empty impact set */
    int blast_radius;
    int conflicts; /* other active changes overlapping on the impact set */
    bool frozen;   /* a freeze covering the impact set overlaps the window */
    bool hard_frozen;
    int recent_finished; /* of the last 20 finished changes on its services */
    int recent_failed;
    int64_t now;
    int64_t window_start;
};
/* Gathers the facts of the change's current content; the caller
 * db_facts_frees them. */
enum outcome db_workflow_facts(struct db *db, int64_t id, struct db_facts *out);
void db_facts_free(struct db_facts *f);

/* Stores the assessment r of c's current version and the policy p that
 * follows from it (approvals voided: have 0); replaces the change's stored
 * impact set (for conflict detection: the transition that follows refreshes the
 * conflict records). *new_rev is the revision it wrote. */
enum outcome db_workflow_assess(struct db *db, const struct change *c, const struct risk_result *r,
                                const struct policy *p, const char *impact_set, int64_t *new_rev);

struct db_transition {
    enum change_action action;
    enum change_state from;
    enum change_state to;
    enum change_outcome outcome; /* complete */
    const char *notes;           /* complete */
    const char *review;          /* close */
    const char *reason;          /* cancel, retrospective start */
    bool set_flags;              /* replace the flags with flags */
    unsigned flags;              /* enum change_flag bits */
};

/* Moves the change from t->from to t->to if its rev is still rev, with the
 * audit entry "change.<verb>", the refreshed conflict records and the
 * events lifecycle_events names. *new_rev is the revision it wrote.
 * ERR_NOT_FOUND when it moved on meanwhile. */
enum outcome db_workflow_transition(struct db *db, const char *actor, int64_t id, int64_t rev,
                                    const struct db_transition *t, int64_t *new_rev);

/* A verified decision, as it is recorded. */
struct db_decision {
    int64_t change_id;
    int64_t approver_id;
    int64_t key_id;
    bool approve;
    const char *comment;
    int version;
    const char *content_hash;
    const char *signed_at;
    const char *statement;
    const char *signature;
    const char *level;           /* the level the policy applied at */
    const struct policy *policy; /* as it applied */
    unsigned roles;              /* the approver's roles, as counted */
};
/* Records d with its audit entry; ERR_CONFLICT when the approver decided on
 * this version already. */
enum outcome db_workflow_decide(struct db *db, const struct db_decision *d, int64_t *approval_id);
/* The roles (as recorded) of each distinct approver approving the version:
 * up to max of them into roles, *n how many. */
enum outcome db_workflow_approvers(struct db *db, int64_t id, int version, unsigned *roles, int max,
                                   int *n);
/* Sets approvals_have (and bumps rev to *new_rev). */
enum outcome db_workflow_set_have(struct db *db, int64_t id, int have, int64_t *new_rev);
/* One approval document. */
enum outcome db_workflow_approval(struct db *db, int64_t approval_id, json_t **out);
/* Every approval of the change, oldest first. */
enum outcome db_workflow_approvals(struct db *db, int64_t id, json_t **out);

#endif
