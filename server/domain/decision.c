#include "domain/decision.h"

#include <stdio.h>
#include <string.h>

#include "domain/role.h"

void
decision_lifecycle_in(const struct change *c, enum change_action action,
                      const struct decision_actor *who, struct lifecycle_in *in)
{
    memset(in, 0, sizeof *in);
    in->state = c->state;
    in->action = action;
    in->kind = c->kind;
    in->is_owner = c->requester_id == who->user_id;
    in->is_manager = (who->roles & ROLE_MANAGER) != 0;
    in->unauthorized = (c->flags & CHANGE_UNAUTHORIZED) != 0;
    in->level = c->level[0] ? c->level : NULL;
    in->outcome = OUTCOME_NONE;
}

static const char *
decision_level(const struct change *c)
{
    return c->level[0] ? c->level : "low";
}

enum outcome
decision_may(const struct change *c, const struct decision_actor *who, char *why, size_t size)
{
    struct policy p;

    why[0] = '\0';
    if (c->requester_id == who->user_id) {
        snprintf(why, size, "nobody may decide on their own change");
        return ERR_FORBIDDEN;
    }
    change_policy(c, decision_level(c), &p);
    if (!policy_counts(&p, who->roles)) {
        snprintf(why, size, "the approval policy of this change does not count your roles");
        return ERR_FORBIDDEN;
    }
    return OK;
}

enum outcome
decision_apply(const struct decision_in *in, struct decision_out *out, char *why, size_t size)
{
    const struct change *c = in->change;
    unsigned roles[POLICY_MAX_SLOTS];
    bool waiting = c->state == STATE_AWAITING_APPROVAL;
    enum outcome rc;
    int i, n = 0;

    memset(out, 0, sizeof *out);
    if ((rc = decision_may(c, &in->who, why, size)) != OK)
        return rc;
    if (!lifecycle_takes_decisions(c->state, (c->flags & CHANGE_UNAUTHORIZED) != 0)) {
        snprintf(why, size, "a change in state %s takes no decisions",
                 lifecycle_state_name(c->state));
        return ERR_CONFLICT;
    }
    if (in->approve && in->hard_frozen && c->kind != KIND_EMERGENCY) {
        snprintf(why, size,
                 "the window overlaps a hard freeze covering this change: move the window or "
                 "ask a manager to lift the freeze");
        return ERR_CONFLICT;
    }
    change_policy(c, decision_level(c), &out->policy);
    for (i = 0; i < in->napprovers && n < POLICY_MAX_SLOTS - 1; i++)
        roles[n++] = in->approvers[i];
    if (in->approve)
        roles[n++] = in->who.roles;
    out->have = policy_have(&out->policy, roles, n);
    out->needed = policy_needed(&out->policy);
    out->next = c->state;
    out->flags = c->flags;
    if (!in->approve) {
        /* a retrospective emergency stays started and unauthorized */
        if (waiting)
            out->next = STATE_REJECTED;
    } else if (out->have >= out->needed) {
        if (waiting)
            out->next = STATE_APPROVED;
        else
            out->flags &= ~CHANGE_UNAUTHORIZED;
    }
    return OK;
}

bool
decision_submit_ready(const struct change *c, int64_t now, struct fielderr *fe)
{
    int before = fe->n;

    if (!change_has_window(c))
        fielderr_add(fe, "window", "is required to submit a change");
    else if (c->window_end <= now && c->kind != KIND_EMERGENCY && strcmp(c->source, "hook") != 0)
        fielderr_add(fe, "window", "has already ended: move it to the future to submit the change");
    if (c->content.nservices == 0)
        fielderr_add(fe, "services", "name at least one service to submit a change");
    return fe->n == before;
}

static bool
decision_lifecycle_may(const struct change *c, enum change_action a,
                       const struct decision_actor *who)
{
    struct lifecycle_in in;
    struct lifecycle_out out;
    char why[160];

    decision_lifecycle_in(c, a, who, &in);
    return lifecycle_apply(&in, &out, why, sizeof why) == OK;
}

