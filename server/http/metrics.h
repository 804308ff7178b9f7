/*
 * Prometheus metrics of the HTTP server: requests by route and status, a
 * latency histogram per route, and database pool use. Counters are atomic;
 * safe from every worker thread.
 */
#ifndef CABINET_METRICS_H
#define CABINET_METRICS_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"
#include "domain/strbuf.h"

/* Slots: one per route of the API table, then these. */
enum { METRICS_STATIC = 0, METRICS_UNMATCHED = 1, METRICS_EXTRA = 2 };

/* Sizes the tables for nroutes API routes; call before serving. */
int metrics_init(int nroutes);
void metrics_free(void);
/* Counts a request of slot (a route index, or nroutes + METRICS_*). */
void metrics_observe(int slot, int status, double seconds);
/* Appends the exposition text. labels[slot] names each slot. */
void metrics_render(struct strbuf *sb, const char *const *methods, const char *const *routes,
                    struct db_pool *pool);

/* Webhook links (README "Webhook links"): deliveries refused, by why, and
 * replays answered with their first result. */
enum metrics_hook {
    METRICS_HOOK_UNKNOWN_LINK, /* 404: no such link, disabled or rotated out */
    METRICS_HOOK_SIGNATURE,    /* 401: a signature or token missing or wrong */
    METRICS_HOOK_TIMESTAMP,    /* 401: a Standard Webhooks timestamp out of tolerance */
    METRICS_HOOK_TOO_LARGE,    /* 413 */
    METRICS_HOOK_INVALID,      /* any other refusal: the body, the change's state */
    METRICS_HOOK_COUNT
};
void metrics_hook_refused(enum metrics_hook why);
void metrics_hook_replayed(void);
/* A delivery accepted from a link of kind ("generic", "github", "gitlab"). */
void metrics_hook_accepted(const char *kind);

/* One attempt at delivering a webhook (jobs/deliver.c): delivered, with
 * latency the seconds from the event's creation to now, or failed. */
void metrics_delivery(bool ok, double latency);

/* One e-mail (jobs/mail.c): sent, failed (to be tried again), dead (given
 * up) or skipped (switched off since it was written). */
enum metrics_mail {
    METRICS_MAIL_SENT,
    METRICS_MAIL_FAILED,
    METRICS_MAIL_DEAD,
    METRICS_MAIL_SKIPPED,
    METRICS_MAIL_COUNT
};
void metrics_mail(enum metrics_mail result);

/* Appends the gauges of the data: tallies as db_tally_read gives them. */
void metrics_render_tallies(struct strbuf *sb, const json_t *tallies);

#endif
