/* Decisions and what a caller may do: who may decide, what a decision does
 * to each state, the hard-freeze refusal, have/needed with people holding
 * several roles, the actions a change document lists, and what a change
 * needs before it is submitted. One row per case. */
#include <stdio.h>
#include <string.h>

#include "domain/decision.h"
#include "domain/role.h"
#include "unit.h"

#define OWNER 1
#define ALICE 2 /* cab */
#define BOB 3   /* cab */
#define MEG 4   /* manager */

#define R_CAB (ROLE_REQUESTER | ROLE_CAB)
#define R_ECAB (ROLE_REQUESTER | ROLE_ECAB)
#define R_MGR (ROLE_REQUESTER | ROLE_MANAGER)
#define R_CABMGR (ROLE_REQUESTER | ROLE_CAB | ROLE_MANAGER)

static struct change
dc_change(enum change_state state, enum model_kind kind, const char *level, unsigned flags)
{
    struct change c;

    memset(&c, 0, sizeof c);
    c.id = 7;
    c.state = state;
    c.kind = kind;
    c.requester_id = OWNER;
    c.flags = flags;
    snprintf(c.level, sizeof c.level, "%s", level);
    return c;
}

void
test_decision_apply(void)
{
    static const unsigned one_cab[] = {R_CAB};
    static const unsigned two_cab[] = {R_CAB, R_CAB};
    static const unsigned three_cab[] = {R_CAB, R_CAB, R_CAB};
    static const struct {
        const char *name;
        enum change_state state;
        enum model_kind kind;
        const char *level;
        unsigned flags;
        int64_t who;
        unsigned roles;
        bool approve, hard;
        const unsigned *others;
        int nothers;
        enum outcome rc;
        enum change_state next;
        unsigned flags_after;
        int have, needed;
    } rows[] = {
        /* clang-format off */
        {"own change", STATE_AWAITING_APPROVAL, KIND_NORMAL, "low", 0, OWNER, R_CABMGR, true, false,
         NULL, 0, ERR_FORBIDDEN, 0, 0, 0, 0},
        {"requester only", STATE_AWAITING_APPROVAL, KIND_NORMAL, "low", 0, ALICE, ROLE_REQUESTER,
         true, false, NULL, 0, ERR_FORBIDDEN, 0, 0, 0, 0},
        {"cab on emergency", STATE_AWAITING_APPROVAL, KIND_EMERGENCY, "low", 0, ALICE, R_CAB, true,
         false, NULL, 0, ERR_FORBIDDEN, 0, 0, 0, 0},
        {"low: one cab approves", STATE_AWAITING_APPROVAL, KIND_NORMAL, "low", 0, ALICE, R_CAB,
         true, false, NULL, 0, OK, STATE_APPROVED, 0, 1, 1},
        {"medium: first of two", STATE_AWAITING_APPROVAL, KIND_NORMAL, "medium", 0, ALICE, R_CAB,
         true, false, NULL, 0, OK, STATE_AWAITING_APPROVAL, 0, 1, 2},
        {"medium: second of two", STATE_AWAITING_APPROVAL, KIND_NORMAL, "medium", 0, BOB, R_CAB,
         true, false, one_cab, 1, OK, STATE_APPROVED, 0, 2, 2},
        {"critical: 3 cab, no manager", STATE_AWAITING_APPROVAL, KIND_NORMAL, "critical", 0, BOB,
         R_CAB, true, false, two_cab, 2, OK, STATE_AWAITING_APPROVAL, 0, 3, 4},
        {"critical: cab+manager counts once", STATE_AWAITING_APPROVAL, KIND_NORMAL, "critical", 0,
         MEG, R_CABMGR, true, false, two_cab, 2, OK, STATE_AWAITING_APPROVAL, 0, 3, 4},
        {"critical: the manager completes it", STATE_AWAITING_APPROVAL, KIND_NORMAL, "critical", 0,
         MEG, R_MGR, true, false, three_cab, 3, OK, STATE_APPROVED, 0, 4, 4},
        {"one rejection rejects", STATE_AWAITING_APPROVAL, KIND_NORMAL, "medium", 0, BOB, R_CAB,
         false, false, one_cab, 1, OK, STATE_REJECTED, 0, 1, 2},
        {"ecab approves an emergency", STATE_AWAITING_APPROVAL, KIND_EMERGENCY, "high", 0, ALICE,
         R_ECAB, true, false, NULL, 0, OK, STATE_APPROVED, 0, 1, 1},
        {"hard freeze refuses approval", STATE_AWAITING_APPROVAL, KIND_NORMAL, "low", 0, ALICE,
         R_CAB, true, true, NULL, 0, ERR_CONFLICT, 0, 0, 0, 0},
        {"hard freeze allows rejection", STATE_AWAITING_APPROVAL, KIND_NORMAL, "low", 0, ALICE,
         R_CAB, false, true, NULL, 0, OK, STATE_REJECTED, 0, 0, 1},
        {"hard freeze spares emergencies", STATE_AWAITING_APPROVAL, KIND_EMERGENCY, "low", 0,
         ALICE, R_ECAB, true, true, NULL, 0, OK, STATE_APPROVED, 0, 1, 1},
        {"draft takes no decisions", STATE_DRAFT, KIND_NORMAL, "", 0, ALICE, R_CAB, true, false,
         NULL, 0, ERR_CONFLICT, 0, 0, 0, 0},
        {"approved takes no decisions", STATE_APPROVED, KIND_NORMAL, "low", 0, ALICE, R_CAB, true,
         false, NULL, 0, ERR_CONFLICT, 0, 0, 0, 0},
        {"in progress, authorized", STATE_IN_PROGRESS, KIND_EMERGENCY, "low", 0, ALICE, R_ECAB,
         true, false, NULL, 0, ERR_CONFLICT, 0, 0, 0, 0},
        {"retrospective approval clears the flag", STATE_IN_PROGRESS, KIND_EMERGENCY, "low",
         CHANGE_UNAUTHORIZED | CHANGE_RETROSPECTIVE, ALICE, R_ECAB, true, false, NULL, 0, OK,
         STATE_IN_PROGRESS, CHANGE_RETROSPECTIVE, 1, 1},
        {"retrospective rejection keeps it", STATE_REVIEW, KIND_EMERGENCY, "low",
         CHANGE_UNAUTHORIZED | CHANGE_RETROSPECTIVE, ALICE, R_ECAB, false, false, NULL, 0, OK,
         STATE_REVIEW, CHANGE_UNAUTHORIZED | CHANGE_RETROSPECTIVE, 0, 1},
        {"closed takes no decisions", STATE_CLOSED, KIND_NORMAL, "low", CHANGE_UNAUTHORIZED,
         ALICE, R_CAB, true, false, NULL, 0, ERR_CONFLICT, 0, 0, 0, 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct change c = dc_change(rows[i].state, rows[i].kind, rows[i].level, rows[i].flags);
        struct decision_in in = {&c,
                                 {rows[i].who, rows[i].roles},
                                 rows[i].approve,
                                 rows[i].hard,
                                 rows[i].others,
                                 rows[i].nothers};
        struct decision_out out;
        char why[200];
        enum outcome rc;

        unit_row("%s", rows[i].name);
        rc = decision_apply(&in, &out, why, sizeof why);
        CHECK_INT(rc, rows[i].rc);
        if (rc != OK)
            CHECK(why[0] != '\0');
        if (rc != OK)
            continue;
        CHECK_STR(lifecycle_state_name(out.next), lifecycle_state_name(rows[i].next));
        CHECK_INT(out.flags, rows[i].flags_after);
        CHECK_INT(out.have, rows[i].have);
        CHECK_INT(out.needed, rows[i].needed);
        /* decision_may agrees with the permission part */
        CHECK_INT(decision_may(&c, &in.who, why, sizeof why), OK);
    }
}

/* A model's override of the policy applies at its level only. */
void
test_decision_model_policy(void)
{
    struct change c = dc_change(STATE_AWAITING_APPROVAL, KIND_NORMAL, "medium", 0);
    struct decision_in in = {&c, {ALICE, R_MGR}, true, false, NULL, 0};
    struct decision_out out;
    char why[200];

    c.model_policy[1].nquotas = 1; /* medium: one manager */
    c.model_policy[1].quotas[0] = (struct policy_quota){ROLE_MANAGER, 1};
    CHECK_INT(decision_apply(&in, &out, why, sizeof why), OK);
    CHECK_INT(out.next, STATE_APPROVED);
    CHECK_INT(out.needed, 1);
    in.who.roles = R_CAB; /* the override does not count cab at medium */
    CHECK_INT(decision_apply(&in, &out, why, sizeof why), ERR_FORBIDDEN);
    snprintf(c.level, sizeof c.level, "low"); /* the default at low */
    CHECK_INT(decision_apply(&in, &out, why, sizeof why), OK);
    CHECK_INT(out.needed, 1);
}

/* What each caller sees in `actions`. */
void
test_decision_actions(void)
{
#define A(v) (1u << VERB_##v)
    static const struct {
        const char *name;
        enum change_state state;
        enum model_kind kind;
        unsigned flags;
        int64_t who;
        unsigned roles;
        bool decided;
        unsigned want;
    } rows[] = {
        /* clang-format off */
        {"owner of a draft", STATE_DRAFT, KIND_NORMAL, 0, OWNER, ROLE_REQUESTER, false,
         A(SUBMIT) | A(EDIT) | A(CANCEL)},
        {"stranger to a draft", STATE_DRAFT, KIND_NORMAL, 0, ALICE, R_CAB, false, 0},
        {"manager of a draft", STATE_DRAFT, KIND_NORMAL, 0, MEG, R_MGR, false,
         A(SUBMIT) | A(EDIT) | A(CANCEL)},
        {"owner awaiting", STATE_AWAITING_APPROVAL, KIND_NORMAL, 0, OWNER, R_CAB, false,
         A(EDIT) | A(CANCEL)},
        {"cab awaiting", STATE_AWAITING_APPROVAL, KIND_NORMAL, 0, ALICE, R_CAB, false,
         A(APPROVE) | A(REJECT)},
        {"cab who decided", STATE_AWAITING_APPROVAL, KIND_NORMAL, 0, ALICE, R_CAB, true, 0},
        {"manager on awaiting emergency", STATE_AWAITING_APPROVAL, KIND_EMERGENCY, 0, MEG, R_MGR,
         false, A(EDIT) | A(CANCEL) | A(START)},
        {"ecab on awaiting emergency", STATE_AWAITING_APPROVAL, KIND_EMERGENCY, 0, ALICE, R_ECAB,
         false, A(APPROVE) | A(REJECT)},
        {"owner approved", STATE_APPROVED, KIND_NORMAL, 0, OWNER, ROLE_REQUESTER, false,
         A(EDIT) | A(CANCEL) | A(START)},
        {"owner in progress", STATE_IN_PROGRESS, KIND_NORMAL, 0, OWNER, ROLE_REQUESTER, false,
         A(COMPLETE)},
        {"ecab on unauthorized in progress", STATE_IN_PROGRESS, KIND_EMERGENCY,
         CHANGE_UNAUTHORIZED, ALICE, R_ECAB, false, A(APPROVE) | A(REJECT)},
        {"owner in review", STATE_REVIEW, KIND_NORMAL, 0, OWNER, ROLE_REQUESTER, false, A(CLOSE)},
        {"owner closed", STATE_CLOSED, KIND_NORMAL, 0, OWNER, R_CABMGR, false, 0},
        {"manager rejected", STATE_REJECTED, KIND_NORMAL, 0, MEG, R_CABMGR, false, 0},
        /* clang-format on */
    };
    size_t i;
    int v;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct change c = dc_change(rows[i].state, rows[i].kind, "low", rows[i].flags);
        struct decision_actor who = {rows[i].who, rows[i].roles};

        c.viewer_decided = rows[i].decided;
        unit_row("%s", rows[i].name);
        CHECK_INT(decision_actions(&c, &who), rows[i].want);
    }
    for (v = 0; v < VERB_COUNT; v++)
        CHECK(strcmp(decision_verb_name((enum decision_verb)v), "unknown") != 0);
    CHECK_STR(decision_verb_name(VERB_APPROVE), "approve");
#undef A
}

