#include "jobs/chain.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit_canon.h"
#include "db/db_audit.h"
#include "domain/strbuf.h"
#include "log.h"
#include "sec/sec.h"

#define CHAIN_BATCH 1000
#define CHAIN_POLL_MS 250

struct chain {
    char secret[SEC_ED_SECRET_B64];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    char *url;
};

/* One batch, as a step of db_tx: what it fills is reset at its start, so
 * that a retry begins afresh. */
struct chain_batch {
    int linked;
};

static enum outcome
chain_step(struct db *db, void *arg)
{
    struct chain_batch *b = arg;
    struct strbuf ids = STRBUF_INIT, seqs = STRBUF_INIT, prevs = STRBUF_INIT, hashes = STRBUF_INIT;
    char prev[SEC_HEX256_LEN], hash[SEC_HEX256_LEN];
    json_t *rows = NULL;
    int64_t seq;
    enum outcome rc;
    bool mine;
    size_t i;

    b->linked = 0;
    if ((rc = db_audit_chain_lock(db, &mine, &seq, prev)) != OK || !mine)
        return rc;
    if ((rc = db_audit_unchained(db, CHAIN_BATCH, &rows)) != OK)
        goto out;
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *e = json_array_get(rows, i);
        const char *sep = i ? "," : "{";

        if (!audit_canon_hash(e, seq + 1, prev, hash)) {
            /* stop before the bad entry; it stays unchained and visible */
            log_error("audit entry %lld cannot be chained: its data holds a real number",
                      (long long)json_integer_value(json_object_get(e, "id")));
            break;
        }
        seq++;
        strbuf_printf(&ids, "%s%lld", sep, (long long)json_integer_value(json_object_get(e, "id")));
        strbuf_printf(&seqs, "%s%lld", sep, (long long)seq);
        strbuf_printf(&prevs, "%s%s", sep, prev);
        strbuf_printf(&hashes, "%s%s", sep, hash);
        memcpy(prev, hash, sizeof prev);
        b->linked++;
    }
    if (b->linked == 0)
        goto out;
    strbuf_putc(&ids, '}');
    strbuf_putc(&seqs, '}');
    strbuf_putc(&prevs, '}');
    strbuf_putc(&hashes, '}');
    if (strbuf_failed(&ids) || strbuf_failed(&seqs) || strbuf_failed(&prevs) ||
        strbuf_failed(&hashes)) {
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = db_audit_link(db, ids.buf, seqs.buf, prevs.buf, hashes.buf);
out:
    json_decref(rows);
    strbuf_free(&ids);
    strbuf_free(&seqs);
    strbuf_free(&prevs);
    strbuf_free(&hashes);
    return rc;
}

enum outcome
chain_run_once(struct db *db, int *linked)
{
    struct chain_batch b = {0};
    enum outcome rc;

    rc = db_tx(db, chain_step, &b);
    *linked = rc == OK ? b.linked : 0;
    return rc;
}

static void *
chain_thread(void *arg)
{
    struct chain *c = arg;
    struct db *db = NULL;

    for (;;) {
        struct timespec until;
        int linked = 0;
        enum outcome rc = OK;

        pthread_mutex_lock(&c->lock);
        if (c->stopping) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        pthread_mutex_unlock(&c->lock);

        if (db == NULL && db_connect(c->url, &db) != OK)
            db = NULL;
        if (db != NULL) {
            int64_t signed_seq = 0;
            rc = chain_run_once(db, &linked);
            if (rc == OK)
                rc = db_audit_checkpoint_sign(db, c->secret, false, &signed_seq);
            if (rc == ERR_UNAVAILABLE) {
                db_disconnect(db);
                db = NULL;
            }
        }
        if (linked == CHAIN_BATCH)
            continue; /* more are waiting */

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += CHAIN_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->lock);
        while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&c->lock);
    }
    db_disconnect(db);
    return NULL;
}

enum outcome
chain_start(const char *url, const char *secret_b64, struct chain **out)
{
    struct chain *c = calloc(1, sizeof *c);

    if (c == NULL || (c->url = strdup(url)) == NULL) {
        free(c);
        return ERR_INTERNAL;
    }
    snprintf(c->secret, sizeof c->secret, "%s", secret_b64);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, chain_thread, c) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        free(c->url);
        free(c);
        return ERR_INTERNAL;
    }
    *out = c;
    return OK;
}

void
chain_stop(struct chain *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    sec_wipe(c->secret, sizeof c->secret);
    free(c->url);
    free(c);
}
