/*
 * Conflict rules (README "Conflicts and the schedule") through the db/
 * layer: windows are half-open, impact sets follow the service map upwards
 * (dependency chains, cycles), a freeze without services covers every
 * service, each pair is stored once and goes open → acknowledged →
 * resolved, and two changes submitted at once on two connections still see
 * each other. Each test keeps to a day of its own and services of its own
 * prefix.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"
#include "db/db_key.h"
#include "db/db_schedule.h"
#include "dbt.h"

#define CHECK_OK(expr) CHECK_INT((expr), OK)

void
test_conflict_windows(void)
{
    static const struct {
        const char *what;
        int from, to; /* minutes into the day; the other change has [600, 720) */
        const char *want;
    } rows[] = {
        {"ends where the other starts", 480, 600, "none"},
        {"starts where the other ends", 720, 840, "none"},
        {"well before", 60, 120, "none"},
        {"overlaps its start", 540, 660, "open:w-svc"},
        {"overlaps its end", 690, 780, "open:w-svc"},
        {"inside it", 620, 700, "open:w-svc"},
        {"around it", 500, 800, "open:w-svc"},
        {"the same window", 600, 720, "open:w-svc"},
        {"a minute in common at the end", 719, 800, "open:w-svc"},
        {"a minute in common at the start", 540, 601, "open:w-svc"},
    };
    int64_t base, id;
    size_t i;

    dbt_service("w-svc", "");
    dbt_service("w-else", "");
    base = dbt_change(dbt_db, "[\"w-svc\"]", 1, 600, 720);
    CHECK(base > 0);
    CHECK_OK(dbt_submit(dbt_db, base));
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s: [%d, %d)", rows[i].what, rows[i].from, rows[i].to);
        id = dbt_change(dbt_db, "[\"w-svc\"]", 1, rows[i].from, rows[i].to);
        CHECK(id > 0);
        CHECK_STR(dbt_pair(base, id), "none"); /* a draft conflicts with nothing */
        CHECK_OK(dbt_submit(dbt_db, id));
        CHECK_STR(dbt_pair(base, id), rows[i].want);
        CHECK_OK(dbt_cancel(dbt_db, id));
        CHECK_STR(dbt_pair(base, id),
                  strcmp(rows[i].want, "none") == 0 ? "none" : "resolved:w-svc");
    }
    unit_row("the same window on another service");
    id = dbt_change(dbt_db, "[\"w-else\"]", 1, 600, 720);
    CHECK_OK(dbt_submit(dbt_db, id));
    CHECK_STR(dbt_pair(base, id), "none");
    unit_row("a change never conflicts with itself");
    CHECK_STR(dbt_sql("SELECT count(*) FROM conflicts WHERE change_a = change_b"), "0");
}

void
test_conflict_stored_once(void)
{
    int64_t a, b, c;

    dbt_service("o-a", "");
    dbt_service("o-b", "");
    a = dbt_change(dbt_db, "[\"o-a\", \"o-b\"]", 2, 600, 720);
    b = dbt_change(dbt_db, "[\"o-a\", \"o-b\"]", 2, 660, 780);
    c = dbt_change(dbt_db, "[\"o-b\"]", 2, 700, 710);
    CHECK_OK(dbt_submit(dbt_db, a));
    CHECK_OK(dbt_submit(dbt_db, b));
    CHECK_OK(dbt_submit(dbt_db, c));
    unit_row("one record per pair, naming the services in common");
    CHECK_STR(dbt_pair(a, b), "open:o-a+o-b");
    CHECK_STR(dbt_pair(a, c), "open:o-b");
    CHECK_STR(dbt_pair(b, c), "open:o-b");
    unit_row("re-assessing both keeps the one record");
    CHECK_OK(dbt_edit(dbt_db, a, "[\"o-a\", \"o-b\"]", 2, 600, 720));
    CHECK_OK(dbt_edit(dbt_db, b, "[\"o-a\", \"o-b\"]", 2, 660, 780));
    CHECK_STR(dbt_sql("SELECT count(*) FROM conflicts WHERE kind = 'change'"
                      " AND change_a = %lld AND change_b = %lld",
                      (long long)(a < b ? a : b), (long long)(a < b ? b : a)),
              "1");
    CHECK_STR(dbt_pair(a, b), "open:o-a+o-b");
    unit_row("dropping a service narrows the record");
    CHECK_OK(dbt_edit(dbt_db, b, "[\"o-a\"]", 2, 660, 780));
    CHECK_STR(dbt_pair(a, b), "open:o-a");
    CHECK_STR(dbt_pair(b, c), "resolved:o-b");
}