void
test_decision_submit_ready(void)
{
    static const char *svc[] = {"web"};
    static const struct {
        const char *name;
        enum model_kind kind;
        const char *source;
        int64_t start, end;
        size_t nservices;
        const char *fault1, *fault2;
    } rows[] = {
        /* clang-format off */
        {"ready", KIND_NORMAL, "api", 2000, 3000, 1, NULL, NULL},
        {"no window", KIND_NORMAL, "api", 0, 0, 1, "window", NULL},
        {"no services", KIND_NORMAL, "web", 2000, 3000, 0, "services", NULL},
        {"neither", KIND_NORMAL, "web", 0, 0, 0, "window", "services"},
        {"started, not ended", KIND_NORMAL, "api", 500, 1500, 1, NULL, NULL},
        {"ended: normal", KIND_NORMAL, "api", 100, 900, 1, "window", NULL},
        {"ended exactly now", KIND_STANDARD, "web", 100, 1000, 1, "window", NULL},
        {"ended: emergency", KIND_EMERGENCY, "api", 100, 900, 1, NULL, NULL},
        {"ended: raised by a hook", KIND_NORMAL, "hook", 100, 900, 1, NULL, NULL},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct change c = dc_change(STATE_DRAFT, rows[i].kind, "", 0);
        struct fielderr fe = {0};

        snprintf(c.source, sizeof c.source, "%s", rows[i].source);
        c.window_start = rows[i].start;
        c.window_end = rows[i].end;
        c.content.services = svc;
        c.content.nservices = rows[i].nservices;
        unit_row("%s", rows[i].name);
        CHECK_INT(decision_submit_ready(&c, 1000, &fe), rows[i].fault1 == NULL);
        CHECK_INT(fe.n, (rows[i].fault1 != NULL) + (rows[i].fault2 != NULL));
        if (rows[i].fault1)
            CHECK_STR(fe.e[0].field, rows[i].fault1);
        if (rows[i].fault2)
            CHECK_STR(fe.e[1].field, rows[i].fault2);
    }
}

