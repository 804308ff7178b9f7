#include "db/db_workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/db_webhook.h"

#define WORKFLOW_LOAD                                                                              \
    "SELECT json_build_object('id', c.id, 'ref', 'CHG-' || c.id, 'state', c.state,"                \
    " 'kind', m.kind, 'model', c.model, 'version', c.version, 'content_hash', c.content_hash,"     \
    " 'requester_id', c.requester_id, 'flags', to_json(c.flags),"                                  \
    " 'level', (SELECT a.level FROM assessments a WHERE a.change_id = c.id"                        \
    "           AND a.version = c.version ORDER BY a.id DESC LIMIT 1),"                            \
    " 'policy', c.policy, 'model_policy', m.policy, 'approvals_needed', c.approvals_needed,"       \
    " 'has_window', c.win IS NOT NULL,"                                                            \
    " 'has_services', EXISTS (SELECT 1 FROM change_services cs WHERE cs.change_id = c.id),"        \
    " 'test_plan', c.test_plan, 'backout_plan', c.backout_plan,"                                   \
    " 'business_impact', c.business_impact, 'rev', c.rev)"                                         \
    " FROM changes c JOIN models m ON m.name = c.model WHERE c.id = $1"
static const char SQL_LOAD[] = WORKFLOW_LOAD;
static const char SQL_LOAD_LOCK[] = WORKFLOW_LOAD " FOR UPDATE OF c";

/* Conflicts count other active changes whose impact rows (kept for active
 * changes only) overlap this window on a service of this impact set. */
static const char SQL_FACTS[] =
    "WITH c AS (SELECT * FROM changes WHERE id = $1),"
    " svc AS (SELECT service FROM change_services WHERE change_id = $1),"
    " imp AS (SELECT i.name, s.tier FROM impact_set(ARRAY(SELECT service FROM svc)) i"
    "         JOIN services s ON s.name = i.name),"
    " fz AS (SELECT f.hard FROM freezes f, c WHERE f.win && c.win"
    "        AND (NOT EXISTS (SELECT 1 FROM freeze_services fs WHERE fs.freeze_id = f.id)"
    "             OR EXISTS (SELECT 1 FROM freeze_services fs WHERE fs.freeze_id = f.id"
    "                        AND fs.service IN (SELECT name FROM imp)))),"
    " recent AS (SELECT o.outcome FROM changes o WHERE o.id <> $1 AND o.outcome IS NOT NULL"
    "            AND EXISTS (SELECT 1 FROM change_services cs WHERE cs.change_id = o.id"
    "                        AND cs.service IN (SELECT service FROM svc))"
    "            ORDER BY o.completed_at DESC, o.id DESC LIMIT 20)"
    " SELECT json_build_object("
    "  'impact_set', COALESCE((SELECT json_agg(name ORDER BY name) FROM imp), '[]'),"
    "  'min_tier', COALESCE((SELECT min(tier) FROM imp), 0),"
    "  'blast_radius', (SELECT count(*) FROM imp),"
    "  'conflicts', (SELECT count(DISTINCT ci.change_id) FROM change_impact ci, c"
    "                WHERE ci.change_id <> c.id AND ci.win && c.win"
    "                AND ci.service IN (SELECT name FROM imp)),"
    "  'frozen', EXISTS (SELECT 1 FROM fz),"
    "  'hard_frozen', EXISTS (SELECT 1 FROM fz WHERE hard),"
    "  'recent_finished', (SELECT count(*) FROM recent),"
    "  'recent_failed', (SELECT count(*) FROM recent WHERE outcome IN ('failed', 'rolled_back')),"
    "  'now', extract(epoch FROM now())::bigint,"
    "  'window_start', extract(epoch FROM lower(c.win))::bigint)"
    " FROM c";
static const char SQL_ASSESS[] =
    "WITH a AS (INSERT INTO assessments (change_id, version, score, level, reasons, impact_set)"
    "           VALUES ($1, $2, $3, $4, $5::jsonb,"
    "                   ARRAY(SELECT jsonb_array_elements_text($6::jsonb)))),"
    " u AS (UPDATE changes SET policy = $7::jsonb, approvals_needed = $8,"
    "              approvals_have = $9, rev = rev + 1, updated_at = now()"
    "       WHERE id = $1 RETURNING id, win),"
    " audit AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "           VALUES ('system', 'change.assessed', 'change', $1::text,"
    "                   jsonb_build_object('version', $2::int, 'score', $3::int,"
    "                                      'level', $4::text, 'needed', $8::int)))"
    " INSERT INTO change_impact (change_id, service, win)"
    " SELECT u.id, x, u.win FROM u, jsonb_array_elements_text($6::jsonb) x";
/* Its own statement: a DELETE and an INSERT of the same keys in one
 * statement would see the same snapshot and collide. */
static const char SQL_LOCK[] = "SELECT conflicts_lock()";
static const char SQL_CONFLICTS[] = "SELECT count(*) FROM conflicts_refresh($1)";
static const char SQL_IMPACT_CLEAR[] = "DELETE FROM change_impact WHERE change_id = $1";
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
    " gone AS (DELETE FROM change_impact ci USING c WHERE ci.change_id = c.id"
    "          AND c.state NOT IN ('awaiting_approval', 'approved', 'in_progress')),"
    " a AS (INSERT INTO audit_log (actor, action, entity, entity_id, data)"
    "       SELECT $1, 'change.' || $4, 'change', c.id::text,"
    "              jsonb_strip_nulls(jsonb_build_object('ref', 'CHG-' || c.id, 'from', $3::text,"
    "                  'to', $5::text, 'outcome', $6::text, 'notes', $7::text,"
    "                  'review', $8::text, 'reason', $9::text, 'flags', to_jsonb(c.flags)))"
    "       FROM c)"
    " SELECT c.id FROM c";
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
    "SELECT COALESCE(json_agg(a.policy -> 'roles' ORDER BY a.id), '[]')"
    " FROM approvals a JOIN changes c ON c.id = a.change_id"
    " WHERE a.change_id = $1 AND a.version = c.version AND a.decision = 'approve'";
static const char SQL_SET_HAVE[] =
    "UPDATE changes SET approvals_have = $2, rev = rev + 1, updated_at = now() WHERE id = $1";
static const char SQL_APPROVAL[] =
    "SELECT approval_doc(a, c.version) FROM approvals a JOIN changes c ON c.id = a.change_id"
    " WHERE a.id = $1";
static const char SQL_APPROVALS[] =
    "SELECT approval_doc(a, c.version) FROM approvals a JOIN changes c ON c.id = a.change_id"
    " WHERE a.change_id = $1 ORDER BY a.id";

enum outcome
db_workflow_load(struct db *db, int64_t id, bool lock, json_t **out)
{
    char sid[24];
    const char *params[1] = {sid};

    db_num(id, sid);
    return db_json(db, lock ? SQL_LOAD_LOCK : SQL_LOAD, 1, params, out);
}

enum outcome
db_workflow_lock(struct db *db)
{
    return db_exec(db, SQL_LOCK, 0, NULL, NULL);
}

enum outcome
db_workflow_conflicts(struct db *db, int64_t id)
{
    char buf[DB_NUM];
    const char *params[1] = {db_num(id, buf)};

    return db_exec(db, SQL_CONFLICTS, 1, params, NULL);
}

enum outcome
db_workflow_facts(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_FACTS, id, out);
}

