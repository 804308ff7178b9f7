/*
 * The benchmark's baseline: Cabinet's two hot paths done with no framework,
 * on the same database and data set (tests/bench/scale.py builds and runs it).
 *
 *   POST /changes       insert the change, its services, its version row, its
 *                       audit row and an outbox event in one statement; reply
 *                       201 with the JSON of the inserted row
 *   GET  /changes/{id}  one change with its services, as JSON
 *   GET  /tallies       the tally rows a /metrics scrape reads, by the same
 *                       statement (server/db/db_tally.c), as their JSON
 *
 * The first two check a Bearer token against api_tokens by the SHA-256 of
 * the token, as Cabinet does, so that authentication costs the same;
 * /tallies, like /metrics, takes none. One libpq
 * connection per CivetWeb worker thread (thread-local, made on first use),
 * with the statements prepared on it.
 *
 *   bare PORT CONNINFO THREADS
 *
 * Listens on 127.0.0.1 only; SIGTERM or SIGINT stops it.
 */
#include <civetweb.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_BODY 65536

static const char *conninfo;
static volatile sig_atomic_t stopping;
static _Thread_local PGconn *conn;

static const char SQL_TOKEN[] =
    "SELECT u.id, u.email, u.name, array_to_string(u.roles, ','), t.id, t.scope"
    " FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL AND NOT u.disabled";

static const char SQL_CREATE[] =
    "WITH c AS (INSERT INTO changes (title, description, model, win, business_impact,"
    "             implementation_plan, backout_plan, test_plan, content_hash, gate_token,"
    "             requester_id, source)"
    "           VALUES ($1, $2, 'normal', tstzrange($3::timestamptz, $4::timestamptz), $5,"
    "             $6, $7, $8, $9, $10, $11, 'api') RETURNING *),"
    " s AS (INSERT INTO change_services (change_id, service)"
    "       SELECT c.id, x FROM c, jsonb_array_elements_text($12::jsonb) x),"
    " v AS (INSERT INTO change_versions (change_id, version, content, content_hash)"
    "       SELECT c.id, 1, $13::jsonb, c.content_hash FROM c),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || $11, 'change.created', 'change', c.id::text,"
    "              jsonb_build_object('ref', 'CHG-' || c.id, 'title', c.title, 'version', 1,"
    "                                 'content_hash', c.content_hash, 'source', c.source)"
    "       FROM c),"
    " o AS (INSERT INTO outbox (event_id, type, payload, fanned_out)"
    "       SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), 'change.created',"
    "              jsonb_build_object('change', to_jsonb(c) || jsonb_build_object('services',"
    "                                 $12::jsonb)), true FROM c)"
    " SELECT (to_jsonb(c) || jsonb_build_object('services', $12::jsonb))::text FROM c";

/* The same rows a change document shows, in one hand-written statement:
 * the change, its model's kind, its requester, its services, its latest
 * assessment, its approvals with their approver and key, and its unresolved
 * conflicts (at most 20, with the other change's ref and title) with their
 * counts. */
#define MINE                                                                                       \
    "((k.kind = 'change' AND k.change_a = c.id) OR (k.kind = 'freeze' AND k.change_a = c.id)"      \
    " OR k.change_b = c.id)"
static const char SQL_GET[] =
    "SELECT (to_jsonb(c) || jsonb_build_object("
    "  'kind', (SELECT m.kind FROM models m WHERE m.name = c.model),"
    "  'requester', (SELECT jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email)"
    "                FROM users u WHERE u.id = c.requester_id),"
    "  'services', COALESCE((SELECT jsonb_agg(cs.service ORDER BY cs.service)"
    "                        FROM change_services cs WHERE cs.change_id = c.id), '[]'::jsonb),"
    "  'assessment', (SELECT to_jsonb(a) FROM assessments a WHERE a.change_id = c.id"
    "                 ORDER BY a.id DESC LIMIT 1),"
    "  'approvals', COALESCE((SELECT jsonb_agg(to_jsonb(a) || jsonb_build_object("
    "                           'approver', jsonb_build_object('id', u.id, 'name', u.name),"
    "                           'public_key', k.public_key) ORDER BY a.id)"
    "                         FROM approvals a JOIN users u ON u.id = a.approver_id"
    "                         LEFT JOIN user_keys k ON k.id = a.key_id"
    "                         WHERE a.change_id = c.id), '[]'::jsonb),"
    "  'conflicts', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', x.id, 'state', x.state,"
    "                           'other', 'CHG-' || o.id, 'title', o.title))"
    "                         FROM (SELECT * FROM conflicts k WHERE " MINE
    "                               AND k.state <> 'resolved' ORDER BY k.id LIMIT 20) x"
    "                         LEFT JOIN changes o ON o.id = CASE WHEN x.change_a = c.id"
    "                                                  THEN x.change_b ELSE x.change_a END),"
    "                        '[]'::jsonb),"
    "  'conflict_summary', (SELECT jsonb_build_object('total', count(*))"
    "                       FROM conflicts k WHERE " MINE " AND k.state <> 'resolved')))::text"
    " FROM changes c WHERE c.id = $1";

