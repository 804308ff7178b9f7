/* The JSON request decoder (api/decode.c) over any input, linked with the
 * http_field of http_shim.c. fuzz-link: server/api/decode.c tests/fuzz/http_shim.c
 *
 * An object is decoded with a table of every field type: it succeeds
 * exactly when no field error was recorded; then nothing unknown was sent,
 * every required field is set, every value set keeps its field's rules
 * (a line is one line, text has LF line ends, numbers are in range, times
 * are normal, names are names listed once), and what was absent or null
 * keeps the caller's value. A field at fault is never written. Decoding the
 * (normalised) object a second time gives the same errors and values.
 *
 * An array [target, patch] is an RFC 7396 merge patch: applying it twice is
 * applying it once, null members are removed and other non-object members
 * are the patch's. Any input as text goes through decode_id. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/decode.h"
#include "domain/timefmt.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct body {
    const char *line, *text, *string, *email, *slug, *oneof;
    int64_t n;
    bool b;
    char t[TIMEFMT_LEN];
    struct decode_names names, slugs, words;
    struct decode_window w;
    const json_t *obj;
};

static const char *const decisions[] = {"approve", "reject", NULL};
static const char *const levels[] = {"low", "medium", "high", NULL};
#define AT(m) offsetof(struct body, m)
static const struct decode_field fields[] = {
    {"line", DECODE_LINE, AT(line), true, 1, 20, NULL, "a title"},
    {"text", DECODE_TEXT, AT(text), false, 0, 200, NULL, NULL},
    {"string", DECODE_STRING, AT(string), false, 2, 10, NULL, NULL},
    {"email", DECODE_EMAIL, AT(email), false, 0, 0, NULL, NULL},
    {"slug", DECODE_SLUG, AT(slug), false, 0, 0, NULL, NULL},
    {"oneof", DECODE_ONEOF, AT(oneof), false, 0, 0, decisions, "approve or reject"},
    {"n", DECODE_INT, AT(n), false, -5, 1000, NULL, NULL},
    {"b", DECODE_BOOL, AT(b), false, 0, 0, NULL, NULL},
    {"t", DECODE_TIME, AT(t), false, 0, 0, NULL, NULL},
    {"names", DECODE_NAMES, AT(names), false, 0, 0, NULL, NULL},
    {"slugs", DECODE_SLUGS, AT(slugs), false, 1, 3, NULL, "services"},
    {"words", DECODE_WORDS, AT(words), false, 0, 4, levels, NULL},
    {"w", DECODE_WINDOW, AT(w), false, 0, 0, NULL, NULL},
    {"obj", DECODE_OBJECT, AT(obj), false, 0, 0, NULL, "an object of settings"},
};
#define NFIELDS DECODE_NFIELDS(fields)

static const char sentinel[] = "sentinel";
#define SENTINEL_N 123456

static void
body_init(struct body *b)
{
    memset(b, 0, sizeof *b);
    b->line = b->text = b->string = b->email = b->slug = b->oneof = sentinel;
    b->n = SENTINEL_N;
    snprintf(b->t, sizeof b->t, "%s", sentinel);
    b->names.n = b->slugs.n = b->words.n = SENTINEL_N;
    snprintf(b->w.start, sizeof b->w.start, "%s", sentinel);
}

/* A property that must hold: names the line that broke it, and aborts. */
#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

static const char **
text_member(struct body *b, size_t i)
{
    return fields[i].type <= DECODE_ONEOF ? (const char **)(void *)((char *)b + fields[i].offset)
                                          : NULL;
}

static bool
is_list(size_t i)
{
    return fields[i].type >= DECODE_NAMES && fields[i].type <= DECODE_WORDS;
}

static struct decode_names *
list_member(struct body *b, size_t i)
{
    return is_list(i) ? (struct decode_names *)(void *)((char *)b + fields[i].offset) : NULL;
}

