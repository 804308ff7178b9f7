-- The schedule by local day (README "Conflicts and the schedule",
-- group=day) from counters, so that it costs what the reply holds, not
-- what the period holds.
--
-- A non-draft change with a window [s, e) counts on a local day D = [ds,
-- de) of the period [f, t) when its window, cut to the period, overlaps the
-- day; with a = greatest(ds, f) and b = least(de, t) that is s < b and
-- e > a (the cut at f and t moves to the day's own bounds). Counting by
-- the window's start s and its last microsecond l = e - 1 µs (e > a is
-- l >= a), the changes counted on D are
--     running(f) + starts in [f, b) - lasts in [f, a)
-- where running(f) are the changes with s < f < e (s < f and l >= f). The
-- days of a period tile it ([a, b) of one day is [b, ...) of the next), so
-- with starts and lasts counted per day over [a, b), a day's count is
-- running(f) plus the starts of the days up to it and itself, less the
-- lasts of the days before it.
--
-- Starts and lasts are counted by UTC hour and by UTC quarter of an hour
-- (schedule_tallies), for every non-draft change with a window, kept by
-- triggers on changes. Every offset a zone uses today is a whole number of
-- quarter hours (tests/api/test_schedule_days.py checks pg_timezone_names),
-- so a local day's bounds fall on quarter hours: its count reads its hours
-- and at most three quarters at either end. Bounds that do not (from and
-- to, or a historical offset such as local mean time) read the changes of
-- that part of a quarter themselves, from the indexes on windows.

CREATE TABLE schedule_tallies (
    minutes smallint NOT NULL CHECK (minutes IN (15, 60)),
    slot    timestamptz NOT NULL,
    state   text NOT NULL,
    starts  integer NOT NULL,
    lasts   integer NOT NULL,
    PRIMARY KEY (minutes, slot, state)
) WITH (fillfactor = 80);

