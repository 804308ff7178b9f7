#include "domain/role.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"cab", ROLE_CAB},
    {"ecab", ROLE_ECAB},
    {"manager", ROLE_MANAGER},
    {"admin", ROLE_ADMIN},
};

unsigned
role_bit(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(name, role_names[i].name) == 0)
            return role_names[i].bit;
    return 0;
}

bool
role_parse_list(const char *list, unsigned *mask, char *bad, size_t size)
{
    const char *p = list;

    *mask = ROLE_REQUESTER;
    while (*p) {
        char word[32];
        size_t n;

        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (n >= sizeof word) {
            snprintf(bad, size, "%.*s", (int)n, p); /* the whole word, as far as bad holds */
            return false;
        }
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        p += n;
        if (strcmp(word, "requester") == 0)
            continue;
        if (role_bit(word) == 0) {
            snprintf(bad, size, "%s", word);
            return false;
        }
        *mask |= role_bit(word);
    }
    return true;
}

void
role_pg_array(unsigned mask, struct strbuf *sb)
{
    size_t i;
    int first = 1;

    strbuf_putc(sb, '{');
    for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (mask & role_names[i].bit) {
            if (!first)
                strbuf_putc(sb, ',');
            strbuf_puts(sb, role_names[i].name);
            first = 0;
        }
    strbuf_putc(sb, '}');
}
