/*
 * A small harness for Cabinet's C unit tests. Each test is a function listed
 * in the table in main.c; inside it, CHECK, CHECK_INT, CHECK_STR and
 * CHECK_MEM record one check each, and a failing check prints its file:line,
 * the expression and both values. unit_row names the table row under test so
 * that a failure says which row broke. Single-threaded: checks are made
 * on the main thread.
 */
#ifndef CABINET_UNIT_H
#define CABINET_UNIT_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(cond) unit_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_INT(got, want)                                                                       \
    unit_check_int((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, #got, #want)
#define CHECK_STR(got, want) unit_check_str((got), (want), __FILE__, __LINE__, #got, #want)
/* Byte strings that may hold NULs. */
#define CHECK_MEM(got, gotlen, want, wantlen)                                                      \
    unit_check_mem((got), (gotlen), (want), (wantlen), __FILE__, __LINE__, #got, #want)

#define UNIT_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Each returns whether the check passed. */
int unit_check(int ok, const char *file, int line, const char *expr);
int unit_check_int(int64_t got, int64_t want, const char *file, int line, const char *got_expr,
                   const char *want_expr);
int unit_check_str(const char *got, const char *want, const char *file, int line,
                   const char *got_expr, const char *want_expr);
int unit_check_mem(const char *got, size_t gotlen, const char *want, size_t wantlen,
                   const char *file, int line, const char *got_expr, const char *want_expr);

/* Names the row the following checks belong to (printed with failures);
 * reset at the start of every test. */
void unit_row(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A test: a function of checks, and the name arguments select it by. */
struct unit_test {
    const char *name;
    void (*run)(void);
};

/* Runs the tests of the table (or those whose names contain one of the
 * arguments), prints a line per failing check and ends with exactly one
 * line, "N passed, M failed", where N and M count checks (not tests).
 * Returns the exit status: 1 when any check failed. */
int unit_main(const struct unit_test *tests, size_t n, int argc, char **argv);

/* A new string: head, then rep repeated n times, then tail (NULL parts are
 * empty). The caller frees it. Exits on allocation failure. */
char *unit_build(const char *head, const char *rep, size_t n, const char *tail);

/* The tests, one per function; main.c lists them. */
void test_mailmsg_address(void);
void test_mailmsg_from(void);
void test_mailmsg_base64(void);
void test_mailmsg_write(void);
void test_mailmsg_headers_encoded(void);
void test_mailmsg_compose(void);
void test_mailmsg_fuzz_found(void);
void test_ical_events(void);
void test_wincursor_round_trip(void);
void test_wincursor_order_is_hidden(void);
void test_wincursor_refuses(void);
void test_decision_apply(void);
void test_decision_model_policy(void);
void test_decision_actions(void);
void test_decision_submit_ready(void);
void test_decision_acknowledge(void);
void test_decision_gate(void);
void test_decision_gate_reason_names(void);
void test_lifecycle_events(void);
void test_canon_control_bytes(void);
void test_canon_string(void);
void test_canon_cstring(void);
void test_canon_int(void);
void test_canon_key(void);
void test_canon_strcmp(void);
void test_canon_sort(void);

void test_timefmt_parse(void);
void test_timefmt_invalid(void);
void test_timefmt_format(void);
void test_timefmt_format_out_of_range(void);
void test_timefmt_round_trip(void);
void test_timefmt_is_normal(void);

void test_netaddr_sockaddr(void);
void test_netaddr_literal(void);
void test_netaddr_other_families(void);
void test_validate_slug(void);
void test_validate_email(void);
void test_validate_utf8(void);
void test_validate_text(void);
void test_validate_oneof(void);

void test_change_validate(void);
void test_change_too_many_services(void);
void test_change_canonical(void);
void test_change_canonical_keeps_input(void);

void test_router_table(void);
void test_router_long_param(void);
void test_router_stride(void);
void test_router_resets_match(void);

void test_strbuf_empty(void);
void test_strbuf_append(void);
void test_strbuf_printf_growth(void);
void test_strbuf_many_putc(void);
void test_strbuf_failed_sticks(void);
void test_strbuf_free(void);

void test_fielderr_add(void);

void test_ed25519_rfc8032(void);
void test_ed25519_wycheproof(void);
void test_ed25519_encoding(void);

void test_slots_duration(void);
void test_slots_find(void);
void test_ical_text(void);
void test_ical_fold(void);
void test_webhook_signature(void);
void test_password_hash(void);
void test_hooklink_timestamp(void);
void test_hooklink_refs(void);
void test_hooklink_plan(void);
void test_hooklink_signatures(void);
void test_fielderr_overflow(void);
void test_fielderr_truncation(void);
void test_fielderr_has(void);

void test_lifecycle_table(void);
void test_lifecycle_after_assessment(void);
void test_lifecycle_needs_review(void);
void test_lifecycle_retrospective(void);
void test_lifecycle_why(void);
void test_lifecycle_why_truncated(void);
void test_lifecycle_takes_decisions(void);
void test_lifecycle_names(void);

void test_risk_assess(void);
void test_risk_details(void);
void test_risk_level(void);
void test_risk_has_text(void);

void test_policy_default(void);
void test_policy_needed(void);
void test_policy_counts(void);
void test_policy_have(void);
void test_policy_have_any_order(void);
void test_policy_have_many(void);

void test_statement_approval(void);
void test_statement_checkpoint(void);
void test_statement_appends(void);
void test_fuzz_b64_high_bytes(void);
void test_fuzz_commit_url_null(void);

void test_role_bit(void);
void test_etag_matches(void);
void test_role_parse_list(void);
void test_role_parse_list_bad_size(void);
void test_role_pg_array(void);
void test_role_round_trip(void);

#endif
