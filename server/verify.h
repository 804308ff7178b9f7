/*
 * Verification of the audit trail, for `cabinet verify`: the whole chain,
 * every checkpoint and every approval signature in a database, or one
 * change's evidence bundle offline. Prints what it finds; the first problem
 * names the row at fault. Not thread-safe (one command at a time).
 */
#ifndef CABINET_VERIFY_H
#define CABINET_VERIFY_H

#include <stdio.h>

#include "db/db.h"

/* 0 when everything verifies, 1 otherwise. */
int verify_database(struct db *db, FILE *out);
/* 0 when the bundle in path verifies, 1 otherwise. Needs no database. */
int verify_bundle(const char *path, FILE *out);

#endif
