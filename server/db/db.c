#include "db/db_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DB_MAX_STMTS 512
#define DB_WAIT_SECONDS 5
/* A lost connection that reopens at once is logged at most this often. */
#define DB_LOSS_LOG_MS 60000
#define DB_WHY 256

struct db_stmt {
    const char *sql;
    char name[12];
};

struct db {
    PGconn *conn;
    char *url;
    bool taken;
    /* the server said it ends the session (a FATAL notice: a shutdown, a
     * terminated backend) or a statement found the connection lost: it is
     * opened afresh before its next use */
    bool broken;
    /* a statement whose first attempt was lost runs again in a read-only
     * transaction: PostgreSQL's refusal of a write then is expected */
    bool read_only_retry;
    int nstmts;
    struct db_stmt stmts[DB_MAX_STMTS];
    char constraint[64];
    char why[DB_WHY]; /* why the connection was lost, for the log */
};

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    int in_use;
    struct db *conns;
};

/* The database as this process sees it, shared by the pool and by every
 * connection of its own (the background jobs, the commands), so that an
 * outage is logged once when it starts and once when it ends, and attempts
 * to connect back off together instead of one per request: after a failed
 * attempt the next waits first_ms, then twice as long each time up to
 * max_ms, and only one thread tries at a time. Connections that are open
 * and work are never held back. */
static struct {
    pthread_mutex_t lock;
    int first_ms, max_ms;
    bool down;       /* the last attempt to connect failed */
    bool probing;    /* while down: the one attempt allowed is under way */
    int delay_ms;    /* while down: the wait after the last failed attempt */
    int64_t next_ms; /* while down: no attempt before this */
    int64_t since_ms;
    long failures;
    bool loss_logged;
    int64_t loss_ms;
} db_health = {PTHREAD_MUTEX_INITIALIZER, 100, 5000, false, false, 0, 0, 0, 0, false, 0};

/* What /metrics reports of the database as this process uses it: waits for
 * a free pool connection, failed attempts to connect, and statements the
 * database refused, by kind (enum db_error). Atomic: any thread counts. */
static struct {
    unsigned long waits, wait_micros, connect_failures;
    unsigned long errors[DB_ERROR_KINDS];
} db_counts;

static void
db_count_error(enum db_error kind)
{
    __atomic_fetch_add(&db_counts.errors[kind], 1, __ATOMIC_RELAXED);
}

void
db_stats(struct db_pool *pool, struct db_stats *out)
{
    int i;

    memset(out, 0, sizeof *out);
    if (pool != NULL)
        db_pool_stats(pool, &out->pool_size, &out->pool_in_use);
    out->waits = __atomic_load_n(&db_counts.waits, __ATOMIC_RELAXED);
    out->wait_seconds = (double)__atomic_load_n(&db_counts.wait_micros, __ATOMIC_RELAXED) / 1e6;
    out->connect_failures = __atomic_load_n(&db_counts.connect_failures, __ATOMIC_RELAXED);
    for (i = 0; i < DB_ERROR_KINDS; i++)
        out->errors[i] = __atomic_load_n(&db_counts.errors[i], __ATOMIC_RELAXED);
}

static int64_t
db_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A libpq message on one line: its line breaks and tabs become spaces and
 * trailing white space goes, so that each log entry stays one line. */
