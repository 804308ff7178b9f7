#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "domain/timefmt.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error"};

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[2048], at[TIMEFMT_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    timefmt_format((int64_t)time(NULL), at);
    if (config != NULL && config->log_format != NULL && strcmp(config->log_format, "json") == 0) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "at", at, "level", log_levels[level], "msg", msg);
        char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (line)
            fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
        return;
    }
    fprintf(stderr, "%s %s %s\n", at, log_levels[level], msg);
}
