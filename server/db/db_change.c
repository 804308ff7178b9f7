/*
 * Relies on: change_doc(), approval_doc(), user_ref(), audit_doc(), cab_ts()
 * (0001, 0002), change_doc_with() (0014) and outbox_emit() (0004, 0009); the tables changes,
 * change_services, change_versions, assessments, approvals, comments, idempotency_keys and
 * audit_log (0001); the unique index changes_external_ref_active (0001, 0007); text search through
 * change_search_match() and its indexes (0010).
 */
#include "db/db_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "domain/role.h"

/* The columns of a typed change row (db_change_fill reads them in this
 * order) for the viewer (viewer_decided) and the services (a comma-separated
 * string): two SQL expressions. */
#define CHANGE_HEAD_AS(viewer)                                                                     \
    "c.id, c.rev, c.version, c.state, m.kind, c.model, c.content_hash, c.requester_id,"            \
    " array_to_string(c.flags, ','),"                                                              \
    " COALESCE((SELECT a.level FROM assessments a WHERE a.change_id = c.id"                        \
    "           AND a.version = c.version ORDER BY a.id DESC LIMIT 1), ''),"                       \
    " COALESCE(c.approvals_needed, 0), COALESCE(c.approvals_have, 0), m.policy,"                   \
    " COALESCE(extract(epoch FROM lower(c.win))::bigint, 0),"                                      \
    " COALESCE(extract(epoch FROM upper(c.win))::bigint, 0),"                                      \
    " COALESCE(cab_ts(lower(c.win)), ''), COALESCE(cab_ts(upper(c.win)), ''),"                     \
    " EXISTS (SELECT 1 FROM approvals a WHERE a.change_id = c.id AND a.version = c.version"        \
    "         AND a.approver_id = " viewer "),"
#define CHANGE_COLUMNS_AS(viewer, services)                                                        \
    CHANGE_HEAD_AS(viewer)                                                                         \
    " c.title, c.description, c.business_impact, c.implementation_plan, c.backout_plan,"           \
    " c.test_plan, c.external_ref, " services ", c.gate_token, c.source"
/* The same without the content's text and services (NULL, ''): what the
 * rules read of a change, no more. */
#define CHANGE_COLUMNS_LEAN                                                                        \
    CHANGE_HEAD_AS("$2::bigint")                                                                   \
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', c.gate_token, c.source"
/* A stored change, for the viewer $2. */
#define CHANGE_COLUMNS                                                                             \
    CHANGE_COLUMNS_AS("$2::bigint", "(SELECT string_agg(cs.service, ',' ORDER BY cs.service)"      \
                                    " FROM change_services cs WHERE cs.change_id = c.id)")
#define CHANGE_NCOLUMNS 28
#define CHANGE_FROM " FROM changes c JOIN models m ON m.name = c.model"

/* One statement: the change, its services, version 1, the audit entry and
 * the change.created event, whose document (built once, change_doc_with of
 * 0014) is also the reply's. $1 is the requester (the viewer), $15 the
 * services as a JSON array. */
static const char SQL_CREATE[] =
    "WITH c AS (INSERT INTO changes (title, description, model, win, business_impact,"
    "             implementation_plan, backout_plan, test_plan, external_ref,"
    "             content_hash, gate_token, requester_id, source)"
    "           VALUES ($2, $3, $4,"
    "             CASE WHEN $5::timestamptz IS NULL THEN NULL"
    "                  ELSE tstzrange($5::timestamptz, $6::timestamptz) END,"
    "             $7, $8, $9, $10, $11, $12, $13, $1, $14)"
    "           RETURNING *),"
    " names AS (SELECT x FROM jsonb_array_elements_text($15::jsonb) x),"
    " s AS (INSERT INTO change_services (change_id, service) SELECT c.id, names.x FROM c, names),"
    " v AS (INSERT INTO change_versions (change_id, version, content, content_hash)"
    "       SELECT c.id, 1, $16::jsonb, c.content_hash FROM c),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || $1, 'change.created', 'change', c.id::text,"
    "              jsonb_build_object('ref', 'CHG-' || c.id, 'title', c.title,"
    "                                 'version', 1, 'content_hash', c.content_hash,"
    "                                 'source', c.source) FROM c),"
    " d AS (SELECT change_doc_with(ROW(c.*)::changes,"
    "                              (SELECT COALESCE(json_agg(x ORDER BY x), '[]') FROM names))"
    "              AS doc FROM c),"
    " e AS (SELECT outbox_emit('change.created', jsonb_build_object('change', d.doc::jsonb))"
    "       FROM d)"
    " SELECT " CHANGE_COLUMNS_AS(
        "$1::bigint",
        "(SELECT string_agg(x, ',' ORDER BY x) FROM names)") ", d.doc"
                                                             " FROM c JOIN models m ON m.name = "
                                                             "c.model, d, e";
