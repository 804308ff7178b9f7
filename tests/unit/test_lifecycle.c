/* The change lifecycle: every (state, action) pair, who may act, where the
 * change goes and what the move sets; reviews, decisions and names. */
#include <stdlib.h>
#include <string.h>

#include "domain/lifecycle.h"
#include "unit.h"

/* What a move sets besides the next state. */
#define W_UNAUTH 1u /* set_unauthorized */
#define W_VOID 2u   /* void_approvals */
#define W_ASSESS 4u /* assess */
#define W_KIND 8u   /* a 409 refused for the kind, not the state */

struct lc_want {
    enum outcome rc;
    int next; /* OK only */
    unsigned flags;
};

/* clang-format off */
#define E403 {ERR_FORBIDDEN, -1, 0}
#define E409 {ERR_CONFLICT, -1, 0}
#define E409K {ERR_CONFLICT, -1, W_KIND}
#define TO(s, f) {OK, STATE_##s, (f)}
/* clang-format on */

/* Kinds in the order of the columns below. */
static const enum model_kind lc_kinds[3] = {KIND_STANDARD, KIND_NORMAL, KIND_EMERGENCY};
static const char *const lc_kind_names[3] = {"standard", "normal", "emergency"};

/* Every (state, action) pair, for a change assessed "low", completed
 * successfully, not flagged unauthorized. Columns: standard, normal,
 * emergency. A caller who is both owner and manager gets the manager
 * column; one who is neither gets 403 everywhere. */
static const struct {
    enum change_state state;
    enum change_action action;
    struct lc_want owner[3];
    struct lc_want manager[3];
} lc_rows[] = {
    /* clang-format off */
    {STATE_DRAFT, ACTION_SUBMIT,
     {TO(APPROVED, W_ASSESS), TO(AWAITING_APPROVAL, W_ASSESS), TO(AWAITING_APPROVAL, W_ASSESS)},
     {TO(APPROVED, W_ASSESS), TO(AWAITING_APPROVAL, W_ASSESS), TO(AWAITING_APPROVAL, W_ASSESS)}},
    {STATE_DRAFT, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_DRAFT, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_DRAFT, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_DRAFT, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_DRAFT, ACTION_CANCEL,
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)},
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)}},
    {STATE_DRAFT, ACTION_EDIT,
     {TO(DRAFT, 0), TO(DRAFT, 0), TO(DRAFT, 0)},
     {TO(DRAFT, 0), TO(DRAFT, 0), TO(DRAFT, 0)}},

    {STATE_AWAITING_APPROVAL, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_AWAITING_APPROVAL, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_AWAITING_APPROVAL, ACTION_START_RETROSPECTIVE,
     {E403, E403, E403},
     {E409K, E409K, TO(IN_PROGRESS, W_UNAUTH)}},
    {STATE_AWAITING_APPROVAL, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_AWAITING_APPROVAL, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_AWAITING_APPROVAL, ACTION_CANCEL,
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)},
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)}},
    {STATE_AWAITING_APPROVAL, ACTION_EDIT,
     {TO(APPROVED, W_VOID | W_ASSESS), TO(AWAITING_APPROVAL, W_VOID | W_ASSESS),
      TO(AWAITING_APPROVAL, W_VOID | W_ASSESS)},
     {TO(APPROVED, W_VOID | W_ASSESS), TO(AWAITING_APPROVAL, W_VOID | W_ASSESS),
      TO(AWAITING_APPROVAL, W_VOID | W_ASSESS)}},

    {STATE_APPROVED, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_APPROVED, ACTION_START,
     {TO(IN_PROGRESS, 0), TO(IN_PROGRESS, 0), TO(IN_PROGRESS, 0)},
     {TO(IN_PROGRESS, 0), TO(IN_PROGRESS, 0), TO(IN_PROGRESS, 0)}},
    {STATE_APPROVED, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_APPROVED, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_APPROVED, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_APPROVED, ACTION_CANCEL,
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)},
     {TO(CANCELLED, 0), TO(CANCELLED, 0), TO(CANCELLED, 0)}},
    {STATE_APPROVED, ACTION_EDIT,
     {TO(APPROVED, W_VOID | W_ASSESS), TO(AWAITING_APPROVAL, W_VOID | W_ASSESS),
      TO(AWAITING_APPROVAL, W_VOID | W_ASSESS)},
     {TO(APPROVED, W_VOID | W_ASSESS), TO(AWAITING_APPROVAL, W_VOID | W_ASSESS),
      TO(AWAITING_APPROVAL, W_VOID | W_ASSESS)}},

    {STATE_REJECTED, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_CANCEL, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REJECTED, ACTION_EDIT, {E409, E409, E409}, {E409, E409, E409}},

    {STATE_IN_PROGRESS, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_IN_PROGRESS, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_IN_PROGRESS, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_IN_PROGRESS, ACTION_COMPLETE,
     {TO(CLOSED, 0), TO(CLOSED, 0), TO(REVIEW, 0)},
     {TO(CLOSED, 0), TO(CLOSED, 0), TO(REVIEW, 0)}},
    {STATE_IN_PROGRESS, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_IN_PROGRESS, ACTION_CANCEL, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_IN_PROGRESS, ACTION_EDIT, {E409, E409, E409}, {E409, E409, E409}},

    {STATE_REVIEW, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REVIEW, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REVIEW, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_REVIEW, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REVIEW, ACTION_CLOSE,
     {TO(CLOSED, 0), TO(CLOSED, 0), TO(CLOSED, 0)},
     {TO(CLOSED, 0), TO(CLOSED, 0), TO(CLOSED, 0)}},
    {STATE_REVIEW, ACTION_CANCEL, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_REVIEW, ACTION_EDIT, {E409, E409, E409}, {E409, E409, E409}},

    {STATE_CLOSED, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_CANCEL, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CLOSED, ACTION_EDIT, {E409, E409, E409}, {E409, E409, E409}},

    {STATE_CANCELLED, ACTION_SUBMIT, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_START, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_START_RETROSPECTIVE, {E403, E403, E403}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_COMPLETE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_CLOSE, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_CANCEL, {E409, E409, E409}, {E409, E409, E409}},
    {STATE_CANCELLED, ACTION_EDIT, {E409, E409, E409}, {E409, E409, E409}},
    /* clang-format on */
};

