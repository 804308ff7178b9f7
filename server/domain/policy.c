#include "domain/policy.h"

#include <string.h>

#include "domain/role.h"

void
policy_default(enum model_kind kind, const char *level, struct policy *p)
{
    memset(p, 0, sizeof *p);
    if (kind == KIND_EMERGENCY) {
        p->nquotas = 1;
        p->quotas[0] = (struct policy_quota){ROLE_ECAB, 1};
        return;
    }
    p->nquotas = 1;
    if (level == NULL || strcmp(level, "low") == 0) {
        p->quotas[0] = (struct policy_quota){ROLE_CAB, 1};
    } else if (strcmp(level, "medium") == 0) {
        p->quotas[0] = (struct policy_quota){ROLE_CAB, 2};
    } else if (strcmp(level, "high") == 0) {
        p->quotas[0] = (struct policy_quota){ROLE_CAB, 3};
    } else {
        p->nquotas = 2;
        p->quotas[0] = (struct policy_quota){ROLE_CAB, 3};
        p->quotas[1] = (struct policy_quota){ROLE_MANAGER, 1};
    }
}

int
policy_needed(const struct policy *p)
{
    int i, n = 0;

    for (i = 0; i < p->nquotas; i++)
        n += p->quotas[i].count;
    return n;
}

bool
policy_counts(const struct policy *p, unsigned roles)
{
    int i;

    for (i = 0; i < p->nquotas; i++)
        if (roles & p->quotas[i].role)
            return true;
    return false;
}

/* Kuhn's augmenting path: can approver a take a slot, moving others? */
static bool
policy_augment(int a, const unsigned *roles, const unsigned *slot_role, int nslots, int *slot_owner,
               bool *seen)
{
    int s;

    for (s = 0; s < nslots; s++) {
        if (!(roles[a] & slot_role[s]) || seen[s])
            continue;
        seen[s] = true;
        if (slot_owner[s] < 0 ||
            policy_augment(slot_owner[s], roles, slot_role, nslots, slot_owner, seen)) {
            slot_owner[s] = a;
            return true;
        }
    }
    return false;
}

int
policy_have(const struct policy *p, const unsigned *roles, int n)
{
    unsigned slot_role[POLICY_MAX_SLOTS];
    int slot_owner[POLICY_MAX_SLOTS];
    bool seen[POLICY_MAX_SLOTS];
    int i, j, nslots = 0, have = 0;

    for (i = 0; i < p->nquotas; i++)
        for (j = 0; j < p->quotas[i].count && nslots < POLICY_MAX_SLOTS; j++)
            slot_role[nslots++] = p->quotas[i].role;
    for (i = 0; i < nslots; i++)
        slot_owner[i] = -1;
    for (i = 0; i < n; i++) {
        memset(seen, 0, sizeof seen);
        if (policy_augment(i, roles, slot_role, nslots, slot_owner, seen))
            have++;
    }
    return have;
}
