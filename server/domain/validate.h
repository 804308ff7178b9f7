/*
 * Validators of single values, shared by every resource. Each returns true
 * when the value is acceptable. Pure and thread-safe.
 */
#ifndef CABINET_VALIDATE_H
#define CABINET_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* A service or model name: ^[a-z0-9][a-z0-9-]{0,62}$ */
bool validate_slug(const char *s);
/* A plausible e-mail address: one @, something on each side, no spaces,
 * at most 254 bytes. */
bool validate_email(const char *s);
/* Valid UTF-8 without NUL, and its length in characters (code points). */
bool validate_utf8(const char *s, size_t *chars);
/* s is one of the NULL-terminated list. */
bool validate_oneof(const char *s, const char *const *list);
/* s after trimming ASCII white space is between min and max characters. */
bool validate_text(const char *s, size_t min, size_t max);

/* Role names a user may hold besides `requester`. */
extern const char *const validate_roles[];

#endif
