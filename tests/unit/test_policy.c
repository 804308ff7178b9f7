/* Approval policies: the defaults, who counts, and how many slots a set of
 * distinct approvers fills. */
#include "domain/policy.h"
#include "domain/role.h"
#include "unit.h"

#define REQ ROLE_REQUESTER
#define CAB ROLE_CAB
#define ECAB ROLE_ECAB
#define MGR ROLE_MANAGER
#define ADM ROLE_ADMIN

static const char *const pl_kind_names[3] = {"standard", "normal", "emergency"};

void
test_policy_default(void)
{
    static const struct {
        enum model_kind kind;
        const char *level;
        int nquotas;
        struct policy_quota quotas[POLICY_MAX_QUOTAS];
        int needed;
    } rows[] = {
        /* clang-format off */
        {KIND_NORMAL, "low", 1, {{CAB, 1}}, 1},
        {KIND_NORMAL, "medium", 1, {{CAB, 2}}, 2},
        {KIND_NORMAL, "high", 1, {{CAB, 3}}, 3},
        {KIND_NORMAL, "critical", 2, {{CAB, 3}, {MGR, 1}}, 4},
        {KIND_STANDARD, "low", 1, {{CAB, 1}}, 1},
        {KIND_STANDARD, "medium", 1, {{CAB, 2}}, 2},
        {KIND_STANDARD, "high", 1, {{CAB, 3}}, 3},
        {KIND_STANDARD, "critical", 2, {{CAB, 3}, {MGR, 1}}, 4},
        {KIND_EMERGENCY, "low", 1, {{ECAB, 1}}, 1},
        {KIND_EMERGENCY, "medium", 1, {{ECAB, 1}}, 1},
        {KIND_EMERGENCY, "high", 1, {{ECAB, 1}}, 1},
        {KIND_EMERGENCY, "critical", 1, {{ECAB, 1}}, 1},
        /* clang-format on */
    };
    size_t i;
    int k;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct policy p;

        unit_row("%s at %s", pl_kind_names[rows[i].kind], rows[i].level);
        policy_default(rows[i].kind, rows[i].level, &p);
        CHECK_INT(p.nquotas, rows[i].nquotas);
        for (k = 0; k < rows[i].nquotas && k < p.nquotas; k++) {
            CHECK_INT(p.quotas[k].role, rows[i].quotas[k].role);
            CHECK_INT(p.quotas[k].count, rows[i].quotas[k].count);
        }
        CHECK_INT(policy_needed(&p), rows[i].needed);
    }
}

/* Policies spelled out, as a model may override them. */
static const struct policy pl_low = {1, {{CAB, 1}}};
static const struct policy pl_medium = {1, {{CAB, 2}}};
static const struct policy pl_high = {1, {{CAB, 3}}};
static const struct policy pl_critical = {2, {{CAB, 3}, {MGR, 1}}};
static const struct policy pl_emergency = {1, {{ECAB, 1}}};
static const struct policy pl_none = {0, {{0, 0}}};
static const struct policy pl_mixed = {3, {{MGR, 1}, {ECAB, 2}, {CAB, 2}}};
static const struct policy pl_either = {1, {{CAB | ECAB, 2}}};

void
test_policy_needed(void)
{
    static const struct {
        const char *name;
        const struct policy *p;
        int needed;
    } rows[] = {
        {"low", &pl_low, 1},
        {"medium", &pl_medium, 2},
        {"high", &pl_high, 3},
        {"critical", &pl_critical, 4},
        {"emergency", &pl_emergency, 1},
        {"no quotas", &pl_none, 0},
        {"manager + 2 ecab + 2 cab", &pl_mixed, 5},
        {"2 of cab or ecab", &pl_either, 2},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", rows[i].name);
        CHECK_INT(policy_needed(rows[i].p), rows[i].needed);
    }
}

void
test_policy_counts(void)
{
    static const struct {
        const char *name;
        const struct policy *p;
        unsigned roles;
        bool counts;
    } rows[] = {
        /* clang-format off */
        {"low: cab", &pl_low, REQ | CAB, true},
        {"low: manager", &pl_low, REQ | MGR, false},
        {"low: ecab", &pl_low, REQ | ECAB, false},
        {"low: admin", &pl_low, REQ | ADM, false},
        {"low: requester", &pl_low, REQ, false},
        {"low: no roles", &pl_low, 0, false},
        {"critical: cab", &pl_critical, REQ | CAB, true},
        {"critical: manager", &pl_critical, REQ | MGR, true},
        {"critical: cab+manager", &pl_critical, REQ | CAB | MGR, true},
        {"critical: ecab", &pl_critical, REQ | ECAB, false},
        {"critical: admin", &pl_critical, REQ | ADM, false},
        {"critical: requester", &pl_critical, REQ, false},
        {"emergency: ecab", &pl_emergency, REQ | ECAB, true},
        {"emergency: cab", &pl_emergency, REQ | CAB, false},
        {"emergency: manager", &pl_emergency, REQ | MGR, false},
        {"emergency: cab+manager+admin", &pl_emergency, REQ | CAB | MGR | ADM, false},
        {"emergency: everything", &pl_emergency, REQ | CAB | ECAB | MGR | ADM, true},
        {"no quotas: everything", &pl_none, REQ | CAB | ECAB | MGR | ADM, false},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", rows[i].name);
        CHECK_INT(policy_counts(rows[i].p, rows[i].roles), rows[i].counts);
    }
}