static const char SQL_LOAD[] = "SELECT " CHANGE_COLUMNS CHANGE_FROM " WHERE c.id = $1";
static const char SQL_LOAD_LOCK[] =
    "SELECT " CHANGE_COLUMNS CHANGE_FROM " WHERE c.id = $1 FOR UPDATE OF c";
static const char SQL_LOAD_DOC[] =
    "SELECT " CHANGE_COLUMNS ", change_doc(c)" CHANGE_FROM " WHERE c.id = $1";
static const char SQL_GET[] =
    "SELECT json_build_object('doc', change_doc(c), 'rev', c.rev, 'gate_token', c.gate_token)"
    " FROM changes c WHERE c.id = $1";
static const char SQL_UPDATE[] =
    "WITH c AS (UPDATE changes SET"
    "             title = $4, description = $5, model = $6,"
    "             win = CASE WHEN $7::timestamptz IS NULL THEN NULL"
    "                        ELSE tstzrange($7::timestamptz, $8::timestamptz) END,"
    "             business_impact = $9, implementation_plan = $10, backout_plan = $11,"
    "             test_plan = $12, external_ref = $13, content_hash = $14,"
    "             version = version + 1, rev = rev + 1, updated_at = now()"
    "           WHERE id = $2 AND rev = $3"
    "           RETURNING *),"
    " gone AS (DELETE FROM change_services cs USING c"
    "          WHERE cs.change_id = c.id AND NOT ($15::jsonb ? cs.service)),"
    " added AS (INSERT INTO change_services (change_id, service)"
    "           SELECT c.id, x FROM c, jsonb_array_elements_text($15::jsonb) x"
    "           ON CONFLICT DO NOTHING),"
    " v AS (INSERT INTO change_versions (change_id, version, content, content_hash)"
    "       SELECT c.id, c.version, $16::jsonb, c.content_hash FROM c),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'change.updated', 'change', c.id::text,"
    "              jsonb_build_object('ref', 'CHG-' || c.id, 'version', c.version,"
    "                                 'content_hash', c.content_hash, 'fields', $17::jsonb)"
    "       FROM c)"
    " SELECT c.rev FROM c";
/* The search of GET /changes: $1 states, $2 the viewer, $3 model, $4 service,
 * $5/$6 the period, $7 text, $8 requester, $9 the id the page starts
 * below, $10 the limit. */
#define CHANGE_LIST_WHERE                                                                          \
    " WHERE ($1::text IS NULL OR c.state = ANY (string_to_array($1, ',')))"                        \
    " AND ($3::text IS NULL OR c.model = $3)"                                                      \
    " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM change_services cs"                           \
    "                                 WHERE cs.change_id = c.id AND cs.service = $4))"             \
    " AND ($5::timestamptz IS NULL OR upper(c.win) > $5::timestamptz)"                             \
    " AND ($6::timestamptz IS NULL OR lower(c.win) < $6::timestamptz)"                             \
    " AND ($7::text IS NULL"                                                                       \
    "      OR change_search_match(c.id, c.title, c.description, c.external_ref, $7))"              \
    " AND ($8::text IS NULL OR c.requester_id = (SELECT u.id FROM users u"                         \
    "      WHERE u.id::text = $8 OR lower(u.email) = lower($8) LIMIT 1))"                          \
    " AND ($9::bigint = 0 OR c.id < $9::bigint)"                                                   \
    " ORDER BY c.id DESC LIMIT $10"
static const char SQL_LIST[] =
    "SELECT " CHANGE_COLUMNS ", change_doc(c)" CHANGE_FROM CHANGE_LIST_WHERE;
/* The same page as compact rows (0022): what a list shows, no document. */
static const char SQL_LIST_ROWS[] =
    "SELECT change_list_row(c, $2::bigint) FROM changes c" CHANGE_LIST_WHERE;
/* The changes in the states $1 (comma-separated), lean, for the viewer
 * $2: through changes_state (0001). */
