/* The content of a change: its validation rules and its canonical JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/change.h"
#include "unit.h"

#define W10 "2026-11-22T10:00:00Z"
#define W12 "2026-11-22T12:00:00Z"

/* Marks a row field that is to be passed as NULL. */
static const char absent[] = "(absent)";
#define ABSENT absent

/* Which text field a row fills with a long (or broken) value. */
enum long_field { LONG_NONE, LONG_DESCRIPTION, LONG_IMPLEMENTATION, LONG_BACKOUT, LONG_TEST };

/* A field a row leaves out takes its value from the smallest valid change:
 * title "T", model "normal", no services, no window, nothing else. */
static const struct {
    const char *name;
    const char *title;     /* ABSENT for NULL */
    const char *title_rep; /* when set, the title is title_rep × title_n */
    size_t title_n;
    const char *model; /* ABSENT for NULL */
    const char *services[5];
    const char *start, *end;
    const char *impact;
    enum long_field long_field; /* gets long_rep × long_n */
    const char *long_rep;
    size_t long_n;
    const char *errors; /* the fields reported, comma-separated, any order */
} validate_rows[] = {
    /* clang-format off */
    {.name = "the smallest valid change"},
    {.name = "a full valid change", .title = "Upgrade the web tier", .services = {"web", "db"},
     .start = W10, .end = W12, .impact = "low"},
    {.name = "another model", .model = "std-dns-1", .impact = "high"},
    {.name = "medium impact", .impact = "medium"},

    {.name = "title missing", .title = ABSENT, .errors = "title"},
    {.name = "title empty", .title = "", .errors = "title"},
    {.name = "title blank", .title = " \t\n ", .errors = "title"},
    {.name = "title 200 chars", .title_rep = "a", .title_n = 200},
    {.name = "title 201 chars", .title_rep = "a", .title_n = 201, .errors = "title"},
    {.name = "title 200 two-byte chars", .title_rep = "\xc3\xa9", .title_n = 200},
    {.name = "title 200 four-byte chars", .title_rep = "\xf0\x9f\x98\x80", .title_n = 200},
    {.name = "title 201 two-byte chars", .title_rep = "\xc3\xa9", .title_n = 201,
     .errors = "title"},
    {.name = "title invalid UTF-8", .title = "bad \xff", .errors = "title"},
    /* a title is one line: no controls (C0, DEL, C1), no bidirectional controls */
    {.name = "title with BEL", .title = "ring \x07 bell", .errors = "title"},
    {.name = "title with ESC", .title = "\x1b[31mred", .errors = "title"},
    {.name = "title with a tab", .title = "a\tb", .errors = "title"},
    {.name = "title with a newline", .title = "first\nsecond", .errors = "title"},
    {.name = "title with CR", .title = "first\rsecond", .errors = "title"},
    {.name = "title with DEL", .title = "a\x7f", .errors = "title"},
    {.name = "title with U+0080", .title = "a\xc2\x80", .errors = "title"},
    {.name = "title with U+0085 (NEL)", .title = "a\xc2\x85" "b", .errors = "title"},
    {.name = "title with U+009F", .title = "a\xc2\x9f", .errors = "title"},
    {.name = "title with U+00A0, just past C1", .title = "a\xc2\xa0" "b"},
    {.name = "title with U+202A", .title = "\xe2\x80\xaa" "a", .errors = "title"},
    {.name = "title with U+202E", .title = "abc\xe2\x80\xae" "fed", .errors = "title"},
    {.name = "title with U+2066", .title = "\xe2\x81\xa6" "a", .errors = "title"},
    {.name = "title with U+2069", .title = "a\xe2\x81\xa9", .errors = "title"},
    {.name = "title with U+2029, not a bidi control", .title = "a\xe2\x80\xa9"},
    {.name = "title with U+202F, not a bidi control", .title = "a\xe2\x80\xaf" "b"},
    {.name = "title with U+2065, not a bidi control", .title = "a\xe2\x81\xa5"},
    {.name = "title blank but for a control", .title = " \x07 ", .errors = "title"},

    {.name = "model missing", .model = ABSENT, .errors = "model"},
    {.name = "model empty", .model = "", .errors = "model"},
    {.name = "model upper case", .model = "Normal", .errors = "model"},
    {.name = "model with a space", .model = "no rmal", .errors = "model"},

    {.name = "service twice", .services = {"web", "web"}, .errors = "services[1]"},
    {.name = "service twice, apart", .services = {"web", "db", "api", "web"},
     .errors = "services[3]"},
    {.name = "two services twice", .services = {"web", "db", "db", "web"},
     .errors = "services[2],services[3]"},
    {.name = "bad service slug", .services = {"Web"}, .errors = "services[0]"},
    {.name = "bad service slug later", .services = {"web", "db", "no such"},
     .errors = "services[2]"},
    {.name = "empty service name", .services = {"web", ""}, .errors = "services[1]"},

    {.name = "window end equals start", .start = W10, .end = W10, .errors = "window.end"},
    {.name = "window end before start", .start = W12, .end = W10, .errors = "window.end"},
    {.name = "window end a second after", .start = "2026-11-22T10:00:00Z",
     .end = "2026-11-22T10:00:01Z"},
    {.name = "window across a year", .start = "2026-12-31T23:00:00Z",
     .end = "2027-01-01T01:00:00Z"},

    {.name = "business_impact unknown", .impact = "urgent", .errors = "business_impact"},
    {.name = "business_impact upper case", .impact = "LOW", .errors = "business_impact"},

    {.name = "description 100000 chars", .long_field = LONG_DESCRIPTION, .long_rep = "a",
     .long_n = 100000},
    {.name = "description 100000 two-byte chars", .long_field = LONG_DESCRIPTION,
     .long_rep = "\xc3\xa9", .long_n = 100000},
    {.name = "description 100001 chars", .long_field = LONG_DESCRIPTION, .long_rep = "a",
     .long_n = 100001, .errors = "description"},
    {.name = "implementation_plan 100001 chars", .long_field = LONG_IMPLEMENTATION,
     .long_rep = "a", .long_n = 100001, .errors = "implementation_plan"},
    {.name = "backout_plan 100001 chars", .long_field = LONG_BACKOUT, .long_rep = "\xc3\xa9",
     .long_n = 100001, .errors = "backout_plan"},
    {.name = "test_plan 100001 chars", .long_field = LONG_TEST, .long_rep = "a",
     .long_n = 100001, .errors = "test_plan"},
    {.name = "description invalid UTF-8", .long_field = LONG_DESCRIPTION, .long_rep = "\xc3",
     .long_n = 1, .errors = "description"},
    /* the text fields take several lines: tab, LF and CR, no other control */
    {.name = "description with tabs and newlines", .long_field = LONG_DESCRIPTION,
     .long_rep = "step\tone\nstep\ttwo\n", .long_n = 3},
    {.name = "description with CRLF (stored as LF)", .long_field = LONG_DESCRIPTION,
     .long_rep = "line\r\n", .long_n = 3},
    {.name = "description with BEL", .long_field = LONG_DESCRIPTION, .long_rep = "a\x07",
     .long_n = 1, .errors = "description"},
    {.name = "description with ESC", .long_field = LONG_DESCRIPTION, .long_rep = "\x1b[0m",
     .long_n = 1, .errors = "description"},
    {.name = "description with a form feed", .long_field = LONG_DESCRIPTION,
     .long_rep = "a\fb", .long_n = 1, .errors = "description"},
    {.name = "description with DEL", .long_field = LONG_DESCRIPTION, .long_rep = "\x7f",
     .long_n = 1, .errors = "description"},
    {.name = "description with U+0085 (NEL)", .long_field = LONG_DESCRIPTION,
     .long_rep = "a\xc2\x85", .long_n = 1, .errors = "description"},
    {.name = "description with U+202D", .long_field = LONG_DESCRIPTION,
     .long_rep = "\xe2\x80\xad", .long_n = 1, .errors = "description"},
    {.name = "description with U+2067", .long_field = LONG_DESCRIPTION,
     .long_rep = "x\n\xe2\x81\xa7", .long_n = 1, .errors = "description"},
    {.name = "implementation_plan with BEL", .long_field = LONG_IMPLEMENTATION,
     .long_rep = "\x07", .long_n = 1, .errors = "implementation_plan"},
    {.name = "backout_plan with U+202E", .long_field = LONG_BACKOUT,
     .long_rep = "\xe2\x80\xae", .long_n = 1, .errors = "backout_plan"},
    {.name = "test_plan with U+0001", .long_field = LONG_TEST,
     .long_rep = "\x01", .long_n = 1, .errors = "test_plan"},
    {.name = "test_plan with tabs", .long_field = LONG_TEST, .long_rep = "\t", .long_n = 5},

    {.name = "everything wrong at once", .title = ABSENT, .model = "X", .services = {"a", "a"},
     .start = W12, .end = W10, .impact = "none", .long_field = LONG_TEST, .long_rep = "a",
     .long_n = 100001,
     .errors = "title,test_plan,model,services[1],window.end,business_impact"},
    /* clang-format on */
};

