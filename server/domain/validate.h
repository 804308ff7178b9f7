/*
 * Validators of single values, shared by every resource. Each returns true
 * when the value is acceptable; validate_newlines makes the stored form of
 * multi-line text. Pure and thread-safe.
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

/* Room for the message validate_line and validate_lines give. */
#define VALIDATE_WHY_LEN 120

/* Whether s may fill a single-line text field (a title, a name, a label):
 * valid UTF-8 without C0 controls (U+0000-U+001F), DEL (U+007F), C1
 * controls (U+0080-U+009F) or bidirectional embeddings, overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069). When not, why (when not NULL)
 * says what is wrong, as the rest of a sentence that starts with the
 * field's name: "must be one line of text: U+0007 is a control character".
 * NULL is acceptable (an absent field). Says nothing of the length. */
bool validate_line(const char *s, char why[VALIDATE_WHY_LEN]);
/* The same for a multi-line field (a description, a plan, a reason, a
 * note): of the controls only tab, line feed and carriage return are
 * allowed; store such text only after validate_newlines, which turns every
 * carriage return into a line feed. */
bool validate_lines(const char *s, char why[VALIDATE_WHY_LEN]);
/* A copy of s in which every CRLF pair and every lone CR is one LF, the
 * form multi-line text is stored and hashed in. Returns a malloc'd string
 * the caller frees with free(); NULL when s is NULL or memory runs out. */
char *validate_newlines(const char *s);

/* Role names a user may hold besides `requester`. */
extern const char *const validate_roles[];

#endif