unsigned
decision_actions(const struct change *c, const struct decision_actor *who)
{
    static const struct {
        enum change_action action;
        enum decision_verb verb;
    } map[] = {
        {ACTION_SUBMIT, VERB_SUBMIT},     {ACTION_EDIT, VERB_EDIT},
        {ACTION_START, VERB_START},       {ACTION_START_RETROSPECTIVE, VERB_START},
        {ACTION_COMPLETE, VERB_COMPLETE}, {ACTION_CLOSE, VERB_CLOSE},
        {ACTION_CANCEL, VERB_CANCEL},
    };
    unsigned verbs = 0;
    char why[160];
    size_t i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++)
        if (decision_lifecycle_may(c, map[i].action, who))
            verbs |= 1u << map[i].verb;
    if (!c->viewer_decided && decision_may(c, who, why, sizeof why) == OK &&
        lifecycle_takes_decisions(c->state, (c->flags & CHANGE_UNAUTHORIZED) != 0))
        verbs |= 1u << VERB_APPROVE | 1u << VERB_REJECT;
    return verbs;
}

const char *
decision_verb_name(enum decision_verb v)
{
    static const char *const names[VERB_COUNT] = {
        "submit", "edit", "start", "complete", "close", "cancel", "approve", "reject",
    };
    return (unsigned)v < VERB_COUNT ? names[v] : "unknown";
}

int
decision_conflict_state_parse(const char *name)
{
    static const char *const names[] = {"open", "acknowledged", "resolved"};
    int i;

    for (i = 0; name != NULL && i < 3; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *
decision_conflict_state_name(enum conflict_state s)
{
    static const char *const names[] = {"open", "acknowledged", "resolved"};

    return (unsigned)s < 3 ? names[s] : "unknown";
}

enum outcome
decision_acknowledge(const struct conflict *k, const struct decision_actor *who, bool body_checked,
                     char *why, size_t size)
{
    bool owner = false;
    int i;

    why[0] = '\0';
    for (i = 0; i < k->nowners && i < 2; i++)
        owner |= k->owners[i] == who->user_id;
    if (!owner && !(who->roles & ROLE_MANAGER)) {
        snprintf(why, size, "only a manager or the owner of a change involved may acknowledge it");
        return ERR_FORBIDDEN;
    }
    if (body_checked && k->state != CONFLICT_OPEN) {
        snprintf(why, size, "the conflict is %s, not open", decision_conflict_state_name(k->state));
        return ERR_CONFLICT;
    }
    return OK;
}

/* The earlier of two moments, 0 standing for none. */
static int64_t
decision_sooner(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    return b == 0 || a < b ? a : b;
}

/* The reason a state alone gives, or GATE_ALLOWED for approved and in
 * progress. */
static enum gate_reason
decision_gate_state(enum change_state s)
{
    switch (s) {
    case STATE_APPROVED:
    case STATE_IN_PROGRESS: return GATE_ALLOWED;
    case STATE_DRAFT: return GATE_DRAFT;
    case STATE_AWAITING_APPROVAL: return GATE_AWAITING_APPROVAL;
    case STATE_REJECTED: return GATE_REJECTED;
    case STATE_CANCELLED: return GATE_CANCELLED;
    case STATE_REVIEW: return GATE_REVIEW;
    case STATE_CLOSED:
    default: return GATE_CLOSED;
    }
}

void
decision_gate(const struct gate_in *in, struct gate_out *out)
{
    const struct change *c = in->change;
    bool emergency = c->kind == KIND_EMERGENCY;
    bool retrospective = emergency && (c->flags & CHANGE_RETROSPECTIVE) != 0;

    out->next = 0;
    if ((out->reason = decision_gate_state(c->state)) != GATE_ALLOWED)
        return;
    if ((c->flags & CHANGE_UNAUTHORIZED) != 0 && !retrospective) {
        out->reason = GATE_UNAUTHORIZED;
        return;
    }
    if (!change_has_window(c) || in->now < c->window_start) {
        out->reason = GATE_WINDOW_NOT_OPEN;
        out->next = change_has_window(c) ? c->window_start : 0;
        return;
    }
    if (in->now >= c->window_end) {
        out->reason = GATE_WINDOW_CLOSED;
        return;
    }
    out->next = c->window_end;
    if (emergency)
        return;
    if (in->freeze_next > in->now)
        out->next = decision_sooner(out->next, in->freeze_next);
    if (in->hard_frozen)
        out->reason = GATE_FROZEN;
}

const char *
decision_gate_reason_name(enum gate_reason r)
{
    static const char *const names[GATE_REASON_COUNT] = {
        "allowed", "draft",        "awaiting_approval", "rejected",      "cancelled", "review",
        "closed",  "unauthorized", "window_not_open",   "window_closed", "frozen",
    };
    return (unsigned)r < GATE_REASON_COUNT ? names[r] : "unknown";
}