static const char SQL_IN_STATES[] =
    "SELECT " CHANGE_COLUMNS_LEAN CHANGE_FROM " WHERE c.state = ANY (string_to_array($1, ','))";
static const char SQL_COMMENT[] =
    "WITH k AS (INSERT INTO comments (change_id, author_id, body) VALUES ($1, $2, $3)"
    "           RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || k.author_id, 'change.commented', 'change', k.change_id::text,"
    "              jsonb_build_object('comment', k.id, 'body', k.body) FROM k)"
    " SELECT json_build_object('id', k.id, 'author', user_ref(k.author_id), 'body', k.body,"
    "                          'created_at', cab_ts(k.created_at)) FROM k";
static const char SQL_COMMENTS[] =
    "SELECT json_build_object('id', k.id, 'author', user_ref(k.author_id), 'body', k.body,"
    "                         'created_at', cab_ts(k.created_at))"
    " FROM comments k WHERE k.change_id = $1 ORDER BY k.id";
static const char SQL_EVIDENCE[] =
    "SELECT json_build_object("
    " 'change', change_doc(c),"
    " 'versions', (SELECT json_agg(json_build_object('version', v.version,"
    "              'content', v.content, 'content_hash', v.content_hash,"
    "              'created_at', cab_ts(v.created_at)) ORDER BY v.version)"
    "              FROM change_versions v WHERE v.change_id = c.id),"
    " 'assessments', COALESCE((SELECT json_agg(json_build_object('version', a.version,"
    "              'score', a.score, 'level', a.level, 'reasons', a.reasons,"
    "              'impact_set', to_json(a.impact_set), 'created_at', cab_ts(a.created_at))"
    "              ORDER BY a.id) FROM assessments a WHERE a.change_id = c.id), '[]'),"
    " 'approvals', COALESCE((SELECT json_agg(approval_doc(a, c.version) ORDER BY a.id)"
    "              FROM approvals a WHERE a.change_id = c.id), '[]'),"
    " 'conflicts', COALESCE((SELECT json_agg(json_build_object('id', k.id, 'kind', k.kind,"
    "              'change_a', k.change_a, 'change_b', k.change_b, 'freeze_id', k.freeze_id,"
    "              'state', k.state, 'services', to_json(k.services), 'note', k.note,"
    "              'detected_at', cab_ts(k.detected_at), 'resolved_at', cab_ts(k.resolved_at))"
    "              ORDER BY k.id) FROM conflicts k"
    "              WHERE k.change_a = c.id OR k.change_b = c.id), '[]'),"
    " 'audit_range', (SELECT json_build_object('first', min(l.seq), 'last', max(l.seq),"
    "              'unchained', count(*) FILTER (WHERE l.seq IS NULL))"
    "              FROM audit_log l WHERE l.entity = 'change' AND l.entity_id = c.id::text))"
    " FROM changes c WHERE c.id = $1";
static const char SQL_SPAN[] =
    "SELECT audit_doc(a) FROM audit_log a WHERE a.seq BETWEEN $1 AND $2 ORDER BY a.seq";
/* The predicate of the unique index changes_external_ref_active (0007). */
static const char SQL_EXTERNAL_REF_OPEN[] =
    "SELECT id FROM changes WHERE external_ref = $1 AND change_is_open(state) AND id <> $2"
    " LIMIT 1";
static const char SQL_MODEL[] = "SELECT name FROM models WHERE name = $1";
static const char SQL_IDEM_GET[] =
    "SELECT request_hash, status, location, response FROM idempotency_keys"
    " WHERE user_id = $1 AND key = $2";
static const char SQL_IDEM_PUT[] =
    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, location, response)"
    " VALUES ($1, $2, $3, $4, $5, $6)";

enum outcome
db_change_get(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_GET, id, out);
}

enum outcome
db_change_update(struct db *db, const char *actor, int64_t id, int64_t rev,
                 const struct db_change_content *c, const char *changed, int64_t *new_rev)
{
    char sid[24], srev[24], buf[24];
    const char *params[17] = {actor,
                              sid,
                              srev,
                              c->title,
                              c->description,
                              c->model,
                              c->win_start,
                              c->win_end,
                              c->business_impact,
                              c->implementation_plan,
                              c->backout_plan,
                              c->test_plan,
                              c->external_ref,
                              c->content_hash,
                              c->services,
                              c->canonical,
                              changed};

    enum outcome rc;

    db_num(id, sid);
    db_num(rev, srev);
    if ((rc = db_text(db, SQL_UPDATE, 17, params, buf, sizeof buf)) == OK)
        *new_rev = strtoll(buf, NULL, 10);
    return rc;
}

