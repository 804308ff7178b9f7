#include "jobs/mail.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db/db.h"
#include "db/db_mail.h"
#include "domain/mailmsg.h"
#include "http/metrics.h"
#include "log.h"
#include "sec/sec.h"

#define MAIL_WORKERS 2
#define MAIL_POLL_MS 500
#define MAIL_TIMEOUT 60                /* seconds one SMTP transaction may take */
#define MAIL_LEASE (MAIL_TIMEOUT + 30) /* a claimed mail is not due again before */
#define MAIL_MAX_DELAY 3600
#define MAIL_SEEN_EVERY 60 /* seconds between heartbeats */
#define MAIL_PRUNE_EVERY 3600
#define MAIL_KEEP_DAYS 30 /* mails sent, skipped or dead are kept this long */
#define MAIL_FAN_OUT 100  /* events fanned out per statement */

/* MAIL_WORKERS threads, each with its own connection and libcurl handle
 * (which keeps the SMTP connection open from one mail to the next). Each
 * turn of a worker fans out what events wait, then sends one due mail;
 * whichever worker finds the heartbeat or the pruning due does it. */
struct mail {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    int running;
    time_t seen_at, pruned_at;
    char *url;
    int nworkers;
    pthread_t workers[MAIL_WORKERS];
};

struct mail_upload {
    const char *p;
    size_t left;
};

static size_t
mail_read(char *buf, size_t size, size_t n, void *arg)
{
    struct mail_upload *u = arg;
    size_t len = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->p, len);
    u->p += len;
    u->left -= len;
    return len;
}

static const char *
mail_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int
mail_int(const json_t *o, const char *key, int otherwise)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : otherwise;
}

/* The notice of a claimed mail (strings borrowed from m; services joined
 * into sb). */
static void
mail_notice_of(const json_t *m, struct strbuf *services, struct mail_notice *n)
{
    const json_t *c = json_object_get(m, "change"), *f = json_object_get(m, "facts");
    const json_t *k = json_object_get(f, "conflict"), *z = json_object_get(f, "freeze");
    const json_t *list = json_object_get(f, "changes"), *x;
    size_t i;

    memset(n, 0, sizeof *n);
    n->kind = (enum mail_kind)mailmsg_kind_parse(mail_str(m, "kind"));
    n->base_url = config->base_url;
    n->to_name = mail_str(json_object_get(m, "to"), "name");
    n->ref = mail_str(c, "ref");
    n->title = mail_str(c, "title");
    n->state = mail_str(c, "state");
    n->level = mail_str(c, "level");
    n->score = mail_int(c, "score", -1);
    n->start = mail_str(c, "start");
    n->end = mail_str(c, "end");
    n->needed = mail_int(c, "needed", 0);
    n->have = mail_int(c, "have", 0);
    n->requester = mail_str(c, "requester");
    json_array_foreach(json_object_get(c, "flags"), i,
                       x) if (strcmp(json_string_value(x) ? json_string_value(x) : "",
                                     "unauthorized") == 0) n->unauthorized = true;
    n->approver = mail_str(m, "approver");
    n->decision = mail_str(f, "decision");
    n->comment = mail_str(f, "comment");
    n->version = mail_int(f, "version", 0);
    /* a conflict: the other change of the pair, or the freeze */
    json_array_foreach(list, i, x) if (strcmp(mail_str(x, "ref"), n->ref) != 0)
    {
        const json_t *w = json_object_get(x, "window");
        n->other_ref = mail_str(x, "ref");
        n->other_title = mail_str(x, "title");
        n->other_start = mail_str(w, "start");
        n->other_end = mail_str(w, "end");
    }
    n->freeze = json_is_object(z) ? mail_str(z, "name") : "";
    n->hard = json_is_true(json_object_get(z, "hard"));
    json_array_foreach(json_object_get(k, "services"), i, x) strbuf_printf(
        services, "%s%s", i ? ", " : "", json_string_value(x) ? json_string_value(x) : "");
    n->services = strbuf_str(services);
}

