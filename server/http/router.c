#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Matches path against pattern; fills the placeholders into m. */
static int
router_path(const char *pattern, const char *path, struct router_match *m)
{
    const char *p = pattern, *s = path;

    m->nparams = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *pend = strchr(p, '}');
            size_t len = strcspn(s, "/");

            if (pend == NULL || len == 0 || len >= ROUTER_PARAM_LEN ||
                m->nparams >= ROUTER_MAX_PARAMS)
                return 0;
            memcpy(m->params[m->nparams], s, len);
            m->params[m->nparams][len] = '\0';
            m->nparams++;
            p = pend + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

/* Adds method to the Allow list unless it is there. */
static void
router_allow(struct router_match *m, const char *method)
{
    size_t len = strlen(m->allow), n = strlen(method);
    const char *p;

    for (p = m->allow; (p = strstr(p, method)) != NULL; p += n)
        if ((p == m->allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return;
    snprintf(m->allow + len, sizeof m->allow - len, "%s%s", len ? ", " : "", method);
}

enum router_result
router_match(const void *table, size_t n, size_t stride, const char *method, const char *path,
             struct router_match *m)
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    struct router_match probe;
    int path_seen = 0;
    size_t i;

    m->index = -1;
    m->nparams = 0;
    m->allow[0] = '\0';
    for (i = 0; i < n; i++) {
        const struct router_route *r =
            (const struct router_route *)(const void *)((const char *)table + i * stride);

        if (!router_path(r->pattern, path, &probe))
            continue;
        if (strcmp(r->method, want) == 0) {
            memcpy(m->params, probe.params, sizeof m->params);
            m->nparams = probe.nparams;
            m->allow[0] = '\0';
            m->index = (int)i;
            return ROUTER_FOUND;
        }
        router_allow(m, r->method);
        if (strcmp(r->method, "GET") == 0)
            router_allow(m, "HEAD");
        path_seen = 1;
    }
    return path_seen ? ROUTER_NO_METHOD : ROUTER_NO_PATH;
}
