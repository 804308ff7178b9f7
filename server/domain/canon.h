/*
 * Canonical JSON writers (README "Canonical JSON"): the bytes that hashes
 * and signatures are taken over. Strings are escaped minimally as RFC 8785
 * does (`\b \f \n \r \t`, `\"`, `\\`, other control characters as lowercase
 * `\u00xx`, everything else as its UTF-8 bytes); integers in plain decimal.
 * Callers emit object keys already sorted by their UTF-8 bytes. Pure and
 * thread-safe.
 */
#ifndef CABINET_CANON_H
#define CABINET_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "domain/strbuf.h"

/* Appends s (len bytes of UTF-8) as a quoted, escaped JSON string. */
void canon_string(struct strbuf *sb, const char *s, size_t len);
/* Appends a NUL-terminated string; NULL is written as "". */
void canon_cstring(struct strbuf *sb, const char *s);
/* Appends an integer in plain decimal. */
void canon_int(struct strbuf *sb, int64_t v);
/* Appends `"key":` for the next member; `first` says no comma goes before. */
void canon_key(struct strbuf *sb, const char *key, int first);

/* qsort comparator for arrays of `const char *`, by UTF-8 bytes. */
int canon_strcmp(const void *a, const void *b);

#endif
