-- The impact set of every service, kept, so that a change's impact set is a
-- union of stored rows instead of a walk of the service map.
--
-- service_closure holds one row per service: impact, the services.sid
-- (0012) of the service itself and of every service that depends on it,
-- directly or through others, sorted and distinct: the services that
-- impact_set() (0006) meets from that one root, whatever cycles the map
-- has. The impact set of several roots is the union of their rows
-- (impact_sids()), the same services impact_set() walks to (impact_set()
-- stays the definition, and what gives each service its depth: the
-- services impact endpoint and the schedule keep it).
--
-- Upkeep. A row is Y's closure: Y and the closures of the services that
-- depend on Y directly. An edit of an edge "a depends on b" can move only
-- the rows Y that b reached before the edit (b in the row) or reaches
-- after it (Y met by walking from b along depends_on): a path to Y that
-- the edit makes or breaks runs through b. A statement trigger on
-- service_deps takes those rows for the edges it inserted, deleted or
-- updated, sets each to {Y} and unions the rows of their direct dependants
-- into them until nothing moves (each round is one UPDATE; as many rounds
-- as the longest path among them, plus one). The other rows hold, so the
-- least fixed point reached is the closure. A statement that both deletes
-- and inserts edges (a service's dependency list replaced) fires the
-- trigger twice; each firing takes the rows of its own edges in the map as
-- it ends up, so the rows that are still stale after the first are those
-- of the second's edges, which it takes.
-- Cost: a service-map edit (an admin action) costs a walk from its edges'
-- targets, a scan of the rows for the targets and a few rounds over the
-- rows taken. At 2,000 services in 10 levels of 200, each on 5 of the
-- levels below: 50-70 ms for an edge onto the bottom level (its target
-- reaches only itself), 200-400 ms for one onto the top levels (the target
-- reaches a few hundred services below it, whose rows, the largest, are
-- all recomputed); the whole map in one statement about a second
-- (tests/api/test_service_closure.py checks an edit stays under 0.9 s).
-- Edits are serialised by a transaction advisory lock (1667326567,
-- "cabg"), taken before the rows are read.
--
-- A new service gets its row {sid} (a statement trigger on services); a
-- deleted one loses it (ON DELETE CASCADE), and its own edges go with it
-- (service_deps' cascade), which the trigger on service_deps handles (no
-- service depends on a deleted one: ON DELETE RESTRICT).

-- The union of intarray arrays (the `|` of intarray, a sorted merge).
CREATE AGGREGATE closure_union(integer[]) (SFUNC = _int_union, STYPE = integer[],
                                           INITCOND = '{}');

CREATE TABLE service_closure (
    sid    integer PRIMARY KEY REFERENCES services (sid) ON DELETE CASCADE,
    impact integer[] NOT NULL
) WITH (toast_tuple_target = 8160);  -- as change_impact_sets: rows stay uncompressed

-- Brings the rows of p_sids to the closure of the map as it is, given that
-- every other row is right (as the head of this file says). Returns the
-- number of rounds.
CREATE FUNCTION service_closure_fix(p_sids integer[]) RETURNS integer
    LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    moved integer;
    rounds integer := 0;
BEGIN
    -- rows for services that have none yet (a statement that inserts a
    -- service and its edges fires this before the services trigger)
    INSERT INTO service_closure (sid, impact)
    SELECT s.sid, ARRAY[s.sid] FROM services s
    WHERE NOT EXISTS (SELECT 1 FROM service_closure c WHERE c.sid = s.sid)
    ON CONFLICT (sid) DO NOTHING;
    UPDATE service_closure SET impact = ARRAY[sid]
    WHERE sid = ANY (p_sids) AND impact <> ARRAY[sid];
    LOOP
        rounds := rounds + 1;
        UPDATE service_closure t SET impact = n.impact
        FROM (SELECT y.sid, ARRAY[y.sid] | closure_union(z.impact) AS impact
              FROM services y
              LEFT JOIN service_deps d ON d.depends_on = y.name
              LEFT JOIN services s ON s.name = d.service
              LEFT JOIN service_closure z ON z.sid = s.sid
              WHERE y.sid = ANY (p_sids)
              GROUP BY y.sid) n
        WHERE t.sid = n.sid AND t.impact <> n.impact;
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXIT WHEN moved = 0;
    END LOOP;
    RETURN rounds;
END $$;

-- The rows an edit of edges with these targets (services' names) can move:
-- those holding a target, and those the targets reach along depends_on.
CREATE FUNCTION service_closure_touched(p_targets text[]) RETURNS integer[]
    LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT c.sid FROM service_closure c
                 WHERE c.impact && ARRAY(SELECT s.sid FROM services s
                                         WHERE s.name = ANY (p_targets))
                 UNION
                 SELECT s.sid FROM service_walk(p_targets, false) w
                 JOIN services s ON s.name = w.name)
$$;

CREATE FUNCTION service_closure_edges() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    targets text[];
BEGIN
    PERFORM pg_advisory_xact_lock(1667326567);  -- "cabg"
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.depends_on::text) INTO targets FROM new_edges n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.depends_on::text) INTO targets FROM old_edges o;
    ELSE
        SELECT array_agg(DISTINCT x.t) INTO targets
        FROM (SELECT n.depends_on::text AS t FROM new_edges n
              UNION ALL SELECT o.depends_on::text FROM old_edges o) x;
    END IF;
    IF targets IS NOT NULL THEN
        PERFORM service_closure_fix(service_closure_touched(targets));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER service_closure_insert AFTER INSERT ON service_deps
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION service_closure_edges();
CREATE TRIGGER service_closure_delete AFTER DELETE ON service_deps
    REFERENCING OLD TABLE AS old_edges
    FOR EACH STATEMENT EXECUTE FUNCTION service_closure_edges();
