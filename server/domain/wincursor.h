/*
 * The cursor of a list in window order (the schedule, the CAB agenda): the
 * position of the last row of a page, its window start (microseconds since
 * the epoch) and its id, made opaque. A tag byte says which list made it,
 * so that one list's cursor is refused by another. The text is 23
 * characters of base64url (RFC 4648 §5, no padding) over 17 bytes: the tag,
 * then both numbers big-endian. Pure and thread-safe.
 */
#ifndef CABINET_WINCURSOR_H
#define CABINET_WINCURSOR_H

#include <stdbool.h>
#include <stdint.h>

#define WINCURSOR_LEN 24 /* 23 characters and the NUL */

/* Writes the cursor of (start_us, id) for the list tagged tag. */
void wincursor_encode(char tag, int64_t start_us, int64_t id, char out[WINCURSOR_LEN]);
/* Reads a cursor of the list tagged tag: false for anything this code did
 * not make for that list (another length or alphabet, bits set past the
 * last byte, another tag, an id below 1). */
bool wincursor_decode(const char *text, char tag, int64_t *start_us, int64_t *id);

#endif