static void
db_one_line(const char *msg, char *buf, size_t size)
{
    size_t i, n = 0;

    for (i = 0; msg != NULL && msg[i] != '\0' && n + 1 < size; i++) {
        char c = msg[i];

        if (c == '\n' || c == '\t' || c == '\r')
            c = ' ';
        if (c == ' ' && (n == 0 || buf[n - 1] == ' '))
            continue;
        buf[n++] = c;
    }
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

void
db_backoff_set(int first_ms, int max_ms)
{
    pthread_mutex_lock(&db_health.lock);
    db_health.first_ms = first_ms > 0 ? first_ms : 1;
    db_health.max_ms = max_ms > db_health.first_ms ? max_ms : db_health.first_ms;
    pthread_mutex_unlock(&db_health.lock);
}

/* Whether this thread may try to connect now: always while the database is
 * up; while it is down, once the back-off has run out and no other thread
 * is trying (*probe then says this is that one attempt). */
static bool
db_health_may_try(bool *probe)
{
    bool may = true;

    *probe = false;
    pthread_mutex_lock(&db_health.lock);
    if (db_health.down) {
        may = !db_health.probing && db_now_ms() >= db_health.next_ms;
        db_health.probing = *probe = may;
    }
    pthread_mutex_unlock(&db_health.lock);
    return may;
}

/* Records how an attempt to connect went; logs when the database goes down
 * or comes back, and (now and then) when a lost connection reopened.
 * lost: why the connection it replaced was lost ("" when it is a new one);
 * failed: libpq's message when the attempt failed. */
static void
db_health_record(bool ok, bool probe, const char *lost, const char *failed)
{
    enum { SAY_NOTHING, SAY_BACK, SAY_LOST, SAY_DOWN } say = SAY_NOTHING;
    int64_t now = db_now_ms(), down_for = 0;
    long failures = 0;
    int delay = 0, max = 0;
    char msg[DB_WHY];

    pthread_mutex_lock(&db_health.lock);
    if (probe)
        db_health.probing = false;
    if (ok && db_health.down) {
        say = SAY_BACK;
        db_health.down = false;
        down_for = now - db_health.since_ms;
        failures = db_health.failures;
        /* the connections the outage left stale are part of it */
        db_health.loss_logged = true;
        db_health.loss_ms = now;
    } else if (ok && lost[0] != '\0' &&
               (!db_health.loss_logged || now - db_health.loss_ms >= DB_LOSS_LOG_MS)) {
        say = SAY_LOST;
        db_health.loss_logged = true;
        db_health.loss_ms = now;
    } else if (!ok && !db_health.down) {
        say = SAY_DOWN;
        db_health.down = true;
        db_health.since_ms = now;
        db_health.failures = 1;
        db_health.delay_ms = delay = db_health.first_ms;
        db_health.next_ms = now + db_health.delay_ms;
        max = db_health.max_ms;
    } else if (!ok) {
        db_health.failures++;
        /* attempts that were under way when it went down do not count */
        if (probe)
            db_health.delay_ms = db_health.delay_ms * 2 > db_health.max_ms ? db_health.max_ms
                                                                           : db_health.delay_ms * 2;
        db_health.next_ms = now + db_health.delay_ms;
    }
    pthread_mutex_unlock(&db_health.lock);

    switch (say) {
    case SAY_BACK:
        log_info("database available again after %.1f s (%ld failed attempts to connect)",
                 (double)down_for / 1000, failures);
        break;
    case SAY_LOST: log_info("a database connection was lost (%s); it is open again", lost); break;
    case SAY_DOWN:
        db_one_line(failed, msg, sizeof msg);
        log_warn("database unavailable: %s%s%s; requests that need it get 503 until it is back "
                 "(trying again after %d ms, backing off to %d ms)",
                 msg, lost[0] ? "; before that a connection was lost: " : "", lost, delay, max);
        break;
    case SAY_NOTHING: break;
    }
}

int
db_retry_after(void)
{
    int64_t wait = 0;

    pthread_mutex_lock(&db_health.lock);
    if (db_health.down)
        wait = db_health.next_ms - db_now_ms();
    pthread_mutex_unlock(&db_health.lock);
    return wait > 1000 ? (int)((wait + 999) / 1000) : 1;
}

/* libpq's notices: NOTICEs ("already exists, skipping") are not for the
 * log; a FATAL or PANIC that arrives on an idle connection is the server
 * telling why it is about to close it. */
static void
db_notice(void *arg, const PGresult *res)
{
    struct db *db = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

    if (severity != NULL && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0)) {
        db->broken = true;
        db_one_line(PQresultErrorMessage(res), db->why, sizeof db->why);
    }
}

