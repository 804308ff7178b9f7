/*
 * Reading a request's JSON object into a typed struct. A body is decoded in
 * one pass from a table of its fields (decode_body): every field at fault is
 * recorded in the context, once, so that one response names them all; the
 * checks that need several fields or the database follow as the handler's
 * code, recording field errors the same way. Borrowed strings point into the
 * JSON. Called by the handlers of api/ on their worker thread.
 */
#ifndef CABINET_DECODE_H
#define CABINET_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/timefmt.h"
#include "http/http.h"

/* What decode_body found of a field: DECODE_BAD when it recorded a field
 * error for it. */
enum decode_presence { DECODE_ABSENT, DECODE_NULL, DECODE_SET, DECODE_BAD };

/* Applies an RFC 7396 JSON merge patch to target (modified in place). */
void decode_merge_patch(json_t *target, const json_t *patch);

/* A request body decoded in one pass from a table of its fields. */
enum decode_type {
    DECODE_LINE,   /* const char *: one line of text (validate_line), min..max characters */
    DECODE_TEXT,   /* const char *: lines of text (validate_lines), min..max characters,
                    * stored with LF line ends */
    DECODE_STRING, /* const char *: any string, kept as sent (a password), min..max
                    * characters */
    DECODE_EMAIL,  /* const char *: an e-mail address (validate_email) */
    DECODE_SLUG,   /* const char *: a name (validate_slug) */
    DECODE_ONEOF,  /* const char *: one of the words in oneof */
    DECODE_INT,    /* int64_t, min..max */
    DECODE_BOOL,   /* bool */
    DECODE_TIME,   /* char[TIMEFMT_LEN]: an RFC 3339 date-time, normalised */
    DECODE_NAMES,  /* struct decode_names: a list of strings */
    DECODE_SLUGS,  /* struct decode_names: min..max names (validate_slug), each listed once */
    DECODE_WORDS,  /* struct decode_names: min..max words of oneof (a word may repeat) */
    DECODE_WINDOW, /* struct decode_window: {start, end} */
    DECODE_OBJECT, /* const json_t *: a JSON object, borrowed; its members are the caller's
                    * to check */
};

struct decode_names {
    const json_t *list; /* borrowed; NULL unless set and every item is good */
    size_t n;
};

struct decode_window {
    char start[TIMEFMT_LEN]; /* both "" when absent, null or at fault */
    char end[TIMEFMT_LEN];
};

struct decode_field {
    const char *name;
    enum decode_type type;
    size_t offset; /* of the member it fills in the output struct */
    bool required; /* absent or null is a fault */
    long min, max; /* characters for text, the range for integers, items for lists */
    const char *const *oneof;
    const char *hint; /* what a good value is, e.g. "approve or reject" */
};

/* The number of fields of a table. */
#define DECODE_NFIELDS(fields) (sizeof(fields) / sizeof((fields)[0]))

/* Decodes obj into out (a struct laid out as fields say, zeroed or set to
 * its defaults first by the caller: a member is written only when its field
 * is set, so an absent or null field keeps the caller's value): every member
 * not in fields, of the wrong type, or breaking its limits is recorded in
 * ctx's field errors, each once, and decoding goes on so that one reply
 * names them all. presence (NULL, or one per field) says of each whether it
 * was absent, null, set, or at fault. DECODE_TEXT members of obj are
 * rewritten with LF line ends first (so obj is modified). Returns
 * http_fields_ok(ctx). Strings borrow from obj. */
enum outcome decode_body(struct http_ctx *ctx, json_t *obj, const struct decode_field *fields,
                         size_t nfields, void *out, enum decode_presence *presence);

/* Names each service of names (the DECODE_SLUGS field key) that does not
 * exist, as key[i]. *json is the list as JSON text ("[]" when empty),
 * malloc'd for the caller to free. */
enum outcome decode_services_exist(struct http_ctx *ctx, const char *key,
                                   const struct decode_names *names, char **json);

/* Parses "42" or "<prefix>42" (e.g. "CHG-42") into a positive id. */
bool decode_id(const char *s, const char *prefix, int64_t *id);

#endif