void
test_conflict_dependency_chain(void)
{
    int64_t base, web, batch;

    /* c-web → c-api → c-db and c-batch → c-db: a change to c-db touches all */
    dbt_service("c-db", "");
    dbt_service("c-api", "c-db");
    dbt_service("c-web", "c-api");
    dbt_service("c-batch", "c-db");
    base = dbt_change(dbt_db, "[\"c-db\"]", 3, 600, 720);
    web = dbt_change(dbt_db, "[\"c-web\"]", 3, 660, 780);
    batch = dbt_change(dbt_db, "[\"c-batch\"]", 3, 600, 720);
    CHECK_OK(dbt_submit(dbt_db, base));
    CHECK_OK(dbt_submit(dbt_db, web));
    CHECK_OK(dbt_submit(dbt_db, batch));
    unit_row("impact sets");
    CHECK_STR(dbt_impact(base), "c-api,c-batch,c-db,c-web");
    CHECK_STR(dbt_impact(web), "c-web");
    unit_row("two levels up the chain");
    CHECK_STR(dbt_pair(base, web), "open:c-web");
    unit_row("a sibling branch");
    CHECK_STR(dbt_pair(base, batch), "open:c-batch");
    CHECK_STR(dbt_pair(web, batch), "none");
}

void
test_conflict_dependency_direction(void)
{
    int64_t top, side, base;

    dbt_service("d-base", "");
    dbt_service("d-top", "d-base");
    dbt_service("d-side", "d-base");
    top = dbt_change(dbt_db, "[\"d-top\"]", 4, 600, 720);
    side = dbt_change(dbt_db, "[\"d-side\"]", 4, 600, 720);
    CHECK_OK(dbt_submit(dbt_db, top));
    CHECK_OK(dbt_submit(dbt_db, side));
    unit_row("changing a dependant leaves what it depends on alone");
    CHECK_STR(dbt_impact(top), "d-top");
    CHECK_STR(dbt_pair(top, side), "none");
    unit_row("changing what both depend on meets both");
    base = dbt_change(dbt_db, "[\"d-base\"]", 4, 700, 800);
    CHECK_OK(dbt_submit(dbt_db, base));
    CHECK_STR(dbt_pair(top, base), "open:d-top");
    CHECK_STR(dbt_pair(side, base), "open:d-side");
}

void
test_conflict_cycle(void)
{
    int64_t x, z, w;

    /* y-x → y-z → y-y → y-x, and y-w → y-y outside the cycle */
    dbt_service("y-x", "");
    dbt_service("y-y", "");
    dbt_service("y-z", "");
    dbt_service("y-w", "");
    dbt_sql("INSERT INTO service_deps (service, depends_on) VALUES"
            " ('y-x', 'y-z'), ('y-z', 'y-y'), ('y-y', 'y-x'), ('y-w', 'y-y')");
    x = dbt_change(dbt_db, "[\"y-x\"]", 5, 600, 720);
    z = dbt_change(dbt_db, "[\"y-z\"]", 5, 700, 800);
    w = dbt_change(dbt_db, "[\"y-w\"]", 5, 600, 800);
    CHECK_OK(dbt_submit(dbt_db, x));
    CHECK_OK(dbt_submit(dbt_db, z));
    CHECK_OK(dbt_submit(dbt_db, w));
    unit_row("the walk ends and takes in the whole cycle");
    CHECK_STR(dbt_impact(x), "y-w,y-x,y-y,y-z");
    CHECK_STR(dbt_impact(z), "y-w,y-x,y-y,y-z");
    CHECK_STR(dbt_impact(w), "y-w");
    CHECK_STR(dbt_pair(x, z), "open:y-w+y-x+y-y+y-z");
    CHECK_STR(dbt_pair(x, w), "open:y-w");
    CHECK_STR(dbt_pair(z, w), "open:y-w");
}