static PGconn *
db_open_conn(struct db *db)
{
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const vals[] = {db->url, "3", "cabinet", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);

    if (conn != NULL)
        PQsetNoticeReceiver(conn, db_notice, db);
    /* Cabinet's statements are short: compiling one with JIT, which the
     * planner asks for whenever a table is large enough to make a bad
     * estimate look expensive, costs far more than it saves. */
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
        PQclear(PQexec(conn, "SET jit = off"));
    return conn;
}

/* Whether db's connection is open and, as far as can be told without
 * sending anything, still works: an idle connection should have nothing to
 * read, so whatever arrived (a FATAL notice, the end of the stream) is
 * read and parsed first. */
static bool
db_alive(struct db *db)
{
    struct pollfd p;
    PGnotify *note;
    int round;

    for (round = 0; round < 4; round++) {
        if (db->conn == NULL || db->broken || PQstatus(db->conn) != CONNECTION_OK)
            return false;
        p.fd = PQsocket(db->conn);
        p.events = POLLIN;
        p.revents = 0;
        if (p.fd < 0)
            return false;
        if (poll(&p, 1, 0) <= 0)
            return true;
        if (!PQconsumeInput(db->conn))
            return false;
        /* parses what came (a notice reaches db_notice) */
        while ((note = PQnotifies(db->conn)) != NULL)
            PQfreemem(note);
    }
    return db->conn != NULL && !db->broken && PQstatus(db->conn) == CONNECTION_OK;
}

/* Whether the last failure lost the connection (rather than being an
 * error the server reported on a working one). */
static bool
db_lost(const struct db *db)
{
    return db->conn == NULL || db->broken || PQstatus(db->conn) != CONNECTION_OK;
}

/* Opens db's connection afresh, closing the old one and forgetting its
 * prepared statements, unless the database is down and its back-off has not
 * run out. */
static enum outcome
db_reopen(struct db *db)
{
    char lost[DB_WHY] = "", failed[DB_WHY] = "";
    bool probe, ok;

    if (!db_health_may_try(&probe))
        return ERR_UNAVAILABLE;
    if (db->conn != NULL) {
        db_one_line(db->why[0] ? db->why : PQerrorMessage(db->conn), lost, sizeof lost);
        if (lost[0] == '\0')
            snprintf(lost, sizeof lost, "closed");
        PQfinish(db->conn);
    }
    db->nstmts = 0;
    db->broken = false;
    db->why[0] = '\0';
    db->conn = db_open_conn(db);
    ok = db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
    if (!ok)
        snprintf(failed, sizeof failed, "%s",
                 db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
    db_health_record(ok, probe, lost, failed);
    if (!ok) {
        __atomic_fetch_add(&db_counts.connect_failures, 1, __ATOMIC_RELAXED);
        PQfinish(db->conn);
        db->conn = NULL;
        return ERR_UNAVAILABLE;
    }
    return OK;
}

/* Makes sure db has a working connection, reopening it when it was lost
 * (before anything is sent on it). */
static enum outcome
db_ensure(struct db *db)
{
    return db_alive(db) ? OK : db_reopen(db);
}

enum outcome
db_pool_open(const char *url, int size, struct db_pool **out)
{
    struct db_pool *pool;
    int i;

    pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return ERR_INTERNAL;
    pool->conns = calloc((size_t)size, sizeof *pool->conns);
    if (pool->conns == NULL) {
        free(pool);
        return ERR_INTERNAL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pool->size = size;
    for (i = 0; i < size; i++) {
        pool->conns[i].url = strdup(url);
        if (pool->conns[i].url == NULL) {
            db_pool_close(pool);
            return ERR_INTERNAL;
        }
    }
    *out = pool;
    return OK;
}

void
db_pool_close(struct db_pool *pool)
{
    int i;

    if (pool == NULL)
        return;
    for (i = 0; i < pool->size; i++) {
        if (pool->conns[i].conn)
            PQfinish(pool->conns[i].conn);
        free(pool->conns[i].url);
    }
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool->conns);
    free(pool);
}

enum outcome
db_acquire(struct db_pool *pool, struct db **out)
{
    struct timespec deadline, t0, t1;
    struct db *db = NULL;
    enum outcome rc;
    bool waited = false;
    int i;

    clock_gettime(CLOCK_REALTIME, &deadline);
    t0 = deadline;
    deadline.tv_sec += DB_WAIT_SECONDS;
    pthread_mutex_lock(&pool->lock);
    if (pool->in_use == pool->size) {
        waited = true;
        __atomic_fetch_add(&db_counts.waits, 1, __ATOMIC_RELAXED);
    }
    while (pool->in_use == pool->size) {
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT &&
            pool->in_use == pool->size) {
            pthread_mutex_unlock(&pool->lock);
            __atomic_fetch_add(&db_counts.wait_micros, (unsigned long)DB_WAIT_SECONDS * 1000000,
                               __ATOMIC_RELAXED);
            log_warn("no database connection free after %d s", DB_WAIT_SECONDS);
            return ERR_UNAVAILABLE;
        }
    }
    /* prefer a connection that is already open */
    for (i = 0; i < pool->size; i++)
        if (!pool->conns[i].taken && pool->conns[i].conn != NULL) {
            db = &pool->conns[i];
            break;
        }
    for (i = 0; db == NULL && i < pool->size; i++)
        if (!pool->conns[i].taken)
            db = &pool->conns[i];
    if (db == NULL) {
        /* in_use < size promises a free one: the count is wrong */
        pthread_mutex_unlock(&pool->lock);
        log_error("the pool counts %d of %d connections in use but has none free", pool->in_use,
                  pool->size);
        return ERR_INTERNAL;
    }
    db->taken = true;
    pool->in_use++;
    pthread_mutex_unlock(&pool->lock);
    if (waited) {
        clock_gettime(CLOCK_REALTIME, &t1);
        __atomic_fetch_add(
            &db_counts.wait_micros,
            (unsigned long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000),
            __ATOMIC_RELAXED);
    }

    if ((rc = db_ensure(db)) != OK) {
        db_release(pool, db);
        return rc;
    }
    *out = db;
    return OK;
}

