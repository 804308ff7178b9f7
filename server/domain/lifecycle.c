#include "domain/lifecycle.h"

#include <stdio.h>
#include <string.h>

static const char *const lifecycle_states[STATE_COUNT] = {
    "draft",  "awaiting_approval", "approved", "rejected", "in_progress", "review",
    "closed", "cancelled",
};

static const char *const lifecycle_actions[ACTION_COUNT] = {
    "submit", "start", "start (retrospective)", "complete", "close", "cancel", "edit", "decide",
};

static const char *const lifecycle_verbs[ACTION_COUNT] = {
    "submit", "start", "start", "complete", "close", "cancel", "edit", "decide",
};

enum lifecycle_who { WHO_OWNER_OR_MANAGER, WHO_MANAGER };

/* One row per allowed (state, action). next == -1: computed (see apply). */
struct lifecycle_row {
    enum change_state from;
    enum change_action action;
    enum lifecycle_who who;
    int next;
};

static const struct lifecycle_row lifecycle_table[] = {
    {STATE_DRAFT, ACTION_SUBMIT, WHO_OWNER_OR_MANAGER, -1},
    {STATE_DRAFT, ACTION_EDIT, WHO_OWNER_OR_MANAGER, STATE_DRAFT},
    {STATE_DRAFT, ACTION_CANCEL, WHO_OWNER_OR_MANAGER, STATE_CANCELLED},
    {STATE_AWAITING_APPROVAL, ACTION_EDIT, WHO_OWNER_OR_MANAGER, -1},
    {STATE_AWAITING_APPROVAL, ACTION_CANCEL, WHO_OWNER_OR_MANAGER, STATE_CANCELLED},
    {STATE_AWAITING_APPROVAL, ACTION_START_RETROSPECTIVE, WHO_MANAGER, STATE_IN_PROGRESS},
    {STATE_APPROVED, ACTION_EDIT, WHO_OWNER_OR_MANAGER, -1},
    {STATE_APPROVED, ACTION_CANCEL, WHO_OWNER_OR_MANAGER, STATE_CANCELLED},
    {STATE_APPROVED, ACTION_START, WHO_OWNER_OR_MANAGER, STATE_IN_PROGRESS},
    {STATE_IN_PROGRESS, ACTION_COMPLETE, WHO_OWNER_OR_MANAGER, -1},
    {STATE_REVIEW, ACTION_CLOSE, WHO_OWNER_OR_MANAGER, STATE_CLOSED},
};

#define LIFECYCLE_ROWS (sizeof lifecycle_table / sizeof lifecycle_table[0])

bool
lifecycle_needs_review(enum model_kind kind, enum change_outcome outcome, const char *level,
                       bool unauthorized)
{
    return kind == KIND_EMERGENCY || outcome == OUTCOME_FAILED || outcome == OUTCOME_ROLLED_BACK ||
           unauthorized ||
           (level != NULL && (strcmp(level, "high") == 0 || strcmp(level, "critical") == 0));
}

bool
lifecycle_takes_decisions(enum change_state state, bool unauthorized)
{
    return state == STATE_AWAITING_APPROVAL ||
           ((state == STATE_IN_PROGRESS || state == STATE_REVIEW) && unauthorized);
}

/* Standard changes assessed low skip the CAB. */
static enum change_state
lifecycle_after_assessment(const struct lifecycle_in *in)
{
    if (in->kind == KIND_STANDARD && in->level != NULL && strcmp(in->level, "low") == 0)
        return STATE_APPROVED;
    return STATE_AWAITING_APPROVAL;
}