/* The callers: owner only, manager only, both, neither. */
static const struct {
    const char *name;
    bool is_owner, is_manager;
} lc_callers[] = {
    {"owner", true, false},
    {"manager", false, true},
    {"owner+manager", true, true},
    {"neither", false, false},
};

#define LC_WHY 160

/* Applies in and checks the result against want; why is on the heap at its
 * exact size so that a write past it is caught. */
static void
lc_check(const struct lifecycle_in *in, const struct lc_want *want)
{
    struct lifecycle_out out;
    char *why = malloc(LC_WHY);
    enum outcome rc;

    if (why == NULL)
        abort();
    memset(&out, 0x5a, sizeof out);
    memset(why, 'x', LC_WHY);
    rc = lifecycle_apply(in, &out, why, LC_WHY);
    CHECK_INT(rc, want->rc);
    CHECK(memchr(why, '\0', LC_WHY) != NULL);
    if (rc == OK && want->rc == OK) {
        CHECK_STR(lifecycle_state_name(out.next),
                  lifecycle_state_name((enum change_state)want->next));
        CHECK_INT(out.set_unauthorized, (want->flags & W_UNAUTH) != 0);
        CHECK_INT(out.void_approvals, (want->flags & W_VOID) != 0);
        CHECK_INT(out.assess, (want->flags & W_ASSESS) != 0);
        CHECK_STR(why, "");
    } else if (rc == ERR_CONFLICT && want->rc == ERR_CONFLICT) {
        /* the message names the state (or, refused for the kind, the kind) */
        if (want->flags & W_KIND)
            CHECK(strstr(why, "emergency") != NULL);
        else
            CHECK(strstr(why, lifecycle_state_name(in->state)) != NULL);
    } else if (rc == ERR_FORBIDDEN && want->rc == ERR_FORBIDDEN) {
        CHECK(strstr(why, "only ") == why);
    }
    free(why);
}

