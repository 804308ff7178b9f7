-- Documents planned once per session, not once per statement.
--
-- A SQL function that PostgreSQL cannot inline into the statement that
-- calls it (one whose body has a FROM) is planned anew every time that
-- statement runs, and so is every such function it calls. A change
-- document called eight of them, so that planning, not reading, was most
-- of what a GET cost (2.5 ms a document where its rows take 0.25 ms). The
-- functions below are PL/pgSQL, whose statements are prepared once per
-- connection and their plans kept: same names, same arguments, same
-- results.

CREATE OR REPLACE FUNCTION user_ref(uid bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email)
            FROM users u WHERE u.id = uid);
END $$;

CREATE OR REPLACE FUNCTION change_services_doc(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(json_agg(cs.service ORDER BY cs.service), '[]')
            FROM change_services cs WHERE cs.change_id = p_change);
END $$;

-- 0002's approval, as every approval list and change document shows it.
CREATE OR REPLACE FUNCTION approval_doc(a approvals, current_version integer) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', a.id,
        'approver', user_ref(a.approver_id),
        'decision', a.decision,
        'comment', a.comment,
        'key_id', a.key_id,
        'public_key', (SELECT k.public_key FROM user_keys k WHERE k.id = a.key_id),
        'version', a.version,
        'content_hash', a.content_hash,
        'signed_at', a.signed_at,
        'statement', a.statement,
        'signature', a.signature,
        'valid', a.version = current_version,
        'created_at', cab_ts(a.created_at));
END $$;

-- 0014's document, field for field.
CREATE OR REPLACE FUNCTION change_doc_with(c changes, p_services json) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', c.id,
        'ref', 'CHG-' || c.id,
        'title', c.title,
        'description', c.description,
        'model', c.model,
        'kind', (SELECT m.kind FROM models m WHERE m.name = c.model),
        'state', c.state,
        'version', c.version,
        'content_hash', c.content_hash,
        'services', p_services,
        'window', CASE WHEN c.win IS NULL THEN NULL ELSE
                  json_build_object('start', cab_ts(lower(c.win)), 'end', cab_ts(upper(c.win))) END,
        'business_impact', c.business_impact,
        'implementation_plan', c.implementation_plan,
        'backout_plan', c.backout_plan,
        'test_plan', c.test_plan,
        'requester', user_ref(c.requester_id),
        'source', c.source,
        'external_ref', c.external_ref,
        'assessment', (SELECT json_build_object('score', a.score, 'level', a.level,
                                                'reasons', a.reasons,
                                                'impact_set', to_json(a.impact_set),
                                                'version', a.version)
                       FROM assessments a WHERE a.change_id = c.id
                       ORDER BY a.id DESC LIMIT 1),
        'approvals', COALESCE((SELECT json_agg(approval_doc(a, c.version) ORDER BY a.id)
                               FROM approvals a WHERE a.change_id = c.id), '[]'),
        'required_approvals', CASE WHEN c.approvals_needed IS NULL THEN NULL ELSE
                              json_build_object('needed', c.approvals_needed,
                                                'have', c.approvals_have,
                                                'satisfied', c.approvals_have >= c.approvals_needed,
                                                'policy', c.policy) END,
        'conflicts', change_conflicts(c.id),
        'conflict_summary', change_conflict_summary(c.id),
        'outcome', c.outcome,
        'flags', to_json(c.flags),
        'created_at', cab_ts(c.created_at),
        'updated_at', cab_ts(c.updated_at));
END $$;

-- 0011's compact conflicts and their summary.
CREATE OR REPLACE FUNCTION change_conflicts(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT COALESCE(json_agg(e.entry ORDER BY e.indirect, e.start, e.id), '[]')
        FROM (SELECT k.id, k.overlap IS DISTINCT FROM 'direct' AS indirect,
                     lower(COALESCE(o.win, f.win)) AS start,
                     json_build_object(
                         'id', k.id,
                         'kind', k.kind,
                         'overlap', k.overlap,
                         'state', k.state,
                         CASE WHEN k.kind = 'change' THEN 'other' ELSE 'freeze' END,
                         CASE WHEN k.kind = 'change'
                              THEN json_build_object('id', o.id, 'ref', 'CHG-' || o.id, 'title', o.title)
                              ELSE json_build_object('id', k.freeze_id, 'name', k.freeze_name) END)
                         AS entry
              FROM change_conflict_records(p_change) k
              LEFT JOIN changes o
                ON k.kind = 'change'
               AND o.id = CASE WHEN k.change_a = p_change THEN k.change_b ELSE k.change_a END
              LEFT JOIN freezes f ON f.id = k.freeze_id
              WHERE k.state <> 'resolved'
              ORDER BY 2, 3, 1
              LIMIT 20) e);
END $$;

CREATE OR REPLACE FUNCTION change_conflict_summary(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT json_build_object(
            'total', count(*),
            'open', count(*) FILTER (WHERE k.state = 'open'),
            'acknowledged', count(*) FILTER (WHERE k.state = 'acknowledged'),
            'direct', count(*) FILTER (WHERE k.overlap = 'direct'))
        FROM change_conflict_records(p_change) k WHERE k.state <> 'resolved');
END $$;
