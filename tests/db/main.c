/*
 * Runs the database tests against CABINET_DATABASE_URL, a freshly migrated
 * database of their own, and ends with "N passed, M failed" (unit.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "dbt.h"

static const struct unit_test dbt_tests[] = {
    {"conflict_windows", test_conflict_windows},
    {"conflict_stored_once", test_conflict_stored_once},
    {"conflict_dependency_chain", test_conflict_dependency_chain},
    {"conflict_dependency_direction", test_conflict_dependency_direction},
    {"conflict_cycle", test_conflict_cycle},
    {"conflict_edit_and_cancel", test_conflict_edit_and_cancel},
    {"conflict_global_freeze", test_conflict_global_freeze},
    {"conflict_service_freeze", test_conflict_service_freeze},
    {"conflict_concurrent_submits", test_conflict_concurrent_submits},
    {"conflict_other_days_do_not_wait", test_conflict_other_days_do_not_wait},
    {"conflict_overlapping_windows_wait", test_conflict_overlapping_windows_wait},
};

int
main(int argc, char **argv)
{
    const char *url = getenv("CABINET_DATABASE_URL");
    int status;

    if (url == NULL || *url == '\0') {
        fprintf(stderr, "db-tests: set CABINET_DATABASE_URL to a migrated database\n");
        return 2;
    }
    if (db_connect(url, &dbt_db) != OK) {
        fprintf(stderr, "db-tests: cannot connect to the database\n");
        return 2;
    }
    dbt_user = strtoll(dbt_sql("INSERT INTO users (email, name, password_hash)"
                               " VALUES ('dbt@cabinet.test', 'Database tests', '!')"
                               " RETURNING id"),
                       NULL, 10);
    status = unit_main(dbt_tests, UNIT_NELEM(dbt_tests), argc, argv);
    db_disconnect(dbt_db);
    return status;
}
