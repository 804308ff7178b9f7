#include "http/metrics.h"

#include <stdlib.h>

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
    int i, s, size = 0, in_use = 0;
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
    if (pool != NULL)
        db_pool_stats(pool, &size, &in_use);
    strbuf_printf(sb,
                  "# HELP cabinet_db_pool_size Database connections in the pool.\n"
                  "# TYPE cabinet_db_pool_size gauge\n"
                  "cabinet_db_pool_size %d\n"
                  "# HELP cabinet_db_pool_in_use Database connections taken right now.\n"
                  "# TYPE cabinet_db_pool_in_use gauge\n"
                  "cabinet_db_pool_in_use %d\n",
                  size, in_use);
}