void
db_release(struct db_pool *pool, struct db *db)
{
    if (db == NULL)
        return;
    db_rollback(db);
    pthread_mutex_lock(&pool->lock);
    db->taken = false;
    pool->in_use--;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

void
db_pool_stats(struct db_pool *pool, int *size, int *in_use)
{
    pthread_mutex_lock(&pool->lock);
    *size = pool->size;
    *in_use = pool->in_use;
    pthread_mutex_unlock(&pool->lock);
}

void
db_url_shown(const char *url, char *buf, size_t size)
{
    const char *rest = strstr(url, "://"), *at, *colon, *pw;
    size_t n;

    if (rest != NULL) {
        /* postgresql://user:password@host/db: the password between the
         * first ':' after the scheme and the '@' */
        rest += 3;
        at = strchr(rest, '@');
        colon = strchr(rest, ':');
        if (at != NULL && colon != NULL && colon < at && strcspn(rest, "/") > (size_t)(at - rest)) {
            snprintf(buf, size, "%.*s:***%s", (int)(colon - url), url, at);
            return;
        }
    }
    /* password=... in a key/value string or a URL's query */
    if ((pw = strstr(url, "password=")) != NULL) {
        pw += 9;
        n = strcspn(pw, " &");
        snprintf(buf, size, "%.*s***%s", (int)(pw - url), url, pw + n);
        return;
    }
    snprintf(buf, size, "%s", url);
}

enum outcome
db_probe(const char *url, char *why, size_t size)
{
    struct db probe = {0};
    const char *msg;
    enum outcome rc = OK;

    probe.url = (char *)(uintptr_t)url; /* read only, and never freed here */
    probe.conn = db_open_conn(&probe);
    why[0] = '\0';
    if (probe.conn == NULL || PQstatus(probe.conn) != CONNECTION_OK) {
        msg = probe.conn != NULL ? PQerrorMessage(probe.conn) : "out of memory";
        db_one_line(msg, why, size);
        /* libpq gives no SQLSTATE for a refused connection, only the
         * server's message: these are the ones waiting cannot cure */
        if (strstr(msg, "database \"") != NULL && strstr(msg, "does not exist") != NULL)
            rc = ERR_NOT_FOUND;
        else if (strstr(msg, "password authentication failed") != NULL ||
                 strstr(msg, "no pg_hba.conf entry") != NULL ||
                 (strstr(msg, "role \"") != NULL && strstr(msg, "does not exist") != NULL) ||
                 strstr(msg, "invalid connection option") != NULL ||
                 strstr(msg, "invalid URI") != NULL || strstr(msg, "missing \"=\"") != NULL)
            rc = ERR_FORBIDDEN;
        else
            rc = ERR_UNAVAILABLE;
    }
    PQfinish(probe.conn);
    return rc;
}

enum outcome
db_connect(const char *url, struct db **out)
{
    struct db *db;
    enum outcome rc;

    db = calloc(1, sizeof *db);
    if (db == NULL)
        return ERR_INTERNAL;
    db->url = strdup(url);
    if (db->url == NULL) {
        free(db);
        return ERR_INTERNAL;
    }
    if ((rc = db_ensure(db)) != OK) {
        db_disconnect(db);
        return rc;
    }
    *out = db;
    return OK;
}

void
db_disconnect(struct db *db)
{
    if (db == NULL)
        return;
    if (db->conn)
        PQfinish(db->conn);
    free(db->url);
    free(db);
}

static enum outcome
db_map_error(struct db *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

    snprintf(db->constraint, sizeof db->constraint, "%s", cons ? cons : "");
    if (PQstatus(db->conn) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0) {
        /* the connection is opened afresh before its next use; the log
         * hears of it then, once, rather than from every statement */
        db->broken = true;
        db_count_error(DB_ERROR_CONNECTION);
        if (db->why[0] == '\0')
            db_one_line(res != NULL && PQresultErrorMessage(res)[0] != '\0'
                            ? PQresultErrorMessage(res)
                            : PQerrorMessage(db->conn),
                        db->why, sizeof db->why);
        return ERR_UNAVAILABLE;
    }
    if (strcmp(state, "23505") == 0) {
        db_count_error(DB_ERROR_UNIQUE);
        return ERR_CONFLICT;
    }
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
        strncmp(state, "22", 2) == 0) {
        /* validation should have caught it first: worth knowing */
        db_count_error(DB_ERROR_INVALID);
        log_warn("database refused a value (%s): %s", state, PQresultErrorMessage(res));
        return ERR_INVALID;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        db_count_error(DB_ERROR_RETRY);
        return ERR_RETRY;
    }
    if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
        db_count_error(DB_ERROR_TIMEOUT);
        return ERR_UNAVAILABLE; /* lock or statement timeout */
    }
    if (strcmp(state, "25006") == 0) {
        /* a write in a read-only transaction: expected when a lost statement
         * is tried again as a read (db_run); otherwise a standby answers */
        if (!db->read_only_retry)
            log_warn("the database refused a write as read-only: %s", PQresultErrorMessage(res));
        db_count_error(DB_ERROR_READ_ONLY);
        return ERR_UNAVAILABLE;
    }
    db_count_error(DB_ERROR_OTHER);
    log_error("database error %s: %s", state, PQresultErrorMessage(res));
    return ERR_INTERNAL;
}

