/*
 * The benchmark's load generator: CLIENTS threads, each with one keep-alive
 * loopback connection, sending requests back to back for at most SECONDS or
 * MAX requests per thread, whichever ends first, and recording the latency
 * of each timed request.
 *
 *   load PORT CLIENTS SECONDS MAX TOKEN get  PREFIX LO HI
 *        GET PREFIX<id>, id uniform in [LO, HI]
 *   load PORT CLIENTS SECONDS MAX TOKEN post PATH
 *        POST PATH with a new draft (see draft())
 *   load PORT CLIENTS SECONDS MAX TOKEN submit PREFIX WEEKS
 *        each thread first makes MAX drafts (POST PREFIX/changes, before
 *        the clock starts), then all submit theirs at once: POST
 *        PREFIX/changes/{id}/submit, timed. WEEKS 0: the window starts
 *        anywhere in the next 14 days; WEEKS > 0: request n of thread t
 *        falls in week (t + n * CLIENTS) % WEEKS from now, so that with
 *        CLIENTS = WEEKS each thread keeps to a week of its own and one
 *        thread cycles through the same weeks.
 *
 * A draft names one service drawn uniformly from the 2,000 of the data set
 * (s<level>-<index>, 10 levels of 200, as scale.py makes them) and a 1-4 h
 * window. Prints one line:
 *   n=.. errors=.. seconds=.. rate=.. p50=.. p90=.. p99=.. max=.. (ms)
 * and the first failure's status and body on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { GET, POST, SUBMIT };

struct worker {
    int index;
    uint64_t rng;
    double *lat; /* ms */
    int n, errors;
    char *buf;
    size_t cap;
    int fd;
};

static int port, clients, max_req, weeks;
static double seconds;
static enum mode mode;
static const char *token, *prefix;
static long long lo, hi;
static time_t t_base;
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static int first_reported;
static pthread_barrier_t start_line;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static int
dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One request and its whole response on the worker's connection (made
 * again when the server closed it). Returns the status, or -1; the body is
 * in w->buf from *body. */
static int
roundtrip(struct worker *w, const char *method, const char *path, const char *body, size_t *body_at)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0, got = 0, need = 0, hend = 0;
    int status = -1, n, close_after = 0, attempt;

    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                 "Accept: application/json\r\n%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, token, body ? "Content-Type: application/json\r\n" : "", blen);
    for (attempt = 0; attempt < 2; attempt++) {
        if (w->fd < 0 && (w->fd = dial()) < 0)
            return -1;
        if (send_all(w->fd, head, (size_t)n) == 0 &&
            (blen == 0 || send_all(w->fd, body, blen) == 0))
            break;
        close(w->fd);
        w->fd = -1;
    }
    if (w->fd < 0)
        return -1;
    for (;;) {
        ssize_t k;
        if (got + 65536 > w->cap) {
            w->cap = (got + 65536) * 2;
            if ((w->buf = realloc(w->buf, w->cap)) == NULL)
                abort();
        }
        k = recv(w->fd, w->buf + got, w->cap - got - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
        w->buf[got] = '\0';
        if (hend == 0) {
            char *e = strstr(w->buf, "\r\n\r\n"), *cl;
            if (e == NULL)
                continue;
            hend = (size_t)(e - w->buf) + 4;
            status = atoi(w->buf + 9);
            e[2] = '\0';
            for (cl = w->buf; (cl = strchr(cl, '\n')) != NULL;) {
                cl++;
                if (strncasecmp(cl, "Content-Length:", 15) == 0)
                    need = strtoull(cl + 15, NULL, 10);
                if (strncasecmp(cl, "Connection: close", 17) == 0)
                    close_after = 1;
            }
            e[2] = '\r';
        }
        if (hend && got >= hend + need)
            break;
    }
    if (hend == 0 || got < hend + need) {
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    if (close_after) {
        close(w->fd);
        w->fd = -1;
    }
    w->buf[hend + need] = '\0';
    *body_at = hend;
    return status;
}

static void
draft(struct worker *w, long long n, char *out, size_t size)
{
    int svc = (int)(rnd(w) % 2000);
    long long span = 14LL * 86400 - 6 * 3600, off;
    time_t s, e;
    struct tm tm;
    char a[32], b[32];

    if (weeks > 0) {
        long long week = (w->index + n * clients) % weeks;
        off = week * 7 * 86400 + (long long)(rnd(w) % (7 * 86400 - 5 * 3600));
    } else {
        off = (long long)(rnd(w) % (uint64_t)span);
    }
    s = t_base + 3600 + (off / 300) * 300;
    e = s + 3600 * (1 + (time_t)(rnd(w) % 4));
    gmtime_r(&s, &tm);
    strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&e, &tm);
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(out, size,
             "{\"title\":\"bench load %d-%lld\",\"services\":[\"s%d-%03d\"],"
             "\"window\":{\"start\":\"%s\",\"end\":\"%s\"},\"test_plan\":\"smoke tests\","
             "\"backout_plan\":\"roll back the release\",\"business_impact\":\"low\"}",
             w->index, n, svc / 200, svc % 200, a, b);
}

