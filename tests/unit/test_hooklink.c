/* Webhook links' pure helpers (domain/hooklink.c) and the verification of
 * their signatures (sec/sec.c) against the published vectors in
 * tests/fixtures (or under CABINET_FIXTURES). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/hooklink.h"
#include "sec/sec.h"
#include "unit.h"

void
test_hooklink_timestamp(void)
{
    static const struct {
        const char *s;
        enum hooklink_ts want;
    } rows[] = {
        {"1000000", HOOKLINK_TS_OK},
        {"1000300", HOOKLINK_TS_OK},
        {"999700", HOOKLINK_TS_OK},
        {"1000301", HOOKLINK_TS_SKEWED},
        {"999699", HOOKLINK_TS_SKEWED},
        {"0", HOOKLINK_TS_SKEWED},
        {"hello", HOOKLINK_TS_MALFORMED},
        {"161426533.0", HOOKLINK_TS_MALFORMED},
        {"-161426533", HOOKLINK_TS_MALFORMED},
        {"+1000000", HOOKLINK_TS_MALFORMED},
        {"01000000", HOOKLINK_TS_MALFORMED},
        {"", HOOKLINK_TS_MALFORMED},
        {" 1000000", HOOKLINK_TS_MALFORMED},
        {"9999999999999999", HOOKLINK_TS_MALFORMED},
    };
    long long ts = 0;
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", rows[i].s);
        CHECK_INT(hooklink_timestamp(rows[i].s, 1000000, &ts), rows[i].want);
    }
    unit_row("NULL");
    CHECK_INT(hooklink_timestamp(NULL, 1000000, &ts), HOOKLINK_TS_MALFORMED);
}

void
test_hooklink_refs(void)
{
    char sha[HOOKLINK_SHA_LEN], ref[600], when[TIMEFMT_LEN];

    unit_row("sha");
    CHECK(hooklink_sha("F95F852BD8FCA8FCC58A9A2D6C842781E32A215E", sha));
    CHECK_STR(sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    CHECK(!hooklink_sha("f95f852b", sha));
    CHECK(!hooklink_sha("g95f852bd8fca8fcc58a9a2d6c842781e32a215e", sha));
    CHECK(!hooklink_sha(NULL, sha));
    unit_row("commit_url");
    CHECK(hooklink_commit_url_sha("http://10.126.0.2:3000/root/test-deployment-webhooks/-/commit/"
                                  "279484c09fbe69ededfced8c1bb6e6d24616b468",
                                  sha));
    CHECK_STR(sha, "279484c09fbe69ededfced8c1bb6e6d24616b468");
    CHECK(hooklink_commit_url_sha("https://g.example/a/b/-/commit/"
                                  "279484C09FBE69EDEDFCED8C1BB6E6D24616B468/",
                                  sha));
    CHECK_STR(sha, "279484c09fbe69ededfced8c1bb6e6d24616b468");
    CHECK(!hooklink_commit_url_sha("https://g.example/a/b/-/commit/279484c0", sha));
    CHECK(!hooklink_commit_url_sha("279484c09fbe69ededfced8c1bb6e6d24616b468", sha));
    CHECK(!hooklink_commit_url_sha("https://g.example/x279484c09fbe69ededfced8c1bb6e6d24616b468",
                                   sha));
    CHECK(!hooklink_commit_url_sha("", sha));
    CHECK(!hooklink_commit_url_sha(NULL, sha));
    unit_row("external_ref");
    CHECK(hooklink_external_ref("github", "Codertocat/Hello-World", "production",
                                "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", ref, sizeof ref));
    CHECK_STR(ref, "github:Codertocat/Hello-World:production:"
                   "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    {
        char *long_env = unit_build(NULL, "e", 480, NULL);
        CHECK(!hooklink_external_ref("gitlab", "g/p", long_env,
                                     "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", ref, sizeof ref));
        free(long_env);
    }
    CHECK(!hooklink_external_ref("gitlab", "g/p", "e", "x", ref, 8));
    unit_row("gitlab time");
    CHECK(hooklink_gitlab_time("2021-04-28 21:50:00 +0200", when));
    CHECK_STR(when, "2021-04-28T19:50:00Z");
    CHECK(hooklink_gitlab_time("2021-04-28 21:50:00 -0130", when));
    CHECK_STR(when, "2021-04-28T23:20:00Z");
    CHECK(hooklink_gitlab_time("2021-04-28 21:50:00 UTC", when));
    CHECK_STR(when, "2021-04-28T21:50:00Z");
    CHECK(!hooklink_gitlab_time("2021-04-28T21:50:00Z", when));
    CHECK(!hooklink_gitlab_time("2021-04-28 21:50:00 +02", when));
    CHECK(!hooklink_gitlab_time(NULL, when));
    unit_row("clip");
    {
        char s[] = "ab\xc3\xa9"
                   "cd";
        hooklink_clip(s, 3);
        CHECK_STR(s, "ab");
    }
}

static struct change
hl_change(enum change_state state, enum model_kind kind, unsigned flags)
{
    struct change c;

    memset(&c, 0, sizeof c);
    c.state = state;
    c.kind = kind;
    c.flags = flags;
    c.requester_id = 7;
    snprintf(c.level, sizeof c.level, "low");
    return c;
}

void
test_hooklink_plan(void)
{
    static const struct {
        enum change_state state;
        enum model_kind kind;
        unsigned flags;
        enum hooklink_report report;
        enum change_outcome outcome;
        enum outcome rc;
        int n;
        enum change_state last; /* where the last move goes */
        bool unauthorized;      /* the last move's flags */
    } rows[] = {
        {STATE_APPROVED, KIND_NORMAL, 0, HOOKLINK_START, OUTCOME_NONE, OK, 1, STATE_IN_PROGRESS,
         false},
        {STATE_AWAITING_APPROVAL, KIND_NORMAL, 0, HOOKLINK_START, OUTCOME_NONE, OK, 1,
         STATE_IN_PROGRESS, true},
        {STATE_DRAFT, KIND_STANDARD, 0, HOOKLINK_START, OUTCOME_NONE, OK, 1, STATE_IN_PROGRESS,
         true},
        {STATE_AWAITING_APPROVAL, KIND_EMERGENCY, 0, HOOKLINK_START, OUTCOME_NONE, OK, 1,
         STATE_IN_PROGRESS, true},
        {STATE_IN_PROGRESS, KIND_NORMAL, 0, HOOKLINK_START, OUTCOME_NONE, OK, 0, STATE_COUNT,
         false},
        {STATE_REVIEW, KIND_NORMAL, 0, HOOKLINK_START, OUTCOME_NONE, OK, 0, STATE_COUNT, false},
        {STATE_CLOSED, KIND_NORMAL, 0, HOOKLINK_COMPLETE, OUTCOME_FAILED, OK, 0, STATE_COUNT,
         false},
        {STATE_REJECTED, KIND_NORMAL, 0, HOOKLINK_START, OUTCOME_NONE, ERR_CONFLICT, 0, STATE_COUNT,
         false},
        {STATE_CANCELLED, KIND_NORMAL, 0, HOOKLINK_COMPLETE, OUTCOME_SUCCESSFUL, ERR_CONFLICT, 0,
         STATE_COUNT, false},
        /* approved, low, successful: the lifecycle closes it */
        {STATE_APPROVED, KIND_NORMAL, 0, HOOKLINK_COMPLETE, OUTCOME_SUCCESSFUL, OK, 2, STATE_CLOSED,
         false},
        {STATE_IN_PROGRESS, KIND_NORMAL, 0, HOOKLINK_COMPLETE, OUTCOME_FAILED, OK, 1, STATE_REVIEW,
         false},
        /* not approved: flagged, so always review */
        {STATE_AWAITING_APPROVAL, KIND_STANDARD, 0, HOOKLINK_COMPLETE, OUTCOME_SUCCESSFUL, OK, 2,
         STATE_REVIEW, true},
        {STATE_IN_PROGRESS, KIND_NORMAL, CHANGE_UNAUTHORIZED, HOOKLINK_COMPLETE, OUTCOME_SUCCESSFUL,
         OK, 1, STATE_REVIEW, true},
    };
    struct hooklink_move m[2];
    char why[160];
    size_t i;
    int n;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        struct change c = hl_change(rows[i].state, rows[i].kind, rows[i].flags);

        unit_row("row %zu (%s)", i, lifecycle_state_name(rows[i].state));
        CHECK_INT(hooklink_plan(&c, rows[i].report, rows[i].outcome, m, &n, why, sizeof why),
                  rows[i].rc);
        CHECK_INT(n, rows[i].n);
        if (rows[i].rc != OK)
            CHECK(why[0] != '\0');
        if (n == 0)
            continue;
        CHECK_INT(m[0].from, rows[i].state);
        CHECK_INT(m[0].action, ACTION_START + (rows[i].state == STATE_IN_PROGRESS ? 2 : 0));
        CHECK_INT(m[n - 1].to, rows[i].last);
        CHECK_INT((m[n - 1].flags & CHANGE_UNAUTHORIZED) != 0, rows[i].unauthorized);
        CHECK_INT(m[n - 1].flags & CHANGE_RETROSPECTIVE, 0);
        if (n == 2) {
            CHECK_INT(m[0].to, STATE_IN_PROGRESS);
            CHECK_INT(m[1].from, STATE_IN_PROGRESS);
            CHECK_INT(m[1].action, ACTION_COMPLETE);
            CHECK_INT(m[1].outcome, rows[i].outcome);
        }
    }
}

