#include "http/metrics.h"

#include <stdlib.h>
#include <string.h>

/* Status codes 100..599 counted one by one. */
#define METRICS_STATUSES 500

static const double metrics_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};
#define METRICS_BUCKETS (sizeof metrics_bounds / sizeof metrics_bounds[0])

struct metrics_slot {
    unsigned long status[METRICS_STATUSES];
    unsigned long bucket[METRICS_BUCKETS];
    unsigned long count;
    unsigned long micros;
};

static struct metrics_slot *metrics_slots;
static unsigned long metrics_hook_refusals[METRICS_HOOK_COUNT];
static unsigned long metrics_hook_replays;
static const char *const metrics_hook_reasons[METRICS_HOOK_COUNT] = {
    "unknown_link", "signature", "timestamp", "too_large", "invalid"};

static const char *const metrics_hook_kinds[] = {"generic", "github", "gitlab"};
#define METRICS_HOOK_KINDS (sizeof metrics_hook_kinds / sizeof metrics_hook_kinds[0])
static unsigned long metrics_hook_accepts[METRICS_HOOK_KINDS];

void
metrics_hook_accepted(const char *kind)
{
    size_t i;

    for (i = 0; i < METRICS_HOOK_KINDS; i++)
        if (strcmp(kind, metrics_hook_kinds[i]) == 0)
            __atomic_fetch_add(&metrics_hook_accepts[i], 1, __ATOMIC_RELAXED);
}

void
metrics_hook_refused(enum metrics_hook why)
{
    if ((unsigned)why < METRICS_HOOK_COUNT)
        __atomic_fetch_add(&metrics_hook_refusals[why], 1, __ATOMIC_RELAXED);
}

void
metrics_hook_replayed(void)
{
    __atomic_fetch_add(&metrics_hook_replays, 1, __ATOMIC_RELAXED);
}

static void
metrics_render_hooks(struct strbuf *sb)
{
    int i;

    strbuf_puts(sb, "# HELP cabinet_hook_refusals_total Webhook link deliveries refused, by why.\n"
                    "# TYPE cabinet_hook_refusals_total counter\n");
    for (i = 0; i < METRICS_HOOK_COUNT; i++)
        strbuf_printf(sb, "cabinet_hook_refusals_total{reason=\"%s\"} %lu\n",
                      metrics_hook_reasons[i],
                      __atomic_load_n(&metrics_hook_refusals[i], __ATOMIC_RELAXED));
    strbuf_printf(sb,
                  "# HELP cabinet_hook_replays_total Webhook link deliveries answered as replays.\n"
                  "# TYPE cabinet_hook_replays_total counter\n"
                  "cabinet_hook_replays_total %lu\n",
                  __atomic_load_n(&metrics_hook_replays, __ATOMIC_RELAXED));
    strbuf_puts(sb, "# HELP cabinet_hook_accepted_total Webhook link deliveries accepted, by "
                    "tool.\n"
                    "# TYPE cabinet_hook_accepted_total counter\n");
    for (i = 0; i < (int)(sizeof metrics_hook_accepts / sizeof metrics_hook_accepts[0]); i++)
        strbuf_printf(sb, "cabinet_hook_accepted_total{tool=\"%s\"} %lu\n", metrics_hook_kinds[i],
                      __atomic_load_n(&metrics_hook_accepts[i], __ATOMIC_RELAXED));
}

/* Webhook deliveries out: from the event's creation to its delivery takes
 * seconds (a receiver that answers at once) to a day (retries until
 * CABINET_WEBHOOK_GIVE_UP). */
static const double metrics_delivery_bounds[] = {0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600, 21600};
#define METRICS_DELIVERY_BUCKETS                                                                   \
    (sizeof metrics_delivery_bounds / sizeof metrics_delivery_bounds[0])
static struct {
    unsigned long bucket[METRICS_DELIVERY_BUCKETS];
    unsigned long count, millis;
    unsigned long failed;
} metrics_deliveries;