static void
report_first(int status, const char *what, const char *body)
{
    pthread_mutex_lock(&first_lock);
    if (!first_reported) {
        first_reported = 1;
        fprintf(stderr, "load: first failure: %s -> %d %.300s\n", what, status,
                body ? body : "(no response)");
    }
    pthread_mutex_unlock(&first_lock);
}

static long long
body_id(const char *body)
{
    const char *p = strstr(body, "\"id\"");

    if (p == NULL)
        return 0;
    p += 4;
    while (*p == ' ' || *p == ':')
        p++;
    return strtoll(p, NULL, 10);
}

/* Submit mode, untimed: the thread's drafts, made before the clock starts. */
static int
make_drafts(struct worker *w, long long *ids)
{
    char path[512], body[1024];
    size_t at = 0;
    int status, made = 0;
    long long id;

    snprintf(path, sizeof path, "%s/changes", prefix);
    while (made < max_req) {
        draft(w, made, body, sizeof body);
        status = roundtrip(w, "POST", path, body, &at);
        if (status != 201 || (id = body_id(w->buf + at)) <= 0) {
            report_first(status, path, status > 0 ? w->buf + at : NULL);
            w->errors++;
            break;
        }
        ids[made++] = id;
    }
    return made;
}

static void *
run(void *arg)
{
    struct worker *w = arg;
    char path[512], body[1024];
    long long *ids = NULL, id;
    int ndrafts = 0, status, want;
    double end, t0;
    size_t at = 0;

    if (mode == SUBMIT) {
        if ((ids = calloc((size_t)max_req, sizeof *ids)) == NULL)
            abort();
        ndrafts = make_drafts(w, ids);
    }
    pthread_barrier_wait(&start_line);
    end = now_s() + seconds;
    while (w->n < max_req && now_s() < end) {
        if (mode == GET) {
            id = lo + (long long)(rnd(w) % (uint64_t)(hi - lo + 1));
            snprintf(path, sizeof path, "%s%lld", prefix, id);
            t0 = now_s();
            status = roundtrip(w, "GET", path, NULL, &at);
            want = 200;
        } else if (mode == POST) {
            draft(w, w->n, body, sizeof body);
            snprintf(path, sizeof path, "%s", prefix);
            t0 = now_s();
            status = roundtrip(w, "POST", path, body, &at);
            want = 201;
        } else {
            if (w->n >= ndrafts)
                break;
            snprintf(path, sizeof path, "%s/changes/%lld/submit", prefix, ids[w->n]);
            t0 = now_s();
            status = roundtrip(w, "POST", path, "{}", &at);
            want = 200;
        }
        w->lat[w->n++] = (now_s() - t0) * 1000.0;
        if (status != want) {
            report_first(status, path, status > 0 ? w->buf + at : NULL);
            w->errors++;
            if (status < 0)
                break;
        }
    }
    if (w->fd >= 0)
        close(w->fd);
    free(ids);
    return NULL;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
pct(const double *v, int n, double p)
{
    int i;

    if (n == 0)
        return 0;
    i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

int
main(int argc, char **argv)
{
    struct worker *ws;
    pthread_t *th;
    double t0, took, *all;
    int i, total = 0, errors = 0;

    if (argc < 8) {
        fprintf(stderr, "usage: see the header of tests/bench/load.c\n");
        return 2;
    }
    port = atoi(argv[1]);
    clients = atoi(argv[2]);
    seconds = atof(argv[3]);
    max_req = atoi(argv[4]);
    token = argv[5];
    prefix = argv[7];
    if (strcmp(argv[6], "get") == 0 && argc == 10) {
        mode = GET;
        lo = atoll(argv[8]);
        hi = atoll(argv[9]);
    } else if (strcmp(argv[6], "post") == 0 && argc == 8) {
        mode = POST;
    } else if (strcmp(argv[6], "submit") == 0 && argc == 9) {
        mode = SUBMIT;
        weeks = atoi(argv[8]);
    } else {
        fprintf(stderr, "load: unknown mode or wrong arguments\n");
        return 2;
    }
    if (clients < 1 || max_req < 1 || seconds <= 0 || (mode == GET && hi < lo))
        return 2;
    t_base = time(NULL);
    ws = calloc((size_t)clients, sizeof *ws);
    th = calloc((size_t)clients, sizeof *th);
    for (i = 0; i < clients; i++) {
        ws[i].index = i;
        ws[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1) ^ (uint64_t)t_base;
        ws[i].lat = calloc((size_t)max_req, sizeof(double));
        ws[i].fd = -1;
    }
    pthread_barrier_init(&start_line, NULL, (unsigned)clients + 1);
    for (i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, run, &ws[i]);
    pthread_barrier_wait(&start_line);
    t0 = now_s();
    for (i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    took = now_s() - t0;
    all = calloc((size_t)clients * (size_t)max_req + 1, sizeof(double));
    for (i = 0; i < clients; i++) {
        memcpy(all + total, ws[i].lat, (size_t)ws[i].n * sizeof(double));
        total += ws[i].n;
        errors += ws[i].errors;
    }
    qsort(all, (size_t)total, sizeof(double), cmp);
    printf("n=%d errors=%d seconds=%.3f rate=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f\n", total,
           errors, took, total / took, pct(all, total, 0.5), pct(all, total, 0.9),
           pct(all, total, 0.99), total ? all[total - 1] : 0.0);
    return errors > 0 ? 1 : 0;
}
