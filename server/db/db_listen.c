/*
 * Relies on: the channel cabinet_gate and its payloads 'c<id>' and 'f'
 * (0015's triggers); db.c's connections (db_connect: the process's
 * back-off and outage log).
 */
#include "db/db_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_internal.h"
#include "log.h"

#define DB_LISTEN_BACKOFF_FIRST_MS 100
#define DB_LISTEN_BACKOFF_MAX_MS 5000

struct db_listen {
    pthread_t thread;
    char *url;
    db_listen_fn fn;
    void *arg;
    int stop[2]; /* a byte written to stop[1] ends the thread */
    struct db *db;
};

/* Sleeps up to ms (-1: for ever) until the socket fd (-1: none) has
 * something to read or the listener is told to stop: 1 when readable, 0
 * when the time ran out, -1 when stopping. */
static int
db_listen_sleep(struct db_listen *l, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = l->stop[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int n;

    do
        n = poll(p, fd >= 0 ? 2 : 1, ms);
    while (n < 0 && errno == EINTR);
    if (n < 0 || p[0].revents != 0)
        return -1;
    return n > 0 ? 1 : 0;
}

/* Opens a connection (db_connect: while the database is down it shares
 * the process's back-off, and the outage is logged once), names it and
 * LISTENs: true when it is ready. */
static bool
db_listen_connect(struct db_listen *l)
{
    PGresult *res;
    bool ok;

    if (db_connect(l->url, &l->db) != OK) {
        l->db = NULL;
        return false;
    }
    res = PQexec(db_conn(l->db), "SET application_name = 'cabinet-listen'; LISTEN cabinet_gate");
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        db_disconnect(l->db);
        l->db = NULL;
    }
    return ok;
}

/* Hands every notification that arrived to the callback. */
static void
db_listen_dispatch(struct db_listen *l)
{
    PGnotify *note;

    while ((note = PQnotifies(db_conn(l->db))) != NULL) {
        const char *p = note->extra;
        char *end = NULL;
        long long id = 0;

        if (p[0] == 'c')
            id = strtoll(p + 1, &end, 10);
        /* 'f', or anything not understood: every gate looks again */
        l->fn(l->arg, id > 0 && end != NULL && *end == '\0' ? (int64_t)id : 0);
        PQfreemem(note);
    }
}

/* Serves one connection until it is lost (false) or the listener stops
 * (true). */
static bool
db_listen_serve(struct db_listen *l)
{
    PGconn *conn = db_conn(l->db);

    for (;;) {
        int r = db_listen_sleep(l, PQsocket(conn), -1);

        if (r < 0)
            return true;
        if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
            return false;
        db_listen_dispatch(l);
    }
}

static void *
db_listen_thread(void *arg)
{
    struct db_listen *l = arg;
    int backoff = DB_LISTEN_BACKOFF_FIRST_MS;

    for (;;) {
        if (!db_listen_connect(l)) {
            if (db_listen_sleep(l, -1, backoff) < 0)
                break;
            backoff =
                backoff * 2 > DB_LISTEN_BACKOFF_MAX_MS ? DB_LISTEN_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = DB_LISTEN_BACKOFF_FIRST_MS;
        /* whatever was sent while nobody listened is lost: everyone looks */
        l->fn(l->arg, 0);
        if (db_listen_serve(l))
            break;
        /* a new one is opened; meanwhile everyone looks (a timer of
         * theirs may be all that wakes them until then) */
        db_disconnect(l->db);
        l->db = NULL;
        l->fn(l->arg, 0);
    }
    db_disconnect(l->db);
    l->db = NULL;
    return NULL;
}

enum outcome
db_listen_start(const char *url, db_listen_fn fn, void *arg, struct db_listen **out)
{
    struct db_listen *l = calloc(1, sizeof *l);

    if (l == NULL)
        return ERR_INTERNAL;
    l->fn = fn;
    l->arg = arg;
    l->stop[0] = l->stop[1] = -1;
    if ((l->url = strdup(url)) == NULL || pipe2(l->stop, O_CLOEXEC) != 0 ||
        pthread_create(&l->thread, NULL, db_listen_thread, l) != 0) {
        log_error("gate listener: cannot start");
        if (l->stop[0] >= 0) {
            close(l->stop[0]);
            close(l->stop[1]);
        }
        free(l->url);
        free(l);
        return ERR_INTERNAL;
    }
    *out = l;
    return OK;
}

void
db_listen_stop(struct db_listen *l)
{
    ssize_t n;

    if (l == NULL)
        return;
    do
        n = write(l->stop[1], "x", 1);
    while (n < 0 && errno == EINTR);
    pthread_join(l->thread, NULL);
    close(l->stop[0]);
    close(l->stop[1]);
    free(l->url);
    free(l);
}
