#include "http/static.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static const struct {
    const char *ext;
    const char *type;
} static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

static const char *
static_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    size_t i;

    if (dot != NULL && strchr(dot, '/') == NULL)
        for (i = 0; i < sizeof static_types / sizeof static_types[0]; i++)
            if (strcmp(dot, static_types[i].ext) == 0)
                return static_types[i].type;
    return NULL;
}

enum outcome
static_load(const char *root, const char *path, struct strbuf *body, const char **type,
            char etag[STATIC_ETAG_LEN])
{
    char want[PATH_MAX], real[PATH_MAX], base[PATH_MAX], chunk[16384];
    enum outcome rc = ERR_NOT_FOUND;
    struct stat st;
    size_t n, blen;
    FILE *f = NULL;

    if (path[0] != '/' || strstr(path, "..") != NULL || strchr(path, '\\') != NULL)
        return ERR_NOT_FOUND;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    /* no hidden files (.git, .env) even if the root holds some */
    if (strstr(path, "/.") != NULL)
        return ERR_NOT_FOUND;
    if ((*type = static_type(path)) == NULL)
        return ERR_NOT_FOUND;
    if (realpath(root, base) == NULL)
        return ERR_NOT_FOUND;
    if ((size_t)snprintf(want, sizeof want, "%s%s", base, path) >= sizeof want)
        return ERR_NOT_FOUND;
    if (realpath(want, real) == NULL)
        return ERR_NOT_FOUND;
    blen = strlen(base);
    if (strncmp(real, base, blen) != 0 || real[blen] != '/')
        return ERR_NOT_FOUND;
    if ((f = fopen(real, "rb")) == NULL)
        return ERR_NOT_FOUND;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    snprintf(etag, STATIC_ETAG_LEN, "W/\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(body, chunk, n);
    rc = ferror(f) || strbuf_failed(body) ? ERR_INTERNAL : OK;
out:
    fclose(f);
    return rc;
}

enum outcome
static_check_root(const char *root)
{
    char index[PATH_MAX];
    struct stat st;

    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_error("the web root %s (CABINET_WEB_ROOT) is not a directory: point "
                  "CABINET_WEB_ROOT at the folder holding the web UI (web/ in a checkout)",
                  root);
        return ERR_INVALID;
    }
    if ((size_t)snprintf(index, sizeof index, "%s/index.html", root) >= sizeof index ||
        stat(index, &st) != 0 || !S_ISREG(st.st_mode)) {
        log_error("the web root %s (CABINET_WEB_ROOT) has no index.html: point "
                  "CABINET_WEB_ROOT at the folder holding the web UI (web/ in a checkout)",
                  root);
        return ERR_INVALID;
    }
    return OK;
}