/* The name of sql's prepared statement on this connection, preparing it the
 * first time. */
static enum outcome
db_prepare(struct db *db, const char *sql, int n, const char **name)
{
    PGresult *res;
    enum outcome rc;
    int i;

    for (i = 0; i < db->nstmts; i++)
        if (db->stmts[i].sql == sql) {
            *name = db->stmts[i].name;
            return OK;
        }
    if (db->nstmts == DB_MAX_STMTS) {
        *name = ""; /* unnamed statement: still correct, just not cached */
    } else {
        snprintf(db->stmts[db->nstmts].name, sizeof db->stmts[0].name, "s%d", db->nstmts);
        *name = db->stmts[db->nstmts].name;
    }
    res = PQprepare(db->conn, *name, sql, n, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = db_map_error(db, res);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    if (db->nstmts < DB_MAX_STMTS)
        db->stmts[db->nstmts++].sql = sql;
    return OK;
}

/* Runs sql once; *sent says whether its execution went out (from then on
 * the server may have run it, whatever came back). */
static enum outcome
db_run_once(struct db *db, const char *sql, int n, const char *const *params, PGresult **out,
            bool *sent)
{
    const char *name;
    PGresult *res;
    enum outcome rc;
    ExecStatusType st;

    *out = NULL;
    *sent = false;
    if ((rc = db_prepare(db, sql, n, &name)) != OK)
        return rc;
    *sent = true;
    res = PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
    st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        rc = db_map_error(db, res);
        PQclear(res);
        return rc;
    }
    db->constraint[0] = '\0';
    *out = res;
    return OK;
}

