/*
 * The content of a change that approvers sign: its fields, their rules, and
 * the canonical JSON whose SHA-256 is the change's content_hash (DESIGN §3
 * "Signed approvals"). Pure and thread-safe.
 */
#ifndef CABINET_CHANGE_H
#define CABINET_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/fielderr.h"
#include "domain/lifecycle.h"
#include "domain/policy.h"
#include "domain/strbuf.h"
#include "domain/timefmt.h"

#define CHANGE_TITLE_MAX 200
#define CHANGE_TEXT_MAX 100000
#define CHANGE_SERVICES_MAX 100
#define CHANGE_EXTERNAL_REF_MAX 500

/* Borrowed strings: the struct owns none of them. Absent text is NULL or "";
 * an absent window has both times "". */
struct change_content {
    const char *title;
    const char *description;
    const char *model;
    const char **services;
    size_t nservices;
    char window_start[TIMEFMT_LEN];
    char window_end[TIMEFMT_LEN];
    const char *business_impact;
    const char *implementation_plan;
    const char *backout_plan;
    const char *test_plan;
};

enum change_flag {
    CHANGE_UNAUTHORIZED = 1u << 0,  /* done without the approval it needed */
    CHANGE_RETROSPECTIVE = 1u << 1, /* an emergency a manager started before approval */
};

#define CHANGE_MODEL_MAX 64
#define CHANGE_LEVELS 4 /* low, medium, high, critical */

/* A change as it crosses from db/ to the rest: the row's columns, typed.
 * db/ fills it; change_clear frees what it owns (the strings of content
 * and external_ref live in one block, text). */
struct change {
    int64_t id;
    int64_t rev; /* counts every write to the change: its ETag */
    int version; /* counts edits of the content: what approvers sign */
    enum change_state state;
    enum model_kind kind;
    char model[CHANGE_MODEL_MAX];
    char content_hash[65];
    int64_t requester_id;
    unsigned flags;   /* enum change_flag bits */
    char level[12];   /* risk level assessed for the current version; "" before */
    int needed, have; /* approvals; needed 0 before the first assessment */
    /* the model's policy at each level (low..critical); nquotas 0: the
     * default policy of its kind */
    struct policy model_policy[CHANGE_LEVELS];
    int64_t window_start, window_end; /* seconds since the epoch; 0, 0: no window */
    bool viewer_decided;              /* the user it was loaded for decided on this version */
    struct change_content content;
    const char *external_ref; /* NULL: none */
    char gate_token[48];
    char *text; /* owns the strings above */
};

/* Frees what c owns and zeroes it; NULL-safe. */
void change_clear(struct change *c);
/* Whether the change has a window / names at least one service. */
bool change_has_window(const struct change *c);
/* The policy that applies to c at level (the model's override, else the
 * default of its kind). */
void change_policy(const struct change *c, const char *level, struct policy *p);

extern const char *const change_business_impacts[];

/* Adds an error to fe for each field that breaks a rule; returns true when
 * there was none. Existence of the model and services is the database's to
 * check. */
bool change_validate(const struct change_content *c, struct fielderr *fe);

/* Appends the canonical JSON of c to sb. c->services need not be sorted. */
void change_canonical(const struct change_content *c, struct strbuf *sb);

#endif