/* Which events each move emits (README "Events out"). */
void
test_lifecycle_events(void)
{
#define E(x) EVENT_##x
    static const struct {
        enum change_action action;
        enum change_state from, to;
        unsigned want;
    } rows[] = {
        /* clang-format off */
        {ACTION_SUBMIT, STATE_DRAFT, STATE_AWAITING_APPROVAL, E(SUBMITTED) | E(STATE_CHANGED)},
        {ACTION_SUBMIT, STATE_DRAFT, STATE_APPROVED,
         E(SUBMITTED) | E(STATE_CHANGED) | E(APPROVED)},
        {ACTION_DECIDE, STATE_AWAITING_APPROVAL, STATE_APPROVED, E(STATE_CHANGED) | E(APPROVED)},
        {ACTION_DECIDE, STATE_AWAITING_APPROVAL, STATE_REJECTED, E(STATE_CHANGED) | E(REJECTED)},
        {ACTION_DECIDE, STATE_IN_PROGRESS, STATE_IN_PROGRESS, 0},
        {ACTION_EDIT, STATE_APPROVED, STATE_AWAITING_APPROVAL, E(STATE_CHANGED)},
        {ACTION_EDIT, STATE_APPROVED, STATE_APPROVED, 0},
        {ACTION_START, STATE_APPROVED, STATE_IN_PROGRESS, E(STATE_CHANGED)},
        {ACTION_CANCEL, STATE_DRAFT, STATE_CANCELLED, E(STATE_CHANGED)},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s %s -> %s", lifecycle_action_name(rows[i].action),
                 lifecycle_state_name(rows[i].from), lifecycle_state_name(rows[i].to));
        CHECK_INT(lifecycle_events(rows[i].action, rows[i].from, rows[i].to), rows[i].want);
    }
    CHECK_STR(lifecycle_event_name(EVENT_APPROVED), "change.approved");
    CHECK_STR(lifecycle_event_name(EVENT_SUBMITTED), "change.submitted");
    CHECK_STR(lifecycle_event_name(EVENT_STATE_CHANGED), "change.state_changed");
    CHECK_STR(lifecycle_event_name(EVENT_REJECTED), "change.rejected");
    CHECK_STR(lifecycle_action_verb(ACTION_START_RETROSPECTIVE), "start");
