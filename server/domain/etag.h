/*
 * Entity tags in conditional requests (RFC 9110 §8.8.3, §13.1): whether an
 * If-Match or If-None-Match field value — `*` or a comma-separated list of
 * tags, each `"opaque"` or `W/"opaque"` — matches a representation's tag.
 * Pure and thread-safe.
 */
#ifndef CABINET_ETAG_H
#define CABINET_ETAG_H

#include <stdbool.h>

/* Whether the field value lists etag (written as sent: `"12"` or
 * `W/"ab"`) or is `*`. weak: the weak comparison of If-None-Match (W/
 * ignored on both sides); else the strong one of If-Match (a weak tag on
 * either side never matches). A member that is not a tag is skipped. */
bool etag_matches(const char *field, const char *etag, bool weak);

#endif
