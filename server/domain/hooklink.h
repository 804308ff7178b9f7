/*
 * What webhook links (README "Webhook links") need that is neither HTTP nor
 * the database: the Standard Webhooks timestamp rule, the external
 * references that tie a tool's later events to a change, the commit SHA at
 * the end of a GitLab commit_url, and what recording a reported start or
 * finish does to a change in each state, on lifecycle.c's table. Pure and
 * thread-safe.
 */
#ifndef CABINET_HOOKLINK_H
#define CABINET_HOOKLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/change.h"
#include "domain/lifecycle.h"
#include "domain/outcome.h"
#include "domain/timefmt.h"

#define HOOKLINK_TOLERANCE_S 300
#define HOOKLINK_SHA_LEN 41 /* 40 hex digits and NUL */

enum hooklink_ts { HOOKLINK_TS_OK, HOOKLINK_TS_MALFORMED, HOOKLINK_TS_SKEWED };

/* A webhook-timestamp: decimal seconds (digits only, no sign, no leading
 * zero, so that the text signed is the number's own), within
 * HOOKLINK_TOLERANCE_S of now either way; *ts is its value. */
enum hooklink_ts hooklink_timestamp(const char *s, int64_t now, long long *ts);

/* The full lowercase SHA of sha (40 hex digits, any case); false when it is
 * not one. */
bool hooklink_sha(const char *sha, char out[HOOKLINK_SHA_LEN]);
/* The SHA at the end of a GitLab commit_url (".../-/commit/<40 hex>", an
 * optional trailing slash), lowercased; false when it does not end in
 * one. */
bool hooklink_commit_url_sha(const char *url, char out[HOOKLINK_SHA_LEN]);
/* "<tool>:<project>:<environment>:<sha>" into out; false when it does not
 * fit in size or CHANGE_EXTERNAL_REF_MAX. */
bool hooklink_external_ref(const char *tool, const char *project, const char *environment,
                           const char *sha, char *out, size_t size);

/* GitLab's "2021-04-28 21:50:00 +0200" (or "... UTC") as RFC 3339 UTC;
 * false when it is not one. */
bool hooklink_gitlab_time(const char *s, char out[TIMEFMT_LEN]);
/* Cuts s to at most max bytes at a UTF-8 character boundary. */
void hooklink_clip(char *s, size_t max);

/* What a tool reported. */
enum hooklink_report { HOOKLINK_START, HOOKLINK_COMPLETE };

/* One move to store, as db_transition takes it. */
struct hooklink_move {
    enum change_action action;
    enum change_state from, to;
    bool set_flags;
    unsigned flags;
    enum change_outcome outcome;
};

/* The moves that record report on c (README "Webhook links": it records
 * what happened, whatever the state): a start of an approved change is the
 * lifecycle's start; a start of a change not approved (a draft, or one
 * awaiting approval) moves it to in_progress flagged `unauthorized`; a
 * finish starts the change first if it is not in progress, then is the
 * lifecycle's complete with outcome (so a change flagged `unauthorized`
 * goes to review). A start or finish reported of a change already past it
 * (in progress, in review, closed) adds nothing: *n is 0. ERR_CONFLICT for
 * a rejected or cancelled change (why says so). At most two moves. */
enum outcome hooklink_plan(const struct change *c, enum hooklink_report report,
                           enum change_outcome outcome, struct hooklink_move moves[2], int *n,
                           char *why, size_t size);

#endif