void
metrics_delivery(bool ok, double latency)
{
    size_t b;

    if (!ok) {
        __atomic_fetch_add(&metrics_deliveries.failed, 1, __ATOMIC_RELAXED);
        return;
    }
    if (latency < 0)
        latency = 0;
    for (b = 0; b < METRICS_DELIVERY_BUCKETS; b++)
        if (latency <= metrics_delivery_bounds[b]) {
            __atomic_fetch_add(&metrics_deliveries.bucket[b], 1, __ATOMIC_RELAXED);
            break;
        }
    __atomic_fetch_add(&metrics_deliveries.count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&metrics_deliveries.millis, (unsigned long)(latency * 1e3),
                       __ATOMIC_RELAXED);
}

static void
metrics_render_deliveries(struct strbuf *sb)
{
    unsigned long count = __atomic_load_n(&metrics_deliveries.count, __ATOMIC_RELAXED), cum = 0;
    size_t b;

    strbuf_printf(sb,
                  "# HELP cabinet_webhook_attempts_total Webhook delivery attempts made here, by "
                  "result.\n"
                  "# TYPE cabinet_webhook_attempts_total counter\n"
                  "cabinet_webhook_attempts_total{result=\"delivered\"} %lu\n"
                  "cabinet_webhook_attempts_total{result=\"failed\"} %lu\n",
                  count, __atomic_load_n(&metrics_deliveries.failed, __ATOMIC_RELAXED));
    strbuf_puts(sb, "# HELP cabinet_webhook_delivery_seconds From an event's creation to its "
                    "delivery, for deliveries made here.\n"
                    "# TYPE cabinet_webhook_delivery_seconds histogram\n");
    for (b = 0; b < METRICS_DELIVERY_BUCKETS; b++) {
        cum += __atomic_load_n(&metrics_deliveries.bucket[b], __ATOMIC_RELAXED);
        strbuf_printf(sb, "cabinet_webhook_delivery_seconds_bucket{le=\"%g\"} %lu\n",
                      metrics_delivery_bounds[b], cum);
    }
    strbuf_printf(
        sb,
        "cabinet_webhook_delivery_seconds_bucket{le=\"+Inf\"} %lu\n"
        "cabinet_webhook_delivery_seconds_sum %.3f\n"
        "cabinet_webhook_delivery_seconds_count %lu\n",
        count, (double)__atomic_load_n(&metrics_deliveries.millis, __ATOMIC_RELAXED) / 1e3, count);
}

static const char *const metrics_mail_results[METRICS_MAIL_COUNT] = {"sent", "failed", "dead",
                                                                     "skipped"};
static unsigned long metrics_mails[METRICS_MAIL_COUNT];

void
metrics_mail(enum metrics_mail result)
{
    if ((unsigned)result < METRICS_MAIL_COUNT)
        __atomic_fetch_add(&metrics_mails[result], 1, __ATOMIC_RELAXED);
}

static void
metrics_render_mail(struct strbuf *sb)
{
    size_t i;

    strbuf_puts(sb, "# HELP cabinet_mail_attempts_total E-mail notifications handled here, by "
                    "result.\n"
                    "# TYPE cabinet_mail_attempts_total counter\n");
    for (i = 0; i < METRICS_MAIL_COUNT; i++)
        strbuf_printf(sb, "cabinet_mail_attempts_total{result=\"%s\"} %lu\n",
                      metrics_mail_results[i],
                      __atomic_load_n(&metrics_mails[i], __ATOMIC_RELAXED));
}

static const char *const metrics_db_errors[DB_ERROR_KINDS] = {
    "connection", "unique", "invalid", "retry", "timeout", "read_only", "other"};

