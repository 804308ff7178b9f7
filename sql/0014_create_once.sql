-- A create is one statement (DESIGN §4, README "Changes"): the change, its
-- services, its first version, its audit entry and its change.created event
-- are written by one INSERT … RETURNING, and the document that the event
-- carries is the one the reply is rendered from, built once.
--
-- Sub-statements of one statement read the snapshot it started with, so
-- the document of a change inserted by that statement cannot read its
-- services back from change_services: change_doc_with() takes them as an
-- argument, and change_doc() is change_doc_with() of the stored services.
-- Everything else a document shows (assessments, approvals, conflicts) a
-- change only has once it exists, so a new one's are rightly empty.

-- 0011's change document, field for field, with the services given. In
-- PL/pgSQL, as 0019 explains: its statement is planned once per connection.
CREATE FUNCTION change_doc_with(c changes, p_services json) RETURNS json
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

-- The services of a document: the names, sorted as change_services sorts
-- them.
CREATE FUNCTION change_services_doc(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(json_agg(cs.service ORDER BY cs.service), '[]')
            FROM change_services cs WHERE cs.change_id = p_change);
END $$;

CREATE OR REPLACE FUNCTION change_doc(c changes) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT change_doc_with(c, change_services_doc(c.id))
$$;