void
test_conflict_edit_and_cancel(void)
{
    int64_t a, b, kid;

    dbt_service("e-svc", "");
    a = dbt_change(dbt_db, "[\"e-svc\"]", 6, 600, 720);
    b = dbt_change(dbt_db, "[\"e-svc\"]", 6, 660, 780);
    CHECK_OK(dbt_submit(dbt_db, a));
    CHECK_OK(dbt_submit(dbt_db, b));
    CHECK_STR(dbt_pair(a, b), "open:e-svc");
    kid = strtoll(dbt_sql("SELECT id FROM conflicts WHERE kind = 'change' AND change_a = %lld",
                          (long long)(a < b ? a : b)),
                  NULL, 10);
    unit_row("acknowledged stays acknowledged while still true");
    CHECK_OK(db_schedule_acknowledge(dbt_db, "system", kid, dbt_user, "both teams agree"));
    CHECK_INT(db_schedule_acknowledge(dbt_db, "system", kid, dbt_user, "again"), ERR_CONFLICT);
    CHECK_OK(dbt_edit(dbt_db, b, "[\"e-svc\"]", 6, 650, 780));
    CHECK_STR(dbt_pair(a, b), "acknowledged:e-svc");
    unit_row("moving apart resolves it");
    CHECK_OK(dbt_edit(dbt_db, b, "[\"e-svc\"]", 6, 720, 780));
    CHECK_STR(dbt_pair(a, b), "resolved:e-svc");
    unit_row("moving back reopens the same record");
    CHECK_OK(dbt_edit(dbt_db, b, "[\"e-svc\"]", 6, 700, 780));
    CHECK_STR(dbt_pair(a, b), "open:e-svc");
    CHECK_STR(dbt_sql("SELECT id FROM conflicts WHERE kind = 'change' AND change_a = %lld",
                      (long long)(a < b ? a : b)),
              dbt_sql("SELECT %lld", (long long)kid));
    unit_row("cancelling one resolves it");
    CHECK_OK(dbt_cancel(dbt_db, a));
    CHECK_STR(dbt_pair(a, b), "resolved:e-svc");
    CHECK_STR(dbt_impact(a), "");
}

void
test_conflict_global_freeze(void)
{
    int64_t a, b, c, all;

    dbt_service("g-a", "");
    dbt_service("g-a2", "g-a");
    dbt_service("g-b", "");
    dbt_service("g-c", "");
    a = dbt_change(dbt_db, "[\"g-a\"]", 7, 600, 720);
    b = dbt_change(dbt_db, "[\"g-b\"]", 7, 900, 960);
    CHECK_OK(dbt_submit(dbt_db, a));
    CHECK_OK(dbt_submit(dbt_db, b));
    unit_row("a freeze without services covers the whole impact set");
    all = dbt_freeze("g-all", "[]", 7, 660, 700, true);
    CHECK(all > 0);
    CHECK_STR(dbt_frozen(a, "g-all"), "open:g-a+g-a2");
    CHECK_STR(dbt_frozen(b, "g-all"), "none");
    unit_row("a freeze that only touches both windows");
    CHECK(dbt_freeze("g-touch", "[]", 7, 720, 900, false) > 0);
    CHECK_STR(dbt_frozen(a, "g-touch"), "none");
    CHECK_STR(dbt_frozen(b, "g-touch"), "none");
    unit_row("moving the freeze resolves one and opens the other");
    CHECK_OK(dbt_freeze_move(all, "g-all", "[]", 7, 800, 1000));
    CHECK_STR(dbt_frozen(a, "g-all"), "resolved:g-a+g-a2");
    CHECK_STR(dbt_frozen(b, "g-all"), "open:g-b");
    unit_row("deleting the freeze resolves what it caused");
    CHECK_OK(db_freeze_delete(dbt_db, "system", all));
    CHECK_STR(dbt_frozen(b, "g-all"), "resolved:g-b");
    unit_row("a freeze in place before the submit");
    CHECK(dbt_freeze("g-early", "[]", 7, 0, 100, true) > 0);
    c = dbt_change(dbt_db, "[\"g-c\"]", 7, 50, 80);
    CHECK_STR(dbt_frozen(c, "g-early"), "none");
    CHECK_OK(dbt_submit(dbt_db, c));
    CHECK_STR(dbt_frozen(c, "g-early"), "open:g-c");
}

