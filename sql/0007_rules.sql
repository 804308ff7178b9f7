-- Each rule of the schedule written once, as a function that every query
-- asking the question calls, instead of a state list or a freeze test
-- spelled out in each of them:
--
--   freeze_covers(freeze, services)  the freeze covers one of the services
--   change_is_active(state)          the change takes part in conflicts
--   change_is_open(state)            the change holds its external_ref
--
-- The conflict functions of 0003 and 0005 and the partial unique index on
-- external_ref of 0001 are rewritten on them; what they decide is unchanged,
-- except that a change in review now holds its external_ref, as every state
-- but closed, cancelled and rejected does.

-- A freeze with no services covers every service; otherwise it covers the
-- services it lists. Both questions are probes of freeze_services' primary
-- key (freeze_id, service), which the function's plan keeps for the whole
-- statement that calls it, so it is cheap enough to call per row of a join.
-- STABLE: it reads freeze_services and writes nothing. Not STRICT: with
-- p_services NULL a freeze without services still covers all.
CREATE FUNCTION freeze_covers(p_freeze bigint, p_services text[]) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM freeze_services fs WHERE fs.freeze_id = p_freeze)
        OR EXISTS (SELECT 1 FROM freeze_services fs
                   WHERE fs.freeze_id = p_freeze AND fs.service = ANY (p_services))
$$;

-- Active for conflicts (DESIGN §3): its impact set is kept in change_impact
-- and meets the other active changes and the freezes. A single expression,
-- so PostgreSQL inlines it into the queries that call it.
CREATE FUNCTION change_is_active(p_state text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_state IN ('awaiting_approval', 'approved', 'in_progress')
$$;

-- Open for its external_ref: not closed, cancelled or rejected (drafts are
-- open). IMMUTABLE, as a partial index predicate must be.
CREATE FUNCTION change_is_open(p_state text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_state NOT IN ('closed', 'cancelled', 'rejected')
$$;

-- At most one open change per external reference (webhook links act on it);
-- the name stays, the API reports a violation of it by name.
DROP INDEX changes_external_ref_active;
CREATE UNIQUE INDEX changes_external_ref_active ON changes (external_ref)
    WHERE external_ref IS NOT NULL AND change_is_open(state);

-- As in 0003, on the rules above: the change itself and the others it meets
-- count only while active (change_impact holds the impact rows of active
-- changes only; a row left behind by any other state meets nothing), and a
-- freeze counts where freeze_covers says so.
CREATE OR REPLACE FUNCTION conflicts_refresh(p_change bigint)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    WITH mine AS (
        SELECT ci.service, ci.win FROM change_impact ci JOIN changes c ON c.id = ci.change_id
        WHERE ci.change_id = p_change AND change_is_active(c.state)
    ),
    pairs AS (
        SELECT o.change_id AS other,
               array_agg(DISTINCT o.service ORDER BY o.service) AS services
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

-- As in 0005, but only over the changes the freeze can touch: the active
-- changes whose window overlaps it on a service it covers, and those it
-- conflicted with before. A change it neither covers nor covered has no
-- record of it to open or resolve.
CREATE OR REPLACE FUNCTION freeze_conflicts_refresh(p_freeze bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    x bigint;
    n integer := 0;
BEGIN
    FOR x IN SELECT ci.change_id FROM change_impact ci
             JOIN freezes f ON f.id = p_freeze AND ci.win && f.win
             JOIN changes c ON c.id = ci.change_id
             WHERE change_is_active(c.state)
             GROUP BY ci.change_id
             HAVING freeze_covers(p_freeze, array_agg(ci.service))
             UNION SELECT k.change_a FROM conflicts k WHERE k.freeze_id = p_freeze
             ORDER BY 1
    LOOP
        IF EXISTS (SELECT 1 FROM conflicts_refresh(x)) THEN
            UPDATE changes SET rev = rev + 1 WHERE id = x;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