/* The message of a claimed mail into msg; false when it cannot be made. */
static bool
mail_message_of(const json_t *m, struct strbuf *msg, char *error, size_t esize)
{
    struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, services = STRBUF_INIT;
    struct strbuf id = STRBUF_INIT;
    const json_t *to = json_object_get(m, "to");
    const char *domain = strchr(config->smtp_from_address, '@');
    struct mail_notice n;
    struct mail_message mm;
    bool ok;

    mail_notice_of(m, &services, &n);
    mailmsg_compose(&n, &subject, &body);
    strbuf_printf(&id, "%s%s", mail_str(m, "message_id"), domain ? domain : "@cabinet");
    mm = (struct mail_message){
        .from_name = config->smtp_from_name,
        .from_address = config->smtp_from_address,
        .to_name = mail_str(to, "name"),
        .to_address = mail_str(to, "email"),
        .message_id = strbuf_str(&id),
        .date = (int64_t)time(NULL),
        .subject = strbuf_str(&subject),
        .body = strbuf_str(&body),
        .change_ref = n.ref,
    };
    mailmsg_write(msg, &mm);
    ok = !strbuf_failed(msg) && !strbuf_failed(&subject) && !strbuf_failed(&body) &&
         !strbuf_failed(&services) && !strbuf_failed(&id);
    if (!ok)
        snprintf(error, esize, "out of memory");
    strbuf_free(&subject);
    strbuf_free(&body);
    strbuf_free(&services);
    strbuf_free(&id);
    return ok;
}

/* One SMTP transaction. On failure, *permanent when the refusal is this
 * mail's own (a 5xx to its recipient, or to the message once sent whole):
 * trying again cannot help. A 5xx anywhere else (AUTH, MAIL FROM, STARTTLS)
 * is the settings' fault, which an operator mends: the mail waits. */
