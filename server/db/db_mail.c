/*
 * E-mail notifications. Relies on mail_relay, mail_events, mails,
 * mail_preferences and mail_fan_out() (0027), user_ref() and cab_ts()
 * (0002).
 */
#include "db/db_mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char SQL_SEEN[] = "INSERT INTO mail_relay (seen_at) VALUES (now())"
                               " ON CONFLICT (id) DO UPDATE SET seen_at = now()";

static const char SQL_FAN_OUT[] = "SELECT mail_fan_out($1::integer)";

/* The due mail with what its message is made of, claimed for lease
 * seconds; SKIP LOCKED lets the workers of every instance claim at once. */
static const char SQL_CLAIM[] =
    "WITH m AS (UPDATE mails SET attempts = attempts + 1,"
    "                            next_attempt_at = now() + make_interval(secs => $1::integer)"
    "           WHERE id = (SELECT id FROM mails"
    "                       WHERE state = 'pending' AND next_attempt_at <= now()"
    "                       ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    "           RETURNING *)"
    "SELECT json_build_object("
    " 'id', m.id, 'attempts', m.attempts, 'kind', m.kind, 'message_id', m.message_id,"
    " 'wanted', NOT u.disabled AND NOT EXISTS (SELECT 1 FROM mail_preferences p"
    "                                          WHERE p.user_id = u.id AND m.kind = ANY (p.off)),"
    " 'to', json_build_object('email', u.email, 'name', u.name),"
    " 'change', json_build_object("
    "     'ref', 'CHG-' || c.id, 'title', c.title, 'state', c.state,"
    "     'flags', to_json(c.flags),"
    "     'level', c.policy ->> 'level',"
    "     'score', (SELECT a.score FROM assessments a"
    "               WHERE a.change_id = c.id AND a.version = c.version"
    "               ORDER BY a.id DESC LIMIT 1),"
    "     'start', cab_ts(lower(c.win)), 'end', cab_ts(upper(c.win)),"
    "     'needed', COALESCE(c.approvals_needed, 0), 'have', COALESCE(c.approvals_have, 0),"
    "     'requester', (SELECT r.name FROM users r WHERE r.id = c.requester_id)),"
    " 'facts', m.facts,"
    " 'approver', (SELECT a.name FROM users a"
    "              WHERE m.kind = 'decision' AND a.id = (m.facts ->> 'approver')::bigint))"
    "FROM m JOIN users u ON u.id = m.user_id JOIN changes c ON c.id = m.change_id";

static const char SQL_SENT[] = "UPDATE mails SET state = 'sent', sent_at = now(), last_error = NULL"
                               " WHERE id = $1 AND state = 'pending'";

static const char SQL_FAILED[] =
    "UPDATE mails SET state = CASE WHEN $3::boolean"
    "                              OR now() - created_at > make_interval(secs => $5::integer)"
    "                         THEN 'dead' ELSE 'pending' END,"
    "                 next_attempt_at = now() + make_interval(secs => $4::integer),"
    "                 last_error = $2"
    " WHERE id = $1 AND state = 'pending' RETURNING state";

static const char SQL_SKIP[] =
    "UPDATE mails SET state = 'skipped', last_error = $2 WHERE id = $1 AND state = 'pending'";

static const char SQL_PRUNE[] =
    "DELETE FROM mails WHERE id IN (SELECT id FROM mails"
    "                               WHERE created_at < now() - make_interval(days => $1::integer)"
    "                                 AND state <> 'pending'"
    "                               ORDER BY created_at LIMIT $2)";

#define SQL_PREFERENCES_DOC                                                                        \
    "json_build_object('awaiting_approval', NOT 'awaiting_approval' = ANY (off),"                  \
    "                  'decision', NOT 'decision' = ANY (off),"                                    \
    "                  'conflict', NOT 'conflict' = ANY (off))"

static const char SQL_PREFERENCES[] =
    "SELECT " SQL_PREFERENCES_DOC " FROM (SELECT COALESCE((SELECT p.off FROM mail_preferences p"
    "                                                     WHERE p.user_id = $1),"
    "                                                    '{}') AS off) x";

static const char SQL_SET_PREFERENCES[] =
    "INSERT INTO mail_preferences AS p (user_id, off) VALUES ($1, $2::text[])"
    " ON CONFLICT (user_id) DO UPDATE SET off = EXCLUDED.off, updated_at = now()"
    " RETURNING " SQL_PREFERENCES_DOC;

enum outcome
db_mail_seen(struct db *db)
{
    return db_exec(db, SQL_SEEN, 0, NULL, NULL);
}

enum outcome
db_mail_fan_out(struct db *db, int limit, int *n)
{
    char lim[DB_NUM], got[DB_NUM];
    const char *params[1] = {db_num(limit, lim)};
    enum outcome rc;

    *n = 0;
    if ((rc = db_text(db, SQL_FAN_OUT, 1, params, got, sizeof got)) != OK)
        return rc;
    *n = (int)strtol(got, NULL, 10);
    return OK;
}

enum outcome
db_mail_claim(struct db *db, int lease, json_t **out)
{
    char l[DB_NUM];
    const char *params[1] = {db_num(lease, l)};

    return db_json(db, SQL_CLAIM, 1, params, out);
}

enum outcome
db_mail_sent(struct db *db, int64_t id)
{
    char sid[DB_NUM];
    const char *params[1] = {db_num(id, sid)};

    return db_exec(db, SQL_SENT, 1, params, NULL);
}

enum outcome
db_mail_failed(struct db *db, int64_t id, const char *error, bool permanent, int delay, int give_up,
               bool *dead_out)
{
    char sid[DB_NUM], d[DB_NUM], g[DB_NUM], state[16] = "";
    const char *params[5] = {db_num(id, sid), error, permanent ? "true" : "false", db_num(delay, d),
                             db_num(give_up, g)};
    enum outcome rc = db_text(db, SQL_FAILED, 5, params, state, sizeof state);

    if (dead_out != NULL)
        *dead_out = rc == OK && strcmp(state, "dead") == 0;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

enum outcome
db_mail_skip(struct db *db, int64_t id, const char *why)
{
    char sid[DB_NUM];
    const char *params[2] = {db_num(id, sid), why};

    return db_exec(db, SQL_SKIP, 2, params, NULL);
}

enum outcome
db_mail_prune(struct db *db, int days, int limit, int *n)
{
    char d[DB_NUM], lim[DB_NUM];
    const char *params[2] = {db_num(days, d), db_num(limit, lim)};
    long affected = 0;
    enum outcome rc = db_exec(db, SQL_PRUNE, 2, params, &affected);

    *n = (int)affected;
    return rc;
}

enum outcome
db_mail_preferences(struct db *db, int64_t user_id, json_t **out)
{
    return db_json_id(db, SQL_PREFERENCES, user_id, out);
}

enum outcome
db_mail_set_preferences(struct db *db, int64_t user_id, const char *off, json_t **out)
{
    char uid[DB_NUM];
    const char *params[2] = {db_num(user_id, uid), off};

    return db_json(db, SQL_SET_PREFERENCES, 2, params, out);
}
