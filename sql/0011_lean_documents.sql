-- Lean documents (DESIGN §3, §4): work that follows the overlapping set, not
-- the history.
--
--   * Each conflict between two changes records its overlap: `direct` when
--     one change lists a service in the other's impact set, `shared` when
--     the two meet only on services downstream of both. Freezes have none.
--   * A change document lists at most 20 of its unresolved conflicts as
--     compact entries without service arrays, with a summary that counts
--     them all; GET /changes/{id}/conflicts pages the full records.
--   * A conflict event carries the conflict, a compact row of each change
--     and the freeze, built once, instead of two full change documents.

ALTER TABLE conflicts ADD COLUMN overlap text CHECK (overlap IN ('direct', 'shared'));

-- The overlap of two changes whose impact sets meet on p_services: direct
-- when either lists one of them. A listed service is in its own change's
-- impact set, so "one change lists a service in the other's impact set" is
-- "a listed service is among those the two share". Probes of
-- change_services' primary key (change_id, service).
CREATE FUNCTION conflict_overlap(p_a bigint, p_b bigint, p_services text[]) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM change_services cs
                             WHERE cs.change_id IN (p_a, p_b) AND cs.service = ANY (p_services))
                THEN 'direct' ELSE 'shared' END
$$;

UPDATE conflicts k SET overlap = conflict_overlap(k.change_a, k.change_b, k.services)
WHERE k.kind = 'change';

ALTER TABLE conflicts ADD CONSTRAINT conflicts_overlap_of_changes
    CHECK ((kind = 'change') = (overlap IS NOT NULL));

-- The conflict records of a change, on either side of a pair or with a
-- freeze. Each arm of the condition matches one of the indexes of 0001
-- (the pair and freeze indexes lead with change_a under their kind), so the
-- lookup costs what the change has, not what the table holds. A single
-- SELECT: PostgreSQL inlines it into the query that calls it.
CREATE FUNCTION change_conflict_records(p_change bigint) RETURNS SETOF conflicts
    LANGUAGE sql STABLE AS $$
    SELECT * FROM conflicts k
    WHERE (k.kind = 'change' AND k.change_a = p_change)
       OR (k.kind = 'freeze' AND k.change_a = p_change)
       OR k.change_b = p_change
$$;

-- As in 0007, and besides: a pair's overlap is computed whenever its record
-- is opened, reopened or updated, and a record whose overlap moved bumps
-- the row revision (the ETag) of the other change as well, since the
-- other's document shows it.
CREATE OR REPLACE FUNCTION conflicts_refresh(p_change bigint)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
    shown bigint[];
BEGIN
    WITH mine AS (
        SELECT ci.service, ci.win FROM change_impact ci JOIN changes c ON c.id = ci.change_id
        WHERE ci.change_id = p_change AND change_is_active(c.state)
    ),
    pairs AS (
        SELECT o.change_id AS other,
               array_agg(DISTINCT o.service ORDER BY o.service) AS services,
               conflict_overlap(p_change, o.change_id,
                                array_agg(DISTINCT o.service ORDER BY o.service)) AS overlap
        FROM mine m JOIN change_impact o
          ON o.service = m.service AND o.win && m.win AND o.change_id <> p_change
        JOIN changes oc ON oc.id = o.change_id
        WHERE change_is_active(oc.state)
        GROUP BY o.change_id
    ),
    frozen AS (
        SELECT f.id AS freeze_id, f.name,
               array_agg(DISTINCT m.service ORDER BY m.service) AS services
        FROM mine m JOIN freezes f ON f.win && m.win
        WHERE freeze_covers(f.id, ARRAY[m.service])
        GROUP BY f.id, f.name
    ),
    -- the pairs as the statement found them (every part of one statement
    -- reads the same snapshot), to tell which overlaps the upsert moves
    earlier AS (
        SELECT r.id, r.overlap FROM change_conflict_records(p_change) r WHERE r.kind = 'change'
    ),
    up_pairs AS (
        INSERT INTO conflicts AS k (kind, change_a, change_b, services, overlap)
        SELECT 'change', least(p_change, p.other), greatest(p_change, p.other), p.services,
               p.overlap
        FROM pairs p
        ON CONFLICT (change_a, change_b) WHERE kind = 'change' DO UPDATE
           SET services = EXCLUDED.services,
               overlap = EXCLUDED.overlap,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, k.overlap, (xmax = 0 OR k.detected_at = now()) AS fresh
    ),
    up_freezes AS (
        INSERT INTO conflicts AS k (kind, change_a, freeze_id, freeze_name, services)
        SELECT 'freeze', p_change, z.freeze_id, z.name, z.services FROM frozen z
        ON CONFLICT (change_a, freeze_id) WHERE kind = 'freeze' DO UPDATE
           SET services = EXCLUDED.services, freeze_name = EXCLUDED.freeze_name,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, (xmax = 0 OR k.detected_at = now()) AS fresh
    ),
    gone AS (
        UPDATE conflicts k SET state = 'resolved', resolved_at = now()
        WHERE (k.change_a = p_change OR k.change_b = p_change) AND k.state <> 'resolved'
          AND k.id NOT IN (SELECT id FROM up_pairs) AND k.id NOT IN (SELECT id FROM up_freezes)
        RETURNING k.id
    )
    SELECT array_agg(x.id) FILTER (WHERE x.fresh), array_agg(x.id) INTO touched, shown FROM (
        SELECT u.id, u.fresh FROM up_pairs u LEFT JOIN earlier e ON e.id = u.id
        WHERE u.fresh OR e.overlap IS DISTINCT FROM u.overlap
        UNION ALL SELECT u.id, true FROM up_freezes u WHERE u.fresh
        UNION ALL SELECT g.id, true FROM gone g) x;

    UPDATE changes c SET rev = c.rev + 1
    WHERE c.id <> p_change AND c.id IN (SELECT k.change_a FROM conflicts k WHERE k.id = ANY (shown)
                                        UNION SELECT k.change_b FROM conflicts k
                                        WHERE k.id = ANY (shown));
    RETURN QUERY SELECT k.id, k.state FROM conflicts k WHERE k.id = ANY (touched) ORDER BY k.id;
