#include "domain/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Decodes the code point at *p and moves *p past it; false on a byte
 * sequence that is not UTF-8 (overlong, a surrogate, past U+10FFFF). */
static bool
validate_next(const unsigned char **p, uint32_t *cp)
{
    const unsigned char *s = *p;
    uint32_t c = s[0], min;
    int more;

    if (c < 0x80) {
        *cp = c;
        *p = s + 1;
        return true;
    }
    if ((c & 0xe0) == 0xc0)
        more = 1, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        more = 2, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        more = 3, c &= 0x07, min = 0x10000;
    else
        return false;
    for (s++; more > 0; more--, s++) {
        if ((*s & 0xc0) != 0x80)
            return false;
        c = (c << 6) | (*s & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return false;
    *cp = c;
    *p = s;
    return true;
}

bool
validate_utf8(const char *s, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    uint32_t cp;

    while (*p) {
        if (!validate_next(&p, &cp))
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

static bool
validate_is_control(uint32_t c)
{
    return c <= 0x1f || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

/* The embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and the isolates
 * (LRI, RLI, FSI, PDI): they make text display in another order than it is
 * stored, the "Trojan Source" trick. */
static bool
validate_is_bidi(uint32_t c)
{
    return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The rules of both kinds of text field: lines allows tab, LF and CR. */
static bool
validate_chars(const char *s, bool lines, char why[VALIDATE_WHY_LEN])
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t c;

    if (s == NULL)
        return true;
    while (*p) {
        if (!validate_next(&p, &c)) {
            if (why)
                snprintf(why, VALIDATE_WHY_LEN, "must be valid UTF-8");
            return false;
        }
        if (lines && (c == '\t' || c == '\n' || c == '\r'))
            continue;
        if (validate_is_control(c)) {
            if (why)
                snprintf(why, VALIDATE_WHY_LEN, "%s: U+%04X is a control character",
                         lines ? "may hold tabs and line breaks but no other control character"
                               : "must be one line of text",
                         (unsigned)c);
            return false;
        }
        if (validate_is_bidi(c)) {
            if (why)
                snprintf(why, VALIDATE_WHY_LEN,
                         "must not hold U+%04X, a bidirectional control that reorders how text "
                         "is displayed",
                         (unsigned)c);
            return false;
        }
    }
    return true;
}

bool
validate_line(const char *s, char why[VALIDATE_WHY_LEN])
{
    return validate_chars(s, false, why);
}

bool
validate_lines(const char *s, char why[VALIDATE_WHY_LEN])
{
    return validate_chars(s, true, why);
}

char *
validate_newlines(const char *s)
{
    char *out, *w;

    if (s == NULL || (out = malloc(strlen(s) + 1)) == NULL)
        return NULL;
    for (w = out; *s; s++) {
        if (*s != '\r') {
            *w++ = *s;
            continue;
        }
        *w++ = '\n';
        if (s[1] == '\n')
            s++;
    }
    *w = '\0';
    return out;
}
