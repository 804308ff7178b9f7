#include "domain/fielderr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
fielderr_add(struct fielderr *fe, const char *field, const char *fmt, ...)
{
    va_list ap;

    fe->reported++;
    /* one message per field: the first says what is wrong */
    if (fielderr_has(fe, field))
        return;
    if (fe->n < FIELDERR_MAX) {
        snprintf(fe->e[fe->n].field, sizeof fe->e[fe->n].field, "%s", field);
        va_start(ap, fmt);
        vsnprintf(fe->e[fe->n].message, sizeof fe->e[fe->n].message, fmt, ap);
        va_end(ap);
    }
    fe->n++;
}

int
fielderr_has(const struct fielderr *fe, const char *field)
{
    int i;

    for (i = 0; i < fe->n && i < FIELDERR_MAX; i++)
        if (strcmp(fe->e[i].field, field) == 0)
            return 1;
    return 0;
}
