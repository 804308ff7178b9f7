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
-- services as the intersection (intarray &). A row gets a new stamp on
-- every write, and a pair's record keeps the stamps of the two rows it was
-- computed from (conflicts.stamps) and the ids of its services
-- (conflicts.service_ids): a refresh leaves a record whose rows have not
-- been written since as it is, with no array work, and looks names up only
-- for the records whose services moved. The conflict events of 0011 are
-- built by a PL/pgSQL conflict_event(), whose plan is kept.
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
CREATE SEQUENCE change_impact_stamps;
CREATE TABLE change_impact_sets (
    change_id bigint PRIMARY KEY REFERENCES changes ON DELETE CASCADE,
    win       tstzrange NOT NULL,
    sids      integer[] NOT NULL,
    listed    integer[] NOT NULL DEFAULT '{}',
    -- new on every write of the row (change_impact_stamp)
    stamp     bigint NOT NULL DEFAULT nextval('change_impact_stamps')
) WITH (toast_tuple_target = 8160);  -- a thousand ids stay in the row, uncompressed
CREATE INDEX change_impact_sets_win ON change_impact_sets USING gist (win);

CREATE FUNCTION change_impact_stamp() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.stamp := nextval('change_impact_stamps');
    RETURN NEW;
END $$;
CREATE TRIGGER change_impact_stamp BEFORE UPDATE ON change_impact_sets
    FOR EACH ROW EXECUTE FUNCTION change_impact_stamp();

-- service_ids: the ids of services; stamps: for a pair, the stamps of the
-- two impact rows (change_a's, change_b's) it was computed from.
ALTER TABLE conflicts ADD COLUMN service_ids integer[], ADD COLUMN stamps bigint[];

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
-- window. Idempotent: calling it again writes nothing (the row keeps its
-- stamp, so the records computed from it stay as they are). It refreshes
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
       SET win = EXCLUDED.win, sids = EXCLUDED.sids, listed = EXCLUDED.listed
       WHERE (change_impact_sets.win, change_impact_sets.sids, change_impact_sets.listed)
             IS DISTINCT FROM (EXCLUDED.win, EXCLUDED.sids, EXCLUDED.listed);
    RETURN cardinality(ids);
END $$;