static enum outcome
db_simple_once(struct db *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    enum outcome rc = OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = db_map_error(db, res);
    PQclear(res);
    return rc;
}

/* Runs sql again after its first attempt was lost, in a read-only
 * transaction: PostgreSQL runs it if it only reads and refuses it (25006,
 * ERR_UNAVAILABLE) before it changes anything if it writes, by a statement
 * or through a function, a sequence or a row lock. */
static enum outcome
db_run_as_read(struct db *db, const char *sql, int n, const char *const *params, PGresult **out)
{
    enum outcome rc;
    bool sent;

    db->read_only_retry = true;
    if ((rc = db_simple_once(db, "BEGIN READ ONLY")) == OK &&
        (rc = db_run_once(db, sql, n, params, out, &sent)) == OK &&
        (rc = db_simple_once(db, "COMMIT")) != OK) {
        PQclear(*out);
        *out = NULL;
    }
    if (rc != OK)
        db_rollback(db);
    db->read_only_retry = false;
    return rc;
}

/* Whether db is outside any transaction, so that a lost connection may be
 * replaced: a connection that failed inside one keeps failing (its
 * transaction is gone with it), and none left after a failed reopen. */
static bool
db_idle(const struct db *db)
{
    return db->conn == NULL || PQtransactionStatus(db->conn) == PQTRANS_IDLE;
}

enum outcome
db_run(struct db *db, const char *sql, int n, const char *const *params, PGresult **out)
{
    bool idle = db_idle(db), sent;
    enum outcome rc;

    /* A connection found closed before anything is sent (a background
     * job's, which nothing checks between uses) is opened afresh first. */
    *out = NULL;
    if (idle && !db_alive(db) && db_reopen(db) != OK)
        return ERR_UNAVAILABLE;
    rc = db_run_once(db, sql, n, params, out, &sent);
    /* A connection found lost outside a transaction (a pooled one that went
     * stale while the database restarted) is opened afresh and the statement
     * tried once more: as it is when it never went out, since the server
     * cannot have run it; else only if it reads, since a write may have
     * been done already. Inside a transaction, the transaction is gone:
     * db_tx gives up (503). */
    if (rc != ERR_UNAVAILABLE || !idle || !db_lost(db) || db_reopen(db) != OK)
        return rc;
    return sent ? db_run_as_read(db, sql, n, params, out)
                : db_run_once(db, sql, n, params, out, &sent);
}

enum outcome
db_exec(struct db *db, const char *sql, int n, const char *const *params, long *affected)
{
    PGresult *res;
    enum outcome rc;

    if ((rc = db_run(db, sql, n, params, &res)) != OK)
        return rc;
    if (affected)
        *affected = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return OK;
}

static json_t *
db_parse_json(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    if (v == NULL)
        log_error("database returned JSON that does not parse: %s", err.text);
    return v;
}