/* The model's policy overrides {"<level>": [{"role","count"}]} into c. */
static void
db_change_policies(const char *text, struct change *c)
{
    static const char *const levels[CHANGE_LEVELS] = {"low", "medium", "high", "critical"};
    json_t *policy = text && *text ? json_loads(text, 0, NULL) : NULL;
    size_t i, j;

    for (i = 0; i < CHANGE_LEVELS; i++) {
        const json_t *quotas = json_object_get(policy, levels[i]);
        struct policy *p = &c->model_policy[i];

        for (j = 0; j < json_array_size(quotas) && j < POLICY_MAX_QUOTAS; j++) {
            const json_t *q = json_array_get(quotas, j);
            p->quotas[p->nquotas].role = role_bit(json_string_value(json_object_get(q, "role")));
            p->quotas[p->nquotas].count = (int)json_integer_value(json_object_get(q, "count"));
            p->nquotas++;
        }
    }
    json_decref(policy);
}

/* Copies the text columns into one block that c owns, and points the
 * content at it (so that c may be moved by value). */
static enum outcome
db_change_texts(const PGresult *res, int row, struct change *c)
{
    enum { T_SERVICES = 8, T_NTEXT = 9 };
    static const int cols[T_NTEXT] = {5, 18, 19, 20, 21, 22, 23, 24, 25};
    const char **slot[T_NTEXT] = {
        &c->content.model,
        &c->content.title,
        &c->content.description,
        &c->content.business_impact,
        &c->content.implementation_plan,
        &c->content.backout_plan,
        &c->content.test_plan,
        &c->external_ref,
        NULL,
    };
    size_t len[T_NTEXT], total = 0, n = 0;
    char *p, *services = NULL;
    int i;

    for (i = 0; i < T_NTEXT; i++)
        total += (len[i] = (size_t)PQgetlength(res, row, cols[i])) + 1;
    if ((c->text = malloc(total)) == NULL)
        return ERR_INTERNAL;
    for (p = c->text, i = 0; i < T_NTEXT; i++) {
        memcpy(p, PQgetvalue(res, row, cols[i]), len[i] + 1);
        if (i == T_SERVICES)
            services = p;
        else
            *slot[i] = PQgetisnull(res, row, cols[i]) ? NULL : p;
        p += len[i] + 1;
    }
    if (*services != '\0') {
        for (p = services, n = 1; *p; p++)
            n += *p == ',';
        if ((c->content.services = calloc(n, sizeof *c->content.services)) == NULL)
            return ERR_INTERNAL;
        for (n = 0, p = services; p != NULL; n++) {
            c->content.services[n] = p;
            if ((p = strchr(p, ',')) != NULL)
                *p++ = '\0';
        }
    }
    c->content.nservices = n;
    return OK;
}

/* Fills c from row of a result whose columns are CHANGE_COLUMNS. */
static enum outcome
db_change_fill(const PGresult *res, int row, struct change *c)
{
    char flags[64];
    int st, kind;

    memset(c, 0, sizeof *c);
    c->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    c->rev = strtoll(PQgetvalue(res, row, 1), NULL, 10);
    c->version = atoi(PQgetvalue(res, row, 2));
    st = lifecycle_state_parse(PQgetvalue(res, row, 3));
    kind = lifecycle_kind_parse(PQgetvalue(res, row, 4));
    if (st < 0 || kind < 0)
        return ERR_INTERNAL; /* the schema's CHECKs make this unreachable */
    c->state = (enum change_state)st;
    c->kind = (enum model_kind)kind;
    snprintf(c->model, sizeof c->model, "%s", PQgetvalue(res, row, 5));
    snprintf(c->content_hash, sizeof c->content_hash, "%s", PQgetvalue(res, row, 6));
    c->requester_id = strtoll(PQgetvalue(res, row, 7), NULL, 10);
    snprintf(flags, sizeof flags, ",%s,", PQgetvalue(res, row, 8));
    if (strstr(flags, ",unauthorized,"))
        c->flags |= CHANGE_UNAUTHORIZED;
    if (strstr(flags, ",retrospective,"))
        c->flags |= CHANGE_RETROSPECTIVE;
    snprintf(c->level, sizeof c->level, "%s", PQgetvalue(res, row, 9));
    c->needed = atoi(PQgetvalue(res, row, 10));
    c->have = atoi(PQgetvalue(res, row, 11));
    db_change_policies(PQgetvalue(res, row, 12), c);
    c->window_start = strtoll(PQgetvalue(res, row, 13), NULL, 10);
    c->window_end = strtoll(PQgetvalue(res, row, 14), NULL, 10);
    snprintf(c->content.window_start, sizeof c->content.window_start, "%s",
             PQgetvalue(res, row, 15));
    snprintf(c->content.window_end, sizeof c->content.window_end, "%s", PQgetvalue(res, row, 16));
    c->viewer_decided = PQgetvalue(res, row, 17)[0] == 't';
    snprintf(c->gate_token, sizeof c->gate_token, "%s", PQgetvalue(res, row, 26));
    snprintf(c->source, sizeof c->source, "%s", PQgetvalue(res, row, 27));
    return db_change_texts(res, row, c);
}