#define PL_MAX_APPROVERS 8

/* roles[i]: the roles of the i-th distinct approver; every user is a
 * requester too. */
void
test_policy_have(void)
{
    static const struct {
        const char *name;
        const struct policy *p;
        int n;
        unsigned roles[PL_MAX_APPROVERS];
        int have;
    } rows[] = {
        /* clang-format off */
        {"low: nobody", &pl_low, 0, {0}, 0},
        {"low: one cab", &pl_low, 1, {REQ | CAB}, 1},
        {"low: two cab, one slot", &pl_low, 2, {REQ | CAB, REQ | CAB}, 1},
        {"low: a requester", &pl_low, 1, {REQ}, 0},
        {"low: a manager", &pl_low, 1, {REQ | MGR}, 0},
        {"low: an ecab member", &pl_low, 1, {REQ | ECAB}, 0},
        {"low: an admin", &pl_low, 1, {REQ | ADM}, 0},
        {"medium: one cab", &pl_medium, 1, {REQ | CAB}, 1},
        {"medium: two cab", &pl_medium, 2, {REQ | CAB, REQ | CAB}, 2},
        {"medium: cab + requester", &pl_medium, 2, {REQ | CAB, REQ}, 1},
        {"medium: cab+manager + cab", &pl_medium, 2, {REQ | CAB | MGR, REQ | CAB}, 2},
        {"high: three cab", &pl_high, 3, {REQ | CAB, REQ | CAB, REQ | CAB}, 3},
        {"high: two cab + manager", &pl_high, 3, {REQ | CAB, REQ | CAB, REQ | MGR}, 2},
        {"high: four cab", &pl_high, 4, {REQ | CAB, REQ | CAB, REQ | CAB, REQ | CAB}, 3},

        /* critical: 3 cab + 1 manager, four distinct people */
        {"critical: 3 cab + 1 manager", &pl_critical, 4, {REQ | CAB, REQ | CAB, REQ | CAB, REQ | MGR}, 4},
        {"critical: manager first", &pl_critical, 4, {REQ | MGR, REQ | CAB, REQ | CAB, REQ | CAB}, 4},
        {"critical: 4 cab", &pl_critical, 4, {REQ | CAB, REQ | CAB, REQ | CAB, REQ | CAB}, 3},
        {"critical: 3 cab+manager count once each", &pl_critical, 3,
         {REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB | MGR}, 3},
        {"critical: 4 cab+manager", &pl_critical, 4,
         {REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB | MGR}, 4},
        {"critical: cab+manager first, manager last", &pl_critical, 4,
         {REQ | CAB | MGR, REQ | CAB, REQ | CAB, REQ | MGR}, 4},
        {"critical: two cab+manager, cab, manager", &pl_critical, 4,
         {REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB, REQ | MGR}, 4},
        {"critical: 3 cab+manager, manager", &pl_critical, 4,
         {REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB | MGR, REQ | MGR}, 4},
        {"critical: 3 cab, cab+manager", &pl_critical, 4,
         {REQ | CAB, REQ | CAB, REQ | CAB, REQ | CAB | MGR}, 4},
        {"critical: one cab+manager", &pl_critical, 1, {REQ | CAB | MGR}, 1},
        {"critical: two managers", &pl_critical, 2, {REQ | MGR, REQ | MGR}, 1},
        {"critical: 2 cab + 2 managers", &pl_critical, 4, {REQ | CAB, REQ | MGR, REQ | CAB, REQ | MGR}, 3},
        {"critical: 5 cab + manager", &pl_critical, 6,
         {REQ | CAB, REQ | CAB, REQ | CAB, REQ | CAB, REQ | CAB, REQ | MGR}, 4},
        {"critical: requesters only", &pl_critical, 3, {REQ, REQ, REQ}, 0},
        {"critical: ecab and admin", &pl_critical, 2, {REQ | ECAB, REQ | ADM}, 0},

        /* emergency: one ecab; cab does not count */
        {"emergency: cab", &pl_emergency, 1, {REQ | CAB}, 0},
        {"emergency: cab+manager", &pl_emergency, 1, {REQ | CAB | MGR}, 0},
        {"emergency: ecab", &pl_emergency, 1, {REQ | ECAB}, 1},
        {"emergency: cab, then ecab", &pl_emergency, 2, {REQ | CAB, REQ | ECAB}, 1},
        {"emergency: two ecab", &pl_emergency, 2, {REQ | ECAB, REQ | ECAB}, 1},
        {"emergency: cab+ecab", &pl_emergency, 1, {REQ | CAB | ECAB}, 1},

        /* overridden policies */
        {"no quotas: anyone", &pl_none, 2, {REQ | CAB, REQ | ECAB | MGR}, 0},
        {"mixed: a person with every role counts once", &pl_mixed, 1, {REQ | CAB | ECAB | MGR}, 1},
        {"mixed: each slot by someone else", &pl_mixed, 5,
         {REQ | CAB, REQ | ECAB, REQ | MGR, REQ | CAB, REQ | ECAB}, 5},
        {"mixed: a manager+ecab first, needed as manager", &pl_mixed, 5,
         {REQ | ECAB | MGR, REQ | ECAB, REQ | ECAB, REQ | CAB, REQ | CAB}, 5},
        {"mixed: cab+ecab people moved to fill both", &pl_mixed, 5,
         {REQ | CAB | ECAB, REQ | CAB | ECAB, REQ | CAB | ECAB, REQ | ECAB, REQ | MGR}, 5},
        {"either: cab and ecab", &pl_either, 3, {REQ | CAB, REQ | ECAB, REQ | CAB}, 2},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", rows[i].name);
        CHECK_INT(policy_have(rows[i].p, rows[i].roles, rows[i].n), rows[i].have);
    }
}