void
test_hooklink_signatures(void)
{
    const char *dir = getenv("CABINET_FIXTURES");
    char path[1024], header[512];
    json_t *f, *g;
    const json_t *v, *neg;
    const char *secret, *id, *payload, *good;
    long long ts;

    snprintf(path, sizeof path, "%s/standard-webhooks/vectors.json", dir ? dir : "tests/fixtures");
    f = json_load_file(path, 0, NULL);
    unit_row("fixture %s", path);
    CHECK(f != NULL);
    v = json_array_get(json_object_get(f, "published_vectors"), 0);
    secret = json_string_value(json_object_get(v, "secret"));
    id = json_string_value(json_object_get(v, "msg_id"));
    payload = json_string_value(json_object_get(v, "payload"));
    good = json_string_value(json_object_get(v, "expected_signature"));
    ts = (long long)json_integer_value(json_object_get(v, "timestamp"));
    neg = json_object_get(f, "published_negative_vectors");
    unit_row("the published vector verifies");
    CHECK(sec_webhook_verify(secret, id, ts, payload, strlen(payload), good));
    unit_row("a changed body, id or timestamp does not");
    CHECK(!sec_webhook_verify(secret, id, ts, "{\"test\": 2432232315}", 20, good));
    CHECK(!sec_webhook_verify(secret, "msg_other", ts, payload, strlen(payload), good));
    CHECK(!sec_webhook_verify(secret, id, ts + 1, payload, strlen(payload), good));
    unit_row("invalid signature");
    CHECK(!sec_webhook_verify(
        secret, id, ts, payload, strlen(payload),
        json_string_value(json_object_get(json_array_get(neg, 0), "signature_header"))));
    unit_row("partial signature");
    CHECK(!sec_webhook_verify(
        secret, id, ts, payload, strlen(payload),
        json_string_value(json_object_get(json_array_get(neg, 1), "signature_header"))));
    unit_row("multi-signature header with the valid one among others");
    {
        const char *tpl =
            json_string_value(json_object_get(json_array_get(neg, 2), "signature_header_template"));
        const char *at = strstr(tpl, "<VALID>");
        CHECK(at != NULL);
        snprintf(header, sizeof header, "%.*s%s%s", (int)(at - tpl), tpl, good, at + 7);
        CHECK(sec_webhook_verify(secret, id, ts, payload, strlen(payload), header));
        snprintf(header, sizeof header, "%.*s%s", (int)(at - tpl), tpl, at + 7);
        CHECK(!sec_webhook_verify(secret, id, ts, payload, strlen(payload), header));
    }
    unit_row("another version of the same bytes is ignored");
    snprintf(header, sizeof header, "v2,%s", good + 3);
    CHECK(!sec_webhook_verify(secret, id, ts, payload, strlen(payload), header));
    unit_row("empty secrets");
    CHECK(!sec_webhook_verify("", id, ts, payload, strlen(payload), good));
    CHECK(!sec_webhook_verify("whsec_", id, ts, payload, strlen(payload), good));
    CHECK(!sec_webhook_verify(secret, id, ts, payload, strlen(payload), NULL));
    json_decref(f);

    snprintf(path, sizeof path, "%s/github/github_signature_vector.json",
             dir ? dir : "tests/fixtures");
    g = json_load_file(path, 0, NULL);
    unit_row("fixture %s", path);
    CHECK(g != NULL);
    {
        char hex[SEC_HEX256_LEN];
        const char *p = json_string_value(json_object_get(g, "payload"));
        sec_hmac_sha256_hex(json_string_value(json_object_get(g, "secret")), p, strlen(p), hex);
        CHECK_STR(hex, json_string_value(json_object_get(g, "signature_hex")));
    }
    json_decref(g);
}
