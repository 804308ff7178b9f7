#include "audit/audit_canon.h"

#include <stdlib.h>

#include "domain/canon.h"

bool
audit_canon_json(const json_t *v, struct strbuf *sb)
{
    const char **keys = NULL;
    const char *key;
    json_t *item;
    size_t i, n;
    bool ok = true;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        n = json_object_size(v);
        /* one slot more than needed, so that keys is never NULL */
        if ((keys = malloc((n + 1) * sizeof *keys)) == NULL)
            return false;
        i = 0;
        json_object_foreach((json_t *)(uintptr_t)v, key, item)
        {
            (void)item;
            if (i < n)
                keys[i++] = key;
        }
        if (n > 0)
            qsort(keys, n, sizeof *keys, canon_strcmp);
        strbuf_putc(sb, '{');
        for (i = 0; i < n && ok; i++) {
            canon_key(sb, keys[i], i == 0);
            ok = audit_canon_json(json_object_get(v, keys[i]), sb);
        }
        strbuf_putc(sb, '}');
        free(keys);
        return ok;
    case JSON_ARRAY:
        strbuf_putc(sb, '[');
        for (i = 0; i < json_array_size(v) && ok; i++) {
            if (i > 0)
                strbuf_putc(sb, ',');
            ok = audit_canon_json(json_array_get(v, i), sb);
        }
        strbuf_putc(sb, ']');
        return ok;
    case JSON_STRING: canon_string(sb, json_string_value(v), json_string_length(v)); return true;
    case JSON_INTEGER: canon_int(sb, json_integer_value(v)); return true;
    case JSON_TRUE: strbuf_puts(sb, "true"); return true;
    case JSON_FALSE: strbuf_puts(sb, "false"); return true;
    case JSON_NULL: strbuf_puts(sb, "null"); return true;
    case JSON_REAL: return false;
    }
    return false;
}

bool
audit_canon_hash(const json_t *entry, int64_t seq, const char *prev, char out[SEC_HEX256_LEN])
{
    struct strbuf sb = STRBUF_INIT;
    json_t *obj;
    bool ok;

    obj = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:I}", "action",
                    json_object_get(entry, "action"), "actor", json_object_get(entry, "actor"),
                    "at", json_object_get(entry, "at"), "data", json_object_get(entry, "data"),
                    "entity", json_object_get(entry, "entity"), "entity_id",
                    json_object_get(entry, "entity_id"), "seq", (json_int_t)seq);
    if (obj == NULL)
        return false;
    strbuf_puts(&sb, prev);
    strbuf_putc(&sb, '\n');
    ok = audit_canon_json(obj, &sb) && !strbuf_failed(&sb);
    if (ok)
        sec_sha256_hex(sb.buf, sb.len, out);
    strbuf_free(&sb);
    json_decref(obj);
    return ok;
}