static void
metrics_render_db(struct strbuf *sb, struct db_pool *pool)
{
    struct db_stats st;
    int i;

    db_stats(pool, &st);
    strbuf_printf(sb,
                  "# HELP cabinet_db_pool_size Database connections in the pool.\n"
                  "# TYPE cabinet_db_pool_size gauge\n"
                  "cabinet_db_pool_size %d\n"
                  "# HELP cabinet_db_pool_in_use Database connections taken right now.\n"
                  "# TYPE cabinet_db_pool_in_use gauge\n"
                  "cabinet_db_pool_in_use %d\n"
                  "# HELP cabinet_db_pool_waits_total Requests for a connection that found none "
                  "free.\n"
                  "# TYPE cabinet_db_pool_waits_total counter\n"
                  "cabinet_db_pool_waits_total %lu\n"
                  "# HELP cabinet_db_pool_wait_seconds_total Time spent waiting for a free "
                  "connection.\n"
                  "# TYPE cabinet_db_pool_wait_seconds_total counter\n"
                  "cabinet_db_pool_wait_seconds_total %.6f\n"
                  "# HELP cabinet_db_connect_failures_total Failed attempts to connect to the "
                  "database.\n"
                  "# TYPE cabinet_db_connect_failures_total counter\n"
                  "cabinet_db_connect_failures_total %lu\n"
                  "# HELP cabinet_db_errors_total Statements the database refused, by kind.\n"
                  "# TYPE cabinet_db_errors_total counter\n",
                  st.pool_size, st.pool_in_use, st.waits, st.wait_seconds, st.connect_failures);
    for (i = 0; i < DB_ERROR_KINDS; i++)
        strbuf_printf(sb, "cabinet_db_errors_total{kind=\"%s\"} %lu\n", metrics_db_errors[i],
                      st.errors[i]);
}

/* Every state is written, 0 when none is in it, so that a series does not
 * vanish when its last row leaves. */
static const char *const metrics_change_states[] = {"draft",    "awaiting_approval", "approved",
                                                    "rejected", "in_progress",       "review",
                                                    "closed",   "cancelled"};

static long long
metrics_tally(const json_t *tallies, const char *kind, const char *state)
{
    const json_t *row;
    size_t i;

    json_array_foreach(
        json_object_get(tallies, "states"), i,
        row) if (strcmp(json_string_value(json_object_get(row, "kind")) ?: "", kind) == 0 &&
                 (state == NULL ||
                  strcmp(json_string_value(json_object_get(row, "state")) ?: "", state) ==
                      0)) return json_integer_value(json_object_get(row, "n"));
    return 0;
}

void
metrics_render_tallies(struct strbuf *sb, const json_t *tallies)
{
    long long created = json_integer_value(json_object_get(tallies, "created_30d"));
    long long emergency = json_integer_value(json_object_get(tallies, "emergency_30d"));
    size_t i;

    strbuf_puts(sb, "# HELP cabinet_changes Changes by state.\n"
                    "# TYPE cabinet_changes gauge\n");
    for (i = 0; i < sizeof metrics_change_states / sizeof metrics_change_states[0]; i++)
        strbuf_printf(sb, "cabinet_changes{state=\"%s\"} %lld\n", metrics_change_states[i],
                      metrics_tally(tallies, "change", metrics_change_states[i]));
    strbuf_printf(
        sb,
        "# HELP cabinet_conflicts_open Conflicts not resolved, by state.\n"
        "# TYPE cabinet_conflicts_open gauge\n"
        "cabinet_conflicts_open{state=\"open\"} %lld\n"
        "cabinet_conflicts_open{state=\"acknowledged\"} %lld\n"
        "# HELP cabinet_webhook_deliveries Webhook deliveries by state.\n"
        "# TYPE cabinet_webhook_deliveries gauge\n"
        "cabinet_webhook_deliveries{state=\"pending\"} %lld\n"
        "cabinet_webhook_deliveries{state=\"dead\"} %lld\n"
        "cabinet_webhook_deliveries{state=\"delivered\"} %lld\n"
        "# HELP cabinet_changes_created_30d Changes created in the last 30 days (UTC, today "
        "included).\n"
        "# TYPE cabinet_changes_created_30d gauge\n"
        "cabinet_changes_created_30d %lld\n"
        "# HELP cabinet_changes_emergency_30d Emergency changes among them.\n"
        "# TYPE cabinet_changes_emergency_30d gauge\n"
        "cabinet_changes_emergency_30d %lld\n"
        "# HELP cabinet_changes_emergency_share_30d Emergency changes over all changes created "
        "in the last 30 days (0 when none).\n"
        "# TYPE cabinet_changes_emergency_share_30d gauge\n"
        "cabinet_changes_emergency_share_30d %g\n",
        metrics_tally(tallies, "conflict", "open"),
        metrics_tally(tallies, "conflict", "acknowledged"),
        metrics_tally(tallies, "delivery", "pending"), metrics_tally(tallies, "delivery", "dead"),
        metrics_tally(tallies, "delivery", "delivered"), created, emergency,
        created > 0 ? (double)emergency / (double)created : 0.0);
}

