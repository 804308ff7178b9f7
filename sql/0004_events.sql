-- Events out (DESIGN §6): an event is written to the outbox in the
-- transaction of the write it reports, together with one delivery for every
-- subscription that wants it, so that nothing is lost between commit and
-- send. The delivery workers claim due deliveries with FOR UPDATE SKIP
-- LOCKED and lease them while they send.

CREATE FUNCTION outbox_emit(p_type text, p_data jsonb) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    oid bigint;
BEGIN
    INSERT INTO outbox (event_id, type, payload, fanned_out)
    VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), p_type, p_data, true)
    RETURNING id INTO oid;
    INSERT INTO deliveries (webhook_id, outbox_id)
    SELECT w.id, oid FROM webhooks w
    WHERE w.deleted_at IS NULL AND (p_type = ANY (w.events) OR '*' = ANY (w.events));
    RETURN oid;
END $$;

-- Conflict records that change state become events as well.
CREATE FUNCTION conflicts_emit() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.state = 'open')
       OR (TG_OP = 'UPDATE' AND NEW.state = 'open' AND OLD.state = 'resolved') THEN
        PERFORM outbox_emit('change.conflict_detected',
                            jsonb_build_object('conflict', conflict_doc(NEW, NULL)::jsonb,
                                               'changes', (SELECT jsonb_agg(change_doc(c)::jsonb)
                                                           FROM changes c
                                                           WHERE c.id IN (NEW.change_a, NEW.change_b))));
    ELSIF TG_OP = 'UPDATE' AND NEW.state = 'resolved' AND OLD.state <> 'resolved' THEN
        PERFORM outbox_emit('change.conflict_resolved',
                            jsonb_build_object('conflict', conflict_doc(NEW, NULL)::jsonb,
                                               'changes', (SELECT jsonb_agg(change_doc(c)::jsonb)
                                                           FROM changes c
                                                           WHERE c.id IN (NEW.change_a, NEW.change_b))));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conflicts_emit AFTER INSERT OR UPDATE OF state ON conflicts
    FOR EACH ROW EXECUTE FUNCTION conflicts_emit();

CREATE FUNCTION webhook_doc(w webhooks) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', w.id,
        'url', w.url,
        'events', to_json(w.events),
        'format', w.format,
        'created_by', user_ref(w.created_by),
        'created_at', cab_ts(w.created_at))
$$;

CREATE FUNCTION delivery_doc(d deliveries) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', d.id,
        'webhook', d.webhook_id,
        'event_id', o.event_id,
        'type', o.type,
        'state', d.state,
        'attempts', d.attempts,
        'next_attempt_at', CASE WHEN d.state = 'pending' THEN cab_ts(d.next_attempt_at) END,
        'last_status', d.last_status,
        'last_error', d.last_error,
        'created_at', cab_ts(d.created_at),
        'delivered_at', cab_ts(d.delivered_at),
        'history', COALESCE((SELECT json_agg(json_build_object('at', cab_ts(a.at),
                             'status', a.status, 'error', a.error,
                             'duration_ms', a.duration_ms) ORDER BY a.id)
                             FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]'))
    FROM outbox o WHERE o.id = d.outbox_id
$$;
