/*
 * Reports over the changes raised in a period. Thread-safe per connection.
 */
#ifndef CABINET_DB_REPORT_H
#define CABINET_DB_REPORT_H

#include <jansson.h>

#include "db/db.h"

/* The summary of README "Reports" over changes created in [from, to). */
enum outcome db_report_summary(struct db *db, const char *from, const char *to, json_t **out);

#endif
