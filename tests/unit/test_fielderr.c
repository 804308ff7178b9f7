/* The list of fields at fault in a request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/fielderr.h"
#include "unit.h"

/* On the heap at its exact size, so that a write past the end of the list
 * is caught by the address sanitizer rather than landing on the stack. */
static struct fielderr *
fielderr_new(void)
{
    struct fielderr *fe = calloc(1, sizeof *fe);

    if (fe == NULL)
        abort();
    return fe;
}

void
test_fielderr_add(void)
{
    struct fielderr *fe = fielderr_new();

    fielderr_add(fe, "title", "is required: 1 to %d characters", 200);
    CHECK_INT(fe->n, 1);
    CHECK_STR(fe->e[0].field, "title");
    CHECK_STR(fe->e[0].message, "is required: 1 to 200 characters");
    fielderr_add(fe, "services[3]", "no service is named %s", "web");
    CHECK_INT(fe->n, 2);
    CHECK_STR(fe->e[1].field, "services[3]");
    CHECK_STR(fe->e[1].message, "no service is named web");
    CHECK_STR(fe->e[0].field, "title");
    free(fe);
}

void
test_fielderr_overflow(void)
{
    static const struct {
        int adds;
        int kept; /* entries written */
    } rows[] = {
        {0, 0},
        {1, 1},
        {FIELDERR_MAX - 1, FIELDERR_MAX - 1},
        {FIELDERR_MAX, FIELDERR_MAX},
        {FIELDERR_MAX + 1, FIELDERR_MAX},
        {FIELDERR_MAX * 4, FIELDERR_MAX},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct fielderr *fe = fielderr_new();
        int k, wrong = 0;

        unit_row("%d added", rows[i].adds);
        for (k = 0; k < rows[i].adds; k++) {
            char field[24];

            snprintf(field, sizeof field, "f%d", k);
            fielderr_add(fe, field, "error %d", k);
        }
        /* every error counts, only the first FIELDERR_MAX are kept */
        CHECK_INT(fe->n, rows[i].adds);
        for (k = 0; k < rows[i].kept; k++) {
            char field[24], message[24];

            snprintf(field, sizeof field, "f%d", k);
            snprintf(message, sizeof message, "error %d", k);
            if (strcmp(fe->e[k].field, field) != 0 || strcmp(fe->e[k].message, message) != 0)
                wrong++;
        }
        CHECK_INT(wrong, 0);
        if (rows[i].kept > 0)
            CHECK(fielderr_has(fe, "f0"));
        if (rows[i].adds > rows[i].kept) {
            char last[24];

            snprintf(last, sizeof last, "f%d", rows[i].kept - 1);
            CHECK(fielderr_has(fe, last));
            snprintf(last, sizeof last, "f%d", rows[i].kept);
            CHECK(!fielderr_has(fe, last));
            snprintf(last, sizeof last, "f%d", rows[i].adds - 1);
            CHECK(!fielderr_has(fe, last));
        }
        free(fe);
    }
}

void
test_fielderr_truncation(void)
{
    struct fielderr *fe = fielderr_new();
    size_t fcap = sizeof fe->e[0].field, mcap = sizeof fe->e[0].message;
    char *field = unit_build(NULL, "f", fcap * 2, NULL);
    char *message = unit_build(NULL, "m", mcap * 2, NULL);
    char *field_kept = unit_build(NULL, "f", fcap - 1, NULL);
    char *message_kept = unit_build(NULL, "m", mcap - 1, NULL);

    fielderr_add(fe, field, "%s", message);
    CHECK_INT(fe->n, 1);
    CHECK_STR(fe->e[0].field, field_kept);
    CHECK_STR(fe->e[0].message, message_kept);
    /* the next entry is untouched */
    CHECK_STR(fe->e[1].field, "");
    free(field);
    free(message);
    free(field_kept);
    free(message_kept);
    free(fe);
}

void
test_fielderr_has(void)
{
    static const struct {
        const char *field;
        int want;
    } rows[] = {
        /* clang-format off */
        {"title", 1},
        {"window.end", 1},
        {"services[1]", 1},
        {"services[10]", 0},
        {"services", 0},
        {"Title", 0},
        {"titles", 0},
        {"titl", 0},
        {"window", 0},
        {"window.start", 0},
        {"", 0},
        /* clang-format on */
    };
    struct fielderr *fe = fielderr_new();
    size_t i;

    CHECK(!fielderr_has(fe, "title"));
    CHECK(!fielderr_has(fe, ""));
    fielderr_add(fe, "title", "x");
    fielderr_add(fe, "window.end", "x");
    fielderr_add(fe, "services[1]", "x");
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("\"%s\"", rows[i].field);
        CHECK_INT(fielderr_has(fe, rows[i].field), rows[i].want);
    }
    free(fe);
}