-- The services a change lists are read by every refresh of its pairs
-- (the overlap); this keeps the stored copy equal to change_services.
CREATE FUNCTION change_impact_listed_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE change_impact_sets SET listed = impact_listed(OLD.change_id)
        WHERE change_id = OLD.change_id AND listed IS DISTINCT FROM impact_listed(OLD.change_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE change_impact_sets SET listed = impact_listed(NEW.change_id)
        WHERE change_id = NEW.change_id AND listed IS DISTINCT FROM impact_listed(NEW.change_id);
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
-- refresh may move).
--
-- The candidates are the active changes whose stored window overlaps the
-- change's (GiST). A candidate whose unresolved record was computed from
-- the impact rows as they still are (the same two stamps) still holds as
-- recorded and costs no array operation; the others are met (&&) and
-- intersected (&) afresh and their records written: new ones inserted,
-- existing ones updated (services looked up by name only when their ids
-- moved). What no longer holds is resolved. Returns the records that
-- opened, reopened or resolved; bumps the row revision of the other
-- changes whose shown conflicts moved (opened, reopened, resolved, or a
-- pair's overlap).
--
-- Its statements are planned once per connection (force_generic_plan): a
-- plan made for each call's values costs as much as running it, and the
-- generic one is the same (the GiST index on the window, probes of the
-- keys).
CREATE FUNCTION conflicts_refresh_part(p_change bigint, p_pairs boolean)
    RETURNS TABLE (conflict_id bigint, state text)
    LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    m change_impact_sets;
    touched bigint[];
    shown bigint[];
BEGIN
    -- m stays all NULL when the change is not active: it meets nothing
    SELECT ai.* INTO m FROM change_impact_sets ai JOIN changes c ON c.id = ai.change_id
    WHERE ai.change_id = p_change AND change_is_active(c.state);

    WITH cand AS (
        SELECT least(p_change, o.change_id) AS a, greatest(p_change, o.change_id) AS b,
               o.sids, o.listed,
               CASE WHEN p_change < o.change_id THEN ARRAY[m.stamp, o.stamp]
                    ELSE ARRAY[o.stamp, m.stamp] END AS stamps
        FROM change_impact_sets o
        WHERE p_pairs AND o.win && m.win AND o.change_id <> p_change
          -- a probe of changes' key per candidate (a subquery, not a join,
          -- so that it is never a scan of every change)
          AND (SELECT change_is_active(oc.state) FROM changes oc WHERE oc.id = o.change_id)
    ),
    -- the records as the statement found them (every part of one statement
    -- reads the same snapshot)
    earlier AS (
        SELECT r.id, r.kind, r.change_a, r.change_b, r.freeze_id, r.freeze_name, r.state,
               r.service_ids
        FROM change_conflict_records(p_change) r
    ),
    judged AS (
        SELECT c.a, c.b, c.sids, c.listed, c.stamps, e.id AS rid, e.state AS was,
               e.overlap AS was_overlap, e.service_ids AS was_ids,
               COALESCE(e.state <> 'resolved' AND e.stamps = c.stamps, false) AS kept
        -- a probe of the pair index per candidate (the same snapshot)
        FROM cand c LEFT JOIN conflicts e
          ON e.kind = 'change' AND e.change_a = c.a AND e.change_b = c.b
    ),
    computed AS (
        SELECT j.a, j.b, j.stamps, j.rid, j.was, j.was_overlap, j.was_ids, x.ids,
               CASE WHEN (j.listed | m.listed) && x.ids THEN 'direct' ELSE 'shared' END
                   AS overlap
        FROM judged j, LATERAL (SELECT j.sids & m.sids AS ids OFFSET 0) x
        WHERE NOT j.kept AND j.sids && m.sids
    ),
    pairs AS (
        SELECT j.a, j.b FROM judged j WHERE j.kept
        UNION ALL SELECT w.a, w.b FROM computed w
    ),
    -- one probe of services' sid key per shared service (unnested first:
    -- joined per pair, the generic plan hashed every service per pair)
    named AS (
        SELECT u.a, u.b, array_agg(s.name::text ORDER BY s.name) AS names
        FROM (SELECT w.a, w.b, unnest(w.ids) AS sid FROM computed w
              WHERE w.rid IS NULL OR w.was_ids IS DISTINCT FROM w.ids) u
        JOIN services s ON s.sid = u.sid
        GROUP BY u.a, u.b
    ),
    frozen AS (
        SELECT f.id AS freeze_id, f.name, x.ids
        FROM freezes f, LATERAL (SELECT freeze_covered_ids(f.id, m.sids) AS ids) x
        WHERE f.win && m.win AND cardinality(x.ids) > 0
    ),
    freeze_writes AS (
        SELECT z.freeze_id, z.name, z.ids, e.id IS NULL OR e.state = 'resolved' AS fresh
        FROM frozen z LEFT JOIN earlier e ON e.kind = 'freeze' AND e.freeze_id = z.freeze_id
        WHERE e.id IS NULL OR e.state = 'resolved' OR e.service_ids IS DISTINCT FROM z.ids
           OR e.freeze_name IS DISTINCT FROM z.name
    ),
    new_pairs AS (
        INSERT INTO conflicts AS k (kind, change_a, change_b, services, service_ids, overlap,
                                    stamps)
        SELECT 'change', w.a, w.b, n.names, w.ids, w.overlap, w.stamps
        FROM computed w JOIN named n ON n.a = w.a AND n.b = w.b
        WHERE w.rid IS NULL
        -- only when a record appeared meanwhile (a caller without the lock)
        ON CONFLICT (change_a, change_b) WHERE kind = 'change' DO UPDATE
           SET services = EXCLUDED.services, service_ids = EXCLUDED.service_ids,
               overlap = EXCLUDED.overlap, stamps = EXCLUDED.stamps,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        RETURNING k.id, k.change_a, k.change_b
    ),
    old_pairs AS (
        UPDATE conflicts k
           SET services = COALESCE(n.names, k.services), service_ids = w.ids,
               overlap = w.overlap, stamps = w.stamps,
               state = CASE WHEN k.state = 'resolved' THEN 'open' ELSE k.state END,
               detected_at = CASE WHEN k.state = 'resolved' THEN now() ELSE k.detected_at END,
               resolved_at = NULL
        FROM computed w LEFT JOIN named n ON n.a = w.a AND n.b = w.b
        WHERE w.rid IS NOT NULL AND k.id = w.rid
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
        WHERE k.id = ANY (ARRAY(
            SELECT e.id FROM earlier e
            WHERE e.state <> 'resolved' AND (p_pairs OR e.kind = 'freeze')
              AND NOT EXISTS (SELECT 1 FROM pairs p WHERE e.kind = 'change'
                              AND p.a = e.change_a AND p.b = e.change_b)
              AND NOT EXISTS (SELECT 1 FROM frozen z WHERE e.kind = 'freeze'
                              AND z.freeze_id = e.freeze_id)))
        RETURNING k.id
    )
    SELECT array_agg(x.id) FILTER (WHERE x.fresh), array_agg(x.id) FILTER (WHERE x.shows)
    INTO touched, shown FROM (
        SELECT u.id, w.rid IS NULL OR w.was = 'resolved' AS fresh,
               w.rid IS NULL OR w.was = 'resolved' OR w.was_overlap IS DISTINCT FROM w.overlap
                   AS shows
        FROM (SELECT * FROM new_pairs UNION ALL SELECT * FROM old_pairs) u
        JOIN computed w ON w.a = u.change_a AND w.b = u.change_b
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
-- 0011's conflict_event(), the same object, in PL/pgSQL: the trigger that
-- emits an event per conflict record calls it once per record, and a SQL
-- function that is not inlined is planned again on every call, which cost
-- more than the rest of the event; PL/pgSQL keeps its plan per connection.
CREATE OR REPLACE FUNCTION conflict_event(k conflicts) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
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
                                                      WHERE f.id = k.freeze_id)) END);
END $$;
