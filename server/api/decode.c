#include "api/decode.h"

#include <stdio.h>
#include <strings.h>

#include "db/db_service.h"
#include "domain/validate.h"

#include <stdlib.h>
#include <string.h>

enum decode_presence
decode_string(struct http_ctx *ctx, const json_t *obj, const char *key, const char **out)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return DECODE_ABSENT;
    if (json_is_null(v))
        return DECODE_NULL;
    if (!json_is_string(v)) {
        http_field(ctx, key, "must be a string");
        return DECODE_BAD;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        http_field(ctx, key, "must not contain NUL characters");
        return DECODE_BAD;
    }
    *out = json_string_value(v);
    return DECODE_SET;
}

enum decode_presence
decode_int(struct http_ctx *ctx, const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return DECODE_ABSENT;
    if (json_is_null(v))
        return DECODE_NULL;
    if (!json_is_integer(v)) {
        http_field(ctx, key, "must be a whole number");
        return DECODE_BAD;
    }
    *out = json_integer_value(v);
    return DECODE_SET;
}

enum decode_presence
decode_bool(struct http_ctx *ctx, const json_t *obj, const char *key, bool *out)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return DECODE_ABSENT;
    if (json_is_null(v))
        return DECODE_NULL;
    if (!json_is_boolean(v)) {
        http_field(ctx, key, "must be true or false");
        return DECODE_BAD;
    }
    *out = json_is_true(v);
    return DECODE_SET;
}

enum decode_presence
decode_strings(struct http_ctx *ctx, const json_t *obj, const char *key, const json_t **out,
               size_t *n)
{
    const json_t *v = json_object_get(obj, key);
    size_t i;

    if (v == NULL)
        return DECODE_ABSENT;
    if (json_is_null(v))
        return DECODE_NULL;
    if (!json_is_array(v)) {
        http_field(ctx, key, "must be a list of strings");
        return DECODE_BAD;
    }
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
            char field[96];
            snprintf(field, sizeof field, "%s[%zu]", key, i);
            http_field(ctx, field, "must be a string");
            return DECODE_BAD;
        }
    }
    *out = v;
    *n = json_array_size(v);
    return DECODE_SET;
}

void
decode_merge_patch(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)patch, key, v)
    {
        json_t *cur = json_object_get(target, key);

        if (json_is_null(v)) {
            json_object_del(target, key);
        } else if (json_is_object(v) && json_is_object(cur)) {
            decode_merge_patch(cur, v);
        } else if (json_is_object(v)) {
            json_t *fresh = json_object();
            decode_merge_patch(fresh, v);
            json_object_set_new(target, key, fresh);
        } else {
            json_object_set(target, key, v);
        }
    }
}

bool
decode_id(const char *s, const char *prefix, int64_t *id)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    char *end;
    long long v;

    if (plen && strncasecmp(s, prefix, plen) == 0)
        s += plen;
    if (*s < '1' || *s > '9' || strlen(s) > 18)
        return false;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return false;
    *id = v;
    return true;
}

void
decode_window(struct http_ctx *ctx, const json_t *obj, bool required, char start[TIMEFMT_LEN],
              char end[TIMEFMT_LEN])
{
    static const char *const keys[] = {"start", "end", NULL};
    const json_t *w = json_object_get(obj, "window");
    const char *key;
    json_t *v;

    start[0] = end[0] = '\0';
    if (w == NULL || json_is_null(w)) {
        if (required)
            http_field(ctx, "window", "is required: {start, end}");
        return;
    }
    if (!json_is_object(w)) {
        http_field(ctx, "window", "must be an object {start, end}%s", required ? "" : " or null");
        return;
    }
    json_object_foreach((json_t *)(uintptr_t)w, key, v)
    {
        char field[96];

        (void)v;
        if (!validate_oneof(key, keys)) {
            snprintf(field, sizeof field, "window.%s", key);
            http_field(ctx, field, "is not a field of a window");
        }
    }
    v = json_object_get(w, "start");
    if (!json_is_string(v) || timefmt_normalize(json_string_value(v), start) != OK) {
        http_field(ctx, "window.start", "is required: an RFC 3339 date-time");
        start[0] = '\0';
    }
    v = json_object_get(w, "end");
    if (!json_is_string(v) || timefmt_normalize(json_string_value(v), end) != OK) {
        http_field(ctx, "window.end", "is required: an RFC 3339 date-time");
        end[0] = '\0';
    }
}

enum outcome
decode_services(struct http_ctx *ctx, const json_t *obj, const char *key, char **json)
{
    const json_t *list = NULL;
    json_t *missing = NULL;
    char field[64];
    size_t i, j, n = 0;
    int before = ctx->fe.n;
    enum outcome rc;

    *json = NULL;
    if (decode_strings(ctx, obj, key, &list, &n) != DECODE_SET || n == 0) {
        *json = strdup("[]");
        return *json ? OK : ERR_INTERNAL;
    }
    if (n > 100) {
        http_field(ctx, key, "at most 100 services");
        return OK;
    }
    for (i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(list, i));

        snprintf(field, sizeof field, "%s[%zu]", key, i);
        if (!validate_slug(name)) {
            http_field(ctx, field, "must be a service name");
            continue;
        }
        for (j = 0; j < i; j++)
            if (strcmp(name, json_string_value(json_array_get(list, j))) == 0) {
                http_field(ctx, field, "is listed twice");
                break;
            }
    }
    if (ctx->fe.n > before)
        return OK;
    if ((*json = json_dumps(list, JSON_COMPACT)) == NULL)
        return ERR_INTERNAL;
    if ((rc = db_service_missing(ctx->db, *json, &missing)) != OK)
        return rc;
    for (i = 0; i < json_array_size(missing); i++) {
        size_t at = (size_t)json_integer_value(json_array_get(missing, i));

        snprintf(field, sizeof field, "%s[%zu]", key, at);
        http_field(ctx, field, "no service is named %s",
                   json_string_value(json_array_get(list, at)));
    }
    json_decref(missing);
    return OK;
}
