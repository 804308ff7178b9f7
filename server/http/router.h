/*
 * Matching a request's method and path against a table of routes. Patterns
 * are literal segments and `{name}` placeholders, each standing for one
 * non-empty segment: "/api/v1/changes/{id}/submit". Pure (no CivetWeb) and
 * thread-safe; the table is read-only.
 */
#ifndef CABINET_ROUTER_H
#define CABINET_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_LEN 256

struct router_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/services/{name}" */
};

struct router_match {
    int index; /* into the table; -1 when nothing matched */
    int nparams;
    char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_LEN];
    /* for 405: the methods the path would accept, ", "-separated */
    char allow[128];
};

enum router_result { ROUTER_FOUND, ROUTER_NO_PATH, ROUTER_NO_METHOD };

/* Finds the first route of the table (n entries, each `stride` bytes apart so
 * that it can be embedded first in a larger struct) matching method and path.
 * HEAD matches GET routes. */
enum router_result router_match(const void *table, size_t n, size_t stride, const char *method,
                                const char *path, struct router_match *m);

#endif