static bool
mail_send(CURL *curl, const char *to, const struct strbuf *msg, bool *permanent, char *error,
          size_t esize)
{
    struct mail_upload up = {msg->buf, msg->len};
    long code = 0;
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode cc;

    *permanent = false;
    if (rcpt == NULL) {
        snprintf(error, esize, "out of memory");
        return false;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, config->smtp_url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, config->smtp_from_address);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, mail_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    /* smtps:// is TLS from the start; smtp:// upgrades with STARTTLS, or
     * fails, unless CABINET_SMTP_TLS=off */
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     strcmp(config->smtp_tls, "off") == 0 ? (long)CURLUSESSL_NONE
                                                          : (long)CURLUSESSL_ALL);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)MAIL_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)config->webhook_timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    if (cc == CURLE_OK)
        return true;
    /* libcurl names the command a refusal answered: "RCPT failed: 550" */
    *permanent = code >= 500 && code < 600 &&
                 (strncmp(errbuf, "RCPT failed", 11) == 0 || (up.left == 0 && msg->len > 0));
    if (code >= 400)
        snprintf(error, esize, "the mail server answered %ld: %s", code,
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
    else
        snprintf(error, esize, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return false;
}

/* Seconds before attempt n + 1: base, 2 base, 4 base, … up to an hour. */
static int
mail_delay(int attempts)
{
    long d = config->webhook_retry_base;
    int i;

    for (i = 1; i < attempts && d < MAIL_MAX_DELAY; i++)
        d *= 2;
    return d > MAIL_MAX_DELAY ? MAIL_MAX_DELAY : (int)d;
}

/* Records the outcome of one attempt: OK unless the connection is suspect. */
static enum outcome
mail_record(struct db *db, const json_t *m, bool ok, bool permanent, const char *error)
{
    int64_t id = json_integer_value(json_object_get(m, "id"));
    int attempts = mail_int(m, "attempts", 1);
    const char *to = mail_str(json_object_get(m, "to"), "email");
    bool dead = false;
    enum outcome rc;

    if (ok) {
        if ((rc = db_mail_sent(db, id)) == OK)
            metrics_mail(METRICS_MAIL_SENT);
        return rc;
    }
    rc = db_mail_failed(db, id, error, permanent, mail_delay(attempts), config->webhook_give_up,
                        &dead);
    if (rc != OK)
        return rc;
    metrics_mail(dead ? METRICS_MAIL_DEAD : METRICS_MAIL_FAILED);
    if (dead)
        log_warn("mail %lld (%s, %s) to %s is dead after %d attempt%s: %s", (long long)id,
                 mail_str(m, "kind"), mail_str(json_object_get(m, "change"), "ref"), to, attempts,
                 attempts == 1 ? "" : "s", error);
    else
        log_warn("mail %lld (%s, %s) to %s not sent (attempt %d): %s; trying again in %d s",
                 (long long)id, mail_str(m, "kind"), mail_str(json_object_get(m, "change"), "ref"),
                 to, attempts, error, mail_delay(attempts));
    return OK;
}

/* Claims one due mail and sends it: OK when one was handled, ERR_NOT_FOUND
 * when none is due, else the connection is suspect. */
static enum outcome
mail_one(struct db *db, CURL *curl)
{
    struct strbuf msg = STRBUF_INIT;
    json_t *m = NULL;
    const char *to;
    char error[400] = "";
    bool ok = false, permanent = false;
    enum outcome rc;

    if ((rc = db_mail_claim(db, MAIL_LEASE, &m)) != OK)
        return rc;
    to = mail_str(json_object_get(m, "to"), "email");
    if (!json_is_true(json_object_get(m, "wanted"))) {
        rc = db_mail_skip(db, json_integer_value(json_object_get(m, "id")),
                          "switched off, or the account was disabled, before it was sent");
        if (rc == OK)
            metrics_mail(METRICS_MAIL_SKIPPED);
        json_decref(m);
        return rc;
    }
    if (!mailmsg_address_ok(to)) {
        permanent = true;
        snprintf(error, sizeof error, "the address cannot be written in a message");
    } else if (mail_message_of(m, &msg, error, sizeof error)) {
        ok = mail_send(curl, to, &msg, &permanent, error, sizeof error);
    }
    rc = mail_record(db, m, ok, permanent, error);
    if (rc != OK)
        log_warn("could not record mail %lld: it will be sent again",
                 (long long)json_integer_value(json_object_get(m, "id")));
    strbuf_free(&msg);
    json_decref(m);
    return rc;
}

/* Whether it is time for a chore last done at *at, every seconds; if so
 * *at is moved on (the caller does it). */
static bool
mail_due(struct mail *w, time_t *at, int every)
{
    time_t now = time(NULL);
    bool due;

    pthread_mutex_lock(&w->lock);
    due = now - *at >= every;
    if (due)
        *at = now;
    pthread_mutex_unlock(&w->lock);
    return due;
}

/* The chores of a turn: heartbeat, pruning, fan-out. */
static enum outcome
mail_chores(struct mail *w, struct db *db)
{
    enum outcome rc = OK;
    int n = 0;

    if (mail_due(w, &w->seen_at, MAIL_SEEN_EVERY) && (rc = db_mail_seen(db)) != OK)
        return rc;
    if (mail_due(w, &w->pruned_at, MAIL_PRUNE_EVERY) &&
        (rc = db_mail_prune(db, MAIL_KEEP_DAYS, 1000, &n)) != OK)
        return rc;
    do {
        if ((rc = db_mail_fan_out(db, MAIL_FAN_OUT, &n)) != OK)
            return rc;
    } while (n == MAIL_FAN_OUT);
    return OK;
}

static bool
mail_stopping(struct mail *w)
{
    bool stopping;

    pthread_mutex_lock(&w->lock);
    stopping = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return stopping;
}

static void
mail_idle(struct mail *w)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += MAIL_POLL_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    if (!w->stopping)
        (void)pthread_cond_timedwait(&w->wake, &w->lock, &until);
    pthread_mutex_unlock(&w->lock);
}

static void *
mail_worker(void *arg)
{
    struct mail *w = arg;
    struct db *db = NULL;
    CURL *curl = NULL;

    while (!mail_stopping(w)) {
        enum outcome rc = ERR_UNAVAILABLE;

        if (curl == NULL && (curl = curl_easy_init()) == NULL)
            log_warn("a mail worker cannot make its libcurl handle (out of memory?)");
        if (db == NULL && db_connect(w->url, &db) != OK)
            db = NULL;
        if (db != NULL && curl != NULL && (rc = mail_chores(w, db)) == OK)
            rc = mail_one(db, curl);
        if (rc == OK)
            continue;
        if (rc != ERR_NOT_FOUND) {
            db_disconnect(db);
            db = NULL;
        }
        mail_idle(w);
    }
    if (curl)
        curl_easy_cleanup(curl);
    db_disconnect(db);
    pthread_mutex_lock(&w->lock);
    w->running--;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void
mail_drain(struct mail *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->lock);
}

int
mail_busy(struct mail *m)
{
    int n;

    if (m == NULL)
        return 0;
    pthread_mutex_lock(&m->lock);
    n = m->running;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void
mail_free(struct mail *m)
{
    int i;

    mail_drain(m);
    for (i = 0; i < m->nworkers; i++)
        pthread_join(m->workers[i], NULL);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->wake);
    free(m->url);
    free(m);
    curl_global_cleanup();
}