/* Checks that fe holds exactly the comma-separated fields of want (row names
 * the case in failures). */
static void
check_fields(const char *row, const struct fielderr *fe, const char *want)
{
    char got[1024] = "";
    const char *p = want;
    int n = 0, i;

    for (i = 0; i < fe->n && i < FIELDERR_MAX; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "", fe->e[i].field);
    while (*p) {
        size_t len = strcspn(p, ",");
        char field[96];

        snprintf(field, sizeof field, "%.*s", (int)len, p);
        unit_row("%s: want %s, got \"%s\"", row, field, got);
        CHECK(fielderr_has(fe, field));
        n++;
        p += len + (p[len] == ',');
    }
    unit_row("%s: want \"%s\", got \"%s\"", row, want, got);
    CHECK_INT(fe->n, n);
}

/* A row's value, or dflt when the row leaves it out; NULL for ABSENT. */
static const char *
or_default(const char *v, const char *dflt)
{
    return v == ABSENT ? NULL : v != NULL ? v : dflt;
}

void
test_change_validate(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(validate_rows); i++) {
        const char *errors = validate_rows[i].errors ? validate_rows[i].errors : "";
        struct change_content c;
        struct fielderr fe;
        char *title = NULL, *long_text = NULL;
        const char **slot = NULL, *services[5];
        bool ok;

        memset(&c, 0, sizeof c);
        memset(&fe, 0, sizeof fe);
        if (validate_rows[i].title_rep != NULL)
            c.title = title =
                unit_build(NULL, validate_rows[i].title_rep, validate_rows[i].title_n, NULL);
        else
            c.title = or_default(validate_rows[i].title, "T");
        c.model = or_default(validate_rows[i].model, "normal");
        memcpy(services, validate_rows[i].services, sizeof services);
        c.services = services;
        while (c.nservices < UNIT_NELEM(services) && services[c.nservices] != NULL)
            c.nservices++;
        snprintf(c.window_start, sizeof c.window_start, "%s",
                 or_default(validate_rows[i].start, ""));
        snprintf(c.window_end, sizeof c.window_end, "%s", or_default(validate_rows[i].end, ""));
        c.business_impact = validate_rows[i].impact;
        switch (validate_rows[i].long_field) {
        case LONG_NONE: break;
        case LONG_DESCRIPTION: slot = &c.description; break;
        case LONG_IMPLEMENTATION: slot = &c.implementation_plan; break;
        case LONG_BACKOUT: slot = &c.backout_plan; break;
        case LONG_TEST: slot = &c.test_plan; break;
        }
        if (slot != NULL)
            *slot = long_text =
                unit_build(NULL, validate_rows[i].long_rep, validate_rows[i].long_n, NULL);

        ok = change_validate(&c, &fe);
        unit_row("%s", validate_rows[i].name);
        CHECK_INT(ok, errors[0] == '\0');
        check_fields(validate_rows[i].name, &fe, errors);
        free(title);
        free(long_text);
    }
}

