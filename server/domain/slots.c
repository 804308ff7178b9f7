#include "domain/slots.h"

#include <stdbool.h>
#include <stdlib.h>

enum outcome
slots_duration(const char *s, int64_t *seconds)
{
    bool in_time = false, any = false;
    int64_t total = 0;
    const char *p = s;

    if (s == NULL || *p++ != 'P')
        return ERR_INVALID;
    while (*p) {
        int64_t n = 0;
        int digits = 0;

        if (*p == 'T') {
            if (in_time)
                return ERR_INVALID;
            in_time = true;
            p++;
            continue;
        }
        while (*p >= '0' && *p <= '9' && digits < 9) {
            n = n * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0)
            return ERR_INVALID;
        switch (*p++) {
        case 'D':
            if (in_time)
                return ERR_INVALID;
            total += n * 86400;
            break;
        case 'H':
            if (!in_time)
                return ERR_INVALID;
            total += n * 3600;
            break;
        case 'M':
            if (!in_time)
                return ERR_INVALID; /* months: refused */
            total += n * 60;
            break;
        case 'S':
            if (!in_time)
                return ERR_INVALID;
            total += n;
            break;
        default: return ERR_INVALID;
        }
        any = true;
    }
    if (!any || total <= 0 || p[-1] == 'T')
        return ERR_INVALID;
    *seconds = total;
    return OK;
}

static int
slots_cmp(const void *a, const void *b)
{
    const struct slots_interval *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

size_t
slots_find(struct slots_interval *busy, size_t nbusy, int64_t after, int64_t until,
           int64_t duration, struct slots_interval *out, size_t max)
{
    int64_t t = after;
    size_t i = 0, n = 0;

    if (nbusy > 0)
        qsort(busy, nbusy, sizeof *busy, slots_cmp);
    while (n < max && t + duration <= until) {
        /* skip what has ended; push t past anything that overlaps it */
        while (i < nbusy && busy[i].end <= t)
            i++;
        if (i < nbusy && busy[i].start < t + duration) {
            t = busy[i].end > t ? busy[i].end : t;
            continue;
        }
        out[n].start = t;
        out[n].end = t + duration;
        n++;
        t += duration;
    }
    return n;
}