END $$;

-- The full record, as GET /conflicts and GET /changes/{id}/conflicts return
-- it: 0002's, with the overlap.
CREATE OR REPLACE FUNCTION conflict_doc(k conflicts, p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id,
        'kind', k.kind,
        'overlap', k.overlap,
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

-- The conflicts a change document lists: at most 20 of the unresolved
-- ones (open, acknowledged), direct first, then by the window start of the
-- other change or of the freeze, then by id; compact entries naming the
-- other side, without service arrays.
CREATE OR REPLACE FUNCTION change_conflicts(p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
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
          LIMIT 20) e
$$;

-- Counts of every unresolved conflict of a change, listed or not; resolved
-- ones no longer stand in the way and are not counted.
CREATE FUNCTION change_conflict_summary(p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'total', count(*),
        'open', count(*) FILTER (WHERE k.state = 'open'),
        'acknowledged', count(*) FILTER (WHERE k.state = 'acknowledged'),
        'direct', count(*) FILTER (WHERE k.overlap = 'direct'))
    FROM change_conflict_records(p_change) k WHERE k.state <> 'resolved'
$$;

-- 0002's change document, field for field, with the compact conflicts and
-- their summary.
CREATE OR REPLACE FUNCTION change_doc(c changes) RETURNS json
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
        'conflict_summary', change_conflict_summary(c.id),
        'outcome', c.outcome,
        'flags', to_json(c.flags),
        'created_at', cab_ts(c.created_at),
        'updated_at', cab_ts(c.updated_at))
$$;

-- What a receiver of a conflict event needs: the record (with its
-- services), a compact row of each change involved as the transaction
-- leaves it, and the freeze for a freeze conflict (null for two changes).
-- Built once per event; no change document in it.
CREATE FUNCTION conflict_event(k conflicts) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'conflict', jsonb_build_object(
            'id', k.id,
            'kind', k.kind,
            'overlap', k.overlap,
            'state', k.state,
            'services', to_jsonb(k.services),
            'detected_at', cab_ts(k.detected_at),
            'resolved_at', cab_ts(k.resolved_at)),
        'changes', (SELECT jsonb_agg(jsonb_build_object(
                               'id', c.id,
                               'ref', 'CHG-' || c.id,
                               'title', c.title,
                               'state', c.state,
                               'window', CASE WHEN c.win IS NULL THEN NULL ELSE
                                         jsonb_build_object('start', cab_ts(lower(c.win)),
                                                            'end', cab_ts(upper(c.win))) END)
                           ORDER BY c.id)
                    FROM changes c WHERE c.id IN (k.change_a, k.change_b)),
        'freeze', CASE WHEN k.kind = 'freeze' THEN
                      jsonb_build_object('id', k.freeze_id, 'name', k.freeze_name,
                                         'hard', (SELECT f.hard FROM freezes f
                                                  WHERE f.id = k.freeze_id)) END)
$$;

-- 0004's trigger function, on conflict_event().
CREATE OR REPLACE FUNCTION conflicts_emit() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.state = 'open')
       OR (TG_OP = 'UPDATE' AND NEW.state = 'open' AND OLD.state = 'resolved') THEN
        PERFORM outbox_emit('change.conflict_detected', conflict_event(NEW));
    ELSIF TG_OP = 'UPDATE' AND NEW.state = 'resolved' AND OLD.state <> 'resolved' THEN
        PERFORM outbox_emit('change.conflict_resolved', conflict_event(NEW));
    END IF;
    RETURN NULL;
END $$;
