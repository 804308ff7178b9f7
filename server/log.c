#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "domain/strbuf.h"
#include "domain/timefmt.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error"};

/* Each worker thread serves one request at a time: the id of the one it
 * serves lives with the thread, so that every line it writes can name it
 * without every caller passing it down. */
static _Thread_local char log_request[65];

void
log_request_begin(const char *id)
{
    snprintf(log_request, sizeof log_request, "%s", id);
}

void
log_request_end(void)
{
    log_request[0] = '\0';
}

const char *
log_request_id(void)
{
    return log_request;
}

static bool
log_json(void)
{
    return config != NULL && config->log_format != NULL && strcmp(config->log_format, "json") == 0;
}

/* Writes o as one line, with the time, the level and the request's id. */
static void
log_json_line(json_t *o, enum log_level level, const char *at)
{
    char *line;

    json_object_set_new(o, "at", json_string(at));
    json_object_set_new(o, "level", json_string(log_levels[level]));
    if (log_request[0] != '\0')
        json_object_set_new(o, "request_id", json_string(log_request));
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line)
        fprintf(stderr, "%s\n", line);
    free(line);
}

/* "at level [request] " before a text line. */
static void
log_text_head(struct strbuf *sb, enum log_level level, const char *at)
{
    strbuf_printf(sb, "%s %s ", at, log_levels[level]);
    if (log_request[0] != '\0')
        strbuf_printf(sb, "[%s] ", log_request);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[2048], at[TIMEFMT_LEN];
    struct strbuf sb = STRBUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    timefmt_format((int64_t)time(NULL), at);
    if (log_json()) {
        json_t *o = json_object();
        if (o != NULL) {
            json_object_set_new(o, "msg", json_string(msg));
            log_json_line(o, level, at);
        }
        json_decref(o);
        return;
    }
    log_text_head(&sb, level, at);
    strbuf_puts(&sb, msg);
    if (!strbuf_failed(&sb))
        fprintf(stderr, "%s\n", strbuf_str(&sb));
    strbuf_free(&sb);
}

/* value as a text line shows it: bare, or quoted with '"' and '\' escaped
 * when it is empty or holds a space, a quote or a control character. */
static void
log_text_value(struct strbuf *sb, const char *v)
{
    const char *p;

    if (v[0] != '\0' && strpbrk(v, " \"\\=") == NULL) {
        for (p = v; *p && (unsigned char)*p >= 0x20 && *p != 0x7f; p++)
            ;
        if (*p == '\0') {
            strbuf_puts(sb, v);
            return;
        }
    }
    strbuf_puts(sb, "\"");
    for (p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            strbuf_printf(sb, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            strbuf_puts(sb, "?");
        else
            strbuf_append(sb, p, 1);
    }
    strbuf_puts(sb, "\"");
}

void
log_event(enum log_level level, const char *event, const char *const *kv, size_t nfields)
{
    char at[TIMEFMT_LEN];
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    timefmt_format((int64_t)time(NULL), at);
    if (log_json()) {
        json_t *o = json_object();
        if (o != NULL) {
            json_object_set_new(o, "event", json_string(event));
            for (i = 0; i < nfields; i++)
                if (kv[2 * i + 1] != NULL)
                    json_object_set_new(o, kv[2 * i], json_string(kv[2 * i + 1]));
            log_json_line(o, level, at);
        }
        json_decref(o);
        return;
    }
    log_text_head(&sb, level, at);
    strbuf_puts(&sb, event);
    for (i = 0; i < nfields; i++)
        if (kv[2 * i + 1] != NULL) {
            strbuf_printf(&sb, " %s=", kv[2 * i]);
            log_text_value(&sb, kv[2 * i + 1]);
        }
    if (!strbuf_failed(&sb))
        fprintf(stderr, "%s\n", strbuf_str(&sb));
    strbuf_free(&sb);
}
