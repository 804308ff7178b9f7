#include "db/db_tally.h"

#include "db/db_internal.h"

static const char SQL_TALLY[] =
    "SELECT json_build_object("
    " 'states', (SELECT COALESCE(json_agg(t ORDER BY t.kind, t.state), '[]')"
    "            FROM (SELECT kind, state, sum(n)::bigint AS n FROM tallies GROUP BY 1, 2) t),"
    " 'created_30d', (SELECT COALESCE(sum(n), 0) FROM tallies_created"
    "                 WHERE day > (now() AT TIME ZONE 'UTC')::date - 30),"
    " 'emergency_30d', (SELECT COALESCE(sum(n), 0) FROM tallies_created"
    "                   WHERE emergency AND day > (now() AT TIME ZONE 'UTC')::date - 30))";

enum outcome
db_tally_read(struct db *db, json_t **out)
{
    return db_json(db, SQL_TALLY, 0, NULL, out);
}
