/*
 * The audit trail's statements: entries, the chain, checkpoints and the
 * server key. Relies on the audit_log, checkpoints and server_key tables
 * with the append-only trigger audit_log_guard() and cab_ts() (0001), and
 * audit_doc() (0002) and timeline_doc() (0023). Checkpoints are signed here, with sec/ and the
 * statement of domain/statement.h, so that the chainer and the API sign
 * them the same way.
 */
#include "db/db_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"
#include "domain/statement.h"
#include "domain/strbuf.h"
#include "domain/timefmt.h"
#include "sec/sec.h"

static const char SQL_ADD[] = "INSERT INTO audit_log (actor, action, entity, entity_id, data)"
                              " VALUES ($1, $2, $3, $4, $5::jsonb)";

/* "cabc" in ASCII: one chainer per database. */
static const char SQL_CHAIN_LOCK[] = "SELECT pg_try_advisory_xact_lock(1667326563)";
static const char SQL_HEAD[] =
    "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1";
static const char SQL_UNCHAINED[] =
    "SELECT json_build_object('id', a.id, 'at', cab_ts(a.at), 'actor', a.actor,"
    " 'action', a.action, 'entity', a.entity, 'entity_id', a.entity_id, 'data', a.data)"
    " FROM audit_log a WHERE a.seq IS NULL ORDER BY a.id LIMIT $1";
static const char SQL_LINK[] =
    "UPDATE audit_log a SET seq = l.seq, prev_hash = l.prev, hash = l.hash"
    " FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS l(id, seq, prev, hash)"
    " WHERE a.id = l.id AND a.seq IS NULL";
static const char SQL_BY_ACTOR[] = "SELECT audit_doc(a) FROM audit_log a"
                                   " WHERE a.actor = $1 AND ($2::bigint = 0 OR a.id < $2::bigint)"
                                   " ORDER BY a.id DESC LIMIT $3";

static const char SQL_KEY_SET[] =
    "WITH i AS (INSERT INTO server_key (id, public_key) VALUES (1, $1)"
    "           ON CONFLICT (id) DO NOTHING RETURNING public_key)"
    " SELECT public_key FROM i UNION ALL SELECT public_key FROM server_key"
    " WHERE NOT EXISTS (SELECT 1 FROM i)";
static const char SQL_KEY_GET[] =
    "SELECT json_build_object('public_key', public_key, 'created_at', cab_ts(created_at))"
    " FROM server_key WHERE id = 1";
static const char SQL_DUE[] = "WITH head AS (SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL"
                              "              ORDER BY seq DESC LIMIT 1),"
                              " cp AS (SELECT COALESCE(max(seq), 0) AS seq FROM checkpoints)"
                              " SELECT head.seq, head.hash FROM head, cp WHERE head.seq > cp.seq"
                              " AND ($1::boolean OR head.seq - cp.seq >= 1000"
                              "      OR (SELECT a.at FROM audit_log a WHERE a.seq = cp.seq + 1)"
                              "         <= now() - interval '60 seconds')";
static const char SQL_CP_ADD[] =
    "INSERT INTO checkpoints (seq, hash, signed_at, signature) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (seq) DO NOTHING";
static const char SQL_CP_GET[] =
    "SELECT json_build_object('seq', c.seq, 'hash', c.hash, 'signed_at', c.signed_at,"
    " 'signature', c.signature, 'statement', 'cabinet-checkpoint-v1' || chr(10) || c.seq"
    "  || chr(10) || c.hash || chr(10) || c.signed_at)"
    " FROM checkpoints c WHERE ($1::bigint = 0 OR c.seq >= $1::bigint)"
    " ORDER BY CASE WHEN $1::bigint = 0 THEN -c.seq ELSE c.seq END LIMIT 1";
static const char SQL_CHECKPOINTS[] =
    "SELECT json_build_object('seq', seq, 'hash', hash, 'signed_at', signed_at,"
    " 'signature', signature) FROM checkpoints ORDER BY seq";
static const char SQL_STALE[] =
    "SELECT json_build_object('id', id, 'at', cab_ts(at)) FROM audit_log"
    " WHERE seq IS NULL AND at < now() - interval '1 minute' ORDER BY id";
static const char SQL_APPROVALS[] =
    "SELECT json_build_object('id', a.id, 'ref', 'CHG-' || a.change_id, 'version', a.version,"
    " 'content_hash', a.content_hash, 'decision', a.decision, 'signed_at', a.signed_at,"
    " 'statement', a.statement, 'signature', a.signature, 'public_key', k.public_key)"
    " FROM approvals a JOIN user_keys k ON k.id = a.key_id ORDER BY a.id";
static const char SQL_LIST[] =
    "SELECT audit_doc(a) FROM audit_log a WHERE a.seq > $1 ORDER BY a.seq LIMIT $2";
static const char SQL_ENTITY[] =
    "SELECT timeline_doc(a) FROM audit_log a WHERE a.entity = $1 AND a.entity_id = $2"
    " ORDER BY a.id";