/* Word for word the statement of server/db/db_tally.c (scale.py checks). */
static const char SQL_TALLY[] =
    "SELECT json_build_object("
    " 'states', (SELECT COALESCE(json_agg(t ORDER BY t.kind, t.state), '[]')"
    "            FROM (SELECT kind, state, sum(n)::bigint AS n FROM tallies GROUP BY 1, 2) t),"
    " 'created_30d', (SELECT COALESCE(sum(n), 0) FROM tallies_created"
    "                 WHERE day > (now() AT TIME ZONE 'UTC')::date - 30),"
    " 'emergency_30d', (SELECT COALESCE(sum(n), 0) FROM tallies_created"
    "                   WHERE emergency AND day > (now() AT TIME ZONE 'UTC')::date - 30))";

static void
on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* This thread's connection, made and prepared on first use, made again
 * after it broke. */
static PGconn *
db(void)
{
    PGresult *r;

    if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
        return conn;
    if (conn != NULL)
        PQfinish(conn);
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "bare: %s", PQerrorMessage(conn));
        PQfinish(conn);
        conn = NULL;
        return NULL;
    }
    const char *names[4] = {"token", "create", "get", "tally"};
    const char *sqls[4] = {SQL_TOKEN, SQL_CREATE, SQL_GET, SQL_TALLY};
    for (int i = 0; i < 4; i++) {
        r = PQprepare(conn, names[i], sqls[i], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "bare: prepare %s: %s", names[i], PQerrorMessage(conn));
            PQclear(r);
            PQfinish(conn);
            conn = NULL;
            return NULL;
        }
        PQclear(r);
    }
    return conn;
}

static void
reply(struct mg_connection *c, int status, const char *reason, const char *body)
{
    size_t n = strlen(body);

    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
              status, reason, n);
    mg_write(c, body, n);
}

static void
fail(struct mg_connection *c, int status, const char *reason, const char *detail)
{
    json_t *p = json_pack("{s:i, s:s, s:s}", "status", status, "title", reason, "detail", detail);
    char *s = json_dumps(p, JSON_COMPACT);

    reply(c, status, reason, s ? s : "{}");
    free(s);
    json_decref(p);
}

/* The user id of the Bearer token, or 0 (the reply is sent). */
static long long
authenticate(struct mg_connection *c, PGconn *pg)
{
    const char *authz = mg_get_header(c, "Authorization");
    unsigned char hash[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    const char *params[1] = {hex};
    long long uid = 0;
    PGresult *r;

    if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0) {
        fail(c, 401, "Unauthorized", "send an API token");
        return 0;
    }
    authz += 7;
    while (*authz == ' ')
        authz++;
    crypto_hash_sha256(hash, (const unsigned char *)authz, strlen(authz));
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    r = PQexecPrepared(pg, "token", 1, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail(c, 503, "Service Unavailable", "the database failed");
    else if (PQntuples(r) == 0)
        fail(c, 401, "Unauthorized", "the API token is unknown or revoked");
    else
        uid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return uid;
}

static const char *
text_field(json_t *obj, const char *key, const char *dflt)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : dflt;
}

