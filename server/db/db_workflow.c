/*
 * Relies on: impact_sids() (0018: impact_set() of 0002, 0006, from the
 * stored closure), conflicts_lock_change() and conflicts_refresh() (0012,
 * on 0003, 0007, 0011; their events by 0020's triggers), impact_ids() and
 * impact_listed() (0012), freeze_covers() and change_is_active() (0007),
 * approval_doc() (0002), the outbox through db_webhook_emit_change
 * (outbox_emit_change(), 0020); the tables changes, change_services,
 * change_impact_sets (0012), services.sid (0012), assessments, approvals,
 * freezes, freeze_services and audit_log (0001, 0003).
 */
#include "db/db_workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/db_webhook.h"
#include "domain/role.h"

/* Conflicts count other active changes whose stored impact sets (kept for
 * active changes only) meet this impact set in an overlapping window. */
static const char SQL_FACTS[] =
    "WITH c AS (SELECT * FROM changes WHERE id = $1),"
    " svc AS (SELECT service FROM change_services WHERE change_id = $1),"
    " imp AS (SELECT s.name, s.tier, s.sid"
    "         FROM unnest(impact_sids(ARRAY(SELECT service FROM svc))) u (sid)"
    "         JOIN services s ON s.sid = u.sid),"
    " fz AS (SELECT f.hard FROM freezes f, c WHERE f.win && c.win"
    "        AND freeze_covers(f.id, ARRAY(SELECT name FROM imp))),"
    " recent AS (SELECT o.outcome FROM changes o WHERE o.id <> $1 AND o.outcome IS NOT NULL"
    "            AND EXISTS (SELECT 1 FROM change_services cs WHERE cs.change_id = o.id"
    "                        AND cs.service IN (SELECT service FROM svc))"
    "            ORDER BY o.completed_at DESC, o.id DESC LIMIT 20)"
    " SELECT COALESCE((SELECT json_agg(name ORDER BY name) FROM imp), '[]'),"
    "  COALESCE((SELECT min(tier) FROM imp), 0),"
    "  (SELECT count(*) FROM imp),"
    "  (SELECT count(*) FROM change_impact_sets o, c"
    "   WHERE o.change_id <> c.id AND o.win && c.win"
    "   AND o.sids && ARRAY(SELECT sid FROM imp ORDER BY sid)),"
    "  EXISTS (SELECT 1 FROM fz), EXISTS (SELECT 1 FROM fz WHERE hard),"
    "  (SELECT count(*) FROM recent),"
    "  (SELECT count(*) FROM recent WHERE outcome IN ('failed', 'rolled_back')),"
    "  extract(epoch FROM now())::bigint, extract(epoch FROM lower(c.win))::bigint"
    " FROM c";