CREATE TRIGGER service_closure_update AFTER UPDATE ON service_deps
    REFERENCING OLD TABLE AS old_edges NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION service_closure_edges();

CREATE FUNCTION service_closure_services() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO service_closure (sid, impact)
    SELECT n.sid, ARRAY[n.sid] FROM new_services n
    ON CONFLICT (sid) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER service_closure_services AFTER INSERT ON services
    REFERENCING NEW TABLE AS new_services
    FOR EACH STATEMENT EXECUTE FUNCTION service_closure_services();

-- The rows of the services already there.
SELECT service_closure_fix(ARRAY(SELECT sid FROM services));

-- The services.sid of impact_set(p_roots), sorted: the union of the roots'
-- rows (unknown names are left out).
CREATE FUNCTION impact_sids(p_roots text[]) RETURNS integer[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(closure_union(c.impact), '{}')
    FROM services s JOIN service_closure c ON c.sid = s.sid
    WHERE s.name = ANY (p_roots)
$$;

-- 0012's impact_store(), on impact_sids(): the same row, without the walk.
CREATE OR REPLACE FUNCTION impact_store(p_change bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    c changes;
    ids integer[];
BEGIN
    SELECT * INTO c FROM changes WHERE id = p_change;
    IF NOT FOUND OR NOT change_is_active(c.state) OR c.win IS NULL THEN
        DELETE FROM change_impact_sets WHERE change_id = p_change;
        RETURN 0;
    END IF;
    ids := impact_sids(ARRAY(SELECT cs.service::text FROM change_services cs
                             WHERE cs.change_id = p_change));
    INSERT INTO change_impact_sets (change_id, win, sids, listed)
    VALUES (p_change, c.win, ids, impact_listed(p_change))
    ON CONFLICT (change_id) DO UPDATE
       SET win = EXCLUDED.win, sids = EXCLUDED.sids, listed = EXCLUDED.listed
       WHERE (change_impact_sets.win, change_impact_sets.sids, change_impact_sets.listed)
             IS DISTINCT FROM (EXCLUDED.win, EXCLUDED.sids, EXCLUDED.listed);
    RETURN cardinality(ids);
END $$;
