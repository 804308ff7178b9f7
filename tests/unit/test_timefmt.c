/* RFC 3339 parsing, normalisation to YYYY-MM-DDTHH:MM:SSZ, and formatting. */
#include <stdint.h>
#include <string.h>

#include "domain/timefmt.h"
#include "unit.h"

/* Accepted inputs: the epoch each stands for and its normal form. */
static const struct {
    const char *in;
    int64_t epoch;
    const char *normal;
} valid_rows[] = {
    /* zone letters and separators */
    {"2026-11-22T10:00:00Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:00z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22t10:00:00Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22 10:00:00Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22t10:00:00z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    /* offsets */
    {"2026-11-22T10:00:00+00:00", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:00-00:00", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:00+01:00", INT64_C(1795338000), "2026-11-22T09:00:00Z"},
    {"2026-11-22T10:00:00-05:30", INT64_C(1795361400), "2026-11-22T15:30:00Z"},
    {"2026-11-22T10:00:00+23:59", INT64_C(1795255260), "2026-11-21T10:01:00Z"},
    {"2026-11-22T10:00:00-23:59", INT64_C(1795427940), "2026-11-23T09:59:00Z"},
    {"2026-11-22 10:00:00+01:00", INT64_C(1795338000), "2026-11-22T09:00:00Z"},
    /* across a day */
    {"2026-11-22T00:30:00+01:00", INT64_C(1795303800), "2026-11-21T23:30:00Z"},
    {"2026-11-22T20:00:00-05:30", INT64_C(1795397400), "2026-11-23T01:30:00Z"},
    /* across a month */
    {"2026-03-01T00:00:00+01:00", INT64_C(1772319600), "2026-02-28T23:00:00Z"},
    {"2026-04-30T22:00:00-05:30", INT64_C(1777606200), "2026-05-01T03:30:00Z"},
    {"2026-05-01T00:00:00+01:00", INT64_C(1777590000), "2026-04-30T23:00:00Z"},
    /* across a year */
    {"2027-01-01T00:59:59+01:00", INT64_C(1798761599), "2026-12-31T23:59:59Z"},
    {"2026-12-31T19:00:00-05:30", INT64_C(1798763400), "2027-01-01T00:30:00Z"},
    /* across a leap day, and across the end of February in other years */
    {"2024-03-01T00:15:00+01:00", INT64_C(1709248500), "2024-02-29T23:15:00Z"},
    {"2024-02-28T23:00:00-05:30", INT64_C(1709181000), "2024-02-29T04:30:00Z"},
    {"2024-02-29T23:00:00-05:30", INT64_C(1709267400), "2024-03-01T04:30:00Z"},
    {"2023-03-01T00:15:00+01:00", INT64_C(1677626100), "2023-02-28T23:15:00Z"},
    {"2023-02-28T23:00:00-05:30", INT64_C(1677645000), "2023-03-01T04:30:00Z"},
    {"2000-03-01T00:00:00+00:01", INT64_C(951868740), "2000-02-29T23:59:00Z"},
    {"1900-03-01T00:00:00+00:01", INT64_C(-2203891260), "1900-02-28T23:59:00Z"},
    /* leap years */
    {"2024-02-29T12:00:00Z", INT64_C(1709208000), "2024-02-29T12:00:00Z"},
    {"2000-02-29T00:00:00Z", INT64_C(951782400), "2000-02-29T00:00:00Z"},
    {"1600-02-29T12:00:00Z", INT64_C(-11670955200), "1600-02-29T12:00:00Z"},
    {"2100-03-01T00:00:00Z", INT64_C(4107542400), "2100-03-01T00:00:00Z"},
    /* fractions are truncated, never rounded */
    {"2026-11-22T10:00:00.0Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:00.5Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:00.999Z", INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {"2026-11-22T10:00:59.999999999Z", INT64_C(1795341659), "2026-11-22T10:00:59Z"},
    {"2026-12-31T23:59:59.9Z", INT64_C(1798761599), "2026-12-31T23:59:59Z"},
    {"2026-11-22T10:00:00.5+01:00", INT64_C(1795338000), "2026-11-22T09:00:00Z"},
    {"2026-12-31T18:29:59.999-05:30", INT64_C(1798761599), "2026-12-31T23:59:59Z"},
    {"2027-01-01T00:59:59.999999+01:00", INT64_C(1798761599), "2026-12-31T23:59:59Z"},
    {"1969-12-31T23:59:59.999Z", -1, "1969-12-31T23:59:59Z"},
    /* the epoch and before it */
    {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
    {"1969-12-31T23:59:59Z", -1, "1969-12-31T23:59:59Z"},
    {"1970-01-01T00:00:00+01:00", -3600, "1969-12-31T23:00:00Z"},
    {"1969-07-20T20:17:40Z", INT64_C(-14182940), "1969-07-20T20:17:40Z"},
    {"2038-01-19T03:14:08Z", INT64_C(2147483648), "2038-01-19T03:14:08Z"},
    /* the ends of the range */
    {"0001-01-01T00:00:00Z", INT64_C(-62135596800), "0001-01-01T00:00:00Z"},
    {"0001-01-01T00:00:00-01:00", INT64_C(-62135593200), "0001-01-01T01:00:00Z"},
    {"9999-12-31T23:59:59Z", INT64_C(253402300799), "9999-12-31T23:59:59Z"},
    {"9999-12-31T23:59:59+01:00", INT64_C(253402297199), "9999-12-31T22:59:59Z"},
    {"9999-12-31T23:59:59.999Z", INT64_C(253402300799), "9999-12-31T23:59:59Z"},
};

void
test_timefmt_parse(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(valid_rows); i++) {
        char out[TIMEFMT_LEN] = "untouched";
        int64_t t = -123456789;

        unit_row("\"%s\"", valid_rows[i].in);
        CHECK_INT(timefmt_parse(valid_rows[i].in, &t), OK);
        CHECK_INT(t, valid_rows[i].epoch);
        CHECK_INT(timefmt_normalize(valid_rows[i].in, out), OK);
        CHECK_STR(out, valid_rows[i].normal);
    }
}

static const char *const invalid_rows[] = {
    NULL,
    "",
    "2026-11-22T10:00:00",   /* no zone */
    "2026-11-22T10:00:00.5", /* no zone after a fraction */
    "2026-11-22T24:00:00Z",  /* hour 24 */
    "2026-11-22T10:60:00Z",  /* minute 60 */
    "2026-11-22T10:00:60Z",  /* second 60 */
    "2026-13-01T10:00:00Z",  /* month 13 */
    "2026-00-01T10:00:00Z",  /* month 0 */
    "2026-11-00T10:00:00Z",  /* day 0 */
    "2026-11-31T10:00:00Z",  /* November has 30 days */
    "2026-01-32T10:00:00Z",
    "2023-02-29T10:00:00Z", /* not a leap year */
    "1900-02-29T10:00:00Z", /* divisible by 100, not by 400 */
    "2024-02-30T10:00:00Z",
    "0000-01-01T00:00:00Z",      /* year 0000 */
    "0000-12-31T23:00:00-01:00", /* year 0000 even if the offset would fix it */
    "9999-12-31T23:59:59-00:01", /* the offset pushes it past 9999 */
    "9999-12-31T23:00:00-01:00",
    "0001-01-01T00:00:00+00:01", /* ... or before 0001 */
    "26-11-22T10:00:00Z",        /* two-digit year */
    "02026-11-22T10:00:00Z",     /* five-digit year */
    "2026-1-22T10:00:00Z",       /* one-digit month */
    "2026-11-2T10:00:00Z",
    "2026-11-22T1:00:00Z",
    "2026-11-22T10:00Z", /* no seconds */
    "2026-11-22",        /* a date alone */
    "10:00:00Z",         /* a time alone */
    "2026/11/22T10:00:00Z",
    "2026-11-22X10:00:00Z", /* separator */
    "2026-11-22_10:00:00Z",
    "2026-11-22TT10:00:00Z",
    "2026-11-22T10.00.00Z",
    "2026-11-22T10:00:00Zx", /* trailing garbage */
    "2026-11-22T10:00:00Z ",
    "2026-11-22T10:00:00ZZ",
    "2026-11-22T10:00:00+01:00Z",
    "2026-11-22T10:00:00+01:00:00",
    " 2026-11-22T10:00:00Z",  /* leading space */
    "2026-11-22T10:00:00.Z",  /* a dot without digits */
    "2026-11-22T10:00:00,5Z", /* RFC 3339 fractions use a dot */
    "2026-11-22T10:00:00.5.5Z",
    "2026-11-22T10:00:00+24:00", /* offset hour 24 */
    "2026-11-22T10:00:00+01:60", /* offset minute 60 */
    "2026-11-22T10:00:00+0100",  /* offset without a colon */
    "2026-11-22T10:00:00+01",
    "2026-11-22T10:00:00+1:00",
    "2026-11-22T10:00:00 +01:00",
    "2026-11-22T10:00:00UTC",
    "2026-11-22T10:00:00GMT",
    "+2026-11-22T10:00:00Z",
    "-2026-11-22T10:00:00Z",
    "2026-11-22T-1:00:00Z",
    "2026-11-22T10:00:-1Z",
    "abcd-ef-ghTij:kl:mnZ",
    "2026-11-22T10:00:00\xc2\xa0Z",
};

void
test_timefmt_invalid(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(invalid_rows); i++) {
        char out[TIMEFMT_LEN];
        int64_t t;

        unit_row("row %zu \"%s\"", i, invalid_rows[i] ? invalid_rows[i] : "(NULL)");
        CHECK_INT(timefmt_parse(invalid_rows[i], &t), ERR_INVALID);
        CHECK_INT(timefmt_normalize(invalid_rows[i], out), ERR_INVALID);
        CHECK(!timefmt_is_normal(invalid_rows[i]));
    }
}

static const struct {
    int64_t epoch;
    const char *want;
} format_rows[] = {
    {0, "1970-01-01T00:00:00Z"},
    {1, "1970-01-01T00:00:01Z"},
    {-1, "1969-12-31T23:59:59Z"},
    {59, "1970-01-01T00:00:59Z"},
    {3599, "1970-01-01T00:59:59Z"},
    {86399, "1970-01-01T23:59:59Z"},
    {86400, "1970-01-02T00:00:00Z"},
    {-86400, "1969-12-31T00:00:00Z"},
    {-86401, "1969-12-30T23:59:59Z"},
    {INT64_C(-14182940), "1969-07-20T20:17:40Z"},
    {INT64_C(-1234567890), "1930-11-18T00:28:30Z"},
    {INT64_C(-2208988800), "1900-01-01T00:00:00Z"},
    {INT64_C(-2203891260), "1900-02-28T23:59:00Z"},
    {INT64_C(-11670955200), "1600-02-29T12:00:00Z"},
    {INT64_C(-62135596800), "0001-01-01T00:00:00Z"},
    {INT64_C(951782400), "2000-02-29T00:00:00Z"},
    {INT64_C(951868799), "2000-02-29T23:59:59Z"},
    {INT64_C(1234567890), "2009-02-13T23:31:30Z"},
    {INT64_C(1709164800), "2024-02-29T00:00:00Z"},
    {INT64_C(1795341600), "2026-11-22T10:00:00Z"},
    {INT64_C(2147483647), "2038-01-19T03:14:07Z"},
    {INT64_C(2147483648), "2038-01-19T03:14:08Z"},
    {INT64_C(4102444800), "2100-01-01T00:00:00Z"},
    {INT64_C(4107542400), "2100-03-01T00:00:00Z"},
    {INT64_C(253402300799), "9999-12-31T23:59:59Z"},
};

void
test_timefmt_format(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(format_rows); i++) {
        char out[TIMEFMT_LEN];
        int64_t back = 0;

        unit_row("epoch %lld", (long long)format_rows[i].epoch);
        timefmt_format(format_rows[i].epoch, out);
        CHECK_STR(out, format_rows[i].want);
        /* and back again */
        CHECK_INT(timefmt_parse(out, &back), OK);
        CHECK_INT(back, format_rows[i].epoch);
        CHECK(timefmt_is_normal(out));
    }
}