void
test_conflict_service_freeze(void)
{
    int64_t base, top;

    dbt_service("f-base", "");
    dbt_service("f-top", "f-base");
    dbt_service("f-other", "");
    base = dbt_change(dbt_db, "[\"f-base\"]", 8, 600, 720);
    top = dbt_change(dbt_db, "[\"f-top\"]", 8, 800, 900);
    CHECK_OK(dbt_submit(dbt_db, base));
    CHECK_OK(dbt_submit(dbt_db, top));
    unit_row("a soft freeze on a service of the impact set");
    CHECK(dbt_freeze("f-on-top", "[\"f-top\"]", 8, 600, 720, false) > 0);
    CHECK_STR(dbt_frozen(base, "f-on-top"), "open:f-top");
    unit_row("a freeze on an unrelated service");
    CHECK(dbt_freeze("f-on-other", "[\"f-other\"]", 8, 0, 1439, true) > 0);
    CHECK_STR(dbt_frozen(base, "f-on-other"), "none");
    CHECK_STR(dbt_frozen(top, "f-on-other"), "none");
    unit_row("a freeze on what the change's service depends on");
    CHECK(dbt_freeze("f-on-base", "[\"f-base\"]", 8, 800, 900, true) > 0);
    CHECK_STR(dbt_frozen(top, "f-on-base"), "none");
}

/* Two changes on one service with overlapping windows, submitted at the same
 * moment on two connections: whichever commits second must see the first. */
#define DBT_ROUNDS 8

struct dbt_racer {
    struct db *db;
    pthread_barrier_t *start;
    int64_t id;
    enum outcome rc;
};

static void *
dbt_race(void *arg)
{
    struct dbt_racer *r = arg;

    pthread_barrier_wait(r->start);
    r->rc = dbt_submit(r->db, r->id);
    return NULL;
}

void
test_conflict_concurrent_submits(void)
{
    struct dbt_racer racers[2];
    pthread_barrier_t start;
    pthread_t threads[2];
    char svc[32], services[48], want[48];
    int round, i;

    memset(racers, 0, sizeof racers);
    for (i = 0; i < 2; i++)
        if (!CHECK_OK(db_connect(getenv("CABINET_DATABASE_URL"), &racers[i].db)))
            goto out;
    for (round = 0; round < DBT_ROUNDS; round++) {
        unit_row("round %d", round);
        snprintf(svc, sizeof svc, "k-%d", round);
        snprintf(services, sizeof services, "[\"%s\"]", svc);
        snprintf(want, sizeof want, "open:%s", svc);
        dbt_service(svc, "");
        for (i = 0; i < 2; i++)
            racers[i].id = dbt_change(dbt_db, services, 10 + round, 600 + 30 * i, 720 + 30 * i);
        pthread_barrier_init(&start, NULL, 2);
        for (i = 0; i < 2; i++) {
            racers[i].start = &start;
            pthread_create(&threads[i], NULL, dbt_race, &racers[i]);
        }
        for (i = 0; i < 2; i++)
            pthread_join(threads[i], NULL);
        pthread_barrier_destroy(&start);
        CHECK_OK(racers[0].rc);
        CHECK_OK(racers[1].rc);
        CHECK_STR(dbt_pair(racers[0].id, racers[1].id), want);
    }
out:
    for (i = 0; i < 2; i++)
        db_disconnect(racers[i].db);
}

/* A submit on a connection of its own that, once its conflicts are
 * refreshed, holds its transaction (and its locks) open until released. */
struct dbt_holder {
    struct db *db;
    int64_t id;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool refreshed, release;
    enum outcome rc;
};

static void
dbt_hold(void *arg)
{
    struct dbt_holder *h = arg;

    pthread_mutex_lock(&h->mu);
    h->refreshed = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->release)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void *
