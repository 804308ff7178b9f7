/* The exact bytes that approvers and the server sign. */
#include <stdint.h>
#include <string.h>

#include "domain/statement.h"
#include "unit.h"

#define ST_HASH "3b4c1e0a9f2d8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a"
#define ST_EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

void
test_statement_approval(void)
{
    static const struct {
        const char *ref;
        int64_t version;
        const char *hash, *decision, *signed_at;
        const char *want;
    } rows[] = {
        /* clang-format off */
        {"CHG-1042", 1, ST_HASH, "approve", "2026-11-22T10:00:00Z",
         "cabinet-approval-v1\nCHG-1042\n1\n" ST_HASH "\napprove\n2026-11-22T10:00:00Z"},
        {"CHG-1042", 3, ST_HASH, "reject", "2026-11-22T10:00:00Z",
         "cabinet-approval-v1\nCHG-1042\n3\n" ST_HASH "\nreject\n2026-11-22T10:00:00Z"},
        {"CHG-7", 10, ST_EMPTY_SHA, "approve", "2027-01-01T00:00:00Z",
         "cabinet-approval-v1\nCHG-7\n10\n" ST_EMPTY_SHA "\napprove\n2027-01-01T00:00:00Z"},
        {"CHG-1", 2147483648, ST_HASH, "approve", "2026-02-28T23:59:59Z",
         "cabinet-approval-v1\nCHG-1\n2147483648\n" ST_HASH "\napprove\n2026-02-28T23:59:59Z"},
        {"CHG-1", 4294967297, ST_HASH, "approve", "2026-02-28T23:59:59Z",
         "cabinet-approval-v1\nCHG-1\n4294967297\n" ST_HASH "\napprove\n2026-02-28T23:59:59Z"},
        {"CHG-99999999", INT64_MAX, ST_HASH, "reject", "2099-12-31T23:59:59Z",
         "cabinet-approval-v1\nCHG-99999999\n9223372036854775807\n" ST_HASH "\nreject\n2099-12-31T23:59:59Z"},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("%s v%lld %s", rows[i].ref, (long long)rows[i].version, rows[i].decision);
        statement_approval(&sb, rows[i].ref, rows[i].version, rows[i].hash, rows[i].decision,
                           rows[i].signed_at);
        CHECK(!strbuf_failed(&sb));
        CHECK_MEM(strbuf_str(&sb), sb.len, rows[i].want, strlen(rows[i].want));
        strbuf_free(&sb);
    }
}

void
test_statement_checkpoint(void)
{
    static const struct {
        int64_t seq;
        const char *hash, *signed_at;
        const char *want;
    } rows[] = {
        /* clang-format off */
        {1, ST_HASH, "2026-11-22T10:00:00Z",
         "cabinet-checkpoint-v1\n1\n" ST_HASH "\n2026-11-22T10:00:00Z"},
        {1000, ST_EMPTY_SHA, "2026-11-22T10:01:00Z",
         "cabinet-checkpoint-v1\n1000\n" ST_EMPTY_SHA "\n2026-11-22T10:01:00Z"},
        {4294967296, ST_HASH, "2030-06-15T12:30:45Z",
         "cabinet-checkpoint-v1\n4294967296\n" ST_HASH "\n2030-06-15T12:30:45Z"},
        {INT64_MAX, ST_HASH, "2099-12-31T23:59:59Z",
         "cabinet-checkpoint-v1\n9223372036854775807\n" ST_HASH "\n2099-12-31T23:59:59Z"},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("seq %lld", (long long)rows[i].seq);
        statement_checkpoint(&sb, rows[i].seq, rows[i].hash, rows[i].signed_at);
        CHECK(!strbuf_failed(&sb));
        CHECK_MEM(strbuf_str(&sb), sb.len, rows[i].want, strlen(rows[i].want));
        strbuf_free(&sb);
    }
}

/* A statement is appended to what the buffer holds. */
void
test_statement_appends(void)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_puts(&sb, "[");
    statement_checkpoint(&sb, 7, ST_HASH, "2026-11-22T10:00:00Z");
    strbuf_puts(&sb, "][");
    statement_approval(&sb, "CHG-5", 2, ST_HASH, "approve", "2026-11-22T10:00:00Z");
    strbuf_puts(&sb, "]");
    CHECK_STR(strbuf_str(&sb),
              "[cabinet-checkpoint-v1\n7\n" ST_HASH "\n2026-11-22T10:00:00Z]"
              "[cabinet-approval-v1\nCHG-5\n2\n" ST_HASH "\napprove\n2026-11-22T10:00:00Z]");
    strbuf_free(&sb);
}
