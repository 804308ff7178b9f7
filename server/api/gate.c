/* The gate: whether a pipeline may deploy a change now, and the clients
 * long-polling until it may. */
#include "api/gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_gate.h"
#include "domain/decision.h"

#define GATE_WAIT_MAX 900
/* How long a shutdown waits for the waiters it woke to have answered. */
#define GATE_DRAIN_S 5

struct gate_waiters;

/* One client waiting on the gate of a change. */
struct gate_slot {
    struct gate_waiters *w;
    pthread_cond_t cond; /* on the CLOCK_MONOTONIC */
    int64_t change_id;
    bool used;
    bool woken; /* something happened since the waiter last looked */
};

/* A slot is taken from the first look that must wait until the response
 * is written, so that a shutdown can wait for the waiters' answers. */

struct gate_waiters {
    pthread_mutex_t lock;
    pthread_cond_t drained; /* nused fell to 0 */
    bool stopping;
    int cap, nused;
    struct gate_slot *slots;
};

struct gate_waiters *
gate_waiters_new(int cap)
{
    struct gate_waiters *w = calloc(1, sizeof *w);
    pthread_condattr_t attr;
    int i;

    if (w == NULL || (w->slots = calloc((size_t)cap, sizeof *w->slots)) == NULL) {
        free(w);
        return NULL;
    }
    w->cap = cap;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->drained, &attr);
    for (i = 0; i < cap; i++) {
        w->slots[i].w = w;
        pthread_cond_init(&w->slots[i].cond, &attr);
    }
    pthread_condattr_destroy(&attr);
    return w;
}

void
gate_waiters_free(struct gate_waiters *w)
{
    int i;

    if (w == NULL)
        return;
    for (i = 0; i < w->cap; i++)
        pthread_cond_destroy(&w->slots[i].cond);
    pthread_cond_destroy(&w->drained);
    pthread_mutex_destroy(&w->lock);
    free(w->slots);
    free(w);
}

/* Wakes the waiters of change_id (0: all); w->lock held. */
static void
gate_wake_locked(struct gate_waiters *w, int64_t change_id)
{
    int i;

    for (i = 0; i < w->cap; i++) {
        struct gate_slot *s = &w->slots[i];

        if (s->used && (change_id == 0 || s->change_id == change_id)) {
            s->woken = true;
            pthread_cond_signal(&s->cond);
        }
    }
}

void
gate_waiters_wake(void *arg, int64_t change_id)
{
    struct gate_waiters *w = arg;

    pthread_mutex_lock(&w->lock);
    gate_wake_locked(w, change_id);
    pthread_mutex_unlock(&w->lock);
}

