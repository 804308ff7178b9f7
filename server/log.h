/*
 * Logging to stderr, as text or as one JSON object a line
 * (CABINET_LOG_FORMAT). Never log secrets, tokens or passwords. Thread-safe.
 */
#ifndef CABINET_LOG_H
#define CABINET_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
