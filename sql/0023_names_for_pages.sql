-- What the web UI would otherwise fetch row by row.
--
-- A change's timeline entry names its actor: `actor_name` is the user's
-- name, the integration's name, or "Cabinet" for the system. The chain's
-- own entries (GET /audit, evidence bundles) are unchanged.
CREATE FUNCTION timeline_doc(a audit_log) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT (audit_doc(a)::jsonb || jsonb_build_object('actor_name',
        CASE WHEN a.actor = 'system' THEN 'Cabinet'
             WHEN a.actor ~ '^user:[0-9]+$' THEN
                 (SELECT u.name FROM users u WHERE u.id = substr(a.actor, 6)::bigint)
             WHEN a.actor ~ '^integration:[0-9]+$' THEN
                 (SELECT i.name FROM integrations i WHERE i.id = substr(a.actor, 13)::bigint)
        END))::json
$$;

-- An integration names its last delivery, through hook_deliveries_page
-- (0017): {id, event, result, status, received_at, change}, or null.
CREATE OR REPLACE FUNCTION integration_doc(i integrations) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', i.id,
        'name', i.name,
        'kind', i.kind,
        'model', i.model,
        'services', to_json(i.services),
        'environments', i.environments,
        'default_duration_s', i.default_duration_s,
        'enabled', i.enabled AND i.deleted_at IS NULL,
        'previous_link_until', CASE WHEN i.prev_until > now() THEN cab_ts(i.prev_until) END,
        'rotated_at', cab_ts(i.rotated_at),
        'created_by', user_ref(i.created_by),
        'created_at', cab_ts(i.created_at),
        'updated_at', cab_ts(i.updated_at),
        'deleted_at', cab_ts(i.deleted_at),
        'last_delivery', (SELECT json_build_object(
                                 'id', d.id, 'event', d.event, 'result', d.result,
                                 'status', d.status, 'received_at', cab_ts(d.received_at),
                                 'change', CASE WHEN d.change_id IS NOT NULL THEN
                                               json_build_object('id', d.change_id,
                                                                 'ref', 'CHG-' || d.change_id) END)
                          FROM hook_deliveries d WHERE d.integration_id = i.id
                          ORDER BY d.id DESC LIMIT 1))
$$;
