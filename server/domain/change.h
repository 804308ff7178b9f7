/*
 * The content of a change that approvers sign: its fields, their rules, and
 * the canonical JSON whose SHA-256 is the change's content_hash (DESIGN §3
 * "Signed approvals"). Pure and thread-safe.
 */
#ifndef CABINET_CHANGE_H
#define CABINET_CHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/fielderr.h"
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

extern const char *const change_business_impacts[];

/* Adds an error to fe for each field that breaks a rule; returns true when
 * there was none. Existence of the model and services is the database's to
 * check. */
bool change_validate(const struct change_content *c, struct fielderr *fe);

/* Appends the canonical JSON of c to sb. c->services need not be sorted. */
void change_canonical(const struct change_content *c, struct strbuf *sb);

#endif
