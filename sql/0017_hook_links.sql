-- Webhook links (README "Webhook links"): integrations an admin makes and
-- edits, links rotated with a grace period, and every delivery a link
-- receives recorded, whether it was accepted, a replay, or refused.
--
-- The link's key is stored as its SHA-256 (key_hash, 0001): the link is a
-- bearer credential and is looked up by hash, never compared as text. The
-- secret is stored as it is: an HMAC (Standard Webhooks, GitHub) can only be
-- checked with the key itself, and GitLab sends the token itself.

ALTER TABLE integrations
    ADD COLUMN enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    -- after a rotation the previous link and secret keep working until
    -- prev_until; then they are unknown (404) like any other link
    ADD COLUMN prev_key_hash bytea UNIQUE CHECK (length(prev_key_hash) = 32),
    ADD COLUMN prev_secret text,
    ADD COLUMN prev_until timestamptz,
    ADD COLUMN rotated_at timestamptz,
    ADD CHECK ((prev_key_hash IS NULL) = (prev_secret IS NULL)
               AND (prev_key_hash IS NULL) = (prev_until IS NULL));

-- A delivery accepted holds its (integration, delivery id) so that a replay
-- finds its first result: the insert that claims it comes first in the
-- transaction that acts, so a concurrent replay waits on the unique index
-- until that transaction ends and then reads the result (or, when it rolled
-- back, claims the id itself). Replays and refusals are recorded beside it
-- without holding the id; a refused delivery may be sent again.
ALTER TABLE hook_deliveries
    DROP CONSTRAINT hook_deliveries_integration_id_delivery_id_key,
    ALTER COLUMN delivery_id DROP NOT NULL,
    ADD COLUMN result text NOT NULL DEFAULT 'accepted'
        CHECK (result IN ('accepted', 'replayed', 'refused')),
    ADD COLUMN reason text,
    -- a GitHub deployment protection rule's deployment_callback_url
    ADD COLUMN callback_url text;
CREATE UNIQUE INDEX hook_deliveries_once ON hook_deliveries (integration_id, delivery_id)
    WHERE result = 'accepted' AND delivery_id IS NOT NULL;
CREATE INDEX hook_deliveries_page ON hook_deliveries (integration_id, id);

CREATE FUNCTION integration_doc(i integrations) RETURNS json
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
        'deleted_at', cab_ts(i.deleted_at))
$$;

CREATE FUNCTION hook_delivery_doc(d hook_deliveries) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', d.id,
        'integration', d.integration_id,
        'delivery_id', d.delivery_id,
        'event', d.event,
        'result', d.result,
        'status', d.status,
        'reason', d.reason,
        'change', CASE WHEN d.change_id IS NOT NULL
                       THEN json_build_object('id', d.change_id, 'ref', 'CHG-' || d.change_id) END,
        'callback_url', d.callback_url,
        'received_at', cab_ts(d.received_at))
$$;