/* The first heartbeat, before anything is served: every write from then
 * on records what mail should tell. */
static enum outcome
mail_first_seen(const char *url)
{
    struct db *db = NULL;
    enum outcome rc = db_connect(url, &db);

    if (rc == OK)
        rc = db_mail_seen(db);
    db_disconnect(db);
    if (rc != OK)
        log_error("cannot record in the database that this instance sends mail");
    return rc;
}

/* Says where mail goes: the server, never the credentials in the URL. */
static void
mail_log_start(void)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, config->smtp_url, 0) == CURLUE_OK) {
        (void)curl_url_get(u, CURLUPART_HOST, &host, 0);
        (void)curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    }
    log_info("sending e-mail notifications from %s through %s:%s (%s)", config->smtp_from_address,
             host ? host : "?", port ? port : "?",
             strncmp(config->smtp_url, "smtps:", 6) == 0 ? "TLS"
             : strcmp(config->smtp_tls, "off") == 0      ? "no TLS"
                                                         : "STARTTLS");
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

enum outcome
mail_start(const char *url, struct mail **out)
{
    struct mail *m;

    *out = NULL;
    if (config->smtp_url[0] == '\0')
        return OK;
    if (mail_first_seen(url) != OK)
        return ERR_UNAVAILABLE;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ERR_INTERNAL;
    m = calloc(1, sizeof *m);
    if (m == NULL || (m->url = strdup(url)) == NULL) {
        free(m);
        curl_global_cleanup();
        return ERR_INTERNAL;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    m->seen_at = time(NULL);
    m->pruned_at = 0; /* pruned at the first turn */
    for (; m->nworkers < MAIL_WORKERS; m->nworkers++) {
        pthread_mutex_lock(&m->lock);
        m->running++;
        pthread_mutex_unlock(&m->lock);
        if (pthread_create(&m->workers[m->nworkers], NULL, mail_worker, m) != 0) {
            log_error("cannot start mail worker %d of %d", m->nworkers + 1, MAIL_WORKERS);
            pthread_mutex_lock(&m->lock);
            m->running--;
            pthread_mutex_unlock(&m->lock);
            mail_free(m);
            return ERR_INTERNAL;
        }
    }
    mail_log_start();
    *out = m;
    return OK;
}

void
mail_stop(struct mail *m)
{
    if (m != NULL)
        mail_free(m);
}

enum outcome
mail_send_test(const char *to, char *error, size_t esize)
{
    struct strbuf msg = STRBUF_INIT, body = STRBUF_INIT, id = STRBUF_INIT;
    const char *domain = strchr(config->smtp_from_address, '@');
    char nonce[17];
    struct mail_message mm;
    CURL *curl;
    bool ok = false, permanent;

    sec_random_hex(8, nonce);
    strbuf_printf(&id, "cabinet-test-%s%s", nonce, domain ? domain : "@cabinet");
    strbuf_printf(&body,
                  "This is a test message from Cabinet at %s.\n\n"
                  "It went through the mail server CABINET_SMTP_URL names, from %s: e-mail\n"
                  "notifications will reach people the same way.\n",
                  config->base_url, config->smtp_from_address);
    mm = (struct mail_message){
        .from_name = config->smtp_from_name,
        .from_address = config->smtp_from_address,
        .to_name = "",
        .to_address = to,
        .message_id = strbuf_str(&id),
        .date = (int64_t)time(NULL),
        .subject = "[Cabinet] Test message",
        .body = strbuf_str(&body),
        .change_ref = "",
    };
    mailmsg_write(&msg, &mm);
    if (strbuf_failed(&msg) || strbuf_failed(&body) || strbuf_failed(&id)) {
        snprintf(error, esize, "out of memory");
    } else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(error, esize, "libcurl cannot start");
    } else {
        if ((curl = curl_easy_init()) == NULL) {
            snprintf(error, esize, "out of memory");
        } else {
            ok = mail_send(curl, to, &msg, &permanent, error, esize);
            curl_easy_cleanup(curl);
        }
        curl_global_cleanup();
    }
    strbuf_free(&msg);
    strbuf_free(&body);
    strbuf_free(&id);
    return ok ? OK : ERR_UNAVAILABLE;
}
