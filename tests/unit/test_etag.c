/* Entity tags in If-Match and If-None-Match. */
#include "domain/etag.h"
#include "unit.h"

void
test_etag_matches(void)
{
    static const struct {
        const char *field, *etag;
        int weak, want;
    } rows[] = {
        /* clang-format off */
        {"\"12\"", "\"12\"", 1, 1},
        {"\"12\"", "\"12\"", 0, 1},
        {"\"13\"", "\"12\"", 1, 0},
        {"*", "\"12\"", 1, 1},
        {"*", "W/\"ab\"", 0, 1},
        {" \"1\" , \"12\",\"3\"", "\"12\"", 1, 1},
        {"\"1\", \"3\"", "\"12\"", 1, 0},
        {"W/\"12\"", "\"12\"", 1, 1},
        {"W/\"12\"", "\"12\"", 0, 0},
        {"\"ab\"", "W/\"ab\"", 1, 1},
        {"\"ab\"", "W/\"ab\"", 0, 0},
        {"W/\"ab\"", "W/\"ab\"", 1, 1},
        {"12", "\"12\"", 1, 0},
        {"\"12", "\"12\"", 1, 0},
        {"\"1\"2\"", "\"1\"2\"", 1, 0},
        {"", "\"12\"", 1, 0},
        {",,", "\"12\"", 1, 0},
        {"\"\"", "\"\"", 1, 1},
        {"\"12\"", "12", 1, 0},
        {"w/\"12\"", "\"12\"", 1, 0},
        {"\"12\"\t", "\"12\"", 1, 1},
        {"junk, \"12\"", "\"12\"", 1, 1},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%zu: %s vs %s weak=%d", i, rows[i].field, rows[i].etag, rows[i].weak);
        CHECK_INT(etag_matches(rows[i].field, rows[i].etag, rows[i].weak != 0), rows[i].want);
    }
    CHECK(!etag_matches(NULL, "\"1\"", true));
}
