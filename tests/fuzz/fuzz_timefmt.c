/* timefmt: any input either fails to parse, or parses to a time whose normal
 * form parses back to the same instant and is recognised as normal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), out[TIMEFMT_LEN];
    int64_t t, again;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (timefmt_parse(s, &t) == OK) {
        timefmt_format(t, out);
        if (timefmt_parse(out, &again) != OK || again != t || !timefmt_is_normal(out))
            abort();
    }
    (void)timefmt_is_normal(s);
    free(s);
    return 0;
}
