#include "api/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db_service.h"
#include "domain/validate.h"

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

enum outcome
decode_services_exist(struct http_ctx *ctx, const char *key, const struct decode_names *names,
                      char **json)
{
    json_t *missing = NULL;
    enum outcome rc;
    size_t i;

    *json = names->n ? json_dumps(names->list, JSON_COMPACT) : strdup("[]");
    if (*json == NULL)
        return ERR_INTERNAL;
    if (names->n == 0)
        return OK;
    if ((rc = db_service_missing(ctx->db, *json, &missing)) != OK)
        return rc;
    for (i = 0; i < json_array_size(missing); i++) {
        size_t at = (size_t)json_integer_value(json_array_get(missing, i));
        char field[96];

        snprintf(field, sizeof field, "%s[%zu]", key, at);
        http_field(ctx, field, "no service is named %s",
                   json_string_value(json_array_get(names->list, at)));
    }
    json_decref(missing);
    return OK;
}

/* The member of out that field f fills. */
#define DECODE_AT(out, f, type) ((type *)(void *)((char *)(out) + (f)->offset))

/* What a name (validate_slug) is made of. */
#define DECODE_SLUG_RULE "lowercase letters, digits and - (not first), at most 63 characters"

static const char *
decode_type_hint(const struct decode_field *f)
{
    switch (f->type) {
    case DECODE_LINE:
    case DECODE_TEXT:
    case DECODE_STRING:
    case DECODE_EMAIL:
    case DECODE_SLUG:
    case DECODE_ONEOF: return "must be a string";
    case DECODE_INT: return "must be a whole number";
    case DECODE_BOOL: return "must be true or false";
    case DECODE_TIME: return "must be an RFC 3339 date-time string";
    case DECODE_NAMES:
    case DECODE_SLUGS:
    case DECODE_WORDS: return "must be a list of strings";
    case DECODE_WINDOW: return "must be an object {start, end}";
    case DECODE_OBJECT: return "must be an object";
    }
    return "has the wrong type";
}

/* One time of a window: "" and a field error unless an RFC 3339 date-time. */
static void
decode_window_time(struct http_ctx *ctx, const json_t *w, const char *key, char out[TIMEFMT_LEN])
{
    const json_t *v = json_object_get(w, key);
    char field[32];

    out[0] = '\0';
    snprintf(field, sizeof field, "window.%s", key);
    if (v == NULL || json_is_null(v))
        http_field(ctx, field, "is required: an RFC 3339 date-time");
    else if (!json_is_string(v) || timefmt_normalize(json_string_value(v), out) != OK) {
        http_field(ctx, field, "is not an RFC 3339 date-time (e.g. 2026-12-01T10:00:00Z)");
        out[0] = '\0';
    }
}

static void
decode_one_window(struct http_ctx *ctx, const json_t *v, struct decode_window *w)
{
    static const char *const keys[] = {"start", "end", NULL};
    const char *key;
    json_t *item;

    json_object_foreach((json_t *)(uintptr_t)v, key, item)
    {
        char field[96];

        (void)item;
        if (!validate_oneof(key, keys)) {
            snprintf(field, sizeof field, "window.%s", key);
            http_field(ctx, field, "is not a field of a window");
        }
    }
    decode_window_time(ctx, v, "start", w->start);
    decode_window_time(ctx, v, "end", w->end);
    if (w->start[0] == '\0' || w->end[0] == '\0')
        w->start[0] = w->end[0] = '\0';
}

static bool
decode_type_ok(const struct decode_field *f, const json_t *v)
{
    switch (f->type) {
    case DECODE_LINE:
    case DECODE_TEXT:
    case DECODE_STRING:
    case DECODE_EMAIL:
    case DECODE_SLUG:
    case DECODE_ONEOF:
    case DECODE_TIME: return json_is_string(v);
    case DECODE_INT: return json_is_integer(v);
    case DECODE_BOOL: return json_is_boolean(v);
    case DECODE_NAMES:
    case DECODE_SLUGS:
    case DECODE_WORDS: return json_is_array(v);
    case DECODE_WINDOW:
    case DECODE_OBJECT: return json_is_object(v);
    }
    return false;
}

