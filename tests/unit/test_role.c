/* Roles as bits: names, comma-separated lists, PostgreSQL arrays. */
#include <stdlib.h>
#include <string.h>

#include "domain/role.h"
#include "unit.h"

#define REQ ROLE_REQUESTER
#define CAB ROLE_CAB
#define ECAB ROLE_ECAB
#define MGR ROLE_MANAGER
#define ADM ROLE_ADMIN

void
test_role_bit(void)
{
    static const struct {
        const char *name;
        unsigned bit;
    } rows[] = {
        /* clang-format off */
        {"cab", CAB},
        {"ecab", ECAB},
        {"manager", MGR},
        {"admin", ADM},
        {"requester", 0}, /* never stored */
        {"", 0},
        {"CAB", 0},
        {"Manager", 0},
        {"cab ", 0},
        {" cab", 0},
        {"ca", 0},
        {"cabx", 0},
        {"cab,ecab", 0},
        {"ecab\n", 0},
        {"administrator", 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("\"%s\"", rows[i].name);
        CHECK_INT(role_bit(rows[i].name), rows[i].bit);
    }
}

#define RL_LONG40 "abcdefghijklmnopqrstuvwxyzabcdefghijklmn"
#define RL_LONG32 "abcdefghijklmnopqrstuvwxyzabcdef"
#define RL_LONG31 "abcdefghijklmnopqrstuvwxyzabcde"

void
test_role_parse_list(void)
{
    static const struct {
        const char *list;
        bool ok;
        unsigned mask;   /* ok */
        const char *bad; /* !ok */
    } rows[] = {
        /* clang-format off */
        {"", true, REQ, NULL},
        {" ", true, REQ, NULL},
        {",", true, REQ, NULL},
        {" , ,, ", true, REQ, NULL},
        {"cab", true, REQ | CAB, NULL},
        {"ecab", true, REQ | ECAB, NULL},
        {"manager", true, REQ | MGR, NULL},
        {"admin", true, REQ | ADM, NULL},
        {"cab,manager", true, REQ | CAB | MGR, NULL},
        {"manager,cab", true, REQ | CAB | MGR, NULL},
        {"cab, manager", true, REQ | CAB | MGR, NULL},
        {" cab , manager ", true, REQ | CAB | MGR, NULL},
        {"cab manager", true, REQ | CAB | MGR, NULL},
        {",cab,,manager,", true, REQ | CAB | MGR, NULL},
        {"cab,cab", true, REQ | CAB, NULL},
        {"cab,ecab,manager,admin", true, REQ | CAB | ECAB | MGR | ADM, NULL},
        {"requester", true, REQ, NULL},
        {"requester,cab", true, REQ | CAB, NULL},
        {"cab, requester, admin", true, REQ | CAB | ADM, NULL},
        /* the first unknown word */
        {"bogus", false, 0, "bogus"},
        {"cab,bogus", false, 0, "bogus"},
        {"cab, bogus, worse", false, 0, "bogus"},
        {"cab,manager,Admin", false, 0, "Admin"},
        {"CAB", false, 0, "CAB"},
        {"cab;manager", false, 0, "cab;manager"},
        {"requesters", false, 0, "requesters"},
        {"ca,b", false, 0, "ca"},
        {"cab,\tmanager", false, 0, "\tmanager"},
        {RL_LONG31, false, 0, RL_LONG31},
        {"cab," RL_LONG32, false, 0, RL_LONG32},
        {RL_LONG40 ",cab", false, 0, RL_LONG40},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unsigned mask = 0xdead;
        char bad[64] = "";
        bool ok;

        unit_row("\"%s\"", rows[i].list);
        ok = role_parse_list(rows[i].list, &mask, bad, sizeof bad);
        CHECK_INT(ok, rows[i].ok);
        if (rows[i].ok)
            CHECK_INT(mask, rows[i].mask);
        else
            CHECK_STR(bad, rows[i].bad);
    }
}

/* The bad word is cut to the buffer given. */
void
test_role_parse_list_bad_size(void)
{
    static const struct {
        size_t size;
        const char *want;
    } rows[] = {
        {1, ""}, {2, "b"}, {4, "bog"}, {5, "bogu"}, {6, "bogus"}, {7, "bogus"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        char *bad = malloc(rows[i].size); /* exact size: an overrun is caught */
        unsigned mask;

        if (bad == NULL)
            abort();
        unit_row("size %zu", rows[i].size);
        CHECK(!role_parse_list("cab,bogus,admin", &mask, bad, rows[i].size));
        CHECK_STR(bad, rows[i].want);
        free(bad);
    }
}

void
test_role_pg_array(void)
{
    static const struct {
        unsigned mask;
        const char *want;
    } rows[] = {
        {0, "{}"},
        {REQ, "{}"},
        {CAB, "{cab}"},
        {REQ | CAB, "{cab}"},
        {REQ | ECAB, "{ecab}"},
        {REQ | MGR, "{manager}"},
        {REQ | ADM, "{admin}"},
        {REQ | CAB | MGR, "{cab,manager}"},
        {MGR | CAB, "{cab,manager}"},
        {ADM | ECAB, "{ecab,admin}"},
        {REQ | CAB | ECAB | MGR | ADM, "{cab,ecab,manager,admin}"},
        {0xffffffffu, "{cab,ecab,manager,admin}"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("mask 0x%x", rows[i].mask);
        role_pg_array(rows[i].mask, &sb);
        CHECK_STR(strbuf_str(&sb), rows[i].want);
        strbuf_free(&sb);
    }

    /* appended to what the buffer holds */
    {
        struct strbuf sb = STRBUF_INIT;

        unit_row("appends");
        strbuf_puts(&sb, "roles=");
        role_pg_array(REQ | ECAB | MGR, &sb);
        CHECK_STR(strbuf_str(&sb), "roles={ecab,manager}");
        strbuf_free(&sb);
    }
}

/* A list parsed and written back names each granted role once, in a fixed
 * order. */
void
test_role_round_trip(void)
{
    static const struct {
        const char *list, *want;
    } rows[] = {
        {"", "{}"},
        {"requester", "{}"},
        {"manager, cab", "{cab,manager}"},
        {"admin,admin,ecab", "{ecab,admin}"},
        {"requester admin cab manager ecab", "{cab,ecab,manager,admin}"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct strbuf sb = STRBUF_INIT;
        unsigned mask = 0;
        char bad[32];

        unit_row("\"%s\"", rows[i].list);
        CHECK(role_parse_list(rows[i].list, &mask, bad, sizeof bad));
        role_pg_array(mask, &sb);
        CHECK_STR(strbuf_str(&sb), rows[i].want);
        strbuf_free(&sb);
    }
}
