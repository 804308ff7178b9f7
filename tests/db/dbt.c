/* Helpers of the database tests: fixtures made through the db/ layer. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_change.h"
#include "db/db_internal.h"
#include "db/db_key.h"
#include "db/db_workflow.h"
#include "dbt.h"

struct db *dbt_db;
int64_t dbt_user;

static char dbt_value[4096];

const char *
dbt_sql(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    PGresult *res;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    dbt_value[0] = '\0';
    if (!CHECK(n > 0 && (size_t)n < sizeof sql))
        return dbt_value;
    res = PQexec(db_conn(dbt_db), sql);
    if (!CHECK(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)) {
        printf("     %s\n     %s", sql, PQresultErrorMessage(res));
    } else if (PQntuples(res) > 0 && PQnfields(res) > 0) {
        snprintf(dbt_value, sizeof dbt_value, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return dbt_value;
}

void
dbt_service(const char *name, const char *deps)
{
    dbt_sql("INSERT INTO services (name, title, tier) VALUES ('%s', '%s', 3)", name, name);
    if (*deps != '\0')
        dbt_sql("INSERT INTO service_deps (service, depends_on)"
                " SELECT '%s', unnest(string_to_array('%s', ','))",
                name, deps);
}

const char *
dbt_at(char buf[32], int day, int minutes)
{
    snprintf(buf, 32, "2031-03-%02dT%02d:%02d:00Z", day + minutes / 1440, minutes % 1440 / 60,
             minutes % 60);
    return buf;
}

/* The content of a test change: only the window and services vary. */
static void
dbt_content(struct db_change_content *c, const char *services, char *start, char *end, int day,
            int from, int to)
{
    memset(c, 0, sizeof *c);
    c->title = "database test";
    c->description = "";
    c->model = "normal";
    c->services = services;
    c->win_start = dbt_at(start, day, from);
    c->win_end = dbt_at(end, day, to);
    c->business_impact = "low";
    c->implementation_plan = "";
    c->backout_plan = "revert";
    c->test_plan = "smoke test";
    c->content_hash = "0000000000000000000000000000000000000000000000000000000000000000";
    c->canonical = "{}";
}

int64_t
dbt_change(struct db *db, const char *services, int day, int from, int to)
{
    static int serial;
    struct db_change_content c = {0};
    struct change ch;
    json_t *doc = NULL;
    char start[32], end[32], gate[48];
    int64_t id = 0;

    dbt_content(&c, services, start, end, day, from, to);
    snprintf(gate, sizeof gate, "dbt-gate-%d", ++serial);
    if (db_change_create(db, dbt_user, "api", &c, gate, &ch, &doc) == OK)
        id = ch.id;
    change_clear(&ch);
    json_decref(doc);
    return id;
}

/* Assesses the locked change c from its facts, as the workflow does; the
 * score and policy are irrelevant to conflicts and fixed here. */
static enum outcome
dbt_assess(struct db *db, struct change *c)
{
    struct db_facts facts;
    struct risk_result r = {.level = "low"};
    struct policy p = {0};
    enum outcome rc;

    if ((rc = db_workflow_facts(db, c->id, &facts)) != OK)
        return rc;
    rc = db_workflow_assess(db, c, &r, &p, facts.impact_set, &c->rev);
    db_facts_free(&facts);
    return rc;
}

/* One move of a change, made under the conflict lock; an edit of its
 * window and services first when edit is set. */
struct dbt_move {
    int64_t id;
    enum change_action action;
    enum change_state to;
    bool assess;
    const struct db_change_content *edit;
};

static enum outcome
dbt_move_step(struct db *db, void *arg)
{
    const struct dbt_move *m = arg;
    struct db_transition t = {.action = m->action, .to = m->to};
    struct change c;
    enum outcome rc;

    if ((rc = db_workflow_lock(db, m->id)) != OK ||
        (rc = db_change_load(db, m->id, 0, true, &c, NULL)))
        return rc;
    if (m->edit != NULL && (rc = db_change_update(db, "system", m->id, c.rev, m->edit,
                                                  "[\"window\",\"services\"]", &c.rev)) != OK)
        goto out;
    if (m->assess && (rc = dbt_assess(db, &c)) != OK)
        goto out;
    t.from = c.state;
    t.reason = m->action == ACTION_CANCEL ? "database test" : NULL;
    rc = db_workflow_transition(db, "system", m->id, c.rev, &t, &c.rev);
out:
    change_clear(&c);
    return rc;
}

