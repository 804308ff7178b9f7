#include "jobs/deliver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db/db.h"
#include "db/db_webhook.h"
#include "domain/netaddr.h"
#include "domain/timefmt.h"
#include "http/metrics.h"
#include "log.h"
#include "sec/sec.h"

#define DELIVER_POLL_MS 250
#define DELIVER_MAX_DELAY 3600

/* CABINET_DELIVERY_WORKERS threads, each with its own connection and its own
 * libcurl easy handle, each sending one lane's delivery at a time with a
 * blocking curl_easy_perform. Threads rather than one multi handle: every
 * claim and every result is a blocking libpq call, and the lane a delivery
 * belongs to stays locked by the session that claimed it while the attempt
 * runs, so a sender is a connection and a transfer together; on a thread of
 * its own that is a straight line (claim, send, record, let go) which a
 * slow receiver can hold up only for itself. A handful of threads that
 * mostly wait on the network cost little, and libcurl wants no more than
 * an easy handle used by one thread at a time and curl_global_init before
 * any thread starts. */
struct deliver {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    bool polling; /* an idle worker polls the outbox; the other idle ones sleep */
    int running;  /* workers that have not left their loop */
    char *url;
    int nworkers;
    pthread_t *workers;
};

static const char *
deliver_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One line about a change: "CHG-3 “Title” (window start – end)". */
static void
deliver_change_line(struct strbuf *sb, const json_t *c)
{
    const json_t *w = json_object_get(c, "window");

    strbuf_printf(sb, "%s “%s”", deliver_str(c, "ref"), deliver_str(c, "title"));
    if (json_is_object(w))
        strbuf_printf(sb, " (%s – %s)", deliver_str(w, "start"), deliver_str(w, "end"));
}

static void
deliver_chat_text(const json_t *event, struct strbuf *t)
{
    const char *type = deliver_str(event, "type");
    const json_t *p = json_object_get(event, "payload"), *c = json_object_get(p, "change");
    const json_t *k = json_object_get(p, "conflict"), *f = json_object_get(p, "freeze");
    const json_t *a = json_object_get(c, "assessment");
    size_t i;

    if (json_is_object(c)) {
        deliver_change_line(t, c);
        if (strcmp(type, "change.created") == 0)
            strbuf_printf(t, " was raised by %s",
                          deliver_str(json_object_get(c, "requester"), "name"));
        else if (strcmp(type, "change.submitted") == 0)
            strbuf_printf(t, " was submitted for approval (risk %s, score %lld)",
                          deliver_str(a, "level"),
                          (long long)json_integer_value(json_object_get(a, "score")));
        else if (strcmp(type, "change.approved") == 0)
            strbuf_puts(t, " was approved");
        else if (strcmp(type, "change.rejected") == 0)
            strbuf_puts(t, " was rejected");
        else
            strbuf_printf(t, " is now %s (was %s)", deliver_str(p, "to"), deliver_str(p, "from"));
        strbuf_printf(t, ". %s/#/changes/%s", config->base_url, deliver_str(c, "ref"));
    } else if (json_is_object(k)) {
        bool detected = strcmp(type, "change.conflict_detected") == 0;
        const json_t *changes = json_object_get(p, "changes");

        strbuf_printf(t, "%s: ", detected ? "Schedule conflict" : "Conflict resolved");
        for (i = 0; i < json_array_size(changes); i++) {
            if (i > 0)
                strbuf_puts(t, " and ");
            deliver_change_line(t, json_array_get(changes, i));
        }
        if (strcmp(deliver_str(k, "kind"), "freeze") == 0)
            strbuf_printf(t, " %s freeze “%s”",
                          detected ? "falls in the" : "no longer falls in the",
                          deliver_str(json_object_get(p, "freeze"), "name"));
        strbuf_puts(t, detected ? " on " : " (was on ");
        for (i = 0; i < json_array_size(json_object_get(k, "services")); i++)
            strbuf_printf(t, "%s%s", i ? ", " : "",
                          json_string_value(json_array_get(json_object_get(k, "services"), i)));
        strbuf_printf(t, "%s. %s/#/conflicts", detected ? "" : ")", config->base_url);
    } else if (json_is_object(f)) {
        const json_t *w = json_object_get(f, "window");

        strbuf_printf(t, "%s freeze “%s” from %s to %s",
                      json_is_true(json_object_get(f, "hard")) ? "Hard" : "Soft",
                      deliver_str(f, "name"), deliver_str(w, "start"), deliver_str(w, "end"));
        if (deliver_str(f, "reason")[0])
            strbuf_printf(t, ": %s", deliver_str(f, "reason"));
    } else {
        strbuf_puts(t, type);
    }
}

void
deliver_body(const json_t *event, const char *format, struct strbuf *sb)
{
    json_t *body;
    char *text;

    if (strcmp(format, "chat") == 0) {
        struct strbuf t = STRBUF_INIT;
        deliver_chat_text(event, &t);
        body = json_pack("{s:s}", "text", strbuf_str(&t));
        strbuf_free(&t);
    } else {
        body =
            json_pack("{s:s, s:s, s:O}", "type", deliver_str(event, "type"), "timestamp",
                      deliver_str(event, "created_at"), "data", json_object_get(event, "payload"));
    }
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (text)
        strbuf_puts(sb, text);
    else
        sb->failed = true;
    free(text);
    json_decref(body);
}

