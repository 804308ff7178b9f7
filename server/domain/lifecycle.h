/*
 * The change lifecycle (README "Workflow") as one table: for each state and
 * action, who may act and where the change goes. Decisions (approve,
 * reject) are policy.c's; this module says only whether a state accepts
 * them. Pure and thread-safe.
 */
#ifndef CABINET_LIFECYCLE_H
#define CABINET_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/outcome.h"

enum change_state {
    STATE_DRAFT,
    STATE_AWAITING_APPROVAL,
    STATE_APPROVED,
    STATE_REJECTED,
    STATE_IN_PROGRESS,
    STATE_REVIEW,
    STATE_CLOSED,
    STATE_CANCELLED,
    STATE_COUNT
};

enum change_action {
    ACTION_SUBMIT,
    ACTION_START,
    ACTION_START_RETROSPECTIVE, /* emergency, before approval, by a manager */
    ACTION_COMPLETE,
    ACTION_CLOSE,
    ACTION_CANCEL,
    ACTION_EDIT,
    ACTION_DECIDE, /* a signed approval or rejection: decision.c's rules */
    ACTION_COUNT
};

/* The events a transition emits (README "Events out"). */
enum change_event {
    EVENT_SUBMITTED = 1u << 0,
    EVENT_STATE_CHANGED = 1u << 1,
    EVENT_APPROVED = 1u << 2,
    EVENT_REJECTED = 1u << 3,
};
#define EVENT_COUNT 4

enum model_kind { KIND_STANDARD, KIND_NORMAL, KIND_EMERGENCY };

enum change_outcome { OUTCOME_NONE, OUTCOME_SUCCESSFUL, OUTCOME_FAILED, OUTCOME_ROLLED_BACK };

struct lifecycle_in {
    enum change_state state;
    enum change_action action;
    enum model_kind kind;
    bool is_owner;
    bool is_manager;
    bool unauthorized;           /* the change carries the flag */
    const char *level;           /* assessed risk level, or NULL */
    enum change_outcome outcome; /* for complete */
};

struct lifecycle_out {
    enum change_state next;
    bool set_unauthorized; /* a retrospective start */
    bool void_approvals;   /* an edit after submit */
    bool assess;           /* run the impact assessment */
};

/* Applies the action: OK with *out, ERR_FORBIDDEN when the caller may not
 * take it, ERR_CONFLICT when the state does not allow it; why (size bytes)
 * says so in words. Permission is judged before state (check order). */
enum outcome lifecycle_apply(const struct lifecycle_in *in, struct lifecycle_out *out, char *why,
                             size_t size);

/* Whether a post-implementation review is due on completion. */
bool lifecycle_needs_review(enum model_kind kind, enum change_outcome outcome, const char *level,
                            bool unauthorized);

/* Whether a state takes signed decisions (awaiting approval, or in progress
 * or review while flagged unauthorized). */
bool lifecycle_takes_decisions(enum change_state state, bool unauthorized);

/* Names as the API writes them, and back; -1 for an unknown name. */
const char *lifecycle_state_name(enum change_state s);
int lifecycle_state_parse(const char *name);
const char *lifecycle_action_name(enum change_action a);
/* The verb an action is recorded under in the audit trail ("start" for
 * both starts): "change.<verb>". */
const char *lifecycle_action_verb(enum change_action a);
/* The events the move from `from` to `to` by action emits: change.submitted
 * for every submit, change.state_changed when the state moves, and
 * change.approved / change.rejected on arriving in those states. */
unsigned lifecycle_events(enum change_action action, enum change_state from, enum change_state to);
/* The event type of one bit of enum change_event, e.g. "change.approved". */
const char *lifecycle_event_name(unsigned event);
int lifecycle_kind_parse(const char *name);
int lifecycle_outcome_parse(const char *name);
/* Active states: awaiting approval, approved, in progress. */
bool lifecycle_is_active(enum change_state s);

#endif
