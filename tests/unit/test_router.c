/* Matching methods and paths against a route table. */
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "unit.h"

static const struct router_route routes[] = {
    {"GET", "/api/v1/changes"},                             /* 0 */
    {"POST", "/api/v1/changes"},                            /* 1 */
    {"GET", "/api/v1/changes/{id}"},                        /* 2 */
    {"PATCH", "/api/v1/changes/{id}"},                      /* 3 */
    {"DELETE", "/api/v1/changes/{id}"},                     /* 4 */
    {"POST", "/api/v1/changes/{id}/submit"},                /* 5 */
    {"GET", "/api/v1/services/{name}/impact"},              /* 6 */
    {"POST", "/api/v1/webhooks/{id}/deliveries/{d}/retry"}, /* 7 */
    {"GET", "/healthz"},                                    /* 8 */
    {"GET", "/api/v1/changes/export"},                      /* 9: shadowed by 2 */
    {"PUT", "/p/{a}/{b}/{c}/{d}"},                          /* 10: ROUTER_MAX_PARAMS */
    {"GET", "/q/{a}/{b}/{c}/{d}/{e}"},                      /* 11: one too many */
    {"GET", "/v{n}/x"},                                     /* 12: part of a segment */
};

#define F ROUTER_FOUND
#define NP ROUTER_NO_PATH
#define NM ROUTER_NO_METHOD