-- The slot of width p_minutes that holds the instant p_t, counted from the
-- epoch in UTC (date_bin of a timestamptz does not read TimeZone).
CREATE FUNCTION schedule_slot(p_minutes int, p_t timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$
    SELECT date_bin(make_interval(mins => p_minutes), p_t, timestamptz '1970-01-01 00:00:00+00')
$$;
-- The first slot boundary at or after p_t.
CREATE FUNCTION schedule_slot_up(p_minutes int, p_t timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN schedule_slot(p_minutes, p_t) = p_t THEN p_t
                ELSE schedule_slot(p_minutes, p_t) + make_interval(mins => p_minutes) END
$$;

-- What one change adds (p_n 1) to the tallies or takes from them (-1): its
-- start and its last microsecond, each in its hour and its quarter; a draft
-- or a change without a window counts nowhere.
CREATE FUNCTION schedule_tally_rows(p_state text, p_win tstzrange, p_n int)
    RETURNS TABLE (minutes smallint, slot timestamptz, state text, starts int, lasts int)
    LANGUAGE sql IMMUTABLE AS $$
    SELECT m.minutes, schedule_slot(m.minutes, x.at), p_state, x.starts, x.lasts
    FROM (VALUES (15::smallint), (60::smallint)) m(minutes),
         (VALUES (lower(p_win), p_n, 0), (upper(p_win) - interval '1 microsecond', 0, p_n))
             x(at, starts, lasts)
    WHERE p_state <> 'draft' AND p_win IS NOT NULL
$$;

-- The triggers add the rows' deltas, summed by row, in the order of the
-- key: two writers that touch the same rows lock them in the same order,
-- so within one statement they wait for each other but never deadlock.
-- Inserts and deletes are counted once a statement (a bulk insert is one
-- grouped upsert), a change of state or window once a row.
CREATE FUNCTION schedule_tally_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schedule_tallies AS t (minutes, slot, state, starts, lasts)
    SELECT r.minutes, r.slot, r.state, sum(r.starts), sum(r.lasts)
    FROM new_changes c, LATERAL schedule_tally_rows(c.state, c.win, 1) r
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (minutes, slot, state)
    DO UPDATE SET starts = t.starts + EXCLUDED.starts, lasts = t.lasts + EXCLUDED.lasts;
    RETURN NULL;
END
$$;

CREATE FUNCTION schedule_tally_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schedule_tallies AS t (minutes, slot, state, starts, lasts)
    SELECT r.minutes, r.slot, r.state, sum(r.starts), sum(r.lasts)
    FROM old_changes c, LATERAL schedule_tally_rows(c.state, c.win, -1) r
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (minutes, slot, state)
    DO UPDATE SET starts = t.starts + EXCLUDED.starts, lasts = t.lasts + EXCLUDED.lasts;
    RETURN NULL;
END
$$;

CREATE FUNCTION schedule_tally_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schedule_tallies AS t (minutes, slot, state, starts, lasts)
    SELECT r.minutes, r.slot, r.state, sum(r.starts), sum(r.lasts)
    FROM (VALUES (OLD.state, OLD.win, -1), (NEW.state, NEW.win, 1)) c(state, win, n),
         LATERAL schedule_tally_rows(c.state, c.win, c.n) r
    GROUP BY 1, 2, 3 HAVING sum(r.starts) <> 0 OR sum(r.lasts) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (minutes, slot, state)
    DO UPDATE SET starts = t.starts + EXCLUDED.starts, lasts = t.lasts + EXCLUDED.lasts;
    RETURN NULL;
END
$$;

CREATE FUNCTION schedule_tally_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE schedule_tallies;
    RETURN NULL;
END
$$;

CREATE TRIGGER schedule_tally_insert AFTER INSERT ON changes
    REFERENCING NEW TABLE AS new_changes
    FOR EACH STATEMENT EXECUTE FUNCTION schedule_tally_insert();
CREATE TRIGGER schedule_tally_delete AFTER DELETE ON changes
    REFERENCING OLD TABLE AS old_changes
    FOR EACH STATEMENT EXECUTE FUNCTION schedule_tally_delete();
CREATE TRIGGER schedule_tally_update AFTER UPDATE OF state, win ON changes
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.win IS DISTINCT FROM NEW.win)
    EXECUTE FUNCTION schedule_tally_update();
CREATE TRIGGER schedule_tally_truncate AFTER TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION schedule_tally_truncate();

-- The tallies counted again from every change, wholesale: after a bulk load
-- made with the insert trigger disabled, or to check the kept ones. Writes
-- to changes wait until the caller's transaction ends; readers of the
-- tallies wait too (TRUNCATE), so that none sees them half built.
CREATE FUNCTION schedule_tally_rebuild() RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    LOCK TABLE changes IN SHARE MODE;
    TRUNCATE schedule_tallies;
    INSERT INTO schedule_tallies (minutes, slot, state, starts, lasts)
    SELECT r.minutes, r.slot, r.state, sum(r.starts), sum(r.lasts)
    FROM changes c, LATERAL schedule_tally_rows(c.state, c.win, 1) r
    WHERE c.state <> 'draft' AND c.win IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
    GET DIAGNOSTICS n = ROW_COUNT;
    ANALYZE schedule_tallies;
    RETURN n;
END
$$;

SELECT schedule_tally_rebuild();

-- The first instant of the local date p_day in the zone p_tz. A local
-- midnight that does not exist (clocks going forward at midnight) is read
-- with the offset before the change, which is the instant the day starts;
-- one that happens twice (clocks going back from one o'clock to midnight,
-- as in America/Havana) is read by PostgreSQL with the offset after it,
-- the later of the two, so it is also read with the offset of three hours
-- before, and the earlier of the two that falls on p_day is the start.
CREATE FUNCTION schedule_day_start(p_day date, p_tz text) RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(least(CASE WHEN (x.t AT TIME ZONE p_tz)::date = p_day THEN x.t END,
                          CASE WHEN (y.e AT TIME ZONE p_tz)::date = p_day THEN y.e END), x.t)
    FROM (SELECT p_day::timestamp AT TIME ZONE p_tz AS t) x,
         LATERAL (SELECT (p_day::timestamp - ((x.t - interval '3 hours') AT TIME ZONE p_tz
                                              - (x.t - interval '3 hours') AT TIME ZONE 'UTC'))
                         AT TIME ZONE 'UTC' AS e) y
$$;

-- The starts and the lasts by state of the non-draft changes in [p_a,
-- p_b): whole hours, then whole quarters at either end, then what is left
-- of a quarter at either end from the changes themselves (starts from
-- changes_scheduled (0013), lasts from the GiST on windows (0001)). With
-- h1, h2 the first and last hour boundary inside and q1, q2 the quarter
-- ones: hours [h1, h2), quarters [q1, h1) and [h2, q2), changes [a, q1) and
-- [q2, b); without a whole hour the quarters are [q1, q2), and without a
-- whole quarter the changes are [a, b). A SQL function of one SELECT, so
-- that it is inlined where it is called; the pieces that are empty are
-- skipped by a one-time test.
CREATE FUNCTION schedule_tally(p_a timestamptz, p_b timestamptz)
    RETURNS TABLE (state text, starts bigint, lasts bigint)
    LANGUAGE sql STABLE AS $$
    SELECT u.state, sum(u.starts)::bigint, sum(u.lasts)::bigint
    FROM (SELECT p_a AS a, p_b AS b, q.q1, q.q2,
                 CASE WHEN h.h1 < h.h2 THEN h.h1 ELSE q.q1 END AS h1,
                 CASE WHEN h.h1 < h.h2 THEN h.h2 ELSE q.q1 END AS h2
          FROM (SELECT schedule_slot_up(60, p_a) AS h1, schedule_slot(60, p_b) AS h2) h,
               (SELECT CASE WHEN z.q1 < z.q2 THEN z.q1 ELSE p_b END AS q1,
                       CASE WHEN z.q1 < z.q2 THEN z.q2 ELSE p_b END AS q2
                FROM (SELECT schedule_slot_up(15, p_a) AS q1, schedule_slot(15, p_b) AS q2) z) q
         ) p,
         LATERAL (
             SELECT t.state, t.starts, t.lasts FROM schedule_tallies t
             WHERE p.h1 < p.h2 AND t.minutes = 60 AND t.slot >= p.h1 AND t.slot < p.h2
             UNION ALL
             SELECT t.state, t.starts, t.lasts FROM schedule_tallies t
             WHERE p.q1 < p.h1 AND t.minutes = 15 AND t.slot >= p.q1 AND t.slot < p.h1
             UNION ALL
             SELECT t.state, t.starts, t.lasts FROM schedule_tallies t
             WHERE p.h2 < p.q2 AND t.minutes = 15 AND t.slot >= p.h2 AND t.slot < p.q2
             UNION ALL
             SELECT c.state, 1, 0 FROM changes c
             WHERE p.a < p.q1 AND c.state <> 'draft' AND c.win IS NOT NULL
               AND lower(c.win) >= p.a AND lower(c.win) < p.q1
             UNION ALL
             SELECT c.state, 1, 0 FROM changes c
             WHERE p.q2 < p.b AND c.state <> 'draft' AND c.win IS NOT NULL
               AND lower(c.win) >= p.q2 AND lower(c.win) < p.b
             UNION ALL
             SELECT c.state, 0, 1 FROM changes c
             WHERE p.a < p.q1 AND c.state <> 'draft' AND c.win IS NOT NULL
               AND c.win && tstzrange(p.a, p.q1, '(]')
               AND upper(c.win) > p.a AND upper(c.win) <= p.q1
             UNION ALL
             SELECT c.state, 0, 1 FROM changes c
             WHERE p.q2 < p.b AND c.state <> 'draft' AND c.win IS NOT NULL
               AND c.win && tstzrange(p.q2, p.b, '(]')
               AND upper(c.win) > p.q2 AND upper(c.win) <= p.b) u
    GROUP BY u.state
$$;
