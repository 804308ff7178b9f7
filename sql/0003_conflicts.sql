-- Conflicts (DESIGN §3): two active changes whose windows overlap and whose
-- impact sets meet, or an active change and a freeze that covers its impact
-- set in its window. change_impact holds the impact set of every active
-- change with its window (GiST on service and window), so each question is
-- an index lookup. Callers serialise refreshes with conflicts_lock() so that
-- two changes submitted at once still see each other.

CREATE FUNCTION conflicts_lock() RETURNS void
    LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(1667326566) $$;  -- "cabf"

-- Brings the conflict records of one change up to date: opens (or reopens)
-- what is true now, resolves what no longer is, and bumps the row revision
-- (the ETag) of the other changes whose conflicts changed. Returns the
-- records that changed state, for events.
CREATE FUNCTION conflicts_refresh(p_change bigint)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    WITH mine AS (
        SELECT ci.service, ci.win FROM change_impact ci WHERE ci.change_id = p_change
    ),
    pairs AS (
        SELECT o.change_id AS other,
               array_agg(DISTINCT o.service ORDER BY o.service) AS services
        FROM mine m JOIN change_impact o
          ON o.service = m.service AND o.win && m.win AND o.change_id <> p_change
        GROUP BY o.change_id
    ),
    frozen AS (
        SELECT f.id AS freeze_id, f.name,
               array_agg(DISTINCT m.service ORDER BY m.service) AS services
        FROM mine m JOIN freezes f ON f.win && m.win
        WHERE NOT EXISTS (SELECT 1 FROM freeze_services fs WHERE fs.freeze_id = f.id)
           OR EXISTS (SELECT 1 FROM freeze_services fs
                      WHERE fs.freeze_id = f.id AND fs.service = m.service)
        GROUP BY f.id, f.name
    ),
    up_pairs AS (
        INSERT INTO conflicts AS k (kind, change_a, change_b, services)
        SELECT 'change', least(p_change, p.other), greatest(p_change, p.other), p.services
        FROM pairs p
        ON CONFLICT (change_a, change_b) WHERE kind = 'change' DO UPDATE
           SET services = EXCLUDED.services,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, (xmax = 0 OR k.detected_at = now()) AS fresh
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
    SELECT array_agg(x.id) INTO touched FROM (
        SELECT u.id FROM up_pairs u WHERE u.fresh
        UNION ALL SELECT u.id FROM up_freezes u WHERE u.fresh
        UNION ALL SELECT g.id FROM gone g) x;

    UPDATE changes c SET rev = c.rev + 1
    WHERE c.id <> p_change AND c.id IN (SELECT k.change_a FROM conflicts k WHERE k.id = ANY (touched)
                                        UNION SELECT k.change_b FROM conflicts k
                                        WHERE k.id = ANY (touched));
    RETURN QUERY SELECT k.id, k.state FROM conflicts k WHERE k.id = ANY (touched) ORDER BY k.id;
END $$;
