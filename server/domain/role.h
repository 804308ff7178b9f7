/*
 * Roles as bits. Every user is a requester; the others are granted:
 * cab, ecab, manager, admin. Pure and thread-safe.
 */
#ifndef CABINET_ROLE_H
#define CABINET_ROLE_H

#include <stdbool.h>

#include "domain/strbuf.h"

enum role {
    ROLE_REQUESTER = 1u << 0,
    ROLE_CAB = 1u << 1,
    ROLE_ECAB = 1u << 2,
    ROLE_MANAGER = 1u << 3,
    ROLE_ADMIN = 1u << 4,
};

/* The bit of a granted role's name; 0 for anything else ("requester" too,
 * which is never stored). */
unsigned role_bit(const char *name);
/* Parses a comma-separated list ("cab,manager", spaces allowed, "" for none)
 * into *mask (ROLE_REQUESTER always set); false names the first bad word in
 * bad (size bytes). */
bool role_parse_list(const char *list, unsigned *mask, char *bad, size_t size);
/* Appends the granted roles of mask as a PostgreSQL array literal
 * ("{cab,manager}"). */
void role_pg_array(unsigned mask, struct strbuf *sb);

#endif
