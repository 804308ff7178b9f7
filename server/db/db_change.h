/*
 * Changes: creating, reading, listing and editing them, with their services,
 * the content of every version, their audit entries and the idempotency
 * records of POST /changes. A change crosses to the rest as a struct change
 * filled from its columns; its document (what clients are sent) stays JSON.
 * Thread-safe per connection.
 */
#ifndef CABINET_DB_CHANGE_H
#define CABINET_DB_CHANGE_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"
#include "domain/change.h"

/* The stored form of a change's content (all strings; NULL = SQL NULL). */
struct db_change_content {
    const char *title;
    const char *description;
    const char *model;
    const char *services;  /* JSON array of names */
    const char *win_start; /* both NULL: no window */
    const char *win_end;
    const char *business_impact;
    const char *implementation_plan;
    const char *backout_plan;
    const char *test_plan;
    const char *external_ref;
    const char *content_hash;
    const char *canonical; /* the canonical JSON the hash is taken over */
};

struct db_change_filter {
    const char *states; /* comma-separated */
    const char *model;
    const char *service;
    const char *from;
    const char *to;
    const char *q;
    const char *requester; /* id or e-mail */
    int64_t before;        /* cursor: ids below it; 0 = from the newest */
    int limit;
};

/* Creates a draft in one statement (one round trip, its own transaction
 * unless the caller holds one): the change, its services, version 1, its
 * audit entry and its change.created event. *out is its typed row as the
 * requester user_id sees it, *doc its document, the one the event carries.
 * The caller change_clears *out and owns *doc. */
enum outcome db_change_create(struct db *db, int64_t user_id, const char *source,
                              const struct db_change_content *c, const char *gate_token,
                              struct change *out, json_t **doc);
/* {"doc","rev","gate_token"} of the change; ERR_NOT_FOUND when none. */
enum outcome db_change_get(struct db *db, int64_t id, json_t **out);

/* The change as a typed row, as seen by the user viewer (viewer_decided);
 * locked FOR UPDATE when lock (inside the caller's transaction). With doc,
 * *doc is also its document (change_doc, new reference; not locked).
 * ERR_NOT_FOUND when there is none. The caller change_clears *out. */
enum outcome db_change_load(struct db *db, int64_t id, int64_t viewer, bool lock,
                            struct change *out, json_t **doc);

/* A page of changes: rows[i] typed, docs[i] its document. */
struct db_change_rows {
    struct change *rows;
    json_t *docs; /* array */
    size_t n;
};
void db_change_rows_free(struct db_change_rows *r);
/* Changes matching f, newest first, as seen by viewer. */
/* Calls each(c, arg) for every change in one of the states (their names,
 * comma-separated), for the viewer (viewer_decided), with what the rules
 * read of it (state, kind, owner, flags, level, policy, window; no text
 * but the model): c lives for the call only. */
enum outcome db_change_each_in_states(struct db *db, const char *states, int64_t viewer,
                                      void (*each)(const struct change *c, void *arg), void *arg);
/* OK when an open change other than other_than (0: any) has this
 * external_ref (what the unique index changes_external_ref_active refuses
 * a second of), else ERR_NOT_FOUND. */
enum outcome db_change_external_ref_open(struct db *db, const char *external_ref,
                                         int64_t other_than);
enum outcome db_change_list(struct db *db, const struct db_change_filter *f, int64_t viewer,
                            struct db_change_rows *out);
/* The same search as compact rows (change_list_row, 0022) into *out, a
 * new array: what a list shows, without documents or actions. */
enum outcome db_change_list_rows(struct db *db, const struct db_change_filter *f, int64_t viewer,
                                 json_t **out);

/* Edits a change whose row revision is still rev: new content, version + 1,
 * rev + 1, the version's content and an audit entry naming `changed` (a
 * JSON array of field names); *new_rev is the revision it wrote.
 * ERR_NOT_FOUND when the change moved on meanwhile. Whether the state
 * allows an edit is lifecycle_apply's to say, before. */
enum outcome db_change_update(struct db *db, const char *actor, int64_t id, int64_t rev,
                              const struct db_change_content *c, const char *changed,
                              int64_t *new_rev);

/* Adds a comment by user_id (audit entry "change.commented", which carries
 * the text); *out is {id, author, body, created_at}. */
enum outcome db_change_comment(struct db *db, int64_t id, int64_t user_id, const char *body,
                               json_t **out);
/* The change's comments, oldest first. */
enum outcome db_change_comments(struct db *db, int64_t id, json_t **out);
/* The evidence of one change, less its audit segment: {change, versions,
 * assessments, approvals, conflicts, audit_range:{first,last}} where the
 * range is the seqs of the change's chained entries. */
enum outcome db_change_evidence(struct db *db, int64_t id, json_t **out);
/* Chained entries with first <= seq <= last, by seq. */
enum outcome db_change_audit_span(struct db *db, int64_t first, int64_t last, json_t **out);

/* True-ish: OK when the model exists, ERR_NOT_FOUND when not. */
enum outcome db_change_model_exists(struct db *db, const char *model);

/* The stored response to (user, key): request hash, status, Location and
 * body (malloc'd, caller frees). ERR_NOT_FOUND when the key is new. */
enum outcome db_idem_get(struct db *db, int64_t user_id, const char *key, char hash[65],
                         int *status, char **location, char **response);
/* Records the response to (user, key) in the caller's transaction;
 * ERR_CONFLICT when another request took the key first. */
enum outcome db_idem_put(struct db *db, int64_t user_id, const char *key, const char *hash,
                         int status, const char *location, const char *response);

#endif