void
gate_waiters_stop(struct gate_waiters *w)
{
    struct timespec until;

    if (w == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += GATE_DRAIN_S;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    gate_wake_locked(w, 0);
    while (w->nused > 0 && pthread_cond_timedwait(&w->drained, &w->lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&w->lock);
}

/* A free slot for a waiter on change_id, or NULL when cap clients wait
 * already or (*stopping) the server is stopping. */
static struct gate_slot *
gate_slot_take(struct gate_waiters *w, int64_t change_id, bool *stopping)
{
    struct gate_slot *s = NULL;
    int i;

    pthread_mutex_lock(&w->lock);
    *stopping = w->stopping;
    for (i = 0; i < w->cap && !w->stopping; i++)
        if (!w->slots[i].used) {
            s = &w->slots[i];
            s->used = true;
            w->nused++;
            s->woken = false;
            s->change_id = change_id;
            break;
        }
    pthread_mutex_unlock(&w->lock);
    return s;
}

/* Gives the slot back once its client has the answer (http_ctx.sent). */
static void
gate_slot_sent(void *arg)
{
    struct gate_slot *s = arg;
    struct gate_waiters *w = s->w;

    pthread_mutex_lock(&w->lock);
    s->used = false;
    s->woken = false;
    if (--w->nused == 0)
        pthread_cond_broadcast(&w->drained);
    pthread_mutex_unlock(&w->lock);
}

/* Forgets what woke the waiter before it looks again: whatever comes
 * after this wakes it, so nothing that lands while it looks is missed. */
static void
gate_slot_arm(struct gate_waiters *w, struct gate_slot *s)
{
    pthread_mutex_lock(&w->lock);
    s->woken = false;
    pthread_mutex_unlock(&w->lock);
}

/* Sleeps until the waiter is woken, the server stops, or until (on the
 * monotonic clock). False when the server is stopping. */
static bool
gate_slot_sleep(struct gate_waiters *w, struct gate_slot *s, const struct timespec *until)
{
    bool going_on;

    pthread_mutex_lock(&w->lock);
    while (!s->woken && !w->stopping &&
           pthread_cond_timedwait(&s->cond, &w->lock, until) != ETIMEDOUT)
        ;
    going_on = !w->stopping;
    pthread_mutex_unlock(&w->lock);
    return going_on;
}

/* What the gate says now. */
struct gate_look {
    struct db_gate g;
    struct gate_out out;
};

/* Loads the gate of token and decides on it, on a connection of the pool
 * taken for this alone (a waiter holds none while it sleeps). */
static enum outcome
gate_look(struct http_ctx *ctx, const char *token, struct gate_look *lk)
{
    struct gate_in in;
    enum outcome rc;

    memset(lk, 0, sizeof *lk);
    if ((rc = db_acquire(ctx->app->pool, &ctx->db)) != OK) {
        ctx->db = NULL;
        return http_fail(ctx, rc, "the database is unavailable; try again shortly");
    }
    rc = db_gate_load(ctx->db, token, &lk->g);
    db_release(ctx->app->pool, ctx->db);
    ctx->db = NULL;
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no change has this gate token");
    if (rc != OK)
        return rc;
    in = (struct gate_in){&lk->g.change, lk->g.now_ms / 1000, lk->g.hard_frozen, lk->g.freeze_next};
    decision_gate(&in, &lk->out);
    return OK;
}

/* `wait`: absent 0, else a whole number of seconds 0..900. */
static enum outcome
gate_wait_param(struct http_ctx *ctx, int *wait)
{
    char buf[8];
    int got = http_query(ctx, "wait", buf, sizeof buf);
    size_t len = got > 0 ? strlen(buf) : 0;

    *wait = 0;
    if (got == 0)
        return OK;
    if (got < 0 || len == 0 || len > 3 || strspn(buf, "0123456789") != len ||
        (*wait = atoi(buf)) > GATE_WAIT_MAX)
        http_field(ctx, "wait", "must be a whole number of seconds from 0 to %d", GATE_WAIT_MAX);
    return http_fields_ok(ctx);
}

/* The moment, on the monotonic clock, to look again: the end of the wait,
 * or sooner the next moment the answer can change by itself. */
static struct timespec
gate_until(const struct timespec *deadline, const struct gate_look *lk)
{
    struct timespec now, t = *deadline;
    int64_t ms;

    if (lk->out.next == 0)
        return t;
    ms = lk->out.next * 1000 - lk->g.now_ms;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_sec += ms / 1000;
    now.tv_nsec += (ms % 1000) * 1000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    if (now.tv_sec < t.tv_sec || (now.tv_sec == t.tv_sec && now.tv_nsec < t.tv_nsec))
        t = now;
    return t;
}

static bool
gate_passed(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Waits up to wait seconds for the gate to open, looking again whenever
 * the change or a freeze moved or the next moment comes; *lk is what holds
 * when it returns. */
static enum outcome
gate_wait(struct http_ctx *ctx, const char *token, int wait, struct gate_look *lk)
{
    struct gate_waiters *w = ctx->app->gate;
    struct timespec deadline, until;
    struct gate_slot *s;
    enum outcome rc = OK;
    bool going_on = true, stopping;

    if ((s = gate_slot_take(w, lk->g.change.id, &stopping)) == NULL) {
        if (stopping)
            return OK; /* answered at once: the server is going away */
        ctx->retry_after = GATE_RETRY_AFTER;
        return http_fail(ctx, ERR_UNAVAILABLE,
                         "%d clients wait on gates already, the most this server lets wait; "
                         "try again later, or ask without wait",
                         w->cap);
    }
    ctx->sent = gate_slot_sent;
    ctx->sent_arg = s;
    /* the waiter cap bounds waiters, not the per-client one (README "Gate") */
    http_uncount(ctx);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait;
    /* looks once more with the slot taken: what landed since the first
     * look has woken no one */
    for (;;) {
        gate_slot_arm(w, s);
        if ((rc = gate_look(ctx, token, lk)) != OK || lk->out.reason == GATE_ALLOWED || !going_on ||
            gate_passed(&deadline))
            break;
        until = gate_until(&deadline, lk);
        going_on = gate_slot_sleep(w, s, &until);
    }
    return rc;
}

/* The flags of c as the API names them. */
static json_t *
gate_flags(const struct change *c)
{
    json_t *a = json_array();

    if (c->flags & CHANGE_UNAUTHORIZED)
        json_array_append_new(a, json_string("unauthorized"));
    if (c->flags & CHANGE_RETROSPECTIVE)
        json_array_append_new(a, json_string("retrospective"));
    return a;
}

static enum outcome
gate_reply(struct http_ctx *ctx, const struct gate_look *lk)
{
    const struct change *c = &lk->g.change;
    char ref[32];
    json_t *body;

    snprintf(ref, sizeof ref, "CHG-%lld", (long long)c->id);
    if (lk->out.reason == GATE_ALLOWED)
        body = json_pack("{s:b, s:s, s:s, s:o}", "allowed", 1, "ref", ref, "state",
                         lifecycle_state_name(c->state), "flags", gate_flags(c));
    else
        body = json_pack("{s:b, s:s, s:s, s:s}", "allowed", 0, "ref", ref, "state",
                         lifecycle_state_name(c->state), "reason",
                         decision_gate_reason_name(lk->out.reason));
    if (body == NULL)
        return ERR_INTERNAL;
    http_reply(ctx, lk->out.reason == GATE_ALLOWED ? 200 : 409, body);
    return OK;
}

enum outcome
api_gate(struct http_ctx *ctx)
{
    const char *token = http_param(ctx, 0);
    struct gate_look lk;
    enum outcome rc;
    int wait;

    if ((rc = gate_look(ctx, token, &lk)) != OK || (rc = gate_wait_param(ctx, &wait)) != OK)
        return rc;
    /* the first look is made before a slot is taken: an open gate, or a
     * caller who would not wait, needs none */
    if (lk.out.reason != GATE_ALLOWED && wait > 0 && ctx->app->gate != NULL &&
        (rc = gate_wait(ctx, token, wait, &lk)) != OK)
        return rc;
    return gate_reply(ctx, &lk);
}
