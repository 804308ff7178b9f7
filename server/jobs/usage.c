#include "jobs/usage.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_auth.h"
#include "log.h"

#define USAGE_MAX 1024
#define USAGE_FLUSH_MS 2000

struct usage {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    char *url;
    int n;
    int64_t ids[USAGE_MAX];
};

void
usage_note(void *arg, int64_t token_id)
{
    struct usage *u = arg;
    int i;

    if (u == NULL)
        return;
    pthread_mutex_lock(&u->lock);
    for (i = 0; i < u->n && u->ids[i] != token_id; i++)
        ;
    if (i == u->n && u->n < USAGE_MAX)
        u->ids[u->n++] = token_id;
    pthread_mutex_unlock(&u->lock);
}

/* Takes what is noted (into ids) and writes it; what cannot be written
 * now is noted again by the next use. */
static void
usage_flush(struct usage *u, struct db **db)
{
    int64_t ids[USAGE_MAX];
    int n;

    pthread_mutex_lock(&u->lock);
    n = u->n;
    memcpy(ids, u->ids, (size_t)n * sizeof ids[0]);
    u->n = 0;
    pthread_mutex_unlock(&u->lock);
    if (n == 0)
        return;
    if (*db == NULL && db_connect(u->url, db) != OK)
        *db = NULL;
    if (*db != NULL && db_auth_tokens_used(*db, ids, n) == ERR_UNAVAILABLE) {
        db_disconnect(*db);
        *db = NULL;
    }
}

static void *
usage_thread(void *arg)
{
    struct usage *u = arg;
    struct db *db = NULL;
    bool stopping = false;

    while (!stopping) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += USAGE_FLUSH_MS / 1000;
        pthread_mutex_lock(&u->lock);
        while (!u->stopping && pthread_cond_timedwait(&u->wake, &u->lock, &until) != ETIMEDOUT)
            ;
        stopping = u->stopping;
        pthread_mutex_unlock(&u->lock);
        usage_flush(u, &db);
    }
    db_disconnect(db);
    return NULL;
}

enum outcome
usage_start(const char *url, struct usage **out)
{
    struct usage *u = calloc(1, sizeof *u);

    if (u == NULL || (u->url = strdup(url)) == NULL) {
        free(u);
        return ERR_INTERNAL;
    }
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->wake, NULL);
    if (pthread_create(&u->thread, NULL, usage_thread, u) != 0) {
        pthread_mutex_destroy(&u->lock);
        pthread_cond_destroy(&u->wake);
        free(u->url);
        free(u);
        return ERR_INTERNAL;
    }
    *out = u;
    return OK;
}

void
usage_stop(struct usage *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->lock);
    u->stopping = true;
    pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->thread, NULL);
    pthread_mutex_destroy(&u->lock);
    pthread_cond_destroy(&u->wake);
    free(u->url);
    free(u);
}