enum outcome
lifecycle_apply(const struct lifecycle_in *in, struct lifecycle_out *out, char *why, size_t size)
{
    const struct lifecycle_row *row = NULL;
    bool may;
    size_t i;

    memset(out, 0, sizeof *out);
    if ((unsigned)in->action >= ACTION_DECIDE || (unsigned)in->state >= STATE_COUNT) {
        snprintf(why, size, "decisions are not lifecycle actions");
        return ERR_INTERNAL;
    }
    /* permission first: it does not depend on the state */
    if (in->action == ACTION_START_RETROSPECTIVE)
        may = in->is_manager;
    else
        may = in->is_owner || in->is_manager;
    if (!may) {
        snprintf(why, size, "only %s may %s a change",
                 in->action == ACTION_START_RETROSPECTIVE ? "a manager" : "its owner or a manager",
                 lifecycle_actions[in->action]);
        return ERR_FORBIDDEN;
    }
    for (i = 0; i < LIFECYCLE_ROWS; i++)
        if (lifecycle_table[i].from == in->state && lifecycle_table[i].action == in->action)
            row = &lifecycle_table[i];
    if (row != NULL && in->action == ACTION_START_RETROSPECTIVE && in->kind != KIND_EMERGENCY) {
        snprintf(why, size, "only an emergency change may start before it is approved");
        return ERR_CONFLICT;
    }
    if (row == NULL) {
        snprintf(why, size, "a change in state %s cannot %s", lifecycle_states[in->state],
                 in->action == ACTION_START_RETROSPECTIVE ? "start retrospectively"
                 : in->action == ACTION_EDIT              ? "be edited"
                                                          : lifecycle_actions[in->action]);
        return ERR_CONFLICT;
    }
    switch (in->action) {
    case ACTION_SUBMIT:
        out->assess = true;
        out->next = lifecycle_after_assessment(in);
        break;
    case ACTION_EDIT:
        if (in->state == STATE_DRAFT) {
            out->next = STATE_DRAFT;
        } else {
            out->void_approvals = true;
            out->assess = true;
            out->next = lifecycle_after_assessment(in);
        }
        break;
    case ACTION_START_RETROSPECTIVE:
        out->next = STATE_IN_PROGRESS;
        out->set_unauthorized = true;
        break;
    case ACTION_COMPLETE:
        out->next = lifecycle_needs_review(in->kind, in->outcome, in->level, in->unauthorized)
                        ? STATE_REVIEW
                        : STATE_CLOSED;
        break;
    default: out->next = (enum change_state)row->next;
    }
    why[0] = '\0';
    return OK;
}

const char *
lifecycle_state_name(enum change_state s)
{
    return (unsigned)s < STATE_COUNT ? lifecycle_states[s] : "unknown";
}

static int
lifecycle_find(const char *name, const char *const *names, int n)
{
    int i;

    for (i = 0; name != NULL && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int
lifecycle_state_parse(const char *name)
{
    return lifecycle_find(name, lifecycle_states, STATE_COUNT);
}

const char *
lifecycle_action_name(enum change_action a)
{
    return (unsigned)a < ACTION_COUNT ? lifecycle_actions[a] : "unknown";
}

int
lifecycle_kind_parse(const char *name)
{
    static const char *const kinds[] = {"standard", "normal", "emergency"};
    return lifecycle_find(name, kinds, 3);
}

int
lifecycle_outcome_parse(const char *name)
{
    static const char *const outcomes[] = {"", "successful", "failed", "rolled_back"};
    int i = lifecycle_find(name, outcomes, 4);
    return i <= 0 ? -1 : i;
}

bool
lifecycle_is_active(enum change_state s)
{
    return s == STATE_AWAITING_APPROVAL || s == STATE_APPROVED || s == STATE_IN_PROGRESS;
}

const char *
lifecycle_action_verb(enum change_action a)
{
    return (unsigned)a < ACTION_COUNT ? lifecycle_verbs[a] : "unknown";
}

unsigned
lifecycle_events(enum change_action action, enum change_state from, enum change_state to)
{
    unsigned events = 0;

    if (action == ACTION_SUBMIT)
        events |= EVENT_SUBMITTED;
    if (from != to)
        events |= EVENT_STATE_CHANGED;
    if (to == STATE_APPROVED && from != STATE_APPROVED)
        events |= EVENT_APPROVED;
    if (to == STATE_REJECTED && from != STATE_REJECTED)
        events |= EVENT_REJECTED;
    return events;
}

const char *
lifecycle_event_name(unsigned event)
{
    switch (event) {
    case EVENT_SUBMITTED: return "change.submitted";
    case EVENT_STATE_CHANGED: return "change.state_changed";
    case EVENT_APPROVED: return "change.approved";
    case EVENT_REJECTED: return "change.rejected";
    }
    return "unknown";
}
