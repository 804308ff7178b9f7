#include "domain/timefmt.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t
timefmt_days(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
timefmt_month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p into *v and advances *p. */
static bool
timefmt_digits(const char **p, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return true;
}

static bool
timefmt_expect(const char **p, const char *chars)
{
    if (**p == '\0' || strchr(chars, **p) == NULL)
        return false;
    (*p)++;
    return true;
}

enum outcome
timefmt_parse(const char *s, int64_t *epoch)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

    if (s == NULL)
        return ERR_INVALID;
    if (!timefmt_digits(&p, 4, &y) || !timefmt_expect(&p, "-") || !timefmt_digits(&p, 2, &mo) ||
        !timefmt_expect(&p, "-") || !timefmt_digits(&p, 2, &d) || !timefmt_expect(&p, "Tt ") ||
        !timefmt_digits(&p, 2, &h) || !timefmt_expect(&p, ":") || !timefmt_digits(&p, 2, &mi) ||
        !timefmt_expect(&p, ":") || !timefmt_digits(&p, 2, &sec))
        return ERR_INVALID;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return ERR_INVALID;
        while (*p >= '0' && *p <= '9')
            p++; /* fractions are truncated */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        p++;
        if (!timefmt_digits(&p, 2, &oh) || !timefmt_expect(&p, ":") ||
            !timefmt_digits(&p, 2, &om) || oh > 23 || om > 59)
            return ERR_INVALID;
    } else {
        return ERR_INVALID;
    }
    if (*p != '\0')
        return ERR_INVALID;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > timefmt_month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return ERR_INVALID;
    *epoch = timefmt_days(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec -
             (int64_t)sign * (oh * 3600 + om * 60);
    /* an offset may carry a time just past either end of the range */
    if (*epoch < timefmt_days(1, 1, 1) * 86400 ||
        *epoch > timefmt_days(9999, 12, 31) * 86400 + 86399)
        return ERR_INVALID;
    return OK;
}

void
timefmt_format(int64_t epoch, char out[TIMEFMT_LEN])
{
    int64_t days = epoch / 86400, secs = epoch % 86400;
    int64_t z, era, doe, yoe, doy, mp, y, m, d;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    /* civil_from_days, the inverse of timefmt_days */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999; /* out of the representable range; clamp */
    snprintf(out, TIMEFMT_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

enum outcome
timefmt_normalize(const char *s, char out[TIMEFMT_LEN])
{
    int64_t t;
    enum outcome rc;

    if ((rc = timefmt_parse(s, &t)) != OK)
        return rc;
    timefmt_format(t, out);
    return OK;
}

bool
timefmt_is_normal(const char *s)
{
    char again[TIMEFMT_LEN];
    int64_t t;

    if (s == NULL || strlen(s) != TIMEFMT_LEN - 1 || s[10] != 'T' || s[19] != 'Z')
        return false;
    if (timefmt_parse(s, &t) != OK)
        return false;
    timefmt_format(t, again);
    return strcmp(again, s) == 0;
}