/* Past CHANGE_SERVICES_MAX the list itself is at fault, not an item; the
 * errors are added after any already in fe, and only the new ones decide the
 * result. */
void
test_change_too_many_services(void)
{
    static const struct {
        size_t n;
        const char *want; /* "" for none */
    } rows[] = {
        {100, ""},
        {101, "services"},
        {150, "services"},
    };
    size_t i, k;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        const char *names[150];
        char store[150][24];
        struct change_content c;
        struct fielderr fe;
        bool ok;

        for (k = 0; k < rows[i].n; k++) {
            snprintf(store[k], sizeof store[k], "s%zu", k);
            names[k] = store[k];
        }
        memset(&c, 0, sizeof c);
        memset(&fe, 0, sizeof fe);
        fielderr_add(&fe, "earlier", "from another check");
        c.title = "T";
        c.model = "normal";
        c.services = names;
        c.nservices = rows[i].n;
        ok = change_validate(&c, &fe);
        unit_row("%zu services", rows[i].n);
        CHECK_INT(ok, rows[i].want[0] == '\0');
        CHECK_INT(fe.n, rows[i].want[0] == '\0' ? 1 : 2);
        CHECK_STR(fe.e[0].field, "earlier");
        if (rows[i].want[0] != '\0')
            CHECK_STR(fe.e[1].field, rows[i].want);
    }
}