static void
create(struct mg_connection *c, PGconn *pg, long long uid)
{
    char buf[MAX_BODY + 1], uids[24], hex[65], gate[64];
    unsigned char hash[crypto_hash_sha256_BYTES], raw[32];
    const struct mg_request_info *ri = mg_get_request_info(c);
    json_t *body, *win, *services;
    json_error_t jerr;
    char *svc_json = NULL;
    int n, got = 0;
    PGresult *r;

    if (ri->content_length < 0 || ri->content_length > MAX_BODY) {
        fail(c, 413, "Content Too Large", "the body is missing or too large");
        return;
    }
    while (got < ri->content_length &&
           (n = mg_read(c, buf + got, (size_t)(ri->content_length - got))) > 0)
        got += n;
    buf[got] = '\0';
    body = json_loadb(buf, (size_t)got, 0, &jerr);
    win = json_object_get(body, "window");
    services = json_object_get(body, "services");
    if (!json_is_object(body) || !json_is_string(json_object_get(body, "title")) ||
        !json_is_array(services) || json_array_size(services) == 0 ||
        !json_is_string(json_object_get(win, "start")) ||
        !json_is_string(json_object_get(win, "end"))) {
        fail(c, 422, "Unprocessable Content", "title, services and window are required");
        json_decref(body);
        return;
    }
    svc_json = json_dumps(services, JSON_COMPACT);
    crypto_hash_sha256(hash, (const unsigned char *)buf, (unsigned long long)got);
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    randombytes_buf(raw, sizeof raw);
    memcpy(gate, "gt_", 3);
    sodium_bin2base64(gate + 3, sizeof gate - 3, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(uids, sizeof uids, "%lld", uid);
    const char *params[13] = {text_field(body, "title", ""),
                              text_field(body, "description", ""),
                              text_field(win, "start", NULL),
                              text_field(win, "end", NULL),
                              text_field(body, "business_impact", NULL),
                              text_field(body, "implementation_plan", ""),
                              text_field(body, "backout_plan", ""),
                              text_field(body, "test_plan", ""),
                              hex,
                              gate,
                              uids,
                              svc_json,
                              buf};
    r = PQexecPrepared(pg, "create", 13, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        reply(c, 201, "Created", PQgetvalue(r, 0, 0));
    else
        fail(c, 422, "Unprocessable Content", PQresultErrorMessage(r));
    PQclear(r);
    free(svc_json);
    json_decref(body);
}

static void
get(struct mg_connection *c, PGconn *pg, const char *id)
{
    const char *params[1] = {id};
    char *end;
    PGresult *r;

    if (*id == '\0' || strtoll(id, &end, 10) <= 0 || *end != '\0') {
        fail(c, 404, "Not Found", "no such change");
        return;
    }
    r = PQexecPrepared(pg, "get", 1, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail(c, 503, "Service Unavailable", "the database failed");
    else if (PQntuples(r) == 0)
        fail(c, 404, "Not Found", "no such change");
    else
        reply(c, 200, "OK", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static int
changes(struct mg_connection *c, void *arg)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *rest = ri->local_uri + strlen("/changes");
    PGconn *pg = db();
    long long uid;

    (void)arg;
    if (pg == NULL) {
        fail(c, 503, "Service Unavailable", "no database connection");
        return 503;
    }
    if ((uid = authenticate(c, pg)) == 0)
        return 401;
    if (strcmp(ri->request_method, "POST") == 0 && *rest == '\0')
        create(c, pg, uid);
    else if (strcmp(ri->request_method, "GET") == 0 && *rest == '/')
        get(c, pg, rest + 1);
    else
        fail(c, 405, "Method Not Allowed", "POST /changes or GET /changes/{id}");
    return 200;
}

static int
tallies(struct mg_connection *c, void *arg)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    PGconn *pg = db();
    PGresult *r;

    (void)arg;
    if (strcmp(ri->request_method, "GET") != 0 || strcmp(ri->local_uri, "/tallies") != 0) {
        fail(c, 405, "Method Not Allowed", "GET /tallies");
        return 405;
    }
    if (pg == NULL) {
        fail(c, 503, "Service Unavailable", "no database connection");
        return 503;
    }
    r = PQexecPrepared(pg, "tally", 0, NULL, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        reply(c, 200, "OK", PQgetvalue(r, 0, 0));
    else
        fail(c, 503, "Service Unavailable", "the database failed");
    PQclear(r);
    return 200;
}

int
main(int argc, char **argv)
{
    char listen[64];
    struct mg_callbacks cb;
    struct mg_context *ctx;

    if (argc != 4) {
        fprintf(stderr, "usage: bare PORT CONNINFO THREADS\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    conninfo = argv[2];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", argv[1]);
    const char *options[] = {"listening_ports",
                             listen,
                             "num_threads",
                             argv[3],
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "60000",
                             "request_timeout_ms",
                             "30000",
                             "tcp_nodelay",
                             "1",
                             NULL};
    memset(&cb, 0, sizeof cb);
    mg_init_library(0);
    if ((ctx = mg_start(&cb, NULL, options)) == NULL) {
        fprintf(stderr, "bare: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/changes", changes, NULL);
    mg_set_request_handler(ctx, "/tallies", tallies, NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stopping)
        pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
