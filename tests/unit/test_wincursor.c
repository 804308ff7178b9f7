/* domain/wincursor: the schedule's and the agenda's cursors. */
#include <string.h>

#include "domain/wincursor.h"
#include "unit.h"

void
test_wincursor_round_trip(void)
{
    static const struct {
        int64_t start, id;
    } rows[] = {
        {0, 1},
        {1767225600000000, 42},
        {-62135596800000000, 1}, /* year 1 */
        {253402300799000000, INT64_MAX},
        {-1, 7},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char text[WINCURSOR_LEN];
        int64_t start = 0, id = 0;

        unit_row("row %zu", i);
        wincursor_encode('s', rows[i].start, rows[i].id, text);
        CHECK_INT(strlen(text), WINCURSOR_LEN - 1);
        CHECK(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              strlen(text));
        CHECK(wincursor_decode(text, 's', &start, &id));
        CHECK_INT(start, rows[i].start);
        CHECK_INT(id, rows[i].id);
        /* another list's tag is refused */
        CHECK(!wincursor_decode(text, 'a', &start, &id));
    }
}

void
test_wincursor_order_is_hidden(void)
{
    char a[WINCURSOR_LEN], b[WINCURSOR_LEN];

    wincursor_encode('s', 1000000, 5, a);
    wincursor_encode('s', 1000000, 6, b);
    CHECK(strcmp(a, b) != 0);
    wincursor_encode('a', 1000000, 5, b);
    CHECK(strcmp(a, b) != 0);
}

void
test_wincursor_refuses(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char good[WINCURSOR_LEN], bad[WINCURSOR_LEN + 2];
    int64_t start = 0, id = 0;
    size_t n;

    wincursor_encode('s', 1767225600000000, 9, good);
    n = strlen(good);
    CHECK(!wincursor_decode(NULL, 's', &start, &id));
    CHECK(!wincursor_decode("", 's', &start, &id));
    CHECK(!wincursor_decode("not-a-cursor", 's', &start, &id));
    /* one character short, one too many */
    memcpy(bad, good, n - 1);
    bad[n - 1] = '\0';
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    memcpy(bad, good, n);
    bad[n] = 'A';
    bad[n + 1] = '\0';
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    /* a character outside base64url */
    memcpy(bad, good, n + 1);
    bad[3] = '+';
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    bad[3] = '=';
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    /* the two spare bits of the last character set */
    memcpy(bad, good, n + 1);
    bad[n - 1] = alphabet[(strchr(alphabet, good[n - 1]) - alphabet) | 1];
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    bad[n - 1] = alphabet[(strchr(alphabet, good[n - 1]) - alphabet) | 2];
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    /* an id of 0 or below is none this server made */
    wincursor_encode('s', 0, 0, bad);
    CHECK(!wincursor_decode(bad, 's', &start, &id));
    wincursor_encode('s', 0, -3, bad);
    CHECK(!wincursor_decode(bad, 's', &start, &id));
}
