-- How each resource is rendered in the API: one function per resource, so
-- that every endpoint returning it agrees, field by field.

CREATE FUNCTION user_doc(u users) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', u.id,
        'email', u.email,
        'name', u.name,
        'roles', to_json(ARRAY['requester'] || u.roles),
        'disabled', u.disabled,
        'created_at', cab_ts(u.created_at),
        'updated_at', cab_ts(u.updated_at))
$$;

CREATE FUNCTION user_ref(uid bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email)
    FROM users u WHERE u.id = uid
$$;

CREATE FUNCTION token_doc(t api_tokens) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', t.id,
        'name', t.name,
        'scope', t.scope,
        'created_at', cab_ts(t.created_at),
        'last_used_at', cab_ts(t.last_used_at))
$$;

CREATE FUNCTION service_doc(s services) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'name', s.name,
        'title', s.title,
        'tier', s.tier,
        'owner', s.owner,
        'description', s.description,
        'depends_on', COALESCE((SELECT json_agg(d.depends_on ORDER BY d.depends_on)
                                FROM service_deps d WHERE d.service = s.name), '[]'),
        'dependents', COALESCE((SELECT json_agg(d.service ORDER BY d.service)
                                FROM service_deps d WHERE d.depends_on = s.name), '[]'),
        'created_at', cab_ts(s.created_at),
        'updated_at', cab_ts(s.updated_at))
$$;

-- The impact set of a list of services: them and every service that depends
-- on any of them, transitively; cycles are safe (UNION drops revisits, and
-- the depth kept is the shortest).
CREATE FUNCTION impact_set(roots text[])
    RETURNS TABLE (name text, depth integer)
    LANGUAGE sql STABLE AS $$
    WITH RECURSIVE walk(name, depth) AS (
        SELECT s.name::text, 0 FROM services s WHERE s.name = ANY (roots)
        UNION
        SELECT d.service, w.depth + 1
        FROM walk w JOIN service_deps d ON d.depends_on = w.name
        WHERE w.depth < 1000
    )
    SELECT w.name, min(w.depth)::integer FROM walk w GROUP BY w.name
$$;

CREATE FUNCTION model_doc(m models) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'name', m.name,
        'kind', m.kind,
        'title', m.title,
        'description', m.description,
        'policy', m.policy,
        'created_at', cab_ts(m.created_at),
        'updated_at', cab_ts(m.updated_at))
$$;

CREATE FUNCTION key_doc(k user_keys) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id,
        'public_key', k.public_key,
        'label', k.label,
        'owner', user_ref(k.user_id),
        'created_at', cab_ts(k.created_at),
        'revoked_at', cab_ts(k.revoked_at))
$$;

-- An approval with all that is needed to verify it offline; valid says
-- whether it counts for the change's current version.
CREATE FUNCTION approval_doc(a approvals, current_version integer) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
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
        'created_at', cab_ts(a.created_at))
$$;

CREATE FUNCTION freeze_doc(f freezes) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', f.id,
        'name', f.name,
        'window', json_build_object('start', cab_ts(lower(f.win)), 'end', cab_ts(upper(f.win))),
        'services', COALESCE((SELECT json_agg(fs.service ORDER BY fs.service)
                              FROM freeze_services fs WHERE fs.freeze_id = f.id), '[]'),
        'hard', f.hard,
        'reason', f.reason,
        'created_by', user_ref(f.created_by),
        'created_at', cab_ts(f.created_at),
        'updated_at', cab_ts(f.updated_at))
$$;

-- A conflict as the API returns it, seen from one change (p_change) or from
-- none (NULL): `with` names the other side.
CREATE FUNCTION conflict_doc(k conflicts, p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id,
        'kind', k.kind,
        'state', k.state,
        'changes', CASE WHEN k.kind = 'change' THEN json_build_array('CHG-' || k.change_a,
                                                                   'CHG-' || k.change_b)
                        ELSE json_build_array('CHG-' || k.change_a) END,
        'with', CASE WHEN k.kind = 'freeze' THEN
                    json_build_object('freeze', k.freeze_id, 'name', k.freeze_name,
                                      'hard', (SELECT f.hard FROM freezes f WHERE f.id = k.freeze_id))
                WHEN p_change IS NULL THEN NULL
                ELSE (SELECT json_build_object('ref', 'CHG-' || o.id, 'title', o.title,
                                               'state', o.state)
                      FROM changes o
                      WHERE o.id = CASE WHEN k.change_a = p_change THEN k.change_b
                                        ELSE k.change_a END) END,
        'services', to_json(k.services),
        'note', k.note,
        'acknowledged_by', user_ref(k.acknowledged_by),
        'acknowledged_at', cab_ts(k.acknowledged_at),
        'detected_at', cab_ts(k.detected_at),
        'resolved_at', cab_ts(k.resolved_at))
$$;

-- A change's conflicts, newest first.
CREATE FUNCTION change_conflicts(p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(json_agg(conflict_doc(k, p_change) ORDER BY k.id DESC), '[]')
    FROM conflicts k WHERE k.change_a = p_change OR k.change_b = p_change
$$;

-- A change as the API returns it, less gate_url (made from the configured
-- base URL by the server). assessment and required_approvals stay null
-- until the change is assessed at submit.
CREATE FUNCTION change_doc(c changes) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'ref', 'CHG-' || c.id,
        'title', c.title,
        'description', c.description,
        'model', c.model,
        'kind', (SELECT m.kind FROM models m WHERE m.name = c.model),
        'state', c.state,
        'version', c.version,
        'content_hash', c.content_hash,
        'services', COALESCE((SELECT json_agg(cs.service ORDER BY cs.service)
                              FROM change_services cs WHERE cs.change_id = c.id), '[]'),
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
        'outcome', c.outcome,
        'flags', to_json(c.flags),
        'created_at', cab_ts(c.created_at),
        'updated_at', cab_ts(c.updated_at))
$$;

CREATE FUNCTION audit_doc(a audit_log) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', a.id,
        'seq', a.seq,
        'at', cab_ts(a.at),
        'actor', a.actor,
        'action', a.action,
        'entity', a.entity,
        'entity_id', a.entity_id,
        'data', a.data,
        'prev_hash', a.prev_hash,
        'hash', a.hash)
$$;
