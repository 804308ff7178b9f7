#include "domain/validate.h"

#include <string.h>

const char *const validate_roles[] = {"cab", "ecab", "manager", "admin", NULL};

bool
validate_slug(const char *s)
{
    size_t i, n;

    if (s == NULL || (n = strlen(s)) == 0 || n > 63)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
        if (!ok)
            return false;
    }
    return true;
}

bool
validate_email(const char *s)
{
    const char *at;
    size_t i, n;

    if (s == NULL || (n = strlen(s)) < 3 || n > 254)
        return false;
    at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

bool
validate_utf8(const char *s, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;

    while (*p) {
        unsigned c = *p;
        int more;
        unsigned cp, min;

        if (c < 0x80) {
            p++;
            count++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        p++;
        while (more--) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        count++;
    }
    if (chars)
        *chars = count;
    return true;
}

bool
validate_oneof(const char *s, const char *const *list)
{
    if (s == NULL)
        return false;
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool
validate_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool
validate_text(const char *s, size_t min, size_t max)
{
    const char *b, *e;
    size_t n = 0;

    if (s == NULL || !validate_utf8(s, NULL))
        return false;
    b = s;
    e = s + strlen(s);
    while (b < e && validate_space(*b))
        b++;
    while (e > b && validate_space(e[-1]))
        e--;
    for (; b < e; b++)
        if (((unsigned char)*b & 0xc0) != 0x80)
            n++;
    return n >= min && n <= max;
}