static size_t
deliver_discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

const char *
deliver_check_url(const char *url, char *why, size_t size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    const char *refused;

    why[0] = '\0';
    if (u == NULL) {
        snprintf(why, size, "cannot be checked now (out of memory)");
    } else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        snprintf(why, size, "is not a URL with a host");
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(why, size, "must be an http:// or https:// URL");
    } else if ((refused = netaddr_refused_literal(host, config->webhook_allow_loopback)) != NULL) {
        snprintf(why, size, "names %s, where no receiver may be", refused);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return why[0] ? why : NULL;
}

/* Opens the sockets libcurl connects with, after resolution: an address no
 * receiver may have (netaddr_refused) gets no socket, so a host name that
 * resolves to a metadata service or to loopback is refused as surely as a
 * literal one. The refusal is kept for the attempt's error. */
struct deliver_guard {
    char refused[INET6_ADDRSTRLEN + 64];
};

static curl_socket_t
deliver_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct deliver_guard *g = arg;
    const char *why = netaddr_refused(&a->addr, config->webhook_allow_loopback);
    char text[INET6_ADDRSTRLEN] = "?";

    if (purpose == CURLSOCKTYPE_IPCXN && why != NULL) {
        if (a->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr, text,
                      sizeof text);
        else if (a->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr, text,
                      sizeof text);
        snprintf(g->refused, sizeof g->refused, "%s is %s", text, why);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* One attempt: *status the HTTP status (0 when none came back), error what
 * went wrong (empty when it went through). */
static bool
deliver_send(CURL *curl, const struct db_webhook_claim *c, int *status, char *error, size_t esize)
{
    struct strbuf body = STRBUF_INIT;
    struct curl_slist *headers = NULL;
    char line[512], sig[128], errbuf[CURL_ERROR_SIZE] = "";
    struct deliver_guard guard = {""};
    long now = (long)time(NULL), code = 0;
    bool standard = strcmp(c->format, "standard") == 0, ok = false;
    CURLcode cc;

    *status = 0;
    error[0] = '\0';
    deliver_body(c->event, c->format, &body);
    if (strbuf_failed(&body)) {
        snprintf(error, esize, "out of memory");
        goto out;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "User-Agent: Cabinet");
    headers = curl_slist_append(headers, "Expect:");
    if (standard &&
        sec_webhook_sign(c->secret, c->event_id, now, body.buf, body.len, sig, sizeof sig) != OK) {
        snprintf(error, esize, "the subscription's secret is not a whsec_ secret");
        goto out;
    }
    if (standard) {
        snprintf(line, sizeof line, "webhook-id: %s", c->event_id);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof line, "webhook-timestamp: %ld", now);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof line, "webhook-signature: %s", sig);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.buf);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)config->webhook_timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)config->webhook_timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    /* the defaults, said out loud: a secret must not go to an impostor */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (config->webhook_ca_file[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, config->webhook_ca_file);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, deliver_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, deliver_discard);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK && guard.refused[0] != '\0') {
        snprintf(error, esize, "refused: %s, where no receiver may be", guard.refused);
        goto out;
    }
    if (cc != CURLE_OK) {
        snprintf(error, esize, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    ok = code >= 200 && code < 300;
    if (!ok)
        snprintf(error, esize, "the receiver answered %ld", code);
out:
    curl_slist_free_all(headers);
    strbuf_free(&body);
    return ok;
}

/* Seconds before attempt n + 1: base, 2 base, 4 base, … up to an hour. */
static int
deliver_delay(int attempts)
{
    long d = config->webhook_retry_base;
    int i;

    for (i = 0; i < attempts && d < DELIVER_MAX_DELAY; i++)
        d *= 2;
    return d > DELIVER_MAX_DELAY ? DELIVER_MAX_DELAY : (int)d;
}

static void
deliver_wake_one(struct deliver *d)
{
    pthread_mutex_lock(&d->lock);
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

/* Claims one lane's next delivery, sends it, records the attempt and lets
 * the lane go: OK when one was sent, ERR_NOT_FOUND when nothing is due,
 * else the connection is suspect (the caller drops it, and with it any lane
 * it still holds). */
/* Counts a recorded attempt in /metrics: a delivery with the time from its
 * event's creation (whole seconds, as events carry it) to now. */
static void
deliver_count(const struct db_webhook_claim *c, bool ok)
{
    const char *at = json_string_value(json_object_get(c->event, "created_at"));
    int64_t created = 0;

    if (ok && at != NULL && timefmt_parse(at, &created) == OK)
        metrics_delivery(true, (double)((int64_t)time(NULL) - created));
    else
        metrics_delivery(ok, 0);
}

static enum outcome
deliver_one(struct deliver *d, struct db *db, CURL *curl)
{
    struct db_webhook_claim c = {0};
    struct timespec t0, t1;
    char error[300];
    int status = 0, ms;
    bool ok;
    enum outcome rc;

    if ((rc = db_webhook_claim(db, &c)) != OK)
        return rc;
    /* more may be due: let an idle worker look at once rather than at its
     * next poll, so that a burst spreads over the workers */
    deliver_wake_one(d);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (c.gone) {
        ok = false;
        snprintf(error, sizeof error, "the subscription was deleted");
    } else {
        ok = deliver_send(curl, &c, &status, error, sizeof error);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    /* recorded before the lane is let go, so that whoever takes it next
     * sees this attempt's outcome */
    rc = db_webhook_result(db, c.id, ok, status, ok ? NULL : error, ms < 0 ? 0 : ms,
                           deliver_delay(c.attempts), c.gone ? 0 : config->webhook_give_up);
    if (rc == OK)
        deliver_count(&c, ok);
    if (rc != OK)
        log_warn("could not record delivery %lld: it will be sent again", (long long)c.id);
    else if ((rc = db_webhook_release(db, c.webhook_id)) == ERR_NOT_FOUND)
        rc = OK; /* the session was renewed meanwhile: the lane went with it */
    db_webhook_claim_clear(&c);
    return rc;
}

/* Waits until it is time to look again: one idle worker polls every
 * DELIVER_POLL_MS, the others sleep until a busy one finds work (or until
 * the poller role is free when they look). */
static void
deliver_idle(struct deliver *d)
{
    struct timespec until;

    pthread_mutex_lock(&d->lock);
    if (d->stopping) {
        /* nothing to wait for */
    } else if (!d->polling) {
        d->polling = true;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += DELIVER_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        /* woken early or not, it looks: a wake-up meant for a sleeper may
         * land here */
        (void)pthread_cond_timedwait(&d->wake, &d->lock, &until);
        d->polling = false;
    } else {
        (void)pthread_cond_wait(&d->wake, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
}

static bool
deliver_stopping(struct deliver *d)
{
    bool stopping;

    pthread_mutex_lock(&d->lock);
    stopping = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return stopping;
}

static void *
deliver_worker(void *arg)
{
    struct deliver *d = arg;
    struct db *db = NULL;
    CURL *curl = NULL;

    while (!deliver_stopping(d)) {
        enum outcome rc = ERR_UNAVAILABLE;

        if (curl == NULL && (curl = curl_easy_init()) == NULL)
            log_warn("a delivery worker cannot make its libcurl handle (out of memory?)");
        if (db == NULL && db_connect(d->url, &db) != OK)
            db = NULL;
        if (db != NULL && curl != NULL)
            rc = deliver_one(d, db, curl);
        if (rc == OK)
            continue;
        if (rc != ERR_NOT_FOUND) {
            db_disconnect(db);
            db = NULL;
        }
        deliver_idle(d);
    }
    if (curl)
        curl_easy_cleanup(curl);
    db_disconnect(db);
    pthread_mutex_lock(&d->lock);
    d->running--;
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

void
deliver_drain(struct deliver *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

int
deliver_busy(struct deliver *d)
{
    int n;

    if (d == NULL)
        return 0;
    pthread_mutex_lock(&d->lock);
    n = d->running;
    pthread_mutex_unlock(&d->lock);
    return n;
}

/* Stops and joins the workers started so far and frees d. */
static void
deliver_free(struct deliver *d)
{
    int i;

    deliver_drain(d);
    for (i = 0; i < d->nworkers; i++)
        pthread_join(d->workers[i], NULL);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    free(d->workers);
    free(d->url);
    free(d);
    curl_global_cleanup();
}

enum outcome
deliver_start(const char *url, struct deliver **out)
{
    struct deliver *d;
    int n = config->delivery_workers;

    if (config->webhook_ca_file[0] != '\0' && access(config->webhook_ca_file, R_OK) != 0) {
        log_error("%s (CABINET_WEBHOOK_CA_FILE): %s", config->webhook_ca_file, strerror(errno));
        return ERR_INVALID;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ERR_INTERNAL;
    d = calloc(1, sizeof *d);
    if (d == NULL || (d->url = strdup(url)) == NULL ||
        (d->workers = calloc((size_t)n, sizeof *d->workers)) == NULL) {
        if (d != NULL)
            free(d->url);
        free(d);
        curl_global_cleanup();
        return ERR_INTERNAL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    for (; d->nworkers < n; d->nworkers++) {
        pthread_mutex_lock(&d->lock);
        d->running++;
        pthread_mutex_unlock(&d->lock);
        if (pthread_create(&d->workers[d->nworkers], NULL, deliver_worker, d) != 0) {
            log_error("cannot start delivery worker %d of %d", d->nworkers + 1, n);
            pthread_mutex_lock(&d->lock);
            d->running--;
            pthread_mutex_unlock(&d->lock);
            deliver_free(d);
            return ERR_INTERNAL;
        }
    }
    *out = d;
    return OK;
}

void
deliver_stop(struct deliver *d)
{
    if (d != NULL)
        deliver_free(d);
}