/* A submit that calls then(arg) after its refresh, before it commits. */
struct dbt_held {
    struct dbt_move m;
    void (*then)(void *);
    void *arg;
};

static enum outcome
dbt_held_step(struct db *db, void *arg)
{
    struct dbt_held *h = arg;
    enum outcome rc = dbt_move_step(db, &h->m);

    if (rc == OK)
        h->then(h->arg);
    return rc;
}

enum outcome
dbt_submit_held(struct db *db, int64_t id, void (*then)(void *), void *arg)
{
    struct dbt_held h = {{id, ACTION_SUBMIT, STATE_AWAITING_APPROVAL, true, NULL}, then, arg};

    return db_tx(db, dbt_held_step, &h);
}

enum outcome
dbt_submit(struct db *db, int64_t id)
{
    struct dbt_move m = {id, ACTION_SUBMIT, STATE_AWAITING_APPROVAL, true, NULL};

    return db_tx(db, dbt_move_step, &m);
}

enum outcome
dbt_cancel(struct db *db, int64_t id)
{
    struct dbt_move m = {id, ACTION_CANCEL, STATE_CANCELLED, false, NULL};

    return db_tx(db, dbt_move_step, &m);
}

enum outcome
dbt_edit(struct db *db, int64_t id, const char *services, int day, int from, int to)
{
    struct db_change_content c;
    char start[32], end[32];
    struct dbt_move m = {id, ACTION_EDIT, STATE_AWAITING_APPROVAL, true, &c};

    dbt_content(&c, services, start, end, day, from, to);
    return db_tx(db, dbt_move_step, &m);
}

const char *
dbt_pair(int64_t a, int64_t b)
{
    return dbt_sql("SELECT coalesce(string_agg(state || ':' || array_to_string(services, '+'),"
                   " ','), 'none') FROM conflicts"
                   " WHERE kind = 'change' AND change_a = %lld AND change_b = %lld",
                   (long long)(a < b ? a : b), (long long)(a < b ? b : a));
}

const char *
dbt_frozen(int64_t change, const char *freeze)
{
    return dbt_sql("SELECT coalesce(string_agg(state || ':' || array_to_string(services, '+'),"
                   " ','), 'none') FROM conflicts"
                   " WHERE kind = 'freeze' AND change_a = %lld AND freeze_name = '%s'",
                   (long long)change, freeze);
}

const char *
dbt_impact(int64_t change)
{
    return dbt_sql("SELECT array_to_string(impact_names(sids), ',') FROM change_impact_sets"
                   " WHERE change_id = %lld",
                   (long long)change);
}

static void
dbt_freeze_fill(struct db_freeze *f, const char *name, const char *services, char *start, char *end,
                int day, int from, int to, bool hard)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->start = dbt_at(start, day, from);
    f->end = dbt_at(end, day, to);
    f->services = services;
    f->hard = hard ? "true" : "false";
    f->reason = "database test";
}

int64_t
dbt_freeze(const char *name, const char *services, int day, int from, int to, bool hard)
{
    struct db_freeze f;
    char start[32], end[32];
    json_t *doc = NULL;
    int64_t id = 0;

    dbt_freeze_fill(&f, name, services, start, end, day, from, to, hard);
    if (db_freeze_create(dbt_db, "system", dbt_user, &f, &doc) == OK)
        id = json_integer_value(json_object_get(doc, "id"));
    json_decref(doc);
    return id;
}

enum outcome
dbt_freeze_move(int64_t id, const char *name, const char *services, int day, int from, int to)
{
    struct db_freeze f;
    char start[32], end[32];
    json_t *doc = NULL;
    enum outcome rc;

    dbt_freeze_fill(&f, name, services, start, end, day, from, to, true);
    rc = db_freeze_update(dbt_db, "system", id, &f, &doc);
    json_decref(doc);
    return rc;
}
