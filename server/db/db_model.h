/*
 * Change models (standard, normal, emergency and any an admin adds) and
 * their approval policies. Thread-safe per connection.
 */
#ifndef CABINET_DB_MODEL_H
#define CABINET_DB_MODEL_H

#include <jansson.h>

#include "db/db.h"

struct db_model {
    const char *name;
    const char *kind;        /* NULL: keep */
    const char *title;       /* NULL: keep */
    const char *description; /* NULL: keep */
    const char *policy;      /* JSON text; NULL: keep; "null": defaults */
};

enum outcome db_model_list(struct db *db, json_t **out);
enum outcome db_model_get(struct db *db, const char *name, json_t **out);
/* ERR_CONFLICT when the name is taken. */
enum outcome db_model_create(struct db *db, const char *actor, const struct db_model *m,
                             json_t **out);
enum outcome db_model_update(struct db *db, const char *actor, const struct db_model *m,
                             json_t **out);

#endif
