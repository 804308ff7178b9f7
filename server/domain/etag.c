#include "domain/etag.h"

#include <string.h>

/* The opaque part of a tag at p (end: one past it), and whether it is
 * weak; false when p..end is not a tag. */
static bool
etag_parse(const char *p, const char *end, const char **opaque, size_t *len, bool *is_weak)
{
    *is_weak = end - p >= 2 && p[0] == 'W' && p[1] == '/';
    if (*is_weak)
        p += 2;
    if (end - p < 2 || p[0] != '"' || end[-1] != '"' || memchr(p + 1, '"', (size_t)(end - p - 2)))
        return false;
    *opaque = p + 1;
    *len = (size_t)(end - p - 2);
    return true;
}

bool
etag_matches(const char *field, const char *etag, bool weak)
{
    const char *want, *got, *p;
    size_t wlen, glen;
    bool wweak, gweak;

    if (field == NULL || etag == NULL ||
        !etag_parse(etag, etag + strlen(etag), &want, &wlen, &wweak))
        return false;
    for (p = field; *p;) {
        const char *end;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        end = p + strcspn(p, ",");
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - p == 1 && *p == '*')
            return true;
        if (etag_parse(p, end, &got, &glen, &gweak) && glen == wlen &&
            memcmp(got, want, wlen) == 0 && (weak || (!gweak && !wweak)))
            return true;
        p = end;
        while (*p && *p != ',')
            p++;
    }
    return false;
}
