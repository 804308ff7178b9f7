-- The conflict events of one statement written by two statements: the
-- row trigger of 0004 (on conflict_event() since 0011) called outbox_emit()
-- once per record that opened, reopened or resolved, an INSERT into the
-- outbox and one into deliveries per event, and a refresh that opens a few
-- hundred records paid that a few hundred times. Now statement triggers
-- with transition tables take every record a statement wrote: one INSERT
-- writes all their outbox rows (the event types, payloads and ids as
-- before; the payloads those of conflict_event(), built by
-- conflict_events() for all of them at once), one more all their
-- deliveries.
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

-- The payloads of records, in order (ord: the index in p_records): each
-- conflict_event() of the record (0012), built as one statement: the
-- documents of the changes are built once per change, not once per record
-- that names them (a submit's change is in every one of its records), and
-- without a PL/pgSQL call per record. tests/api/test_conflict_events.py
-- checks it against conflict_event() for pairs and freezes.
CREATE FUNCTION conflict_events(p_records conflicts[])
    RETURNS TABLE (ord integer, payload jsonb)
    LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT (row_number() OVER ())::integer AS ord, u.* FROM unnest(p_records) u),
    docs AS (
        SELECT c.id, jsonb_build_object(
                   'id', c.id,
                   'ref', 'CHG-' || c.id,
                   'title', c.title,
                   'state', c.state,
                   'window', CASE WHEN c.win IS NULL THEN NULL ELSE
                             jsonb_build_object('start', cab_ts(lower(c.win)),
                                                'end', cab_ts(upper(c.win))) END) AS doc
        FROM changes c
        WHERE c.id IN (SELECT r.change_a FROM r UNION SELECT r.change_b FROM r))
    SELECT r.ord, jsonb_build_object(
            'conflict', jsonb_build_object(
                'id', r.id,
                'kind', r.kind,
                'overlap', r.overlap,
                'state', r.state,
                'services', to_jsonb(r.services),
                'detected_at', cab_ts(r.detected_at),
                'resolved_at', cab_ts(r.resolved_at)),
            -- as jsonb_agg(... ORDER BY id) over the changes found (a
            -- pair's change_a < change_b; a freeze's change_b is NULL)
            'changes', (SELECT jsonb_agg(x.doc ORDER BY x.id)
                        FROM (VALUES (a.id, a.doc), (b.id, b.doc)) x (id, doc)
                        WHERE x.doc IS NOT NULL),
            'freeze', CASE WHEN r.kind = 'freeze' THEN
                          jsonb_build_object('id', r.freeze_id, 'name', r.freeze_name,
                                             'hard', f.hard) END)
    FROM r LEFT JOIN docs a ON a.id = r.change_a
    LEFT JOIN docs b ON b.id = r.change_b
    LEFT JOIN freezes f ON f.id = r.freeze_id
$$;

-- The events of records, in order: p_types[i] of p_records[i]; their
-- outbox rows and their deliveries.
CREATE FUNCTION conflicts_emit_rows(p_types text[], p_records conflicts[]) RETURNS void
    LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO outbox (event_id, type, payload, fanned_out)
        SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), p_types[e.ord], e.payload,
               true
        FROM conflict_events(p_records) e
        ORDER BY e.ord
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