static const struct {
    const char *name;
    struct change_content c;
    const char *want;
} canonical_rows[] = {
    {"all absent (NULL)",
     {"T", NULL, "normal", NULL, 0, "", "", NULL, NULL, NULL, NULL},
     "{\"backout_plan\":\"\",\"business_impact\":\"\",\"description\":\"\","
     "\"implementation_plan\":\"\",\"model\":\"normal\",\"services\":[],\"test_plan\":\"\","
     "\"title\":\"T\",\"window\":{\"end\":\"\",\"start\":\"\"}}"},
    {"all absent (empty strings)",
     {"T", "", "normal", NULL, 0, "", "", "", "", "", ""},
     "{\"backout_plan\":\"\",\"business_impact\":\"\",\"description\":\"\","
     "\"implementation_plan\":\"\",\"model\":\"normal\",\"services\":[],\"test_plan\":\"\","
     "\"title\":\"T\",\"window\":{\"end\":\"\",\"start\":\"\"}}"},
    {"services sorted by bytes",
     {"T", NULL, "normal",
      (const char *[]){"web", "db", "api", "a0", "a-b", "a", "0ps", "\xc3\xa9t\xc3\xa9", "Zed"}, 9,
      "", "", NULL, NULL, NULL, NULL},
     "{\"backout_plan\":\"\",\"business_impact\":\"\",\"description\":\"\","
     "\"implementation_plan\":\"\",\"model\":\"normal\","
     "\"services\":[\"0ps\",\"Zed\",\"a\",\"a-b\",\"a0\",\"api\",\"db\",\"web\","
     "\"\xc3\xa9t\xc3\xa9\"],"
     "\"test_plan\":\"\",\"title\":\"T\",\"window\":{\"end\":\"\",\"start\":\"\"}}"},
    {"one service",
     {"T", NULL, "normal", (const char *[]){"web"}, 1, "", "", NULL, NULL, NULL, NULL},
     "{\"backout_plan\":\"\",\"business_impact\":\"\",\"description\":\"\","
     "\"implementation_plan\":\"\",\"model\":\"normal\",\"services\":[\"web\"],"
     "\"test_plan\":\"\",\"title\":\"T\",\"window\":{\"end\":\"\",\"start\":\"\"}}"},
    {"escapes in the title",
     {"Fix \"quoted\" C:\\tmp\tnow\nthen\x01\x1f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80", NULL, "normal",
      NULL, 0, "", "", NULL, NULL, NULL, NULL},
     "{\"backout_plan\":\"\",\"business_impact\":\"\",\"description\":\"\","
     "\"implementation_plan\":\"\",\"model\":\"normal\",\"services\":[],\"test_plan\":\"\","
     "\"title\":\"Fix \\\"quoted\\\" C:\\\\tmp\\tnow\\nthen\\u0001\\u001f\x7f caf\xc3\xa9 "
     "\xf0\x9f\x98\x80\","
     "\"window\":{\"end\":\"\",\"start\":\"\"}}"},
    {"a full change",
     {"Upgrade nginx to 1.27", "Security fix.\r\nSee CVE.", "normal",
      (const char *[]){"web", "cdn"}, 2, "2026-11-22T10:00:00Z", "2026-11-22T12:30:00Z", "high",
      "1. drain\n2. upgrade", "apt install nginx=1.26", "curl -f /healthz"},
     "{\"backout_plan\":\"apt install nginx=1.26\",\"business_impact\":\"high\","
     "\"description\":\"Security fix.\\r\\nSee CVE.\","
     "\"implementation_plan\":\"1. drain\\n2. upgrade\",\"model\":\"normal\","
     "\"services\":[\"cdn\",\"web\"],\"test_plan\":\"curl -f /healthz\","
     "\"title\":\"Upgrade nginx to 1.27\","
     "\"window\":{\"end\":\"2026-11-22T12:30:00Z\",\"start\":\"2026-11-22T10:00:00Z\"}}"},
};

void
test_change_canonical(void)
{
    size_t i;

    for (i = 0; i < UNIT_NELEM(canonical_rows); i++) {
        struct strbuf sb = STRBUF_INIT;

        unit_row("%s", canonical_rows[i].name);
        change_canonical(&canonical_rows[i].c, &sb);
        CHECK(!strbuf_failed(&sb));
        CHECK_MEM(sb.buf, sb.len, canonical_rows[i].want, strlen(canonical_rows[i].want));
        strbuf_free(&sb);
    }
}

/* Sorting works on a copy: the caller's array keeps its order, and the
 * result does not depend on the order given. */
void
test_change_canonical_keeps_input(void)
{
    const char *a[] = {"web", "db", "api"};
    const char *b[] = {"api", "web", "db"};
    struct change_content c;
    struct strbuf sa = STRBUF_INIT, sb = STRBUF_INIT;

    memset(&c, 0, sizeof c);
    c.title = "T";
    c.model = "normal";
    c.services = a;
    c.nservices = 3;
    change_canonical(&c, &sa);
    CHECK_STR(a[0], "web");
    CHECK_STR(a[1], "db");
    CHECK_STR(a[2], "api");
    c.services = b;
    change_canonical(&c, &sb);
    CHECK_STR(strbuf_str(&sa), strbuf_str(&sb));
    CHECK(strstr(strbuf_str(&sa), "\"services\":[\"api\",\"db\",\"web\"]") != NULL);
    strbuf_free(&sa);
    strbuf_free(&sb);
}
