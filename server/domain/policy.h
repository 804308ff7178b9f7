/*
 * Approval policies (README "Signed decisions"): how many distinct
 * approvers, of which roles, a change needs at its risk level, and whether
 * the approvals given meet it. A person counts once even with several roles
 * (the approvals are matched to the quotas' slots). Pure and thread-safe.
 */
#ifndef CABINET_POLICY_H
#define CABINET_POLICY_H

#include <stdbool.h>

#include "domain/lifecycle.h"

#define POLICY_MAX_QUOTAS 4
#define POLICY_MAX_SLOTS 80

struct policy_quota {
    unsigned role; /* enum role bit */
    int count;
};

struct policy {
    int nquotas;
    struct policy_quota quotas[POLICY_MAX_QUOTAS];
};

/* The default policy of a model kind at a level (low … critical). */
void policy_default(enum model_kind kind, const char *level, struct policy *p);
/* Approvers needed in all. */
int policy_needed(const struct policy *p);
/* Whether a person with these roles is counted by the policy at all. */
bool policy_counts(const struct policy *p, unsigned roles);
/* How many of the quota slots the approvers fill: roles[i] holds the roles
 * of the i-th distinct approver (never the owner). */
int policy_have(const struct policy *p, const unsigned *roles, int n);

#endif