/* The change document in column col of row (new reference). */
static json_t *
db_change_doc_of(const PGresult *res, int row, int col)
{
    return json_loads(PQgetvalue(res, row, col), 0, NULL);
}

enum outcome
db_change_create(struct db *db, int64_t user_id, const char *source,
                 const struct db_change_content *c, const char *gate_token, struct change *out,
                 json_t **doc)
{
    char uid[DB_NUM];
    const char *params[16] = {
        db_num(user_id, uid), c->title,     c->description,     c->model,
        c->win_start,         c->win_end,   c->business_impact, c->implementation_plan,
        c->backout_plan,      c->test_plan, c->external_ref,    c->content_hash,
        gate_token,           source,       c->services,        c->canonical};
    PGresult *res;
    enum outcome rc;

    memset(out, 0, sizeof *out);
    *doc = NULL;
    if ((rc = db_run(db, SQL_CREATE, 16, params, &res)) != OK)
        return rc;
    rc = PQntuples(res) == 1 ? db_change_fill(res, 0, out) : ERR_INTERNAL;
    if (rc == OK && (*doc = db_change_doc_of(res, 0, CHANGE_NCOLUMNS)) == NULL)
        rc = ERR_INTERNAL;
    PQclear(res);
    if (rc != OK)
        change_clear(out);
    return rc;
}