enum outcome
db_json(struct db *db, const char *sql, int n, const char *const *params, json_t **out)
{
    PGresult *res;
    enum outcome rc;

    *out = NULL;
    if ((rc = db_run(db, sql, n, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        rc = ERR_NOT_FOUND;
    } else if ((*out = db_parse_json(PQgetvalue(res, 0, 0))) == NULL) {
        rc = ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

enum outcome
db_json_list(struct db *db, const char *sql, int n, const char *const *params, json_t **out)
{
    PGresult *res;
    enum outcome rc;
    json_t *list;
    int i;

    *out = NULL;
    if ((rc = db_run(db, sql, n, params, &res)) != OK)
        return rc;
    list = json_array();
    for (i = 0; list != NULL && i < PQntuples(res); i++) {
        json_t *v = db_parse_json(PQgetvalue(res, i, 0));
        if (v == NULL || json_array_append_new(list, v) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    PQclear(res);
    if (list == NULL)
        return ERR_INTERNAL;
    *out = list;
    return OK;
}

enum outcome
db_text(struct db *db, const char *sql, int n, const char *const *params, char *buf, size_t size)
{
    PGresult *res;
    enum outcome rc;

    if ((rc = db_run(db, sql, n, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        rc = ERR_NOT_FOUND;
    else
        snprintf(buf, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* Runs a statement of its own (BEGIN, COMMIT, ROLLBACK, SELECT 1). With
 * again, a connection found lost outside a transaction is opened afresh and
 * the statement run once more: only for statements that change nothing. */
static enum outcome
db_simple(struct db *db, const char *sql, bool again)
{
    bool idle = again && db_idle(db);
    enum outcome rc;

    if (idle && !db_alive(db) && db_reopen(db) != OK)
        return ERR_UNAVAILABLE;
    rc = db_simple_once(db, sql);
    if (rc == ERR_UNAVAILABLE && idle && db_lost(db) && db_reopen(db) == OK)
        rc = db_simple_once(db, sql);
    return rc;
}

enum outcome
db_tx(struct db *db, db_step step, void *arg)
{
    enum outcome rc = ERR_RETRY;
    int attempt;

    for (attempt = 0; attempt < DB_TX_TRIES && rc == ERR_RETRY; attempt++) {
        /* BEGIN writes nothing: a connection lost before it is opened
         * afresh; a COMMIT that is lost may have committed or not, and is
         * never sent again */
        if ((rc = db_simple(db, "BEGIN", true)) != OK)
            return rc;
        if ((rc = step(db, arg)) == OK)
            rc = db_simple(db, "COMMIT", false);
        if (rc != OK)
            db_rollback(db);
    }
    if (rc == ERR_RETRY) {
        log_warn("a transaction failed to serialize %d times", DB_TX_TRIES);
        return ERR_UNAVAILABLE;
    }
    return rc;
}

void
db_rollback(struct db *db)
{
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        (void)db_simple(db, "ROLLBACK", false);
}

enum outcome
db_ping(struct db *db)
{
    return db_simple(db, "SELECT 1", true);
}

PGconn *
db_conn(struct db *db)
{
    return db->conn;
}

const char *
db_last_constraint(const struct db *db)
{
    return db->constraint;
}

const char *
db_num(int64_t v, char buf[DB_NUM])
{
    snprintf(buf, DB_NUM, "%lld", (long long)v);
    return buf;
}

enum outcome
db_json_id(struct db *db, const char *sql, int64_t id, json_t **out)
{
    char buf[DB_NUM];
    const char *params[1] = {db_num(id, buf)};

    return db_json(db, sql, 1, params, out);
}

enum outcome
db_json_list_id(struct db *db, const char *sql, int64_t id, json_t **out)
{
    char buf[DB_NUM];
    const char *params[1] = {db_num(id, buf)};

    return db_json_list(db, sql, 1, params, out);
}

enum outcome
db_json_page(struct db *db, const char *sql, int64_t after, int limit, json_t **out)
{
    char a[DB_NUM], l[DB_NUM];
    const char *params[2] = {db_num(after, a), db_num(limit, l)};

    return db_json_list(db, sql, 2, params, out);
}