dbt_holder_run(void *arg)
{
    struct dbt_holder *h = arg;

    h->rc = dbt_submit_held(h->db, h->id, dbt_hold, h);
    pthread_mutex_lock(&h->mu);
    h->refreshed = true; /* also when it failed before its refresh */
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Starts h submitting h->id and returns once it holds its refresh open. */
static void
dbt_holder_start(struct dbt_holder *h, pthread_t *thread)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->refreshed = h->release = false;
    pthread_create(thread, NULL, dbt_holder_run, h);
    pthread_mutex_lock(&h->mu);
    while (!h->refreshed)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void
dbt_holder_finish(struct dbt_holder *h, pthread_t thread)
{
    pthread_mutex_lock(&h->mu);
    h->release = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

/* A submit on another connection while A holds its refresh open: in
 * another week it must not wait for A's locks at all, which lock_timeout
 * turns into a failure (55P03, ERR_UNAVAILABLE) if it does. */
void
test_conflict_other_days_do_not_wait(void)
{
    struct dbt_holder a = {0};
    struct db *b_db = NULL;
    pthread_t thread;
    int64_t b;

    dbt_service("q-svc", "");
    if (!CHECK_OK(db_connect(getenv("CABINET_DATABASE_URL"), &a.db)) ||
        !CHECK_OK(db_connect(getenv("CABINET_DATABASE_URL"), &b_db)))
        goto out;
    a.id = dbt_change(dbt_db, "[\"q-svc\"]", 20, 600, 720);
    b = dbt_change(dbt_db, "[\"q-svc\"]", 27, 600, 720);
    CHECK(a.id > 0 && b > 0);
    dbt_holder_start(&a, &thread);
    unit_row("A holds the locks of its day");
    CHECK_STR(dbt_sql("SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory'"
                      " AND granted AND pid = %d AND classid = 1667326564",
                      PQbackendPID(db_conn(a.db))),
              "t");
    unit_row("B a week later does not wait for them");
    PQclear(PQexec(db_conn(b_db), "SET lock_timeout = '3s'"));
    CHECK_OK(dbt_submit(b_db, b));
    unit_row("nor does a freeze in a third week");
    PQclear(PQexec(db_conn(dbt_db), "SET lock_timeout = '3s'"));
    CHECK(dbt_freeze("q-later", "[\"q-svc\"]", 30, 0, 100, true) > 0);
    PQclear(PQexec(db_conn(dbt_db), "RESET lock_timeout"));
    dbt_holder_finish(&a, thread);
    CHECK_OK(a.rc);
    CHECK_STR(dbt_pair(a.id, b), "none");
    CHECK_STR(dbt_sql("SELECT state FROM changes WHERE id = %lld", (long long)b),
              "awaiting_approval");
out:
    db_disconnect(a.db);
    db_disconnect(b_db);
}

struct dbt_waiter {
    struct db *db;
    int64_t id;
    volatile int done; /* written by the waiter's thread, read after join */
    enum outcome rc;
};

static void *
dbt_waiter_run(void *arg)
{
    struct dbt_waiter *w = arg;

    w->rc = dbt_submit(w->db, w->id);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Overlapping windows: B's submit waits on a lock of A's day (pg_locks
 * shows its request not granted) until A commits, then sees A. */
void
test_conflict_overlapping_windows_wait(void)
{
    struct dbt_holder a = {0};
    struct dbt_waiter b = {0};
    pthread_t ta, tb;
    const char *waiting = "0";
    int i;

    dbt_service("v-svc", "");
    if (!CHECK_OK(db_connect(getenv("CABINET_DATABASE_URL"), &a.db)) ||
        !CHECK_OK(db_connect(getenv("CABINET_DATABASE_URL"), &b.db)))
        goto out;
    a.id = dbt_change(dbt_db, "[\"v-svc\"]", 21, 600, 720);
    b.id = dbt_change(dbt_db, "[\"v-svc\"]", 21, 660, 780);
    CHECK(a.id > 0 && b.id > 0);
    dbt_holder_start(&a, &ta);
    pthread_create(&tb, NULL, dbt_waiter_run, &b);
    unit_row("B waits for a day lock A holds");
    for (i = 0; i < 3000 && strcmp(waiting, "1") != 0; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};

        waiting = dbt_sql("SELECT count(*) FROM pg_locks w JOIN pg_locks h"
                          " ON h.locktype = 'advisory' AND h.granted AND h.pid = %d"
                          " AND h.classid = w.classid AND h.objid = w.objid"
                          " AND h.objsubid = w.objsubid"
                          " WHERE w.locktype = 'advisory' AND NOT w.granted AND w.pid = %d",
                          PQbackendPID(db_conn(a.db)), PQbackendPID(db_conn(b.db)));
        if (strcmp(waiting, "1") != 0)
            nanosleep(&pause, NULL);
    }
    CHECK_STR(waiting, "1");
    CHECK_INT(__atomic_load_n(&b.done, __ATOMIC_SEQ_CST), 0);
    unit_row("once A commits, B goes on and sees it");
    dbt_holder_finish(&a, ta);
    pthread_join(tb, NULL);
    CHECK_OK(a.rc);
    CHECK_OK(b.rc);
    CHECK_STR(dbt_pair(a.id, b.id), "open:v-svc");
out:
    db_disconnect(a.db);
    db_disconnect(b.db);
}