static const struct {
    const char *method, *path;
    enum router_result want;
    int index;            /* FOUND */
    int nparams;          /* FOUND */
    const char *param[4]; /* FOUND */
    const char *allow;    /* NO_METHOD; "" otherwise */
} rows[] = {
    /* literal patterns */
    {"GET", "/api/v1/changes", F, 0, 0, {NULL}, NULL},
    {"POST", "/api/v1/changes", F, 1, 0, {NULL}, NULL},
    {"HEAD", "/api/v1/changes", F, 0, 0, {NULL}, NULL},
    {"GET", "/healthz", F, 8, 0, {NULL}, NULL},
    {"HEAD", "/healthz", F, 8, 0, {NULL}, NULL},
    {"PUT", "/api/v1/changes", NM, 0, 0, {NULL}, "GET, HEAD, POST"},
    {"DELETE", "/api/v1/changes", NM, 0, 0, {NULL}, "GET, HEAD, POST"},
    {"OPTIONS", "/api/v1/changes", NM, 0, 0, {NULL}, "GET, HEAD, POST"},
    /* methods are case-sensitive */
    {"get", "/api/v1/changes", NM, 0, 0, {NULL}, "GET, HEAD, POST"},
    {"POST", "/healthz", NM, 0, 0, {NULL}, "GET, HEAD"},
    /* placeholders */
    {"GET", "/api/v1/changes/42", F, 2, 1, {"42"}, NULL},
    {"HEAD", "/api/v1/changes/42", F, 2, 1, {"42"}, NULL},
    {"PATCH", "/api/v1/changes/CHG-1042", F, 3, 1, {"CHG-1042"}, NULL},
    {"DELETE", "/api/v1/changes/7", F, 4, 1, {"7"}, NULL},
    {"POST", "/api/v1/changes/42", NM, 0, 0, {NULL}, "GET, HEAD, PATCH, DELETE"},
    {"POST", "/api/v1/changes/42/submit", F, 5, 1, {"42"}, NULL},
    {"GET", "/api/v1/changes/42/submit", NM, 0, 0, {NULL}, "POST"},
    {"HEAD", "/api/v1/changes/42/submit", NM, 0, 0, {NULL}, "POST"},
    {"GET", "/api/v1/services/web/impact", F, 6, 1, {"web"}, NULL},
    {"GET", "/api/v1/services/a%2Fb/impact", F, 6, 1, {"a%2Fb"}, NULL}, /* no decoding */
    {"POST", "/api/v1/webhooks/7/deliveries/99/retry", F, 7, 2, {"7", "99"}, NULL},
    {"PUT", "/p/1/2/3/4", F, 10, 4, {"1", "2", "3", "4"}, NULL},
    {"GET", "/q/1/2/3/4/5", NP, 0, 0, {NULL}, NULL},
    {"GET", "/v1/x", F, 12, 1, {"1"}, NULL},
    /* the first matching route wins; Allow names each method once */
    {"GET", "/api/v1/changes/export", F, 2, 1, {"export"}, NULL},
    {"DELETE", "/api/v1/changes/export", F, 4, 1, {"export"}, NULL},
    {"POST", "/api/v1/changes/export", NM, 0, 0, {NULL}, "GET, HEAD, PATCH, DELETE"},
    /* trailing slashes, empty segments, near misses */
    {"GET", "/api/v1/changes/", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/changes/42/", NP, 0, 0, {NULL}, NULL},
    {"POST", "/api/v1/changes/42/submit/", NP, 0, 0, {NULL}, NULL},
    {"GET", "/healthz/", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/services//impact", NP, 0, 0, {NULL}, NULL},
    {"POST", "/api/v1/changes//submit", NP, 0, 0, {NULL}, NULL},
    {"POST", "/api/v1/webhooks/7/deliveries//retry", NP, 0, 0, {NULL}, NULL},
    {"POST", "/api/v1/webhooks//deliveries/9/retry", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/services/web", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/change", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/changesx", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api/v1/changes/42/submit/x", NP, 0, 0, {NULL}, NULL},
    {"GET", "/API/v1/changes", NP, 0, 0, {NULL}, NULL},
    {"GET", "//api/v1/changes", NP, 0, 0, {NULL}, NULL},
    {"GET", "/api//v1/changes", NP, 0, 0, {NULL}, NULL},
    {"GET", "api/v1/changes", NP, 0, 0, {NULL}, NULL},
    {"GET", "/v/x", NP, 0, 0, {NULL}, NULL},
    {"GET", "/", NP, 0, 0, {NULL}, NULL},
    {"GET", "", NP, 0, 0, {NULL}, NULL},
};

void
test_router_table(void)
{
    size_t i;
    int k;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct router_match m;
        enum router_result r;

        unit_row("%s %s", rows[i].method, rows[i].path);
        r = router_match(routes, UNIT_NELEM(routes), sizeof routes[0], rows[i].method, rows[i].path,
                         &m);
        CHECK_INT(r, rows[i].want);
        if (r != rows[i].want)
            continue;
        switch (r) {
        case ROUTER_FOUND:
            CHECK_INT(m.index, rows[i].index);
            CHECK_INT(m.nparams, rows[i].nparams);
            for (k = 0; k < rows[i].nparams && k < m.nparams; k++)
                CHECK_STR(m.params[k], rows[i].param[k]);
            CHECK_STR(m.allow, "");
            break;
        case ROUTER_NO_METHOD:
            CHECK_INT(m.index, -1);
            CHECK_STR(m.allow, rows[i].allow);
            break;
        case ROUTER_NO_PATH:
            CHECK_INT(m.index, -1);
            CHECK_STR(m.allow, "");
            break;
        }
    }
}

/* A placeholder holds up to ROUTER_PARAM_LEN - 1 bytes; a longer segment
 * matches nothing rather than being cut. */
void
test_router_long_param(void)
{
    static const struct {
        const char *method;
        const char *head;
        size_t n; /* bytes of the segment */
        const char *tail;
        enum router_result want;
    } long_rows[] = {
        {"GET", "/api/v1/changes/", ROUTER_PARAM_LEN - 1, "", ROUTER_FOUND},
        {"GET", "/api/v1/changes/", ROUTER_PARAM_LEN, "", ROUTER_NO_PATH},
        {"GET", "/api/v1/changes/", ROUTER_PARAM_LEN * 4, "", ROUTER_NO_PATH},
        {"POST", "/api/v1/changes/", ROUTER_PARAM_LEN - 1, "/submit", ROUTER_FOUND},
        {"POST", "/api/v1/changes/", ROUTER_PARAM_LEN, "/submit", ROUTER_NO_PATH},
        {"GET", "/api/v1/services/", ROUTER_PARAM_LEN, "/impact", ROUTER_NO_PATH},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(long_rows); i++) {
        char *path = unit_build(long_rows[i].head, "x", long_rows[i].n, long_rows[i].tail);
        char *param = unit_build(NULL, "x", long_rows[i].n, NULL);
        struct router_match m;
        enum router_result r;

        unit_row("%s %s + %zu bytes + %s", long_rows[i].method, long_rows[i].head, long_rows[i].n,
                 long_rows[i].tail);
        r = router_match(routes, UNIT_NELEM(routes), sizeof routes[0], long_rows[i].method, path,
                         &m);
        CHECK_INT(r, long_rows[i].want);
        if (r == ROUTER_FOUND && long_rows[i].want == ROUTER_FOUND) {
            CHECK_INT(m.nparams, 1);
            CHECK_STR(m.params[0], param);
        }
        free(path);
        free(param);
    }
}

/* Routes may sit first in a larger struct: the table is walked by stride. */
void
test_router_stride(void)
{
    static const struct {
        struct router_route r;
        int flags;
        const char *handler;
    } table[] = {
        /* clang-format off */
        {{"GET", "/a"}, 1, "list"},
        {{"POST", "/a"}, 2, "create"},
        {{"GET", "/a/{id}"}, 3, "get"},
        {{"POST", "/c"}, 4, "c-create"},
        {{"GET", "/c"}, 5, "c-list"},
        /* clang-format on */
    };
    static const struct {
        const char *method, *path;
        enum router_result want;
        int index;
        const char *handler;
        const char *allow;
    } stride_rows[] = {
        /* clang-format off */
        {"GET", "/a", ROUTER_FOUND, 0, "list", ""},
        {"POST", "/a", ROUTER_FOUND, 1, "create", ""},
        {"GET", "/a/9", ROUTER_FOUND, 2, "get", ""},
        {"HEAD", "/a/9", ROUTER_FOUND, 2, "get", ""},
        {"DELETE", "/a/9", ROUTER_NO_METHOD, -1, NULL, "GET, HEAD"},
        {"PUT", "/a", ROUTER_NO_METHOD, -1, NULL, "GET, HEAD, POST"},
        {"HEAD", "/c", ROUTER_FOUND, 4, "c-list", ""},
        {"PUT", "/c", ROUTER_NO_METHOD, -1, NULL, "POST, GET, HEAD"},
        {"GET", "/b", ROUTER_NO_PATH, -1, NULL, ""},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(stride_rows); i++) {
        struct router_match m;

        unit_row("%s %s", stride_rows[i].method, stride_rows[i].path);
        CHECK_INT(router_match(table, UNIT_NELEM(table), sizeof table[0], stride_rows[i].method,
                               stride_rows[i].path, &m),
                  stride_rows[i].want);
        CHECK_INT(m.index, stride_rows[i].index);
        if (stride_rows[i].handler != NULL && m.index >= 0)
            CHECK_STR(table[m.index].handler, stride_rows[i].handler);
        CHECK_STR(m.allow, stride_rows[i].allow);
    }

    /* an empty table matches nothing */
    {
        struct router_match m;

        unit_row("empty table");
        CHECK_INT(router_match(table, 0, sizeof table[0], "GET", "/a", &m), ROUTER_NO_PATH);
        CHECK_INT(m.index, -1);
    }
}

/* A match structure reused from an earlier request carries nothing over. */
void
test_router_resets_match(void)
{
    struct router_match m;

    memset(&m, 0, sizeof m);
    CHECK_INT(
        router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "PUT", "/api/v1/changes/1", &m),
        ROUTER_NO_METHOD);
    CHECK_STR(m.allow, "GET, HEAD, PATCH, DELETE");

    /* a match after a 405 leaves no Allow list behind */
    CHECK_INT(router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "PATCH",
                           "/api/v1/changes/1", &m),
              ROUTER_FOUND);
    CHECK_INT(m.index, 3);
    CHECK_STR(m.allow, "");

    CHECK_INT(router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "POST", "/healthz", &m),
              ROUTER_NO_METHOD);
    CHECK_STR(m.allow, "GET, HEAD");

    CHECK_INT(router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "GET", "/nowhere", &m),
              ROUTER_NO_PATH);
    CHECK_INT(m.index, -1);
    CHECK_INT(m.nparams, 0);
    CHECK_STR(m.allow, "");

    CHECK_INT(router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "POST",
                           "/api/v1/webhooks/1/deliveries/2/retry", &m),
              ROUTER_FOUND);
    CHECK_INT(router_match(routes, UNIT_NELEM(routes), sizeof routes[0], "GET", "/healthz", &m),
              ROUTER_FOUND);
    CHECK_INT(m.index, 8);
    CHECK_INT(m.nparams, 0);
    CHECK_STR(m.allow, "");
}