void
test_lifecycle_table(void)
{
    int seen[STATE_COUNT][ACTION_COUNT] = {{0}};
    size_t i, c;
    int k, s, a;

    for (i = 0; i < UNIT_NELEM(lc_rows); i++) {
        seen[lc_rows[i].state][lc_rows[i].action]++;
        for (k = 0; k < 3; k++)
            for (c = 0; c < UNIT_NELEM(lc_callers); c++) {
                static const struct lc_want forbidden = E403;
                struct lifecycle_in in = {
                    .state = lc_rows[i].state,
                    .action = lc_rows[i].action,
                    .kind = lc_kinds[k],
                    .is_owner = lc_callers[c].is_owner,
                    .is_manager = lc_callers[c].is_manager,
                    .unauthorized = false,
                    .level = "low",
                    .outcome = OUTCOME_SUCCESSFUL,
                };
                const struct lc_want *want = lc_callers[c].is_manager ? &lc_rows[i].manager[k]
                                             : lc_callers[c].is_owner ? &lc_rows[i].owner[k]
                                                                      : &forbidden;

                unit_row("%s: %s by %s, %s", lifecycle_state_name(lc_rows[i].state),
                         lifecycle_action_name(lc_rows[i].action), lc_callers[c].name,
                         lc_kind_names[k]);
                lc_check(&in, want);
            }
    }
    /* the table above covers every pair exactly once (decisions are
     * decision.c's, tested in test_decision.c) */
    for (s = 0; s < STATE_COUNT; s++)
        for (a = 0; a < ACTION_DECIDE; a++) {
            unit_row("coverage: state %d, action %d", s, a);
            CHECK_INT(seen[s][a], 1);
        }
}

/* Submitting, and editing after submit, lead where the assessed level says:
 * only a standard change assessed low skips the CAB. */
void
test_lifecycle_after_assessment(void)
{
    static const struct {
        enum model_kind kind;
        const char *level;
        enum change_state next;
    } rows[] = {
        {KIND_STANDARD, "low", STATE_APPROVED},
        {KIND_STANDARD, "medium", STATE_AWAITING_APPROVAL},
        {KIND_STANDARD, "high", STATE_AWAITING_APPROVAL},
        {KIND_STANDARD, "critical", STATE_AWAITING_APPROVAL},
        {KIND_STANDARD, NULL, STATE_AWAITING_APPROVAL},
        {KIND_NORMAL, "low", STATE_AWAITING_APPROVAL},
        {KIND_NORMAL, "medium", STATE_AWAITING_APPROVAL},
        {KIND_NORMAL, "high", STATE_AWAITING_APPROVAL},
        {KIND_NORMAL, "critical", STATE_AWAITING_APPROVAL},
        {KIND_EMERGENCY, "low", STATE_AWAITING_APPROVAL},
        {KIND_EMERGENCY, "critical", STATE_AWAITING_APPROVAL},
    };
    static const struct {
        enum change_state from;
        enum change_action action;
        unsigned flags;
    } moves[] = {
        {STATE_DRAFT, ACTION_SUBMIT, W_ASSESS},
        {STATE_AWAITING_APPROVAL, ACTION_EDIT, W_VOID | W_ASSESS},
        {STATE_APPROVED, ACTION_EDIT, W_VOID | W_ASSESS},
    };
    size_t i, m;

    for (i = 0; i < UNIT_NELEM(rows); i++)
        for (m = 0; m < UNIT_NELEM(moves); m++) {
            struct lifecycle_in in = {
                .state = moves[m].from,
                .action = moves[m].action,
                .kind = rows[i].kind,
                .is_owner = true,
                .level = rows[i].level,
                .outcome = OUTCOME_NONE,
            };
            struct lc_want want = {OK, (int)rows[i].next, moves[m].flags};

            unit_row("%s %s, %s at %s", lifecycle_action_name(moves[m].action),
                     lifecycle_state_name(moves[m].from), lc_kind_names[rows[i].kind],
                     rows[i].level ? rows[i].level : "(none)");
            lc_check(&in, &want);
        }

    /* editing a draft stays a draft and neither assesses nor voids anything */
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct lifecycle_in in = {
            .state = STATE_DRAFT,
            .action = ACTION_EDIT,
            .kind = rows[i].kind,
            .is_manager = true,
            .level = rows[i].level,
        };
        struct lc_want want = TO(DRAFT, 0);

        unit_row("edit draft, %s at %s", lc_kind_names[rows[i].kind],
                 rows[i].level ? rows[i].level : "(none)");
        lc_check(&in, &want);
    }
}

/* Whether a completed change needs a review, both alone and through
 * complete in in_progress. */
