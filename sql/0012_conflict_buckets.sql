-- Conflict detection that costs what overlaps in time, not what the impact
-- sets hold, and conflict refreshes that wait only for those whose windows
-- can overlap.
--
-- Storage. change_impact kept one row per (active change, service of its
-- impact set), and a refresh probed its GiST index once per service of the
-- change's own impact set: a change near the bottom of a large map made a
-- thousand probes and tens of thousands of matches. Now each active change
-- has one row in change_impact_sets: its window and its impact set as a
-- sorted array of services.sid (a stable integer id given to every
-- service here), with the services it lists. A refresh finds the active
-- changes whose windows overlap its own through the GiST index on the
-- window, keeps those whose arrays meet (intarray &&) and takes the shared
-- services as the intersection (intarray &). A conflict record keeps the
-- ids of its services as well (conflicts.service_ids), so that a refresh
-- rewrites only the records that moved; the names are looked up for those.
--
-- Locking. conflicts_lock() (0003) made every refresh wait for every other.
-- A refresh now waits only for those whose windows share a UTC day with its
-- own: before it reads, a transaction takes conflicts_lock_windows() of the
-- windows it is about to change, that is one transaction-level advisory
-- lock per UTC day a window covers (key pair (1667326564, day number since
-- 1970-01-01)), in ascending order, after the global key of 0003 taken
-- shared. Two windows that overlap have a day in common, so two
-- transactions that could see each other's conflicts take a common lock and
-- the second refreshes only after the first commits (each statement of a
-- READ COMMITTED transaction reads what was committed when it starts). A
-- window longer than 62 days (freezes can be long) takes the global key
-- exclusively instead: it waits for every narrow one, which holds it
-- shared, and they for it. conflicts_lock() itself is that exclusive lock,
-- still.
--
-- Which windows. A change locks its window as stored in changes and as
-- stored with its impact set (the one its conflict records were computed
-- on: an edit moves the first before the re-assessment moves the second),
-- so a change moving from one week to another serialises with both weeks.
-- A freeze locks its old and its new window. The records a refresh writes
-- are those of pairs overlapping the window it locked, so no two
-- transactions write one record without a common lock. A freeze refresh
-- rewrites only the freeze records of the changes it touches (the pairs of
-- two changes do not depend on freezes), so it needs no lock beyond the
-- freeze's days.
--
-- Deadlocks. Locks taken at one call come in one global order (the global
-- key, then days ascending), and the workflow takes them first in its
-- transaction, before it locks the change's row (db_workflow_lock), so two
-- transactions that each take their locks once cannot deadlock: neither
-- holds anything the other waits for before it has all of its own. A
-- transaction may call again (an edit that moves the window locks the new
-- days after the change's row; a transaction may refresh more than once);
-- a day it already holds is granted at once, but a new day lower than one
-- it holds, or the global key exclusively after holding it shared, can
-- close a cycle with another such transaction. PostgreSQL then aborts one
-- of them with 40P01, which db_tx runs again from the start.

CREATE EXTENSION IF NOT EXISTS intarray;

ALTER TABLE services ADD COLUMN sid integer GENERATED ALWAYS AS IDENTITY;
ALTER TABLE services ADD CONSTRAINT services_sid_key UNIQUE (sid);

-- The impact set of every active change, with its window; at most one row
-- per change. sids: services.sid of the impact set, sorted and distinct;
-- listed: those of the services the change lists (change_services), kept
-- in step with them by a trigger, for the overlap of its pairs.
CREATE TABLE change_impact_sets (
    change_id bigint PRIMARY KEY REFERENCES changes ON DELETE CASCADE,
    win       tstzrange NOT NULL,
    sids      integer[] NOT NULL,
    listed    integer[] NOT NULL DEFAULT '{}'
);
CREATE INDEX change_impact_sets_win ON change_impact_sets USING gist (win);

ALTER TABLE conflicts ADD COLUMN service_ids integer[];

-- The ids of the named services, sorted (unknown names are left out).
CREATE FUNCTION impact_ids(p_names text[]) RETURNS integer[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(array_agg(s.sid ORDER BY s.sid), '{}')
    FROM services s WHERE s.name = ANY (p_names)
$$;

-- The names of the services of p_ids, sorted by name.
CREATE FUNCTION impact_names(p_ids integer[]) RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(array_agg(s.name::text ORDER BY s.name), '{}')
    FROM services s WHERE s.sid = ANY (p_ids)
$$;

-- The ids of the services the change lists, sorted.
CREATE FUNCTION impact_listed(p_change bigint) RETURNS integer[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(array_agg(s.sid ORDER BY s.sid), '{}')
    FROM change_services cs JOIN services s ON s.name = cs.service
    WHERE cs.change_id = p_change
$$;

-- The ids of p_ids that the freeze covers: all of them when it lists no
-- services (freeze_covers() of nothing), else those it lists. The one
-- place, with freeze_covers(), that reads what a freeze covers.
CREATE FUNCTION freeze_covered_ids(p_freeze bigint, p_ids integer[]) RETURNS integer[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN freeze_covers(p_freeze, NULL) THEN p_ids
                ELSE p_ids & ARRAY(SELECT s.sid FROM freeze_services fs
                                   JOIN services s ON s.name = fs.service
                                   WHERE fs.freeze_id = p_freeze) END
$$;

-- Computes and stores the impact set of one change from its services (the
-- service map walked by impact_set()) and its window, as the workflow's
-- assessment does; removes the row when the change is not active or has no
-- window. Idempotent: calling it again stores the same row. It refreshes
-- no conflict record: call conflicts_refresh() afterwards, under
-- conflicts_lock_change() or conflicts_lock() (a bulk load may store every
-- change first and refresh them after). Returns the size of the impact set
-- stored, 0 when none is.
CREATE FUNCTION impact_store(p_change bigint) RETURNS integer
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
    SELECT COALESCE(array_agg(s.sid ORDER BY s.sid), '{}') INTO ids
    FROM impact_set(ARRAY(SELECT cs.service::text FROM change_services cs
                          WHERE cs.change_id = p_change)) i
    JOIN services s ON s.name = i.name;
    INSERT INTO change_impact_sets (change_id, win, sids, listed)
    VALUES (p_change, c.win, ids, impact_listed(p_change))
    ON CONFLICT (change_id) DO UPDATE
       SET win = EXCLUDED.win, sids = EXCLUDED.sids, listed = EXCLUDED.listed;
    RETURN cardinality(ids);
END $$;

-- The services a change lists are read by every refresh of its pairs
-- (the overlap); this keeps the stored copy equal to change_services.
CREATE FUNCTION change_impact_listed_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE change_impact_sets SET listed = impact_listed(OLD.change_id)
        WHERE change_id = OLD.change_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE change_impact_sets SET listed = impact_listed(NEW.change_id)
        WHERE change_id = NEW.change_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER change_impact_listed_sync AFTER INSERT OR UPDATE OR DELETE ON change_services
    FOR EACH ROW EXECUTE FUNCTION change_impact_listed_sync();

-- A deleted service leaves the impact sets, as its change_impact rows
-- went with it (ON DELETE CASCADE).
CREATE FUNCTION change_impact_service_gone() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_impact_sets SET sids = sids - OLD.sid, listed = listed - OLD.sid
    WHERE sids @> ARRAY[OLD.sid];
    RETURN NULL;
END $$;
CREATE TRIGGER change_impact_service_gone AFTER DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION change_impact_service_gone();

-- The rows already there, one per change, and the ids of the services of
-- the records already there.
INSERT INTO change_impact_sets (change_id, win, sids, listed)
SELECT ci.change_id, (array_agg(ci.win))[1], array_agg(s.sid ORDER BY s.sid),
       impact_listed(ci.change_id)
FROM change_impact ci JOIN services s ON s.name = ci.service
GROUP BY ci.change_id;
UPDATE conflicts SET service_ids = impact_ids(services);
DROP TABLE change_impact;

-- Locks ---------------------------------------------------------------------------

-- The UTC days (since 1970-01-01) a window covers, in order.
CREATE FUNCTION conflicts_days(p_win tstzrange) RETURNS SETOF integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT generate_series(
        floor(extract(epoch FROM lower(p_win)) / 86400)::integer,
        CASE WHEN upper_inc(p_win) THEN floor(extract(epoch FROM upper(p_win)) / 86400)::integer
             ELSE ceil(extract(epoch FROM upper(p_win)) / 86400)::integer - 1 END)
    WHERE NOT isempty(p_win)
$$;

-- Takes the conflict locks of the windows (NULLs ignored) until the end of
-- the transaction, as the head of this file says: the global key
-- exclusively when one of them is longer than 62 days, else the global key
-- shared and then each day they cover, ascending.
CREATE FUNCTION conflicts_lock_windows(p_wins tstzrange[]) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    d integer;
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(p_wins) w
               WHERE upper(w) - lower(w) > interval '62 days') THEN
        PERFORM pg_advisory_xact_lock(1667326566);  -- "cabf", as conflicts_lock()
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1667326566);
    FOR d IN SELECT DISTINCT x FROM unnest(p_wins) w, LATERAL conflicts_days(w) x ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(1667326564, d);  -- "cabd"
    END LOOP;
END $$;

-- The windows a change's conflicts depend on: its own and the one its
-- impact set was stored with.
CREATE FUNCTION conflicts_change_windows(p_change bigint) RETURNS tstzrange[]
    LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT c.win FROM changes c WHERE c.id = p_change AND c.win IS NOT NULL
                 UNION SELECT ai.win FROM change_impact_sets ai WHERE ai.change_id = p_change
                 ORDER BY 1)
$$;

-- Takes the conflict locks of a change's windows; read again once they are
-- held (each statement here reads what is committed by then), and taken
-- again until they no longer move: a transaction that moved them
-- meanwhile held a lock of the old ones, so it has committed.
CREATE FUNCTION conflicts_lock_change(p_change bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    wins tstzrange[] := conflicts_change_windows(p_change);
    again tstzrange[];
BEGIN
    LOOP
        PERFORM conflicts_lock_windows(wins);
        again := conflicts_change_windows(p_change);
        EXIT WHEN again <@ wins;
        wins := wins || again;
    END LOOP;
END $$;

-- Likewise for a freeze: its window as stored (none for a new one) and
-- p_win, the window it is given (NULL when it is deleted).
CREATE FUNCTION conflicts_lock_freeze(p_freeze bigint, p_win tstzrange) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    wins tstzrange[] := ARRAY(SELECT f.win FROM freezes f WHERE f.id = p_freeze);
    again tstzrange[];
BEGIN
    IF p_win IS NOT NULL THEN
        wins := wins || p_win;
    END IF;
    LOOP
        PERFORM conflicts_lock_windows(wins);
        again := ARRAY(SELECT f.win FROM freezes f WHERE f.id = p_freeze);
        EXIT WHEN again <@ wins;
        wins := wins || again;
    END LOOP;
END $$;

-- Refresh --------------------------------------------------------------------------

-- The work of conflicts_refresh() (as in 0011), on change_impact_sets:
-- with p_pairs false only the change's freeze records (what a freeze
-- refresh may move). A record is written only when it is new, reopens, or
-- its services, overlap or freeze name moved; the others are left as they
-- are. Returns the records that opened, reopened or resolved; bumps the
-- row revision of the other changes whose shown conflicts moved.
CREATE FUNCTION conflicts_refresh_part(p_change bigint, p_pairs boolean)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql AS $$
DECLARE
    m change_impact_sets;
    touched bigint[];
    shown bigint[];
BEGIN
    -- m stays all NULL when the change is not active: it meets nothing
    SELECT ai.* INTO m FROM change_impact_sets ai JOIN changes c ON c.id = ai.change_id
    WHERE ai.change_id = p_change AND change_is_active(c.state);

    WITH pairs AS (
        SELECT least(p_change, o.change_id) AS a, greatest(p_change, o.change_id) AS b,
               o.sids & m.sids AS ids,
               CASE WHEN (o.listed | m.listed) && (o.sids & m.sids) THEN 'direct'
                    ELSE 'shared' END AS overlap
        FROM change_impact_sets o JOIN changes oc ON oc.id = o.change_id
        WHERE p_pairs AND o.win && m.win AND o.sids && m.sids AND o.change_id <> p_change
          AND change_is_active(oc.state)
    ),
    frozen AS (
        SELECT f.id AS freeze_id, f.name, x.ids
        FROM freezes f, LATERAL (SELECT freeze_covered_ids(f.id, m.sids) AS ids) x
        WHERE f.win && m.win AND cardinality(x.ids) > 0
    ),
    -- the records as the statement found them (every part of one statement
    -- reads the same snapshot)
    earlier AS (
        SELECT r.id, r.kind, r.change_a, r.change_b, r.freeze_id, r.freeze_name, r.state,
               r.overlap, r.service_ids
        FROM change_conflict_records(p_change) r
    ),
    pair_writes AS (
        SELECT p.a, p.b, p.ids, p.overlap, e.id IS NULL OR e.state = 'resolved' AS fresh,
               e.id IS NULL OR e.state = 'resolved' OR e.overlap IS DISTINCT FROM p.overlap AS shows
        FROM pairs p LEFT JOIN earlier e ON e.kind = 'change' AND e.change_a = p.a AND e.change_b = p.b
        WHERE e.id IS NULL OR e.state = 'resolved' OR e.service_ids IS DISTINCT FROM p.ids
           OR e.overlap IS DISTINCT FROM p.overlap
    ),
    pair_names AS (
        SELECT w.a, w.b, array_agg(s.name::text ORDER BY s.name) AS names
        FROM pair_writes w, unnest(w.ids) x(sid) JOIN services s ON s.sid = x.sid
        GROUP BY w.a, w.b
    ),
    freeze_writes AS (
        SELECT z.freeze_id, z.name, z.ids, e.id IS NULL OR e.state = 'resolved' AS fresh
        FROM frozen z LEFT JOIN earlier e ON e.kind = 'freeze' AND e.freeze_id = z.freeze_id
        WHERE e.id IS NULL OR e.state = 'resolved' OR e.service_ids IS DISTINCT FROM z.ids
           OR e.freeze_name IS DISTINCT FROM z.name
    ),
    up_pairs AS (
        INSERT INTO conflicts AS k (kind, change_a, change_b, services, service_ids, overlap)
        SELECT 'change', w.a, w.b, n.names, w.ids, w.overlap
        FROM pair_writes w JOIN pair_names n ON n.a = w.a AND n.b = w.b
        ON CONFLICT (change_a, change_b) WHERE kind = 'change' DO UPDATE
           SET services = EXCLUDED.services,
               service_ids = EXCLUDED.service_ids,
               overlap = EXCLUDED.overlap,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, k.change_a, k.change_b
    ),
    up_freezes AS (
        INSERT INTO conflicts AS k (kind, change_a, freeze_id, freeze_name, services, service_ids)
        SELECT 'freeze', p_change, z.freeze_id, z.name, impact_names(z.ids), z.ids
        FROM freeze_writes z
        ON CONFLICT (change_a, freeze_id) WHERE kind = 'freeze' DO UPDATE
           SET services = EXCLUDED.services, service_ids = EXCLUDED.service_ids,
               freeze_name = EXCLUDED.freeze_name,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, k.freeze_id
    ),
    gone AS (
        UPDATE conflicts k SET state = 'resolved', resolved_at = now()
        FROM earlier e
        WHERE k.id = e.id AND e.state <> 'resolved' AND (p_pairs OR e.kind = 'freeze')
          AND NOT EXISTS (SELECT 1 FROM pairs p WHERE e.kind = 'change'
                          AND p.a = e.change_a AND p.b = e.change_b)
          AND NOT EXISTS (SELECT 1 FROM frozen z WHERE e.kind = 'freeze'
                          AND z.freeze_id = e.freeze_id)
        RETURNING k.id
    )
    SELECT array_agg(x.id) FILTER (WHERE x.fresh), array_agg(x.id) FILTER (WHERE x.shows)
    INTO touched, shown FROM (
        SELECT u.id, w.fresh, w.shows FROM up_pairs u
        JOIN pair_writes w ON w.a = u.change_a AND w.b = u.change_b
        UNION ALL SELECT u.id, z.fresh, z.fresh FROM up_freezes u
        JOIN freeze_writes z ON z.freeze_id = u.freeze_id
        UNION ALL SELECT g.id, true, true FROM gone g) x;

    UPDATE changes c SET rev = c.rev + 1
    WHERE c.id <> p_change AND c.id IN (SELECT k.change_a FROM conflicts k WHERE k.id = ANY (shown)
                                        UNION SELECT k.change_b FROM conflicts k
                                        WHERE k.id = ANY (shown));
    RETURN QUERY SELECT k.id, k.state FROM conflicts k WHERE k.id = ANY (touched) ORDER BY k.id;
END $$;

-- Brings the conflict records of one change up to date (0003, 0007, 0011:
-- pairs with their shared services and overlap, freezes; what no longer
-- holds is resolved; the other changes whose shown conflicts moved get a
-- new rev). Returns the records that changed state. The caller holds
-- conflicts_lock_change() of the change (or conflicts_lock()).
CREATE OR REPLACE FUNCTION conflicts_refresh(p_change bigint)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT r.conflict_id, r.state FROM conflicts_refresh_part(p_change, true) r;
END $$;

-- As in 0007, on change_impact_sets, and refreshing only the freeze records
-- of each change (a freeze moves no pair of two changes). The caller holds
-- conflicts_lock_freeze() of the freeze (or conflicts_lock()).
CREATE OR REPLACE FUNCTION freeze_conflicts_refresh(p_freeze bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    x bigint;
    n integer := 0;
BEGIN
    FOR x IN SELECT ai.change_id FROM change_impact_sets ai
             JOIN freezes f ON f.id = p_freeze AND ai.win && f.win
             JOIN changes c ON c.id = ai.change_id
             WHERE change_is_active(c.state) AND cardinality(freeze_covered_ids(f.id, ai.sids)) > 0
             UNION SELECT k.change_a FROM conflicts k WHERE k.freeze_id = p_freeze
             ORDER BY 1
    LOOP
        IF EXISTS (SELECT 1 FROM conflicts_refresh_part(x, false)) THEN
            UPDATE changes SET rev = rev + 1 WHERE id = x;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