/* Every day boundary is where an off-by-one hides: walk the whole range in
 * steps that land on many different times of day, and check each step goes
 * through format and parse unchanged. One check per stretch, so that a
 * failure names the first epoch that broke. */
void
test_timefmt_round_trip(void)
{
    static const struct {
        int64_t from, to, step;
    } rows[] = {
        {INT64_C(-62135596800), INT64_C(253402300799), INT64_C(9999991)},
        {INT64_C(-62135596800), INT64_C(-62135596800) + 86400 * 800, 43201},
        {INT64_C(-86400) * 800, INT64_C(86400) * 800, 3601},
        {INT64_C(253402300799) - 86400 * 800, INT64_C(253402300799), 43199},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        int64_t e, bad = 0, back = 0;
        int broken = 0;

        for (e = rows[i].from; e <= rows[i].to && !broken; e += rows[i].step) {
            char out[TIMEFMT_LEN];

            timefmt_format(e, out);
            if (timefmt_parse(out, &back) != OK || back != e || !timefmt_is_normal(out)) {
                broken = 1;
                bad = e;
            }
        }
        unit_row("stretch %zu, first broken epoch %lld", i, (long long)bad);
        CHECK_INT(broken, 0);
    }
}

void
test_timefmt_is_normal(void)
{
    static const struct {
        const char *s;
        int want;
    } rows[] = {
        {"2026-11-22T10:00:00Z", 1},
        {"1970-01-01T00:00:00Z", 1},
        {"0001-01-01T00:00:00Z", 1},
        {"9999-12-31T23:59:59Z", 1},
        {"2024-02-29T00:00:00Z", 1},
        {"2000-02-29T23:59:59Z", 1},
        {"2026-11-22T10:00:00z", 0},
        {"2026-11-22t10:00:00Z", 0},
        {"2026-11-22 10:00:00Z", 0},
        {"2026-11-22T10:00:00+00:00", 0},
        {"2026-11-22T10:00:00.0Z", 0},
        {"2026-11-22T10:00:00", 0},
        {"2026-11-22T10:00:00Z\n", 0},
        {"2026-11-31T10:00:00Z", 0},
        {"2023-02-29T00:00:00Z", 0},
        {"2026-11-22T24:00:00Z", 0},
        {"2026-11-22T10:00:60Z", 0},
        {"0000-01-01T00:00:00Z", 0},
        {"2026-11-22T10:00:0Z", 0},
        {"", 0},
        {NULL, 0},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("\"%s\"", rows[i].s ? rows[i].s : "(NULL)");
        CHECK_INT(timefmt_is_normal(rows[i].s), rows[i].want);
    }
}