void
test_lifecycle_needs_review(void)
{
    static const struct {
        enum model_kind kind;
        enum change_outcome outcome;
        const char *level;
        bool unauthorized;
        bool review;
    } rows[] = {
        /* clang-format off */
        /* nothing calls for one */
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, "low", false, false},
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, "medium", false, false},
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, NULL, false, false},
        {KIND_STANDARD, OUTCOME_SUCCESSFUL, "low", false, false},
        {KIND_STANDARD, OUTCOME_SUCCESSFUL, "medium", false, false},
        /* each reason alone */
        {KIND_EMERGENCY, OUTCOME_SUCCESSFUL, "low", false, true},
        {KIND_EMERGENCY, OUTCOME_SUCCESSFUL, NULL, false, true},
        {KIND_NORMAL, OUTCOME_FAILED, "low", false, true},
        {KIND_NORMAL, OUTCOME_ROLLED_BACK, "low", false, true},
        {KIND_STANDARD, OUTCOME_FAILED, "medium", false, true},
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, "high", false, true},
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, "critical", false, true},
        {KIND_STANDARD, OUTCOME_SUCCESSFUL, "high", false, true},
        {KIND_NORMAL, OUTCOME_SUCCESSFUL, "low", true, true},
        {KIND_STANDARD, OUTCOME_SUCCESSFUL, NULL, true, true},
        /* several */
        {KIND_EMERGENCY, OUTCOME_FAILED, "critical", true, true},
        {KIND_NORMAL, OUTCOME_ROLLED_BACK, "high", true, true},
        /* clang-format on */
    };
    static const char *const outcomes[] = {"none", "successful", "failed", "rolled_back"};
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct lifecycle_in in = {
            .state = STATE_IN_PROGRESS,
            .action = ACTION_COMPLETE,
            .kind = rows[i].kind,
            .is_owner = true,
            .unauthorized = rows[i].unauthorized,
            .level = rows[i].level,
            .outcome = rows[i].outcome,
        };
        struct lc_want want = {OK, rows[i].review ? STATE_REVIEW : STATE_CLOSED, 0};

        unit_row("%s, %s, %s%s", lc_kind_names[rows[i].kind], outcomes[rows[i].outcome],
                 rows[i].level ? rows[i].level : "(none)",
                 rows[i].unauthorized ? ", unauthorized" : "");
        CHECK_INT(lifecycle_needs_review(rows[i].kind, rows[i].outcome, rows[i].level,
                                         rows[i].unauthorized),
                  rows[i].review);
        lc_check(&in, &want);
    }
}

/* A retrospective start is a manager's, for an emergency awaiting approval,
 * and flags the change. */
void
test_lifecycle_retrospective(void)
{
    static const struct {
        enum model_kind kind;
        bool is_owner, is_manager;
        struct lc_want want;
    } rows[] = {
        {KIND_EMERGENCY, false, true, TO(IN_PROGRESS, W_UNAUTH)},
        {KIND_EMERGENCY, true, true, TO(IN_PROGRESS, W_UNAUTH)},
        {KIND_EMERGENCY, true, false, E403}, /* the owner, not a manager */
        {KIND_EMERGENCY, false, false, E403},
        {KIND_NORMAL, false, true, E409K},
        {KIND_STANDARD, true, true, E409K},
        {KIND_NORMAL, true, false, E403}, /* permission before the kind */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct lifecycle_in in = {
            .state = STATE_AWAITING_APPROVAL,
            .action = ACTION_START_RETROSPECTIVE,
            .kind = rows[i].kind,
            .is_owner = rows[i].is_owner,
            .is_manager = rows[i].is_manager,
            .level = "critical",
        };

        unit_row("%s, owner %d, manager %d", lc_kind_names[rows[i].kind], rows[i].is_owner,
                 rows[i].is_manager);
        lc_check(&in, &rows[i].want);
    }
}

