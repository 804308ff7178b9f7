#include "db/db_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DB_MAX_STMTS 512
#define DB_WAIT_SECONDS 5

struct db_stmt {
    const char *sql;
    char name[12];
};

struct db {
    PGconn *conn;
    char *url;
    bool taken;
    int nstmts;
    struct db_stmt stmts[DB_MAX_STMTS];
    char constraint[64];
};

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    int in_use;
    struct db *conns;
};

static void
db_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs ("already exists, skipping") are not for the log */
}

static PGconn *
db_open_conn(const char *url)
{
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const vals[] = {url, "3", "cabinet", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);

    if (conn != NULL)
        PQsetNoticeProcessor(conn, db_notice, NULL);
    return conn;
}

/* Makes sure db has a working connection; forgets prepared statements when
 * it had to reconnect. */
static enum outcome
db_ensure(struct db *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return OK;
    db->nstmts = 0;
    if (db->conn == NULL)
        db->conn = db_open_conn(db->url);
    else
        PQreset(db->conn);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        log_warn("database unavailable: %s", db->conn ? PQerrorMessage(db->conn) : "out of memory");
        return ERR_UNAVAILABLE;
    }
    return OK;
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
    struct timespec deadline;
    struct db *db = NULL;
    enum outcome rc;
    int i;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DB_WAIT_SECONDS;
    pthread_mutex_lock(&pool->lock);
    while (pool->in_use == pool->size) {
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT &&
            pool->in_use == pool->size) {
            pthread_mutex_unlock(&pool->lock);
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
        log_warn("database connection lost: %s", PQerrorMessage(db->conn));
        /* make the next use reconnect */
        if (PQstatus(db->conn) == CONNECTION_OK && state != NULL)
            PQreset(db->conn);
        return ERR_UNAVAILABLE;
    }
    if (strcmp(state, "23505") == 0)
        return ERR_CONFLICT;
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
        strncmp(state, "22", 2) == 0) {
        /* validation should have caught it first: worth knowing */
        log_warn("database refused a value (%s): %s", state, PQresultErrorMessage(res));
        return ERR_INVALID;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return ERR_RETRY;
    if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
        return ERR_UNAVAILABLE; /* lock or statement timeout */
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

enum outcome
db_run(struct db *db, const char *sql, int n, const char *const *params, PGresult **out)
{
    const char *name;
    PGresult *res;
    enum outcome rc;
    ExecStatusType st;

    *out = NULL;
    if ((rc = db_prepare(db, sql, n, &name)) != OK)
        return rc;
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

static enum outcome
db_simple(struct db *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    enum outcome rc = OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = db_map_error(db, res);
    PQclear(res);
    return rc;
}

enum outcome
db_tx(struct db *db, db_step step, void *arg)
{
    enum outcome rc = ERR_RETRY;
    int attempt;

    for (attempt = 0; attempt < DB_TX_TRIES && rc == ERR_RETRY; attempt++) {
        if ((rc = db_simple(db, "BEGIN")) != OK)
            return rc;
        if ((rc = step(db, arg)) == OK)
            rc = db_simple(db, "COMMIT");
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
        (void)db_simple(db, "ROLLBACK");
}

enum outcome
db_ping(struct db *db)
{
    return db_simple(db, "SELECT 1");
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