/* A text field's characters (one line, lines, or any) and length. */
static void
decode_text(struct http_ctx *ctx, const struct decode_field *f, const char *s, void *out)
{
    char why[VALIDATE_WHY_LEN];

    if ((f->type == DECODE_LINE && !validate_line(s, why)) ||
        (f->type == DECODE_TEXT && !validate_lines(s, why))) {
        http_field(ctx, f->name, "%s", why);
        return;
    }
    if (!validate_text(s, (size_t)f->min, (size_t)f->max)) {
        if (f->min > 0)
            http_field(ctx, f->name, "%s%s%ld to %ld characters", f->hint ? f->hint : "",
                       f->hint ? ": " : "", f->min, f->max);
        else
            http_field(ctx, f->name, "at most %ld characters", f->max);
        return;
    }
    *DECODE_AT(out, f, const char *) = s;
}

/* "one of a, b, c": the words a DECODE_WORDS item may be. */
static void
decode_words_hint(const char *const *words, char *buf, size_t size)
{
    size_t used = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; words[i] != NULL && used + 1 < size; i++) {
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "one of ", words[i]);
        used = strlen(buf);
    }
}

/* Whether the item at i of a list field is good; records item errors. */
static bool
decode_item(struct http_ctx *ctx, const struct decode_field *f, const json_t *list, size_t i)
{
    const json_t *item = json_array_get(list, i);
    const char *s = json_string_value(item);
    char field[96], words[192];
    size_t j;

    snprintf(field, sizeof field, "%s[%zu]", f->name, i);
    if (s == NULL || strlen(s) != json_string_length(item)) {
        http_field(ctx, field, "must be a string");
        return false;
    }
    if (f->type == DECODE_SLUGS && !validate_slug(s)) {
        http_field(ctx, field, "must be a name: " DECODE_SLUG_RULE);
        return false;
    }
    if (f->type == DECODE_WORDS && !validate_oneof(s, f->oneof)) {
        decode_words_hint(f->oneof, words, sizeof words);
        http_field(ctx, field, "must be %s", words);
        return false;
    }
    for (j = 0; f->type == DECODE_SLUGS && j < i; j++)
        if (json_is_string(json_array_get(list, j)) &&
            strcmp(s, json_string_value(json_array_get(list, j))) == 0) {
            http_field(ctx, field, "is listed twice");
            return false;
        }
    return true;
}

/* A list field: its length, then each item (every one at fault named). */
static void
decode_list(struct http_ctx *ctx, const struct decode_field *f, const json_t *v, void *out)
{
    size_t i, n = json_array_size(v);
    bool good = true;

    if (f->type != DECODE_NAMES && ((long)n < f->min || (long)n > f->max)) {
        if (f->min > 0)
            http_field(ctx, f->name, "%s%s%ld to %ld items", f->hint ? f->hint : "",
                       f->hint ? ": " : "", f->min, f->max);
        else
            http_field(ctx, f->name, "at most %ld items", f->max);
        return;
    }
    for (i = 0; i < n && (good || f->type != DECODE_NAMES); i++)
        good &= decode_item(ctx, f, v, i);
    if (!good)
        return;
    DECODE_AT(out, f, struct decode_names)->list = v;
    DECODE_AT(out, f, struct decode_names)->n = n;
}

/* Whether a string of the right type is one a DECODE_EMAIL, DECODE_SLUG or
 * DECODE_ONEOF field takes; records the fault when not. */
static bool
decode_word_ok(struct http_ctx *ctx, const struct decode_field *f, const char *s)
{
    if (f->type == DECODE_EMAIL && !validate_email(s))
        http_field(ctx, f->name, "must be an e-mail address");
    else if (f->type == DECODE_SLUG && !validate_slug(s))
        http_field(ctx, f->name, "must be a name: " DECODE_SLUG_RULE);
    else if (f->type == DECODE_ONEOF && !validate_oneof(s, f->oneof))
        http_field(ctx, f->name, "must be %s", f->hint ? f->hint : "one of the listed words");
    else
        return true;
    return false;
}