/* Outside years 0001..9999 there is no right answer, but the output must
 * still be one well-formed time that fits the buffer. */
void
test_timefmt_format_out_of_range(void)
{
    static const int64_t rows[] = {
        INT64_C(253402300800), /* 10000-01-01T00:00:00Z */
        INT64_C(-62135596801), /* 0000-12-31T23:59:59Z */
        INT64_C(-62167219200), /* 0000-01-01T00:00:00Z */
        INT64_C(1) << 40,      -(INT64_C(1) << 40), INT64_MAX, INT64_MIN,
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char out[TIMEFMT_LEN + 8];
        size_t k;
        int shape = 1;

        memset(out, '#', sizeof out);
        unit_row("epoch %lld", (long long)rows[i]);
        timefmt_format(rows[i], out);
        CHECK_INT(out[TIMEFMT_LEN - 1], '\0');
        CHECK_INT(out[TIMEFMT_LEN], '#');
        for (k = 0; k < TIMEFMT_LEN - 1; k++)
            if (!(k == 4 || k == 7     ? out[k] == '-'
                  : k == 10            ? out[k] == 'T'
                  : k == 13 || k == 16 ? out[k] == ':'
                  : k == 19            ? out[k] == 'Z'
                                       : out[k] >= '0' && out[k] <= '9'))
                shape = 0;
        CHECK(shape);
    }
}
