/*
 * Logging to stderr, as text or as one JSON object a line
 * (CABINET_LOG_FORMAT). Never log secrets, tokens or passwords. Thread-safe.
 *
 * A line written on a thread that serves a request names the request's id
 * (log_request_begin): "request_id" in JSON, "[id]" after the level in text.
 */
#ifndef CABINET_LOG_H
#define CABINET_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of named fields: event (such as "access", "auth.login"), then
 * nfields pairs of name and value in kv (a NULL value is left out). In
 * text "event name=value ...", a value with a space or '"' quoted; in
 * JSON members beside "event". Values are the caller's to keep clean of
 * secrets. */
void log_event(enum log_level level, const char *event, const char *const *kv, size_t nfields);

/* The request this thread serves from now on (id: at most 64 characters,
 * copied), until log_request_end. */
void log_request_begin(const char *id);
void log_request_end(void);
/* The id of the request this thread serves, or "" between requests. */
const char *log_request_id(void);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
