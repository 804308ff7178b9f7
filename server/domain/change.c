#include "domain/change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/canon.h"
#include "domain/validate.h"

const char *const change_business_impacts[] = {"low", "medium", "high", NULL};

/* A multi-line text field: tab and line breaks allowed, no other control. */
static void
change_check_text(const char *field, const char *s, struct fielderr *fe)
{
    char why[VALIDATE_WHY_LEN];

    if (s != NULL && !validate_text(s, 0, CHANGE_TEXT_MAX))
        fielderr_add(fe, field, "must be valid UTF-8 of at most %d characters", CHANGE_TEXT_MAX);
    else if (!validate_lines(s, why))
        fielderr_add(fe, field, "%s", why);
}

/* The title: one line of 1 to CHANGE_TITLE_MAX characters. */
static void
change_check_title(const char *s, struct fielderr *fe)
{
    char why[VALIDATE_WHY_LEN];

    if (s == NULL || !validate_text(s, 1, CHANGE_TITLE_MAX))
        fielderr_add(fe, "title", "is required: 1 to %d characters", CHANGE_TITLE_MAX);
    else if (!validate_line(s, why))
        fielderr_add(fe, "title", "%s", why);
}

bool
change_validate(const struct change_content *c, struct fielderr *fe)
{
    int before = fe->n;
    size_t i, j;
    char field[32];

    change_check_title(c->title, fe);
    change_check_text("description", c->description, fe);
    change_check_text("implementation_plan", c->implementation_plan, fe);
    change_check_text("backout_plan", c->backout_plan, fe);
    change_check_text("test_plan", c->test_plan, fe);
    if (c->model == NULL || !validate_slug(c->model))
        fielderr_add(fe, "model", "must name a change model");
    if (c->nservices > CHANGE_SERVICES_MAX)
        fielderr_add(fe, "services", "at most %d services", CHANGE_SERVICES_MAX);
    for (i = 0; i < c->nservices && i < CHANGE_SERVICES_MAX; i++) {
        snprintf(field, sizeof field, "services[%zu]", i);
        if (!validate_slug(c->services[i])) {
            fielderr_add(fe, field, "must be a service name");
            continue;
        }
        for (j = 0; j < i; j++)
            if (strcmp(c->services[i], c->services[j]) == 0) {
                fielderr_add(fe, field, "is listed twice");
                break;
            }
    }
    if (c->window_start[0] != '\0' && c->window_end[0] != '\0' &&
        strcmp(c->window_end, c->window_start) <= 0)
        fielderr_add(fe, "window.end", "must be after the start of the window");
    if (c->business_impact != NULL && !validate_oneof(c->business_impact, change_business_impacts))
        fielderr_add(fe, "business_impact", "must be low, medium or high");
    return fe->n == before;
}

void
change_canonical(const struct change_content *c, struct strbuf *sb)
{
    const char **sorted = NULL;
    size_t i;

    if (c->nservices > 0) {
        sorted = malloc(c->nservices * sizeof *sorted);
        if (sorted == NULL) {
            sb->failed = true;
            return;
        }
        memcpy(sorted, c->services, c->nservices * sizeof *sorted);
        qsort(sorted, c->nservices, sizeof *sorted, canon_strcmp);
    }
    strbuf_putc(sb, '{');
    canon_key(sb, "backout_plan", 1);
    canon_cstring(sb, c->backout_plan);
    canon_key(sb, "business_impact", 0);
    canon_cstring(sb, c->business_impact);
    canon_key(sb, "description", 0);
    canon_cstring(sb, c->description);
    canon_key(sb, "implementation_plan", 0);
    canon_cstring(sb, c->implementation_plan);
    canon_key(sb, "model", 0);
    canon_cstring(sb, c->model);
    canon_key(sb, "services", 0);
    strbuf_putc(sb, '[');
    for (i = 0; i < c->nservices; i++) {
        if (i > 0)
            strbuf_putc(sb, ',');
        canon_cstring(sb, sorted[i]);
    }
    strbuf_putc(sb, ']');
    canon_key(sb, "test_plan", 0);
    canon_cstring(sb, c->test_plan);
    canon_key(sb, "title", 0);
    canon_cstring(sb, c->title);
    canon_key(sb, "window", 0);
    strbuf_putc(sb, '{');
    canon_key(sb, "end", 1);
    canon_cstring(sb, c->window_end);
    canon_key(sb, "start", 0);
    canon_cstring(sb, c->window_start);
    strbuf_puts(sb, "}}");
    free(sorted);
}

void
change_clear(struct change *c)
{
    if (c == NULL)
        return;
    free(c->text);
    free(c->content.services);
    memset(c, 0, sizeof *c);
}

bool
change_has_window(const struct change *c)
{
    return c->window_start != 0 || c->window_end != 0;
}

void
change_policy(const struct change *c, const char *level, struct policy *p)
{
    static const char *const levels[CHANGE_LEVELS] = {"low", "medium", "high", "critical"};
    int i;

    for (i = 0; i < CHANGE_LEVELS; i++)
        if (level != NULL && strcmp(level, levels[i]) == 0 && c->model_policy[i].nquotas > 0) {
            *p = c->model_policy[i];
            return;
        }
    policy_default(c->kind, level, p);
}
