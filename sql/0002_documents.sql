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
        'approvals', '[]'::json,
        'required_approvals', NULL::json,
        'conflicts', '[]'::json,
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
