/* router_match: any method and path match at most one route, with every
 * parameter a non-empty segment free of '/'. Input: method, NUL, path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct router_route routes[] = {
    {"GET", "/api/v1/changes"},
    {"POST", "/api/v1/changes"},
    {"GET", "/api/v1/changes/{id}"},
    {"PATCH", "/api/v1/changes/{id}"},
    {"POST", "/api/v1/changes/{id}/submit"},
    {"GET", "/api/v1/services/{name}/impact"},
    {"POST", "/api/v1/webhooks/{id}/deliveries/{d}/retry"},
    {"GET", "/gate/{token}"},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    const char *method, *path;
    struct router_match m;
    int i;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    method = buf;
    path = buf + strlen(buf) + (strlen(buf) < size ? 1 : 0);
    if (router_match(routes, sizeof routes / sizeof routes[0], sizeof routes[0], method, path,
                     &m) == ROUTER_FOUND) {
        if (m.index < 0 || (size_t)m.index >= sizeof routes / sizeof routes[0])
            abort();
        for (i = 0; i < m.nparams; i++)
            if (m.params[i][0] == '\0' || strchr(m.params[i], '/') != NULL)
                abort();
    }
    free(buf);
    return 0;
}
