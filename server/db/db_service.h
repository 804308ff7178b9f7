/*
 * The service map: services, their dependencies, and impact sets (the
 * transitive dependents, computed by a recursive query that is safe on
 * cycles). Lists of names travel as JSON arrays. Thread-safe per connection.
 */
#ifndef CABINET_DB_SERVICE_H
#define CABINET_DB_SERVICE_H

#include <jansson.h>

#include "db/db.h"

struct db_service {
    const char *name;
    const char *title;       /* NULL: keep (update) */
    const char *tier;        /* decimal; NULL: keep */
    const char *owner;       /* NULL: keep */
    const char *description; /* NULL: keep */
    const char *depends_on;  /* JSON array of names; NULL: keep */
};

/* Positions (0-based) of the names in the JSON array `names` that are not
 * services; *out is a new array, empty when all exist. */
enum outcome db_service_missing(struct db *db, const char *names, json_t **out);

/* ERR_CONFLICT when the name is taken. */
enum outcome db_service_create(struct db *db, const char *actor, const struct db_service *s,
                               json_t **out);
enum outcome db_service_get(struct db *db, const char *name, json_t **out);
/* Services named after `after`, by name; *out is an array. */
enum outcome db_service_list(struct db *db, const char *after, const char *q, int limit,
                             json_t **out);
enum outcome db_service_update(struct db *db, const char *actor, const struct db_service *s,
                               json_t **out);
/* Deletes the service; ERR_CONFLICT when changes, freezes or other services
 * still use it, with *users = {"changes":[refs],"dependents":[names],
 * "freezes":[ids]} (new reference). */
enum outcome db_service_delete(struct db *db, const char *actor, const char *name, json_t **users);
/* {service, impact_set:[{name,title,tier,depth}], blast_radius, max_tier}. */
enum outcome db_service_impact(struct db *db, const char *name, json_t **out);

#endif