/* The words of refusals, exactly. */
void
test_lifecycle_why(void)
{
    static const struct {
        enum change_state state;
        enum change_action action;
        enum model_kind kind;
        bool is_owner, is_manager;
        enum outcome rc;
        const char *why;
    } rows[] = {
        /* clang-format off */
        {STATE_DRAFT, ACTION_START, KIND_NORMAL, true, false, ERR_CONFLICT,
         "a change in state draft cannot start"},
        {STATE_AWAITING_APPROVAL, ACTION_SUBMIT, KIND_NORMAL, true, false, ERR_CONFLICT,
         "a change in state awaiting_approval cannot submit"},
        {STATE_APPROVED, ACTION_START_RETROSPECTIVE, KIND_EMERGENCY, false, true, ERR_CONFLICT,
         "a change in state approved cannot start retrospectively"},
        {STATE_REJECTED, ACTION_EDIT, KIND_NORMAL, true, false, ERR_CONFLICT,
         "a change in state rejected cannot be edited"},
        {STATE_IN_PROGRESS, ACTION_CANCEL, KIND_NORMAL, false, true, ERR_CONFLICT,
         "a change in state in_progress cannot cancel"},
        {STATE_IN_PROGRESS, ACTION_EDIT, KIND_NORMAL, true, false, ERR_CONFLICT,
         "a change in state in_progress cannot be edited"},
        {STATE_REVIEW, ACTION_COMPLETE, KIND_EMERGENCY, true, false, ERR_CONFLICT,
         "a change in state review cannot complete"},
        {STATE_CLOSED, ACTION_CLOSE, KIND_STANDARD, true, false, ERR_CONFLICT,
         "a change in state closed cannot close"},
        {STATE_CANCELLED, ACTION_SUBMIT, KIND_STANDARD, true, true, ERR_CONFLICT,
         "a change in state cancelled cannot submit"},
        {STATE_AWAITING_APPROVAL, ACTION_START_RETROSPECTIVE, KIND_NORMAL, false, true,
         ERR_CONFLICT, "only an emergency change may start before it is approved"},
        {STATE_DRAFT, ACTION_SUBMIT, KIND_NORMAL, false, false, ERR_FORBIDDEN,
         "only its owner or a manager may submit a change"},
        {STATE_CLOSED, ACTION_EDIT, KIND_NORMAL, false, false, ERR_FORBIDDEN,
         "only its owner or a manager may edit a change"},
        {STATE_AWAITING_APPROVAL, ACTION_START_RETROSPECTIVE, KIND_EMERGENCY, true, false,
         ERR_FORBIDDEN, "only a manager may start (retrospective) a change"},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct lifecycle_in in = {
            .state = rows[i].state,
            .action = rows[i].action,
            .kind = rows[i].kind,
            .is_owner = rows[i].is_owner,
            .is_manager = rows[i].is_manager,
            .level = "low",
            .outcome = OUTCOME_SUCCESSFUL,
        };
        struct lifecycle_out out;
        char why[LC_WHY];

        unit_row("%s: %s", lifecycle_state_name(rows[i].state),
                 lifecycle_action_name(rows[i].action));
        CHECK_INT(lifecycle_apply(&in, &out, why, sizeof why), rows[i].rc);
        CHECK_STR(why, rows[i].why);
    }
}

/* The refusal is cut to the buffer given, and stays NUL-terminated. */
void
test_lifecycle_why_truncated(void)
{
    static const struct {
        size_t size;
        const char *want;
    } rows[] = {
        {1, ""},
        {2, "a"},
        {10, "a change "},
        {37, "a change in state closed cannot be e"},
        {41, "a change in state closed cannot be edite"},
        {42, "a change in state closed cannot be edited"}, /* exactly */
        {43, "a change in state closed cannot be edited"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct lifecycle_in in = {
            .state = STATE_CLOSED,
            .action = ACTION_EDIT,
            .kind = KIND_NORMAL,
            .is_owner = true,
        };
        struct lifecycle_out out;
        char *why = malloc(rows[i].size);

        if (why == NULL)
            abort();
        unit_row("size %zu", rows[i].size);
        CHECK_INT(lifecycle_apply(&in, &out, why, rows[i].size), ERR_CONFLICT);
        CHECK_STR(why, rows[i].want);
        free(why);
    }
}

void
test_lifecycle_takes_decisions(void)
{
    static const struct {
        enum change_state state;
        bool plain, unauthorized; /* the answer without and with the flag */
    } rows[] = {
        /* clang-format off */
        {STATE_DRAFT, false, false},
        {STATE_AWAITING_APPROVAL, true, true},
        {STATE_APPROVED, false, false},
        {STATE_REJECTED, false, false},
        {STATE_IN_PROGRESS, false, true},
        {STATE_REVIEW, false, true},
        {STATE_CLOSED, false, false},
        {STATE_CANCELLED, false, false},
        /* clang-format on */
    };
    size_t i;

    CHECK_INT(UNIT_NELEM(rows), STATE_COUNT);
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", lifecycle_state_name(rows[i].state));
        CHECK_INT(lifecycle_takes_decisions(rows[i].state, false), rows[i].plain);
        CHECK_INT(lifecycle_takes_decisions(rows[i].state, true), rows[i].unauthorized);
    }
}

