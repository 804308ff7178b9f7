/* canon_string: for any valid UTF-8 string, the output is a JSON string that
 * a JSON parser reads back as the same bytes. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/canon.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strbuf sb = STRBUF_INIT;
    char *s = malloc(size + 1);
    json_t *v;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (strlen(s) == size && validate_utf8(s, NULL)) {
        canon_string(&sb, s, size);
        v = json_loadb(sb.buf, sb.len, JSON_DECODE_ANY, NULL);
        if (v == NULL || !json_is_string(v) || json_string_length(v) != size ||
            memcmp(json_string_value(v), s, size) != 0)
            abort();
        json_decref(v);
        strbuf_free(&sb);
    }
    free(s);
    return 0;
}
