/* The unit tests of the pure modules, by name (harness.c runs them). */
#include "unit.h"

static const struct unit_test unit_tests[] = {
    {"canon_control_bytes", test_canon_control_bytes},
    {"canon_string", test_canon_string},
    {"canon_cstring", test_canon_cstring},
    {"canon_int", test_canon_int},
    {"canon_key", test_canon_key},
    {"canon_strcmp", test_canon_strcmp},
    {"canon_sort", test_canon_sort},

    {"timefmt_parse", test_timefmt_parse},
    {"timefmt_invalid", test_timefmt_invalid},
    {"timefmt_format", test_timefmt_format},
    {"timefmt_format_out_of_range", test_timefmt_format_out_of_range},
    {"timefmt_round_trip", test_timefmt_round_trip},
    {"timefmt_is_normal", test_timefmt_is_normal},

    {"netaddr_sockaddr", test_netaddr_sockaddr},
    {"netaddr_literal", test_netaddr_literal},
    {"netaddr_other_families", test_netaddr_other_families},

    {"validate_slug", test_validate_slug},
    {"validate_email", test_validate_email},
    {"validate_utf8", test_validate_utf8},
    {"validate_text", test_validate_text},
    {"validate_oneof", test_validate_oneof},

    {"decision_apply", test_decision_apply},
    {"decision_model_policy", test_decision_model_policy},
    {"decision_actions", test_decision_actions},
    {"decision_submit_ready", test_decision_submit_ready},
    {"decision_acknowledge", test_decision_acknowledge},
    {"decision_gate", test_decision_gate},
    {"decision_gate_reason_names", test_decision_gate_reason_names},
    {"lifecycle_events", test_lifecycle_events},

    {"change_validate", test_change_validate},
    {"change_too_many_services", test_change_too_many_services},
    {"change_canonical", test_change_canonical},
    {"change_canonical_keeps_input", test_change_canonical_keeps_input},

    {"router_table", test_router_table},
    {"router_long_param", test_router_long_param},
    {"router_stride", test_router_stride},
    {"router_resets_match", test_router_resets_match},

    {"strbuf_empty", test_strbuf_empty},
    {"strbuf_append", test_strbuf_append},
    {"strbuf_printf_growth", test_strbuf_printf_growth},
    {"strbuf_many_putc", test_strbuf_many_putc},
    {"strbuf_failed_sticks", test_strbuf_failed_sticks},
    {"strbuf_free", test_strbuf_free},

    {"slots_duration", test_slots_duration},
    {"slots_find", test_slots_find},
    {"mailmsg_address", test_mailmsg_address},
    {"mailmsg_from", test_mailmsg_from},
    {"mailmsg_base64", test_mailmsg_base64},
    {"mailmsg_write", test_mailmsg_write},
    {"mailmsg_headers_encoded", test_mailmsg_headers_encoded},
    {"mailmsg_compose", test_mailmsg_compose},
    {"mailmsg_fuzz_found", test_mailmsg_fuzz_found},
    {"ical_text", test_ical_text},
    {"ical_fold", test_ical_fold},
    {"ical_events", test_ical_events},
    {"wincursor_round_trip", test_wincursor_round_trip},
    {"wincursor_order_is_hidden", test_wincursor_order_is_hidden},
    {"wincursor_refuses", test_wincursor_refuses},
    {"webhook_signature", test_webhook_signature},
    {"password_hash", test_password_hash},
    {"hooklink_timestamp", test_hooklink_timestamp},
    {"hooklink_refs", test_hooklink_refs},
    {"hooklink_plan", test_hooklink_plan},
    {"hooklink_signatures", test_hooklink_signatures},
    {"ed25519_rfc8032", test_ed25519_rfc8032},
    {"ed25519_wycheproof", test_ed25519_wycheproof},
    {"ed25519_encoding", test_ed25519_encoding},
    {"fielderr_add", test_fielderr_add},
    {"fielderr_overflow", test_fielderr_overflow},
    {"fielderr_truncation", test_fielderr_truncation},
    {"fielderr_has", test_fielderr_has},

    {"lifecycle_table", test_lifecycle_table},
    {"lifecycle_after_assessment", test_lifecycle_after_assessment},
    {"lifecycle_needs_review", test_lifecycle_needs_review},
    {"lifecycle_retrospective", test_lifecycle_retrospective},
    {"lifecycle_why", test_lifecycle_why},
    {"lifecycle_why_truncated", test_lifecycle_why_truncated},
    {"lifecycle_takes_decisions", test_lifecycle_takes_decisions},
    {"lifecycle_names", test_lifecycle_names},

    {"risk_assess", test_risk_assess},
    {"risk_details", test_risk_details},
    {"risk_level", test_risk_level},
    {"risk_has_text", test_risk_has_text},

    {"policy_default", test_policy_default},
    {"policy_needed", test_policy_needed},
    {"policy_counts", test_policy_counts},
    {"policy_have", test_policy_have},
    {"policy_have_any_order", test_policy_have_any_order},
    {"policy_have_many", test_policy_have_many},

    {"statement_approval", test_statement_approval},
    {"statement_checkpoint", test_statement_checkpoint},
    {"statement_appends", test_statement_appends},

    {"etag_matches", test_etag_matches},
    {"fuzz_b64_high_bytes", test_fuzz_b64_high_bytes},
    {"fuzz_commit_url_null", test_fuzz_commit_url_null},

    {"role_bit", test_role_bit},
    {"role_parse_list", test_role_parse_list},
    {"role_parse_list_bad_size", test_role_parse_list_bad_size},
    {"role_pg_array", test_role_pg_array},
    {"role_round_trip", test_role_round_trip},
};

int
main(int argc, char **argv)
{
    return unit_main(unit_tests, UNIT_NELEM(unit_tests), argc, argv);
}