#undef E
}

/* Who may acknowledge a conflict, and when (permission before state). */
void
test_decision_acknowledge(void)
{
    static const struct {
        const char *name;
        enum conflict_state state;
        int64_t who;
        unsigned roles;
        bool body_checked;
        enum outcome rc;
    } rows[] = {
        /* clang-format off */
        {"owner of one change, open", CONFLICT_OPEN, OWNER, ROLE_REQUESTER, true, OK},
        {"owner of the other change", CONFLICT_OPEN, BOB, R_CAB, true, OK},
        {"a manager", CONFLICT_OPEN, MEG, R_MGR, true, OK},
        {"a stranger", CONFLICT_OPEN, ALICE, R_CAB, true, ERR_FORBIDDEN},
        {"a stranger to an acknowledged one", CONFLICT_ACKNOWLEDGED, ALICE, R_CAB, true,
         ERR_FORBIDDEN},
        {"owner, acknowledged already", CONFLICT_ACKNOWLEDGED, OWNER, ROLE_REQUESTER, true,
         ERR_CONFLICT},
        {"manager, resolved", CONFLICT_RESOLVED, MEG, R_MGR, true, ERR_CONFLICT},
        {"manager, resolved, before the body", CONFLICT_RESOLVED, MEG, R_MGR, false, OK},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct conflict k = {9, rows[i].state, {OWNER, BOB}, 2};
        struct decision_actor who = {rows[i].who, rows[i].roles};
        char why[160];

        unit_row("%s", rows[i].name);
        CHECK_INT(decision_acknowledge(&k, &who, rows[i].body_checked, why, sizeof why),
                  rows[i].rc);
        CHECK(rows[i].rc == OK ? why[0] == '\0' : why[0] != '\0');
    }
    CHECK_INT(decision_conflict_state_parse("acknowledged"), CONFLICT_ACKNOWLEDGED);
    CHECK_INT(decision_conflict_state_parse("closed"), -1);
    CHECK_STR(decision_conflict_state_name(CONFLICT_RESOLVED), "resolved");
}