enum outcome
db_change_load(struct db *db, int64_t id, int64_t viewer, bool lock, struct change *out,
               json_t **doc)
{
    char sid[DB_NUM], vid[DB_NUM];
    const char *params[2] = {db_num(id, sid), db_num(viewer, vid)};
    const char *sql = doc ? SQL_LOAD_DOC : lock ? SQL_LOAD_LOCK : SQL_LOAD;
    PGresult *res;
    enum outcome rc;

    memset(out, 0, sizeof *out);
    if (doc)
        *doc = NULL;
    if ((rc = db_run(db, sql, 2, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = ERR_NOT_FOUND;
    else if ((rc = db_change_fill(res, 0, out)) == OK && doc &&
             (*doc = db_change_doc_of(res, 0, CHANGE_NCOLUMNS)) == NULL)
        rc = ERR_INTERNAL;
    PQclear(res);
    if (rc != OK)
        change_clear(out);
    return rc;
}

void
db_change_rows_free(struct db_change_rows *r)
{
    size_t i;

    for (i = 0; r->rows != NULL && i < r->n; i++)
        change_clear(&r->rows[i]);
    free(r->rows);
    json_decref(r->docs);
    memset(r, 0, sizeof *r);
}

enum outcome
db_change_list(struct db *db, const struct db_change_filter *f, int64_t viewer,
               struct db_change_rows *out)
{
    char before[DB_NUM], limit[DB_NUM], vid[DB_NUM];
    const char *params[10] = {f->states, db_num(viewer, vid), f->model, f->service, f->from, f->to,
                              f->q,      f->requester,        before,   limit};
    PGresult *res;
    enum outcome rc;
    int i;

    memset(out, 0, sizeof *out);
    db_num(f->before, before);
    db_num(f->limit, limit);
    if ((rc = db_run(db, SQL_LIST, 10, params, &res)) != OK)
        return rc;
    out->docs = json_array();
    out->rows = calloc((size_t)PQntuples(res) + 1, sizeof *out->rows);
    if (out->docs == NULL || out->rows == NULL)
        rc = ERR_INTERNAL;
    for (i = 0; rc == OK && i < PQntuples(res); i++) {
        if ((rc = db_change_fill(res, i, &out->rows[i])) == OK &&
            json_array_append_new(out->docs, db_change_doc_of(res, i, CHANGE_NCOLUMNS)) != 0)
            rc = ERR_INTERNAL;
        out->n = (size_t)i + 1;
    }
    PQclear(res);
    if (rc != OK)
        db_change_rows_free(out);
    return rc;
}

enum outcome
db_change_list_rows(struct db *db, const struct db_change_filter *f, int64_t viewer, json_t **out)
{
    char before[DB_NUM], limit[DB_NUM], vid[DB_NUM];
    const char *params[10] = {f->states, db_num(viewer, vid), f->model, f->service, f->from, f->to,
                              f->q,      f->requester,        before,   limit};

    db_num(f->before, before);
    db_num(f->limit, limit);
    return db_json_list(db, SQL_LIST_ROWS, 10, params, out);
}

enum outcome
db_change_each_in_states(struct db *db, const char *states, int64_t viewer,
                         void (*each)(const struct change *c, void *arg), void *arg)
{
    char vid[DB_NUM];
    const char *params[2] = {states, db_num(viewer, vid)};
    struct change c;
    PGresult *res;
    enum outcome rc;
    int i;

    if ((rc = db_run(db, SQL_IN_STATES, 2, params, &res)) != OK)
        return rc;
    for (i = 0; rc == OK && i < PQntuples(res); i++) {
        if ((rc = db_change_fill(res, i, &c)) == OK)
            each(&c, arg);
        change_clear(&c);
    }
    PQclear(res);
    return rc;
}

enum outcome
db_change_external_ref_open(struct db *db, const char *external_ref, int64_t other_than)
{
    char buf[DB_NUM], oid[DB_NUM];
    const char *params[2] = {external_ref, db_num(other_than, oid)};

    return db_text(db, SQL_EXTERNAL_REF_OPEN, 2, params, buf, sizeof buf);
}

enum outcome
db_change_model_exists(struct db *db, const char *model)
{
    char buf[80];

    return db_text(db, SQL_MODEL, 1, &model, buf, sizeof buf);
}

enum outcome
db_idem_get(struct db *db, int64_t user_id, const char *key, char hash[65], int *status,
            char **location, char **response)
{
    char uid[24];
    const char *params[2] = {uid, key};
    PGresult *res;
    enum outcome rc;

    *location = *response = NULL;
    db_num(user_id, uid);
    if ((rc = db_run(db, SQL_IDEM_GET, 2, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    snprintf(hash, 65, "%s", PQgetvalue(res, 0, 0));
    *status = atoi(PQgetvalue(res, 0, 1));
    if (!PQgetisnull(res, 0, 2))
        *location = strdup(PQgetvalue(res, 0, 2));
    *response = strdup(PQgetvalue(res, 0, 3));
    PQclear(res);
    if (*response == NULL) {
        free(*location);
        *location = NULL;
        return ERR_INTERNAL;
    }
    return OK;
}

enum outcome
db_idem_put(struct db *db, int64_t user_id, const char *key, const char *hash, int status,
            const char *location, const char *response)
{
    char uid[24], st[8];
    const char *params[6] = {uid, key, hash, st, location, response};

    db_num(user_id, uid);
    snprintf(st, sizeof st, "%d", status);
    return db_exec(db, SQL_IDEM_PUT, 6, params, NULL);
}

enum outcome
db_change_comment(struct db *db, int64_t id, int64_t user_id, const char *body, json_t **out)
{
    char cid[24], uid[24];
    const char *params[3] = {cid, uid, body};

    db_num(id, cid);
    db_num(user_id, uid);
    return db_json(db, SQL_COMMENT, 3, params, out);
}

enum outcome
db_change_comments(struct db *db, int64_t id, json_t **out)
{
    return db_json_list_id(db, SQL_COMMENTS, id, out);
}

enum outcome
db_change_evidence(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_EVIDENCE, id, out);
}

enum outcome
db_change_audit_span(struct db *db, int64_t first, int64_t last, json_t **out)
{
    char f[24], l[24];
    const char *params[2] = {f, l};

    db_num(first, f);
    db_num(last, l);
    return db_json_list(db, SQL_SPAN, 2, params, out);
}
