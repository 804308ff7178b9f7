/*
 * A growable byte buffer that stays NUL-terminated. An allocation failure is
 * remembered (strbuf_failed) instead of being reported on every call, so a
 * writer can append freely and check once. Not thread-safe; one per user.
 */
#ifndef CABINET_STRBUF_H
#define CABINET_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
    bool failed;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when an allocation failed since the buffer was made. */
bool strbuf_failed(const struct strbuf *sb);
/* The contents ("" when empty); owned by the buffer. */
const char *strbuf_str(const struct strbuf *sb);
/* Frees the contents and leaves an empty buffer. */
void strbuf_free(struct strbuf *sb);

#endif
