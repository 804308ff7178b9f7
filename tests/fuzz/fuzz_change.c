/* A change from arbitrary JSON: whatever validates has canonical JSON that
 * parses, with keys in order and the services sorted. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/change.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
text(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct change_content c;
    struct fielderr fe = {0};
    struct strbuf sb = STRBUF_INIT;
    const char *services[CHANGE_SERVICES_MAX + 1];
    json_t *o = json_loadb((const char *)data, size, 0, NULL), *list, *w, *back;
    size_t i;

    if (o == NULL)
        return 0;
    memset(&c, 0, sizeof c);
    c.title = text(o, "title");
    c.description = text(o, "description");
    c.model = text(o, "model");
    c.business_impact = text(o, "business_impact");
    c.implementation_plan = text(o, "implementation_plan");
    c.backout_plan = text(o, "backout_plan");
    c.test_plan = text(o, "test_plan");
    list = json_object_get(o, "services");
    for (i = 0; i < json_array_size(list) && i <= CHANGE_SERVICES_MAX; i++)
        services[c.nservices++] = json_is_string(json_array_get(list, i))
                                      ? json_string_value(json_array_get(list, i))
                                      : "";
    c.services = services;
    w = json_object_get(o, "window");
    if (text(w, "start") && text(w, "end") &&
        (timefmt_normalize(text(w, "start"), c.window_start) != OK ||
         timefmt_normalize(text(w, "end"), c.window_end) != OK))
        c.window_start[0] = c.window_end[0] = '\0';
    if (change_validate(&c, &fe)) {
        change_canonical(&c, &sb);
        back = json_loadb(sb.buf, sb.len, 0, NULL);
        if (back == NULL || json_object_size(back) != 9 ||
            json_array_size(json_object_get(back, "services")) != c.nservices)
            abort();
        for (i = 1; i < c.nservices; i++)
            if (strcmp(json_string_value(json_array_get(json_object_get(back, "services"), i - 1)),
                       json_string_value(json_array_get(json_object_get(back, "services"), i))) > 0)
                abort();
        json_decref(back);
        strbuf_free(&sb);
    } else if (fe.n == 0) {
        abort();
    }
    json_decref(o);
    return 0;
}