enum outcome
db_workflow_assess(struct db *db, int64_t id, int version, int score, const char *level,
                   const char *reasons, const char *impact_set, const char *policy, int needed,
                   int have)
{
    char sid[24], v[24], sc[24], n[24], h[24];
    const char *params[9] = {sid, v, sc, level, reasons, impact_set, policy, n, h};
    enum outcome rc;

    db_num(id, sid);
    db_num(version, v);
    db_num(score, sc);
    db_num(needed, n);
    db_num(have, h);
    /* No conflict refresh here: every assessment is followed by a
     * transition, which refreshes once the change has its new state, so
     * that conflict events show the changes as the transaction leaves them. */
    if ((rc = db_exec(db, SQL_IMPACT_CLEAR, 1, params, NULL)) != OK)
        return rc;
    return db_exec(db, SQL_ASSESS, 9, params, NULL);
}

/* The events a transition makes (DESIGN §6). */
static enum outcome
db_workflow_events(struct db *db, int64_t id, const struct db_transition *t)
{
    char extra[256];
    enum outcome rc = OK;

    snprintf(extra, sizeof extra, "{\"action\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}", t->action,
             t->from, t->to);
    if (strcmp(t->action, "submit") == 0)
        rc = db_webhook_emit_change(db, "change.submitted", id, extra);
    if (rc == OK && strcmp(t->from, t->to) != 0)
        rc = db_webhook_emit_change(db, "change.state_changed", id, extra);
    if (rc == OK && strcmp(t->to, "approved") == 0 && strcmp(t->from, "approved") != 0)
        rc = db_webhook_emit_change(db, "change.approved", id, extra);
    if (rc == OK && strcmp(t->to, "rejected") == 0 && strcmp(t->from, "rejected") != 0)
        rc = db_webhook_emit_change(db, "change.rejected", id, extra);
    return rc;
}

enum outcome
db_workflow_transition(struct db *db, const char *actor, int64_t id, int64_t rev,
                       const struct db_transition *t)
{
    char sid[24], srev[24], buf[24];
    const char *params[11] = {actor,    sid,       t->from,   t->action, t->to, t->outcome,
                              t->notes, t->review, t->reason, t->flags,  srev};
    enum outcome rc;

    db_num(id, sid);
    db_num(rev, srev);
    if ((rc = db_text(db, SQL_TRANSITION, 11, params, buf, sizeof buf)) != OK ||
        (rc = db_workflow_conflicts(db, id)) != OK)
        return rc;
    return db_workflow_events(db, id, t);
}

enum outcome
db_workflow_decide(struct db *db, int64_t id, int64_t approver, int64_t key_id,
                   const char *decision, const char *comment, int version, const char *hash,
                   const char *signed_at, const char *statement, const char *signature,
                   const char *policy, int64_t *approval_id)
{
    char sid[24], uid[24], kid[24], v[24], buf[24];
    const char *params[11] = {sid,  uid,       kid,       decision,  comment, v,
                              hash, signed_at, statement, signature, policy};
    enum outcome rc;

    db_num(id, sid);
    db_num(approver, uid);
    db_num(key_id, kid);
    db_num(version, v);
    if ((rc = db_text(db, SQL_DECIDE, 11, params, buf, sizeof buf)) != OK)
        return rc;
    *approval_id = strtoll(buf, NULL, 10);
    return OK;
}

enum outcome
db_workflow_approvers(struct db *db, int64_t id, json_t **out)
{
    return db_json_id(db, SQL_APPROVERS, id, out);
}

enum outcome
db_workflow_set_have(struct db *db, int64_t id, int have)
{
    char sid[24], h[24];
    const char *params[2] = {sid, h};

    db_num(id, sid);
    db_num(have, h);
    return db_exec(db, SQL_SET_HAVE, 2, params, NULL);
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