/* The gate's answer in every state and reason, in their precedence, and
 * the next moment the answer can change by itself. The window is
 * [1000, 2000). */
void
test_decision_gate(void)
{
    enum { UN = CHANGE_UNAUTHORIZED, RETRO = CHANGE_RETROSPECTIVE };
    static const struct {
        const char *name;
        enum change_state state;
        enum model_kind kind;
        unsigned flags;
        bool window;
        int64_t now;
        bool frozen;
        int64_t freeze_next;
        enum gate_reason reason;
        int64_t next;
    } rows[] = {
        /* clang-format off */
        {"draft", STATE_DRAFT, KIND_NORMAL, 0, true, 1500, false, 0, GATE_DRAFT, 0},
        {"awaiting", STATE_AWAITING_APPROVAL, KIND_NORMAL, 0, true, 1500, false, 0,
         GATE_AWAITING_APPROVAL, 0},
        {"rejected", STATE_REJECTED, KIND_NORMAL, 0, true, 1500, false, 0, GATE_REJECTED, 0},
        {"cancelled", STATE_CANCELLED, KIND_NORMAL, 0, true, 1500, false, 0, GATE_CANCELLED, 0},
        {"review", STATE_REVIEW, KIND_NORMAL, 0, true, 1500, false, 0, GATE_REVIEW, 0},
        {"closed", STATE_CLOSED, KIND_NORMAL, 0, true, 1500, false, 0, GATE_CLOSED, 0},
        {"approved inside the window", STATE_APPROVED, KIND_NORMAL, 0, true, 1500, false, 0,
         GATE_ALLOWED, 2000},
        {"in progress inside the window", STATE_IN_PROGRESS, KIND_STANDARD, 0, true, 1500, false,
         0, GATE_ALLOWED, 2000},
        {"at the window's start", STATE_APPROVED, KIND_NORMAL, 0, true, 1000, false, 0,
         GATE_ALLOWED, 2000},
        {"before the window", STATE_APPROVED, KIND_NORMAL, 0, true, 999, false, 0,
         GATE_WINDOW_NOT_OPEN, 1000},
        {"at the window's end", STATE_APPROVED, KIND_NORMAL, 0, true, 2000, false, 0,
         GATE_WINDOW_CLOSED, 0},
        {"after the window, in progress", STATE_IN_PROGRESS, KIND_NORMAL, 0, true, 5000, false, 0,
         GATE_WINDOW_CLOSED, 0},
        {"no window", STATE_APPROVED, KIND_NORMAL, 0, false, 1500, false, 0, GATE_WINDOW_NOT_OPEN,
         0},
        {"hard frozen", STATE_APPROVED, KIND_NORMAL, 0, true, 1500, true, 1700, GATE_FROZEN, 1700},
        {"frozen past the window's end", STATE_APPROVED, KIND_NORMAL, 0, true, 1500, true, 2500,
         GATE_FROZEN, 2000},
        {"a freeze begins later", STATE_APPROVED, KIND_NORMAL, 0, true, 1500, false, 1800,
         GATE_ALLOWED, 1800},
        {"a stale freeze moment is ignored", STATE_APPROVED, KIND_NORMAL, 0, true, 1500, false,
         1400, GATE_ALLOWED, 2000},
        {"an emergency passes a hard freeze", STATE_APPROVED, KIND_EMERGENCY, 0, true, 1500, true,
         1700, GATE_ALLOWED, 2000},
        {"unauthorized", STATE_IN_PROGRESS, KIND_NORMAL, UN, true, 1500, false, 0,
         GATE_UNAUTHORIZED, 0},
        {"unauthorized emergency, not retrospective", STATE_IN_PROGRESS, KIND_EMERGENCY, UN, true,
         1500, false, 0, GATE_UNAUTHORIZED, 0},
        {"retrospective emergency passes", STATE_IN_PROGRESS, KIND_EMERGENCY, UN | RETRO, true,
         1500, false, 0, GATE_ALLOWED, 2000},
        {"retrospective emergency, authorised since", STATE_IN_PROGRESS, KIND_EMERGENCY, RETRO,
         true, 1500, true, 1700, GATE_ALLOWED, 2000},
        {"retrospective flag on a normal change", STATE_IN_PROGRESS, KIND_NORMAL, UN | RETRO, true,
         1500, false, 0, GATE_UNAUTHORIZED, 0},
        /* precedence: state, unauthorized, window, frozen */
        {"state before unauthorized", STATE_REVIEW, KIND_NORMAL, UN, true, 1500, true, 1700,
         GATE_REVIEW, 0},
        {"unauthorized before the window", STATE_IN_PROGRESS, KIND_NORMAL, UN, true, 5000, true,
         0, GATE_UNAUTHORIZED, 0},
        {"the window before a freeze", STATE_APPROVED, KIND_NORMAL, 0, true, 500, true, 700,
         GATE_WINDOW_NOT_OPEN, 1000},
        {"closed window before a freeze", STATE_APPROVED, KIND_NORMAL, 0, true, 2500, true, 0,
         GATE_WINDOW_CLOSED, 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct change c = dc_change(rows[i].state, rows[i].kind, "low", rows[i].flags);
        struct gate_in in;
        struct gate_out out;

        unit_row("%s", rows[i].name);
        if (rows[i].window) {
            c.window_start = 1000;
            c.window_end = 2000;
        }
        in = (struct gate_in){&c, rows[i].now, rows[i].frozen, rows[i].freeze_next};
        memset(&out, 0xff, sizeof out);
        decision_gate(&in, &out);
        CHECK_STR(decision_gate_reason_name(out.reason), decision_gate_reason_name(rows[i].reason));
        CHECK_INT(out.next, rows[i].next);
    }
}

/* Every reason has its own name, as the API writes it. */
void
test_decision_gate_reason_names(void)
{
    static const char *const want[GATE_REASON_COUNT] = {
        "allowed", "draft",        "awaiting_approval", "rejected",      "cancelled", "review",
        "closed",  "unauthorized", "window_not_open",   "window_closed", "frozen",
    };
    int i;

    for (i = 0; i < GATE_REASON_COUNT; i++) {
        unit_row("%s", want[i]);
        CHECK_STR(decision_gate_reason_name((enum gate_reason)i), want[i]);
    }
    CHECK_STR(decision_gate_reason_name(GATE_REASON_COUNT), "unknown");
}