/* Checks a value of the right type against the field's limits and stores
 * it. */
static void
decode_value(struct http_ctx *ctx, const struct decode_field *f, const json_t *v, void *out)
{
    const char *s = json_string_value(v);

    if (s != NULL && strlen(s) != json_string_length(v)) {
        http_field(ctx, f->name, "must not contain NUL characters");
        return;
    }
    switch (f->type) {
    case DECODE_LINE:
    case DECODE_TEXT:
    case DECODE_STRING: decode_text(ctx, f, s, out); break;
    case DECODE_EMAIL:
    case DECODE_SLUG:
    case DECODE_ONEOF:
        if (decode_word_ok(ctx, f, s))
            *DECODE_AT(out, f, const char *) = s;
        break;
    case DECODE_INT:
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            http_field(ctx, f->name, "must be from %ld to %ld", f->min, f->max);
        else
            *DECODE_AT(out, f, int64_t) = json_integer_value(v);
        break;
    case DECODE_BOOL: *DECODE_AT(out, f, bool) = json_is_true(v); break;
    case DECODE_TIME:
        if (timefmt_normalize(s, DECODE_AT(out, f, char)) != OK) {
            http_field(ctx, f->name, "is not an RFC 3339 date-time%s%s", f->hint ? ": " : "",
                       f->hint ? f->hint : "");
            DECODE_AT(out, f, char)[0] = '\0';
        }
        break;
    case DECODE_NAMES:
    case DECODE_SLUGS:
    case DECODE_WORDS: decode_list(ctx, f, v, out); break;
    case DECODE_WINDOW: decode_one_window(ctx, v, DECODE_AT(out, f, struct decode_window)); break;
    case DECODE_OBJECT: *DECODE_AT(out, f, const json_t *) = v; break;
    }
}

/* Text of several lines is checked, stored and hashed with LF line ends:
 * the member is replaced by its normalised form (a new string in obj). */
static const json_t *
decode_newlines(json_t *obj, const char *key, const json_t *v)
{
    char *lf;
    json_t *fresh;

    if (!json_is_string(v) || strchr(json_string_value(v), '\r') == NULL ||
        strlen(json_string_value(v)) != json_string_length(v))
        return v;
    if ((lf = validate_newlines(json_string_value(v))) == NULL)
        return v; /* out of memory: checked as sent, and refused for its CR */
    fresh = json_string(lf);
    free(lf);
    if (fresh == NULL || json_object_set_new(obj, key, fresh) != 0)
        return v;
    return fresh;
}

enum outcome
decode_body(struct http_ctx *ctx, json_t *obj, const struct decode_field *fields, size_t nfields,
            void *out, enum decode_presence *presence)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        bool known = false;

        for (i = 0; i < nfields && !known; i++)
            known = strcmp(fields[i].name, key) == 0;
        if (!known)
            http_field(ctx, key, "is not a field of this resource, or cannot be written");
    }
    for (i = 0; i < nfields; i++) {
        const struct decode_field *f = &fields[i];
        enum decode_presence p;
        int before = ctx->fe.reported;

        v = json_object_get(obj, f->name);
        if (f->type == DECODE_TEXT)
            v = (json_t *)(uintptr_t)decode_newlines(obj, f->name, v);
        p = v == NULL ? DECODE_ABSENT : json_is_null(v) ? DECODE_NULL : DECODE_SET;
        if (p == DECODE_SET && !decode_type_ok(f, v)) {
            /* an object's hint says what it is better than its type */
            if (f->type == DECODE_OBJECT && f->hint)
                http_field(ctx, f->name, "must be %s", f->hint);
            else
                http_field(ctx, f->name, "%s", decode_type_hint(f));
        } else if (p == DECODE_SET) {
            decode_value(ctx, f, v, out);
        } else if (f->required) {
            http_field(ctx, f->name, "is required%s%s", f->hint ? ": " : "",
                       f->hint ? f->hint : "");
        }
        if (presence != NULL)
            presence[i] = ctx->fe.reported > before ? DECODE_BAD : p;
    }
    return http_fields_ok(ctx);
}