void
test_lifecycle_names(void)
{
    static const struct {
        enum change_state state;
        const char *name;
        bool active;
    } states[] = {
        {STATE_DRAFT, "draft", false},
        {STATE_AWAITING_APPROVAL, "awaiting_approval", true},
        {STATE_APPROVED, "approved", true},
        {STATE_REJECTED, "rejected", false},
        {STATE_IN_PROGRESS, "in_progress", true},
        {STATE_REVIEW, "review", false},
        {STATE_CLOSED, "closed", false},
        {STATE_CANCELLED, "cancelled", false},
    };
    static const struct {
        enum change_action action;
        const char *name;
    } actions[] = {
        {ACTION_SUBMIT, "submit"},
        {ACTION_START, "start"},
        {ACTION_START_RETROSPECTIVE, "start (retrospective)"},
        {ACTION_COMPLETE, "complete"},
        {ACTION_CLOSE, "close"},
        {ACTION_CANCEL, "cancel"},
        {ACTION_EDIT, "edit"},
        {ACTION_DECIDE, "decide"},
    };
    /* name → value; -1 for anything unknown */
    static const struct {
        int (*parse)(const char *);
        const char *what, *name;
        int want;
    } parses[] = {
        /* clang-format off */
        {lifecycle_kind_parse, "kind", "standard", KIND_STANDARD},
        {lifecycle_kind_parse, "kind", "normal", KIND_NORMAL},
        {lifecycle_kind_parse, "kind", "emergency", KIND_EMERGENCY},
        {lifecycle_kind_parse, "kind", "", -1},
        {lifecycle_kind_parse, "kind", NULL, -1},
        {lifecycle_kind_parse, "kind", "Normal", -1},
        {lifecycle_kind_parse, "kind", "normal ", -1},
        {lifecycle_kind_parse, "kind", "norm", -1},
        {lifecycle_kind_parse, "kind", "urgent", -1},
        {lifecycle_outcome_parse, "outcome", "successful", OUTCOME_SUCCESSFUL},
        {lifecycle_outcome_parse, "outcome", "failed", OUTCOME_FAILED},
        {lifecycle_outcome_parse, "outcome", "rolled_back", OUTCOME_ROLLED_BACK},
        {lifecycle_outcome_parse, "outcome", "", -1},
        {lifecycle_outcome_parse, "outcome", NULL, -1},
        {lifecycle_outcome_parse, "outcome", "none", -1},
        {lifecycle_outcome_parse, "outcome", "rolled-back", -1},
        {lifecycle_outcome_parse, "outcome", "Failed", -1},
        {lifecycle_outcome_parse, "outcome", "success", -1},
        {lifecycle_state_parse, "state", "", -1},
        {lifecycle_state_parse, "state", NULL, -1},
        {lifecycle_state_parse, "state", "Draft", -1},
        {lifecycle_state_parse, "state", "draft ", -1},
        {lifecycle_state_parse, "state", "awaiting-approval", -1},
        {lifecycle_state_parse, "state", "awaiting", -1},
        {lifecycle_state_parse, "state", "canceled", -1},
        {lifecycle_state_parse, "state", "unknown", -1},
        /* clang-format on */
    };
    size_t i;

    CHECK_INT(UNIT_NELEM(states), STATE_COUNT);
    for (i = 0; i < UNIT_NELEM(states); i++) {
        unit_row("state %s", states[i].name);
        CHECK_STR(lifecycle_state_name(states[i].state), states[i].name);
        CHECK_INT(lifecycle_state_parse(states[i].name), states[i].state);
        CHECK_INT(lifecycle_state_parse(lifecycle_state_name(states[i].state)), states[i].state);
        CHECK_INT(lifecycle_is_active(states[i].state), states[i].active);
    }
    CHECK_INT(UNIT_NELEM(actions), ACTION_COUNT);
    for (i = 0; i < UNIT_NELEM(actions); i++) {
        unit_row("action %s", actions[i].name);
        CHECK_STR(lifecycle_action_name(actions[i].action), actions[i].name);
    }
    for (i = 0; i < UNIT_NELEM(parses); i++) {
        unit_row("%s \"%s\"", parses[i].what, parses[i].name ? parses[i].name : "(null)");
        CHECK_INT(parses[i].parse(parses[i].name), parses[i].want);
    }
}