/* A value set and good keeps its field's rules. */
static void
check_set(struct body *b, size_t i)
{
    const struct decode_field *f = &fields[i];
    const char **s = text_member(b, i);
    struct decode_names *l = list_member(b, i);
    char why[VALIDATE_WHY_LEN];
    size_t k, j;

    if (s != NULL) {
        check(*s != sentinel && *s != NULL);
        if (f->type == DECODE_LINE)
            check(validate_line(*s, why));
        if (f->type == DECODE_TEXT)
            check(validate_lines(*s, why) && strchr(*s, '\r') == NULL);
        if (f->type <= DECODE_STRING)
            check(validate_text(*s, (size_t)f->min, (size_t)f->max));
        if (f->type == DECODE_EMAIL)
            check(validate_email(*s));
        if (f->type == DECODE_SLUG)
            check(validate_slug(*s));
        if (f->type == DECODE_ONEOF)
            check(validate_oneof(*s, f->oneof));
    } else if (l != NULL) {
        check(json_is_array(l->list) && l->n == json_array_size(l->list));
        check(f->type == DECODE_NAMES || ((long)l->n >= f->min && (long)l->n <= f->max));
        for (k = 0; k < l->n; k++) {
            const char *item = json_string_value(json_array_get(l->list, k));
            check(item != NULL);
            check(f->type != DECODE_SLUGS || validate_slug(item));
            check(f->type != DECODE_WORDS || validate_oneof(item, f->oneof));
            for (j = 0; f->type == DECODE_SLUGS && j < k; j++)
                check(strcmp(item, json_string_value(json_array_get(l->list, j))) != 0);
        }
    } else if (f->type == DECODE_INT) {
        check(b->n >= f->min && b->n <= f->max);
    } else if (f->type == DECODE_TIME) {
        check(timefmt_is_normal(b->t));
    } else if (f->type == DECODE_WINDOW) {
        check(timefmt_is_normal(b->w.start) && timefmt_is_normal(b->w.end));
    } else if (f->type == DECODE_OBJECT) {
        check(json_is_object(b->obj));
    }
}

/* A value absent, null or at fault is not written. */
static void
check_unwritten(struct body *b, size_t i, enum decode_presence p)
{
    const char **s = text_member(b, i);
    struct decode_names *l = list_member(b, i);

    if (s != NULL)
        check(*s == sentinel);
    else if (l != NULL)
        check(l->n == SENTINEL_N && l->list == NULL);
    else if (fields[i].type == DECODE_INT)
        check(b->n == SENTINEL_N);
    else if (fields[i].type == DECODE_TIME)
        check(strcmp(b->t, sentinel) == 0 || (p == DECODE_BAD && b->t[0] == '\0'));
    else if (fields[i].type == DECODE_OBJECT)
        check(b->obj == NULL);
}

/* Whether field (an error's) names a member of obj, a field of the table,
 * an item of a list field or a member of the window. */
static bool
names_something(const json_t *obj, const char *field)
{
    size_t i, n;

    const char *key;
    json_t *v;

    /* a field name is kept to 95 bytes (fielderr.h) */
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        if (strcmp(key, field) == 0 ||
            (strlen(field) == sizeof((struct fielderr *)0)->e[0].field - 1 &&
             strncmp(key, field, strlen(field)) == 0))
            return true;
    }
    for (i = 0; i < NFIELDS; i++) {
        n = strlen(fields[i].name);
        if (strcmp(field, fields[i].name) == 0)
            return true;
        if (strncmp(field, fields[i].name, n) == 0 && is_list(i) && field[n] == '[')
            return true;
        if (fields[i].type == DECODE_WINDOW && strncmp(field, "w.", 2) == 0)
            return true;
        if (strncmp(field, "window.", 7) == 0 && fields[i].type == DECODE_WINDOW)
            return true;
    }
    return false;
}