static int metrics_n;

int
metrics_init(int nroutes)
{
    metrics_n = nroutes + METRICS_EXTRA;
    metrics_slots = calloc((size_t)metrics_n, sizeof *metrics_slots);
    return metrics_slots ? 0 : -1;
}

void
metrics_free(void)
{
    free(metrics_slots);
    metrics_slots = NULL;
}

void
metrics_observe(int slot, int status, double seconds)
{
    struct metrics_slot *m;
    size_t b;

    if (metrics_slots == NULL || slot < 0 || slot >= metrics_n)
        return;
    m = &metrics_slots[slot];
    if (status >= 100 && status < 100 + METRICS_STATUSES)
        __atomic_fetch_add(&m->status[status - 100], 1, __ATOMIC_RELAXED);
    for (b = 0; b < METRICS_BUCKETS; b++)
        if (seconds <= metrics_bounds[b]) {
            __atomic_fetch_add(&m->bucket[b], 1, __ATOMIC_RELAXED);
            break;
        }
    __atomic_fetch_add(&m->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->micros, (unsigned long)(seconds * 1e6), __ATOMIC_RELAXED);
}

void
metrics_render(struct strbuf *sb, const char *const *methods, const char *const *routes,
               struct db_pool *pool)
{
    int i, s;
    size_t b;

    strbuf_puts(sb, "# HELP cabinet_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE cabinet_http_requests_total counter\n");
    for (i = 0; i < metrics_n; i++)
        for (s = 0; s < METRICS_STATUSES; s++) {
            unsigned long v = __atomic_load_n(&metrics_slots[i].status[s], __ATOMIC_RELAXED);
            if (v)
                strbuf_printf(sb,
                              "cabinet_http_requests_total{method=\"%s\",route=\"%s\","
                              "status=\"%d\"} %lu\n",
                              methods[i], routes[i], s + 100, v);
        }
    strbuf_puts(sb, "# HELP cabinet_http_request_duration_seconds Time to answer, by route.\n"
                    "# TYPE cabinet_http_request_duration_seconds histogram\n");
    for (i = 0; i < metrics_n; i++) {
        unsigned long count = __atomic_load_n(&metrics_slots[i].count, __ATOMIC_RELAXED);
        unsigned long cum = 0;

        if (count == 0)
            continue;
        for (b = 0; b < METRICS_BUCKETS; b++) {
            cum += __atomic_load_n(&metrics_slots[i].bucket[b], __ATOMIC_RELAXED);
            strbuf_printf(sb,
                          "cabinet_http_request_duration_seconds_bucket{method=\"%s\","
                          "route=\"%s\",le=\"%g\"} %lu\n",
                          methods[i], routes[i], metrics_bounds[b], cum);
        }
        strbuf_printf(sb,
                      "cabinet_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                      "le=\"+Inf\"} %lu\n"
                      "cabinet_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} "
                      "%.6f\n"
                      "cabinet_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} "
                      "%lu\n",
                      methods[i], routes[i], count, methods[i], routes[i],
                      (double)__atomic_load_n(&metrics_slots[i].micros, __ATOMIC_RELAXED) / 1e6,
                      methods[i], routes[i], count);
    }
    metrics_render_hooks(sb);
    metrics_render_deliveries(sb);
    metrics_render_mail(sb);
    metrics_render_db(sb, pool);
}
