-- The conflict events of one statement written by two statements: the
-- row trigger of 0004 (on conflict_event() since 0011) called outbox_emit()
-- once per record that opened, reopened or resolved, an INSERT into the
-- outbox and one into deliveries per event, and a refresh that opens a few
-- hundred records paid that a few hundred times. Now statement triggers
-- with transition tables take every record a statement wrote: one INSERT
-- writes all their outbox rows (conflict_event() once per record, the
-- event types, payloads and ids as before), one more all their deliveries.
--
-- Order. The outbox rows of one statement's records come in the order the
-- statement wrote the records (a transition table holds its rows in that
-- order; ord numbers them as they are read, and the outbox ids are drawn in
-- ord order); the deliveries by outbox id, then subscription, so that each
-- subscription's lane (0009, deliveries by id) sends them in that order. A
-- statement that both inserts and updates records (a refresh opens new
-- pairs and resolves or reopens others in one statement) fires the insert
-- trigger and the update trigger each once: its detected events of new
-- records and its events of updated records are each in write order, the
-- two groups one after the other.
--
-- The events are written in the transaction of the records, so a commit
-- has both or neither (at least once, as before).

DROP TRIGGER conflicts_emit ON conflicts;
DROP FUNCTION conflicts_emit();

-- The events of records, in order: p_types[i] of p_records[i]; their
-- outbox rows and their deliveries.
CREATE FUNCTION conflicts_emit_rows(p_types text[], p_records conflicts[]) RETURNS void
    LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO outbox (event_id, type, payload, fanned_out)
        SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), p_types[i],
               conflict_event(p_records[i]), true
        FROM generate_subscripts(p_types, 1) i
        ORDER BY i
        RETURNING id, type)
    INSERT INTO deliveries (webhook_id, outbox_id)
    SELECT w.id, o.id FROM o, webhooks w
    WHERE w.deleted_at IS NULL AND (o.type = ANY (w.events) OR '*' = ANY (w.events))
    ORDER BY o.id, w.id
$$;

-- Inserted records that are open were detected.
CREATE FUNCTION conflicts_emit_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    types text[];
    records conflicts[];
BEGIN
    SELECT array_agg('change.conflict_detected'::text ORDER BY x.ord), array_agg(x.k ORDER BY x.ord)
    INTO types, records
    FROM (SELECT n::conflicts AS k, row_number() OVER () AS ord FROM new_records n) x
    WHERE (x.k).state = 'open';
    IF records IS NOT NULL THEN
        PERFORM conflicts_emit_rows(types, records);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conflicts_emit_inserted AFTER INSERT ON conflicts
    REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION conflicts_emit_inserted();

-- Updated records: reopened ones were detected, those that became
-- resolved were resolved (0004's conditions).
CREATE FUNCTION conflicts_emit_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    types text[];
    records conflicts[];
BEGIN
    SELECT array_agg(x.t ORDER BY x.ord), array_agg(x.k ORDER BY x.ord) INTO types, records
    FROM (SELECT n.k, n.ord,
                 CASE WHEN (n.k).state = 'open' AND o.state = 'resolved'
                          THEN 'change.conflict_detected'
                      WHEN (n.k).state = 'resolved' AND o.state <> 'resolved'
                          THEN 'change.conflict_resolved' END AS t
          FROM (SELECT r::conflicts AS k, row_number() OVER () AS ord FROM new_records r) n
          JOIN old_records o ON o.id = (n.k).id) x
    WHERE x.t IS NOT NULL;
    IF records IS NOT NULL THEN
        PERFORM conflicts_emit_rows(types, records);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conflicts_emit_updated AFTER UPDATE ON conflicts
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION conflicts_emit_updated();

-- A change's lifecycle events (p_types, in order) of one write, each
-- {"change": change_doc(), ...p_extra} as outbox_emit() of 0004 writes
-- them, on one change_doc() built once: a transition makes up to three
-- events of one change.
CREATE FUNCTION outbox_emit_change(p_types text[], p_change bigint, p_extra jsonb)
    RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    doc jsonb;
    t text;
    n integer := 0;
BEGIN
    SELECT jsonb_build_object('change', change_doc(c)::jsonb) || COALESCE(p_extra, '{}')
    INTO doc FROM changes c WHERE c.id = p_change;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOREACH t IN ARRAY p_types LOOP
        PERFORM outbox_emit(t, doc);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
