#include "db/db_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO audit_log (actor, action, entity, entity_id, data)"
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
static const char SQL_BY_ACTOR[] =
    "SELECT audit_doc(a) FROM audit_log a"
    " WHERE a.actor = $1 AND ($2::bigint = 0 OR a.id < $2::bigint)"
    " ORDER BY a.id DESC LIMIT $3";

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
db_audit_chain_begin(struct db *db, bool *mine, int64_t *last_seq, char last_hash[65])
{
    PGresult *res = NULL;
    enum outcome rc;

    *mine = false;
    if ((rc = db_begin(db)) != OK)
        return rc;
    if ((rc = db_run(db, SQL_CHAIN_LOCK, 0, NULL, &res)) != OK)
        goto fail;
    *mine = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!*mine) {
        db_rollback(db);
        return OK;
    }
    if ((rc = db_run(db, SQL_HEAD, 0, NULL, &res)) != OK)
        goto fail;
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
fail:
    *mine = false;
    db_rollback(db);
    return rc;
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

    snprintf(b, sizeof b, "%lld", (long long)before);
    snprintf(lim, sizeof lim, "%d", limit);
    return db_json_list(db, SQL_BY_ACTOR, 3, params, out);
}