static enum outcome
decode(json_t *obj, struct http_ctx *ctx, struct body *b, enum decode_presence *presence)
{
    memset(ctx, 0, sizeof *ctx);
    body_init(b);
    return decode_body(ctx, obj, fields, NFIELDS, b, presence);
}

static void
fuzz_body(json_t *obj)
{
    static struct http_ctx ctx, again_ctx;
    struct body b, again;
    enum decode_presence presence[NFIELDS], again_presence[NFIELDS];
    enum outcome rc = decode(obj, &ctx, &b, presence), rc2;
    const char *key;
    json_t *v;
    size_t i;
    int k;

    check((rc == OK) == (ctx.fe.n == 0));
    for (k = 0; k < ctx.fe.n && k < FIELDERR_MAX; k++)
        check(names_something(obj, ctx.fe.e[k].field));
    if (rc == OK) {
        json_object_foreach(obj, key, v)
        {
            bool known = false;
            for (i = 0; i < NFIELDS; i++)
                known |= strcmp(key, fields[i].name) == 0;
            check(known);
        }
    }
    for (i = 0; i < NFIELDS; i++) {
        check(rc != OK || presence[i] != DECODE_BAD);
        if (fields[i].required && rc == OK)
            check(presence[i] == DECODE_SET);
        /* SET is a value written, even when another field failed (an
         * unknown member named like the field's error, "slugs[0]", must
         * not hide the field's own fault) */
        if (presence[i] == DECODE_SET)
            check_set(&b, i);
        else if (presence[i] != DECODE_SET && fields[i].type != DECODE_WINDOW &&
                 fields[i].type != DECODE_BOOL)
            check_unwritten(&b, i, presence[i]);
    }

    rc2 = decode(obj, &again_ctx, &again, again_presence);
    check(rc2 == rc && again_ctx.fe.n == ctx.fe.n);
    for (k = 0; k < ctx.fe.n && k < FIELDERR_MAX; k++)
        check(strcmp(ctx.fe.e[k].field, again_ctx.fe.e[k].field) == 0);
    for (i = 0; i < NFIELDS; i++) {
        const char **s = text_member(&b, i), **s2 = text_member(&again, i);
        check(presence[i] == again_presence[i]);
        if (s != NULL && presence[i] == DECODE_SET)
            check(strcmp(*s, *s2) == 0);
    }
    check(strcmp(b.t, again.t) == 0 && b.n == again.n);
}

static void
fuzz_patch(const json_t *target, const json_t *patch)
{
    json_t *once = json_deep_copy(target), *twice;
    const char *key;
    json_t *v;

    if (once == NULL)
        return;
    decode_merge_patch(once, patch);
    twice = json_deep_copy(once);
    if (twice != NULL) {
        decode_merge_patch(twice, patch);
        check(json_equal(once, twice));
        json_decref(twice);
    }
    json_object_foreach((json_t *)(uintptr_t)patch, key, v)
    {
        if (json_is_null(v))
            check(json_object_get(once, key) == NULL);
        else if (!json_is_object(v))
            check(json_equal(json_object_get(once, key), v));
        else
            check(json_is_object(json_object_get(once, key)));
    }
    json_decref(once);
}

static void
fuzz_id(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), back[32];
    const char *digits;
    int64_t id;

    if (s == NULL)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    if (decode_id(s, "CHG-", &id)) {
        check(id > 0);
        digits = strncasecmp(s, "CHG-", 4) == 0 ? s + 4 : s;
        snprintf(back, sizeof back, "%lld", (long long)id);
        check(strcmp(back, digits) == 0);
    }
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

    fuzz_id(data, size);
    if (json_is_object(v))
        fuzz_body(v);
    else if (json_is_array(v) && json_array_size(v) == 2 && json_is_object(json_array_get(v, 0)) &&
             json_is_object(json_array_get(v, 1)))
        fuzz_patch(json_array_get(v, 0), json_array_get(v, 1));
    json_decref(v);
    return 0;
}