static const char SQL_ASSESS[] =
    "WITH a AS (INSERT INTO assessments (change_id, version, score, level, reasons, impact_set)"
    "           VALUES ($1, $2, $3, $4, $5::jsonb,"
    "                   ARRAY(SELECT jsonb_array_elements_text($6::jsonb)))),"
    " u AS (UPDATE changes SET policy = $7::jsonb, approvals_needed = $8,"
    "              approvals_have = $9, rev = rev + 1, updated_at = now()"
    "       WHERE id = $1 RETURNING id, win, rev),"
    " audit AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "           VALUES ('system', 'change.assessed', 'change', $1::text,"
    "                   jsonb_build_object('version', $2::int, 'score', $3::int,"
    "                                      'level', $4::text, 'needed', $8::int)))"
    " , imp AS (INSERT INTO change_impact_sets (change_id, win, sids, listed)"
    "           SELECT u.id, u.win,"
    "                  impact_ids(ARRAY(SELECT jsonb_array_elements_text($6::jsonb))),"
    "                  impact_listed(u.id) FROM u"
    "           ON CONFLICT (change_id) DO UPDATE SET win = EXCLUDED.win,"
    "              sids = EXCLUDED.sids, listed = EXCLUDED.listed"
    "           WHERE (change_impact_sets.win, change_impact_sets.sids, change_impact_sets.listed)"
    "                 IS DISTINCT FROM (EXCLUDED.win, EXCLUDED.sids, EXCLUDED.listed))"
    " SELECT u.rev FROM u";
/* The conflict locks of the change's windows (sql/0012): its own statement,
 * before the statements that read what the locks protect. */
static const char SQL_LOCK[] = "SELECT conflicts_lock_change($1)";
static const char SQL_CONFLICTS[] = "SELECT count(*) FROM conflicts_refresh($1)";
static const char SQL_TRANSITION[] =
    "WITH c AS (UPDATE changes SET state = $5, rev = rev + 1, updated_at = now(),"
    "   submitted_at = CASE WHEN $4 = 'submit' THEN now() ELSE submitted_at END,"
    "   approved_at = CASE WHEN $5 = 'approved' THEN now()"
    "                      WHEN $5 = 'awaiting_approval' THEN NULL ELSE approved_at END,"
    "   started_at = CASE WHEN $5 = 'in_progress' AND $3 <> 'in_progress' THEN now()"
    "                     ELSE started_at END,"
    "   completed_at = CASE WHEN $4 = 'complete' THEN now() ELSE completed_at END,"
    "   outcome = COALESCE($6, outcome),"
    "   completion_notes = COALESCE($7, completion_notes),"
    "   review = COALESCE($8, review),"
    "   closed_at = CASE WHEN $5 = 'closed' THEN now() ELSE closed_at END,"
    "   cancel_reason = CASE WHEN $4 = 'cancel' THEN $9 ELSE cancel_reason END,"
    "   retrospective_reason = CASE WHEN $4 = 'start' AND $9 IS NOT NULL THEN $9"
    "                               ELSE retrospective_reason END,"
    "   flags = COALESCE($10::text[], flags)"
    " WHERE id = $2 AND rev = $11 AND state = $3 RETURNING *),"
    " gone AS (DELETE FROM change_impact_sets ci USING c WHERE ci.change_id = c.id"
    "          AND NOT change_is_active(c.state)),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'change.' || $4, 'change', c.id::text,"
    "              jsonb_strip_nulls(jsonb_build_object('ref', 'CHG-' || c.id, 'from', $3::text,"
    "                  'to', $5::text, 'outcome', $6::text, 'notes', $7::text,"
    "                  'review', $8::text, 'reason', $9::text, 'flags', to_jsonb(c.flags)))"
    "       FROM c)"
    " SELECT c.rev FROM c";
static const char SQL_DECIDE[] =
    "WITH d AS (INSERT INTO approvals (change_id, approver_id, key_id, decision, comment,"
    "             version, content_hash, signed_at, statement, signature, policy)"
    "           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING *),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT 'user:' || d.approver_id, 'change.decided', 'change', d.change_id::text,"
    "              jsonb_build_object('ref', 'CHG-' || d.change_id, 'approval', d.id,"
    "                                 'decision', d.decision, 'version', d.version,"
    "                                 'content_hash', d.content_hash, 'key_id', d.key_id,"
    "                                 'signed_at', d.signed_at, 'signature', d.signature)"
    "       FROM d)"
    " SELECT d.id FROM d";
static const char SQL_APPROVERS[] =
    "SELECT COALESCE(array_to_string(ARRAY(SELECT jsonb_array_elements_text(a.policy -> 'roles')),"
    "                                ','), '')"
    " FROM approvals a WHERE a.change_id = $1 AND a.version = $2 AND a.decision = 'approve'"
    " ORDER BY a.id";
static const char SQL_SET_HAVE[] =
    "UPDATE changes SET approvals_have = $2, rev = rev + 1, updated_at = now() WHERE id = $1"
    " RETURNING rev";
static const char SQL_APPROVAL[] =
    "SELECT approval_doc(a, c.version) FROM approvals a JOIN changes c ON c.id = a.change_id"
    " WHERE a.id = $1";
static const char SQL_APPROVALS[] =
    "SELECT approval_doc(a, c.version) FROM approvals a JOIN changes c ON c.id = a.change_id"
    " WHERE a.change_id = $1 ORDER BY a.id";

enum outcome
db_workflow_lock(struct db *db, int64_t id)
{
    char buf[DB_NUM];
    const char *params[1] = {db_num(id, buf)};

    return db_exec(db, SQL_LOCK, 1, params, NULL);
}

/* Brings the change's conflict records up to date with its impact rows. */
static enum outcome
db_workflow_conflicts(struct db *db, int64_t id)
{
    char buf[DB_NUM];
    const char *params[1] = {db_num(id, buf)};

    return db_exec(db, SQL_CONFLICTS, 1, params, NULL);
}

void
db_facts_free(struct db_facts *f)
{
    free(f->impact_set);
    memset(f, 0, sizeof *f);
}

enum outcome
db_workflow_facts(struct db *db, int64_t id, struct db_facts *out)
{
    char sid[DB_NUM];
    const char *params[1] = {db_num(id, sid)};
    PGresult *res;
    enum outcome rc;

    memset(out, 0, sizeof *out);
    /* an edit may have moved the window since the transaction locked it */
    if ((rc = db_workflow_lock(db, id)) != OK ||
        (rc = db_run(db, SQL_FACTS, 1, params, &res)) != OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ERR_NOT_FOUND;
    }
    out->impact_set = strdup(PQgetvalue(res, 0, 0));
    out->min_tier = atoi(PQgetvalue(res, 0, 1));
    out->blast_radius = atoi(PQgetvalue(res, 0, 2));
    out->conflicts = atoi(PQgetvalue(res, 0, 3));
    out->frozen = PQgetvalue(res, 0, 4)[0] == 't';
    out->hard_frozen = PQgetvalue(res, 0, 5)[0] == 't';
    out->recent_finished = atoi(PQgetvalue(res, 0, 6));
    out->recent_failed = atoi(PQgetvalue(res, 0, 7));
    out->now = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
    out->window_start = strtoll(PQgetvalue(res, 0, 9), NULL, 10);
    PQclear(res);
    return out->impact_set ? OK : ERR_INTERNAL;
}

/* The granted roles of mask as a JSON array of names. */
static json_t *
db_workflow_roles(unsigned mask)
{
    static const char *const names[] = {"cab", "ecab", "manager", "admin"};
    json_t *list = json_array();
    size_t i;

    for (i = 0; list != NULL && i < sizeof names / sizeof names[0]; i++)
        if (mask & role_bit(names[i]))
            json_array_append_new(list, json_string(names[i]));
    return list;
}

/* {"level","quotas":[{"role","count"}]} and, with roles, the decider's
 * "roles": the policy as it applied (malloc'd text, NULL when out of
 * memory). */
static char *
db_workflow_policy_text(const char *level, const struct policy *p, const unsigned *roles)
{
    json_t *quotas = json_array(), *o;
    char *text;
    int i;

    for (i = 0; quotas != NULL && i < p->nquotas; i++) {
        json_t *r = db_workflow_roles(p->quotas[i].role);
        json_array_append_new(quotas, json_pack("{s:O?, s:i}", "role", json_array_get(r, 0),
                                                "count", p->quotas[i].count));
        json_decref(r);
    }
    o = json_pack("{s:s, s:o*}", "level", level, "quotas", quotas);
    if (o != NULL && roles != NULL)
        json_object_set_new(o, "roles", db_workflow_roles(*roles));
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

enum outcome
db_workflow_assess(struct db *db, const struct change *c, const struct risk_result *r,
                   const struct policy *p, const char *impact_set, int64_t *new_rev)
{
    char sid[DB_NUM], v[DB_NUM], sc[DB_NUM], n[DB_NUM], buf[DB_NUM];
    char *reasons_text = NULL, *policy_text = NULL;
    const char *params[9] = {db_num(c->id, sid),
                             db_num(c->version, v),
                             db_num(r->score, sc),
                             r->level,
                             NULL,
                             impact_set,
                             NULL,
                             db_num(policy_needed(p), n),
                             "0"};
    json_t *reasons = json_array();
    enum outcome rc = ERR_INTERNAL;
    int i;

    for (i = 0; reasons != NULL && i < r->nreasons; i++)
        json_array_append_new(reasons,
                              json_pack("{s:s, s:i, s:s}", "factor", r->reasons[i].factor, "points",
                                        r->reasons[i].points, "detail", r->reasons[i].detail));
    reasons_text = reasons ? json_dumps(reasons, JSON_COMPACT) : NULL;
    policy_text = db_workflow_policy_text(r->level, p, NULL);
    params[4] = reasons_text;
    params[6] = policy_text;
    /* No conflict refresh here: every assessment is followed by a
     * transition, which refreshes once the change has its new state, so
     * that conflict events show the changes as the transaction leaves them. */
    if (reasons_text != NULL && policy_text != NULL &&
        (rc = db_text(db, SQL_ASSESS, 9, params, buf, sizeof buf)) == OK)
        *new_rev = strtoll(buf, NULL, 10);
    free(reasons_text);
    free(policy_text);
    json_decref(reasons);
    return rc;
}

/* The events a transition makes (lifecycle_events), each in the outbox. */
static enum outcome
db_workflow_events(struct db *db, int64_t id, const struct db_transition *t)
{
    unsigned events = lifecycle_events(t->action, t->from, t->to), e;
    const char *types[EVENT_COUNT];
    char extra[256];
    int n = 0;

    snprintf(extra, sizeof extra, "{\"action\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}",
             lifecycle_action_verb(t->action), lifecycle_state_name(t->from),
             lifecycle_state_name(t->to));
    for (e = 1; e < 1u << EVENT_COUNT; e <<= 1)
        if (events & e)
            types[n++] = lifecycle_event_name(e);
    /* one statement and one change document for all of them */
    return db_webhook_emit_change(db, types, n, id, extra);
}

enum outcome
db_workflow_transition(struct db *db, const char *actor, int64_t id, int64_t rev,
                       const struct db_transition *t, int64_t *new_rev)
{
    static const char *const outcomes[] = {NULL, "successful", "failed", "rolled_back"};
    char sid[DB_NUM], srev[DB_NUM], buf[DB_NUM], flags[48];
    const char *params[11] = {actor,
                              db_num(id, sid),
                              lifecycle_state_name(t->from),
                              lifecycle_action_verb(t->action),
                              lifecycle_state_name(t->to),
                              outcomes[t->outcome],
                              t->notes,
                              t->review,
                              t->reason,
                              NULL,
                              db_num(rev, srev)};
    enum outcome rc;

    if (t->set_flags) {
        snprintf(flags, sizeof flags, "{%s%s%s}",
                 t->flags & CHANGE_UNAUTHORIZED ? "unauthorized" : "",
                 (t->flags & CHANGE_UNAUTHORIZED) && (t->flags & CHANGE_RETROSPECTIVE) ? "," : "",
                 t->flags & CHANGE_RETROSPECTIVE ? "retrospective" : "");
        params[9] = flags;
    }
    if ((rc = db_workflow_lock(db, id)) != OK ||
        (rc = db_text(db, SQL_TRANSITION, 11, params, buf, sizeof buf)) != OK ||
        (rc = db_workflow_conflicts(db, id)) != OK)
        return rc;
    *new_rev = strtoll(buf, NULL, 10);
    return db_workflow_events(db, id, t);
}

enum outcome
db_workflow_decide(struct db *db, const struct db_decision *d, int64_t *approval_id)
{
    char sid[DB_NUM], uid[DB_NUM], kid[DB_NUM], v[DB_NUM], buf[DB_NUM];
    char *policy_text = db_workflow_policy_text(d->level, d->policy, &d->roles);
    const char *params[11] = {db_num(d->change_id, sid),
                              db_num(d->approver_id, uid),
                              db_num(d->key_id, kid),
                              d->approve ? "approve" : "reject",
                              d->comment,
                              db_num(d->version, v),
                              d->content_hash,
                              d->signed_at,
                              d->statement,
                              d->signature,
                              policy_text};
    enum outcome rc;

    if (policy_text == NULL)
        return ERR_INTERNAL;
    if ((rc = db_text(db, SQL_DECIDE, 11, params, buf, sizeof buf)) == OK)
        *approval_id = strtoll(buf, NULL, 10);
    free(policy_text);
    return rc;
}

enum outcome
db_workflow_approvers(struct db *db, int64_t id, int version, unsigned *roles, int max, int *n)
{
    char sid[DB_NUM], v[DB_NUM];
    const char *params[2] = {db_num(id, sid), db_num(version, v)};
    PGresult *res;
    enum outcome rc;
    int i;

    *n = 0;
    if ((rc = db_run(db, SQL_APPROVERS, 2, params, &res)) != OK)
        return rc;
    for (i = 0; i < PQntuples(res) && *n < max; i++) {
        char bad[32];
        unsigned mask = 0;

        if (role_parse_list(PQgetvalue(res, i, 0), &mask, bad, sizeof bad))
            roles[(*n)++] = mask;
    }
    PQclear(res);
    return OK;
}

enum outcome
db_workflow_set_have(struct db *db, int64_t id, int have, int64_t *new_rev)
{
    char sid[DB_NUM], h[DB_NUM], buf[DB_NUM];
    const char *params[2] = {db_num(id, sid), db_num(have, h)};
    enum outcome rc;

    if ((rc = db_text(db, SQL_SET_HAVE, 2, params, buf, sizeof buf)) == OK)
        *new_rev = strtoll(buf, NULL, 10);
    return rc;
}

enum outcome
db_workflow_approval(struct db *db, int64_t approval_id, json_t **out)
{
    return db_json_id(db, SQL_APPROVAL, approval_id, out);
}

enum outcome
db_workflow_approvals(struct db *db, int64_t id, json_t **out)
{
    return db_json_list_id(db, SQL_APPROVALS, id, out);
}
