/* The paging cursors. wincursor (domain/wincursor.c, the schedule and the
 * CAB agenda): any text decodes only if it is exactly the cursor encoded
 * from what it decodes to (one text per position), only for its own list's
 * tag, and never to an id below 1; any position with an id of 1 or more
 * encodes to 23 characters of base64url that decode back to it, and not
 * for another tag. The other lists' cursor (http_paging) is unpadded
 * base64url through sec_b64url_encode/decode: whatever text decodes is
 * the encoding of the bytes decoded (strict, one text per value), and any
 * bytes encode to text that decodes back to them.
 *
 * Input: a tag byte, then text (as a cursor) or 16 bytes (a position). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/wincursor.h"
#include "sec/sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
fuzz_text(char tag, const char *s)
{
    char again[WINCURSOR_LEN];
    unsigned char raw[512];
    char *back;
    int64_t start = 0, id = 0, start2, id2;
    long n;

    if (wincursor_decode(s, tag, &start, &id)) {
        check(id >= 1);
        wincursor_encode(tag, start, id, again);
        check(strcmp(again, s) == 0);
        check(!wincursor_decode(s, (char)(tag ^ 1), &start2, &id2));
    }
    n = sec_b64url_decode(s, raw, sizeof raw);
    if (n >= 0) {
        back = malloc(strlen(s) + 4);
        check(back != NULL);
        check(sec_b64url_encode(raw, (size_t)n, back, strlen(s) + 4));
        check(strcmp(back, s) == 0);
        free(back);
    }
}

static void
fuzz_position(char tag, const uint8_t *p, size_t size)
{
    char text[WINCURSOR_LEN], b64[64];
    unsigned char raw[64];
    uint64_t u = 0, v = 0;
    int64_t start, id, start2, id2;
    int i;

    for (i = 0; i < 8; i++) {
        u = u << 8 | p[i];
        v = v << 8 | p[8 + i];
    }
    start = (int64_t)u;
    id = (int64_t)v;
    wincursor_encode(tag, start, id, text);
    check(strlen(text) == WINCURSOR_LEN - 1 && strspn(text, alphabet) == WINCURSOR_LEN - 1);
    if (id >= 1) {
        check(wincursor_decode(text, tag, &start2, &id2) && start2 == start && id2 == id);
        check(!wincursor_decode(text, (char)(tag + 1), &start2, &id2));
    } else {
        check(!wincursor_decode(text, tag, &start2, &id2));
    }
    /* the bytes as an http_paging cursor */
    check(sec_b64url_encode(p, size, b64, sizeof b64));
    check(sec_b64url_decode(b64, raw, sizeof raw) == (long)size && memcmp(raw, p, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1)
        return 0;
    if (size >= 17 && size <= 40)
        fuzz_position((char)data[0], data + 1, size - 1);
    s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    fuzz_text((char)data[0], s);
    free(s);
    return 0;
}
