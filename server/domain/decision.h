/*
 * What a caller may do to a change, and what a signed decision does: the
 * rules of README "Approval policy" and "States" that need the whole change
 * (its owner, flags, policy and level) rather than one (state, action)
 * pair. Built on lifecycle.c's table and policy.c's quotas, so that the
 * handlers, the change document's `actions` and every later path into the
 * workflow (hooks, the web UI) share one set of rules. Pure and thread-safe.
 */
#ifndef CABINET_DECISION_H
#define CABINET_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/change.h"
#include "domain/lifecycle.h"
#include "domain/outcome.h"
#include "domain/policy.h"

/* Who is acting. */
struct decision_actor {
    int64_t user_id;
    unsigned roles; /* enum role bits */
};

/* The lifecycle question for an action on c by who (owner, manager, flags,
 * kind, level filled from c). */
void decision_lifecycle_in(const struct change *c, enum change_action action,
                           const struct decision_actor *who, struct lifecycle_in *in);

/* Whether who may decide on c at all (checked before the body and the
 * state, README "States" check order): OK, or ERR_FORBIDDEN for one's own
 * change or roles the policy does not count; why (size bytes) says which. */
enum outcome decision_may(const struct change *c, const struct decision_actor *who, char *why,
                          size_t size);

struct decision_in {
    const struct change *change; /* locked, as it stands */
    struct decision_actor who;
    bool approve;              /* else reject */
    bool hard_frozen;          /* its window overlaps a hard freeze covering it */
    const unsigned *approvers; /* roles of each other distinct approver of this version */
    int napprovers;
};

struct decision_out {
    enum change_state next;
    unsigned flags; /* the change's flags after the decision */
    int have;       /* approvals counted by the policy, this one included */
    int needed;
    struct policy policy; /* the policy at the change's level */
};

/* Decides an approval or rejection: ERR_FORBIDDEN as decision_may,
 * ERR_CONFLICT when the state takes no decisions or, for an approval of a
 * non-emergency change, a hard freeze covers it; else OK with where the
 * change goes (approved when the quotas are met, rejected by one
 * rejection; a change already started keeps its state, and an approval
 * that meets the policy clears `unauthorized`). */
enum outcome decision_apply(const struct decision_in *in, struct decision_out *out, char *why,
                            size_t size);

/* What a change needs before it is submitted, each fault in fe: a window
 * and at least one service; and a normal or standard change raised through
 * the API or the UI whose window has already ended at now cannot be
 * submitted (emergencies and hook-raised changes are recorded after the
 * fact). True when there is no fault. */
bool decision_submit_ready(const struct change *c, int64_t now, struct fielderr *fe);

/* A conflict record as the rules see it (README "Conflicts and the
 * schedule"). */
enum conflict_state { CONFLICT_OPEN, CONFLICT_ACKNOWLEDGED, CONFLICT_RESOLVED };

struct conflict {
    int64_t id;
    enum conflict_state state;
    int64_t owners[2]; /* the owners of the change(s) involved */
    int nowners;
};

/* "open", "acknowledged", "resolved"; -1 for anything else. */
int decision_conflict_state_parse(const char *name);
const char *decision_conflict_state_name(enum conflict_state s);
/* Whether who may acknowledge k now: ERR_FORBIDDEN unless a manager or the
 * owner of a change involved; ERR_CONFLICT unless it is open. Permission
 * first (README "Conventions" check order); when body_checked is false only
 * the permission is judged. */
enum outcome decision_acknowledge(const struct conflict *k, const struct decision_actor *who,
                                  bool body_checked, char *why, size_t size);

/* What the caller may do now, as the API names it (README "Changes"). */
enum decision_verb {
    VERB_SUBMIT,
    VERB_EDIT,
    VERB_START,
    VERB_COMPLETE,
    VERB_CLOSE,
    VERB_CANCEL,
    VERB_APPROVE,
    VERB_REJECT,
    VERB_COUNT
};

/* The bits (1u << enum decision_verb) of what who may do to c now, from
 * the same rules the actions are refused by. A decision already given on
 * this version (c->viewer_decided) takes approve and reject away. */
unsigned decision_actions(const struct change *c, const struct decision_actor *who);
/* "submit", "edit", …; a static string. */
const char *decision_verb_name(enum decision_verb v);

/* What GET /gate/<token> answers (README "Gate"): allowed, or the reason
 * it is not, in the order checked. */
enum gate_reason {
    GATE_ALLOWED,
    /* the state, when it is neither approved nor in progress */
    GATE_DRAFT,
    GATE_AWAITING_APPROVAL,
    GATE_REJECTED,
    GATE_CANCELLED,
    GATE_REVIEW,
    GATE_CLOSED,
    /* then the flag: unauthorized, unless a retrospective emergency */
    GATE_UNAUTHORIZED,
    /* then the window */
    GATE_WINDOW_NOT_OPEN,
    GATE_WINDOW_CLOSED,
    /* then, for a change that is not an emergency, a hard freeze */
    GATE_FROZEN,
    GATE_REASON_COUNT
};

struct gate_in {
    const struct change *change; /* state, kind, flags and window are read */
    int64_t now;                 /* seconds since the epoch */
    /* a hard freeze whose window holds now and overlaps the change's covers
     * a service of its impact set */
    bool hard_frozen;
    /* the first moment after now at which a hard freeze covering the
     * change (overlapping its window, on its impact set) begins or ends;
     * 0: none */
    int64_t freeze_next;
};

struct gate_out {
    enum gate_reason reason;
    /* the first moment after now at which the answer can change without a
     * write to the change or a freeze (the window opening or closing, a
     * hard freeze beginning or ending); 0: only a write can change it */
    int64_t next;
};

/* The gate's answer for a change at now: approved or in progress, not
 * flagged unauthorized (a retrospective emergency passes with its flags),
 * its window [start, end) holding now, and — unless an emergency — no hard
 * freeze covering it now. Reasons in the precedence of enum gate_reason:
 * state, then unauthorized, then window, then frozen. */
void decision_gate(const struct gate_in *in, struct gate_out *out);
/* "draft", "window_not_open", …, "allowed" for GATE_ALLOWED; a static
 * string. */
const char *decision_gate_reason_name(enum gate_reason r);

#endif
