/*
 * Reading typed fields out of a request's JSON object. Each function records
 * a field error in the context when the value has the wrong type, so that one
 * response names every field at fault. Borrowed strings point into the JSON.
 */
#ifndef CABINET_DECODE_H
#define CABINET_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/timefmt.h"
#include "http/http.h"

enum decode_presence { DECODE_ABSENT, DECODE_NULL, DECODE_SET, DECODE_BAD };

/* A string field: *out borrows it when set. */
enum decode_presence decode_string(struct http_ctx *ctx, const json_t *obj, const char *key,
                                   const char **out);
/* An integer field. */
enum decode_presence decode_int(struct http_ctx *ctx, const json_t *obj, const char *key,
                                int64_t *out);
/* A boolean field. */
enum decode_presence decode_bool(struct http_ctx *ctx, const json_t *obj, const char *key,
                                 bool *out);
/* An array of strings: *out borrows the array, *n its length. */
enum decode_presence decode_strings(struct http_ctx *ctx, const json_t *obj, const char *key,
                                    const json_t **out, size_t *n);

/* The object `window` {start, end}: both normalised into start and end, or
 * both "" when absent or null (an error when required). */
void decode_window(struct http_ctx *ctx, const json_t *obj, bool required, char start[TIMEFMT_LEN],
                   char end[TIMEFMT_LEN]);

/* A list of distinct service names that all exist (errors name key[i]);
 * *json (malloc'd) is the list as JSON text, "[]" when absent or null. */
enum outcome decode_services(struct http_ctx *ctx, const json_t *obj, const char *key, char **json);

/* Applies an RFC 7396 JSON merge patch to target (modified in place). */
void decode_merge_patch(json_t *target, const json_t *patch);

/* Parses "42" or "<prefix>42" (e.g. "CHG-42") into a positive id. */
bool decode_id(const char *s, const char *prefix, int64_t *id);

#endif