enum outcome
db_audit_add(struct db *db, const char *actor, const char *action, const char *entity,
             const char *entity_id, const json_t *data)
{
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    const char *params[5] = {actor, action, entity, entity_id, text ? text : "{}"};
    enum outcome rc;

    if (data != NULL && text == NULL)
        return ERR_INTERNAL;
    rc = db_exec(db, SQL_ADD, 5, params, NULL);
    free(text);
    return rc;
}

enum outcome
db_audit_chain_lock(struct db *db, bool *mine, int64_t *last_seq, char last_hash[65])
{
    PGresult *res = NULL;
    enum outcome rc;

    *mine = false;
    if ((rc = db_run(db, SQL_CHAIN_LOCK, 0, NULL, &res)) != OK)
        return rc;
    *mine = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!*mine)
        return OK;
    if ((rc = db_run(db, SQL_HEAD, 0, NULL, &res)) != OK) {
        *mine = false;
        return rc;
    }
    if (PQntuples(res) == 0) {
        *last_seq = 0;
        memset(last_hash, '0', 64);
        last_hash[64] = '\0';
    } else {
        *last_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(last_hash, 65, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return OK;
}

enum outcome
db_audit_unchained(struct db *db, int limit, json_t **out)
{
    char lim[16];
    const char *params[1] = {lim};

    snprintf(lim, sizeof lim, "%d", limit);
    return db_json_list(db, SQL_UNCHAINED, 1, params, out);
}

enum outcome
db_audit_link(struct db *db, const char *ids, const char *seqs, const char *prevs,
              const char *hashes)
{
    const char *params[4] = {ids, seqs, prevs, hashes};

    return db_exec(db, SQL_LINK, 4, params, NULL);
}

enum outcome
db_audit_by_actor(struct db *db, const char *actor, int64_t before, int limit, json_t **out)
{
    char b[24], lim[16];
    const char *params[3] = {actor, b, lim};

    db_num(before, b);
    snprintf(lim, sizeof lim, "%d", limit);
    return db_json_list(db, SQL_BY_ACTOR, 3, params, out);
}

enum outcome
db_audit_server_key(struct db *db, const char *public_b64)
{
    char stored[128];
    enum outcome rc;

    if ((rc = db_text(db, SQL_KEY_SET, 1, &public_b64, stored, sizeof stored)) != OK)
        return rc;
    return strcmp(stored, public_b64) == 0 ? OK : ERR_CONFLICT;
}

enum outcome
db_audit_server_key_get(struct db *db, json_t **out)
{
    return db_json(db, SQL_KEY_GET, 0, NULL, out);
}

/* Whether a checkpoint is due: the chain's head is past the last checkpoint
 * and either 1,000 entries or 60 s old (force: any new entry). On *due,
 * seq and hash are the head to sign. */
static enum outcome
db_audit_checkpoint_due(struct db *db, bool force, bool *due, int64_t *seq, char hash[65])
{
    const char *params[1] = {force ? "true" : "false"};
    PGresult *res;
    enum outcome rc;

    *due = false;
    if ((rc = db_run(db, SQL_DUE, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 1) {
        *due = true;
        *seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(hash, 65, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return OK;
}

static enum outcome
db_audit_checkpoint_add(struct db *db, int64_t seq, const char *hash, const char *signed_at,
                        const char *signature)
{
    char s[24];
    const char *params[4] = {s, hash, signed_at, signature};

    db_num(seq, s);
    return db_exec(db, SQL_CP_ADD, 4, params, NULL);
}

enum outcome
db_audit_checkpoint_sign(struct db *db, const char *secret_b64, bool force, int64_t *seq)
{
    struct strbuf st = STRBUF_INIT;
    char hash[65], at[TIMEFMT_LEN], sig[SEC_ED_SIG_B64];
    enum outcome rc;
    bool due;

    *seq = 0;
    if ((rc = db_audit_checkpoint_due(db, force, &due, seq, hash)) != OK || !due) {
        *seq = 0;
        return rc;
    }
    timefmt_format((int64_t)time(NULL), at);
    statement_checkpoint(&st, *seq, hash, at);
    if (strbuf_failed(&st))
        rc = ERR_INTERNAL;
    else if ((rc = sec_ed25519_sign(secret_b64, st.buf, st.len, sig)) == OK)
        rc = db_audit_checkpoint_add(db, *seq, hash, at, sig);
    strbuf_free(&st);
    if (rc != OK)
        *seq = 0;
    return rc;
}

enum outcome
db_audit_checkpoint_get(struct db *db, int64_t seq, json_t **out)
{
    return db_json_id(db, SQL_CP_GET, seq, out);
}

enum outcome
db_audit_list(struct db *db, int64_t after, int limit, json_t **out)
{
    return db_json_page(db, SQL_LIST, after, limit, out);
}

enum outcome
db_audit_entity(struct db *db, const char *entity, const char *id, json_t **out)
{
    const char *params[2] = {entity, id};

    return db_json_list(db, SQL_ENTITY, 2, params, out);
}

enum outcome
db_audit_checkpoints(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_CHECKPOINTS, 0, NULL, out);
}

enum outcome
db_audit_stale(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_STALE, 0, NULL, out);
}

enum outcome
db_audit_approvals(struct db *db, json_t **out)
{
    return db_json_list(db, SQL_APPROVALS, 0, NULL, out);
}