/* The approvers' order never changes the count: every permutation of four
 * approvers on the critical policy. */
void
test_policy_have_any_order(void)
{
    static const struct {
        const char *name;
        unsigned roles[4];
        int have;
    } rows[] = {
        {"cab|manager, cab, cab, manager", {REQ | CAB | MGR, REQ | CAB, REQ | CAB, REQ | MGR}, 4},
        {"3 cab, manager", {REQ | CAB, REQ | CAB, REQ | CAB, REQ | MGR}, 4},
        {"cab|manager x2, cab, requester", {REQ | CAB | MGR, REQ | CAB | MGR, REQ | CAB, REQ}, 3},
        {"cab x2, manager x2", {REQ | CAB, REQ | CAB, REQ | MGR, REQ | MGR}, 3},
    };
    static const int perms[24][4] = {
        {0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {0, 3, 2, 1},
        {1, 0, 2, 3}, {1, 0, 3, 2}, {1, 2, 0, 3}, {1, 2, 3, 0}, {1, 3, 0, 2}, {1, 3, 2, 0},
        {2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3}, {2, 1, 3, 0}, {2, 3, 0, 1}, {2, 3, 1, 0},
        {3, 0, 1, 2}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0},
    };
    size_t i, k;

    for (i = 0; i < UNIT_NELEM(rows); i++)
        for (k = 0; k < UNIT_NELEM(perms); k++) {
            unsigned roles[4];
            int j;

            for (j = 0; j < 4; j++)
                roles[j] = rows[i].roles[perms[k][j]];
            unit_row("%s, order %d%d%d%d", rows[i].name, perms[k][0], perms[k][1], perms[k][2],
                     perms[k][3]);
            CHECK_INT(policy_have(&pl_critical, roles, 4), rows[i].have);
        }
}

/* Policies at their largest (4 quotas of 20, as a model may set), with many
 * approvers of one kind each. */
void
test_policy_have_many(void)
{
    static const struct policy big = {4, {{CAB, 20}, {ECAB, 20}, {MGR, 20}, {CAB | ECAB, 20}}};
    static const struct {
        int n;
        unsigned roles; /* of every approver */
        int have;
    } rows[] = {
        /* clang-format off */
        {0, REQ | CAB, 0},
        {19, REQ | CAB, 19},
        {40, REQ | CAB, 40},  /* the cab quota and the cab-or-ecab one */
        {41, REQ | CAB, 40},
        {60, REQ | ECAB, 40},
        {20, REQ | MGR, 20},
        {80, REQ | MGR, 20},
        {79, REQ | CAB | ECAB | MGR, 79},
        {80, REQ | CAB | ECAB | MGR, 80},
        {200, REQ | CAB | ECAB | MGR, 80},
        {200, REQ | ADM, 0},
        /* clang-format on */
    };
    unsigned roles[200];
    size_t i;
    int k;

    CHECK_INT(policy_needed(&big), 80);
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        for (k = 0; k < rows[i].n; k++)
            roles[k] = rows[i].roles;
        unit_row("%d approvers with roles 0x%x", rows[i].n, rows[i].roles);
        CHECK_INT(policy_have(&big, roles, rows[i].n), rows[i].have);
    }
}
