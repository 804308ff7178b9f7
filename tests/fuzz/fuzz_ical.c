/* The iCalendar writer: for any valid UTF-8 text, every content line is at
 * most 75 octets, ends in CRLF, continuation lines start with a space, and
 * no UTF-8 character is split. Durations: any input parses or not, never
 * to a non-positive length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ical.h"
#include "domain/slots.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strbuf sb = STRBUF_INIT;
    char *s = malloc(size + 1);
    const char *line, *end;
    int64_t secs;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (slots_duration(s, &secs) == OK && secs <= 0)
        abort();
    if (strlen(s) == size && validate_utf8(s, NULL)) {
        ical_text(&sb, "DESCRIPTION", s);
        for (line = strbuf_str(&sb); *line; line = end + 2) {
            end = strstr(line, "\r\n");
            if (end == NULL || end - line > 75 || memchr(line, '\n', (size_t)(end - line)))
                abort();
            if (line != strbuf_str(&sb) &&
                (line[0] != ' ' || ((unsigned char)line[1] & 0xc0) == 0x80))
                abort();
        }
        strbuf_free(&sb);
    }
    free(s);
    return 0;
}
