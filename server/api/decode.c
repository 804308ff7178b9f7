#include "api/decode.h"

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
        if (!json_is_string(item) ||
            strlen(json_string_value(item)) != json_string_length(item)) {
            http_field(ctx, key, "item %zu must be a string", i);
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

    json_object_foreach((json_t *)(uintptr_t)patch, key, v) {
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
