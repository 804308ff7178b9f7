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

-- What one change adds (p_n 1) to the tallies or takes from them (-1): its
-- start and its last microsecond, each in its hour and its quarter (counted
-- from the epoch in UTC: date_bin of a timestamptz does not read TimeZone);
-- a draft or a change without a window counts nowhere.
CREATE FUNCTION schedule_tally_rows(p_state text, p_win tstzrange, p_n int)
    RETURNS TABLE (minutes smallint, slot timestamptz, state text, starts int, lasts int)
    LANGUAGE sql IMMUTABLE AS $$
    SELECT m.minutes, date_bin(m.width, x.at, timestamptz '1970-01-01 00:00:00+00'), p_state,
           x.starts, x.lasts
    FROM (VALUES (15::smallint, interval '15 minutes'), (60::smallint, interval '1 hour'))
             m(minutes, width),
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

-- Every local date (p_tz) of [p_from, p_to), in order, each with the count
-- by state of the non-draft changes whose window, cut to the period,
-- touches it: {date, by_state}, a state whose count is 0 left out. The
-- changes running at p_from (the GiST on windows), plus the starts of the
-- days up to it, less the lasts of the days before it. Reads the running
-- changes and the tallies of the period, no other change but those that
-- start or end in what is left of a quarter at from or to.
--
-- d: the first instant of each local date and of the next one. A local
-- midnight that does not exist (clocks going forward at midnight) is read
-- with the offset before the change, which is the instant the day starts;
-- one that happens twice (clocks going back from one o'clock to midnight,
-- as in America/Havana) is read by PostgreSQL with the offset after it,
-- the later of the two, so it is also read with the offset of three hours
-- before, and the earlier of the two that falls on the date is the start.
-- e: each day's part [a, b) of the period. g: with h1, h2 the first and
-- last hour boundary (from the epoch, in UTC) in [a, b) and q1, q2 the quarter ones, the pieces
-- whose starts and lasts are counted: hours [h1, h2), quarters [q1, h1)
-- and [h2, q2), changes [a, q1) and [q2, b) (starts from changes_scheduled
-- (0013), lasts from the GiST on windows (0001)); without a whole hour in
-- it the quarters are [q1, q2), without a whole quarter the changes are
-- [a, b). t: the starts and lasts of each day by state.
--
-- PL/pgSQL, so that the plan is kept for the connection; without JIT,
-- which the planner's guess of the cost (it cannot know how few days and
-- states there are) would switch on, and which then costs more time than
-- the whole statement.
CREATE FUNCTION schedule_days(p_from timestamptz, p_to timestamptz, p_tz text) RETURNS json
    LANGUAGE plpgsql STABLE SET jit = off AS $$
BEGIN
    RETURN (
    WITH d AS (SELECT x.day, COALESCE(least(CASE WHEN (y.t AT TIME ZONE p_tz)::date = x.day
                                                 THEN y.t END,
                                            CASE WHEN (z.e AT TIME ZONE p_tz)::date = x.day
                                                 THEN z.e END), y.t) AS ds
               FROM generate_series(date_trunc('day', p_from AT TIME ZONE p_tz),
                                    date_trunc('day', (p_to - interval '1 microsecond')
                                                      AT TIME ZONE p_tz) + interval '1 day',
                                    interval '1 day') g(x),
                    LATERAL (SELECT g.x::date AS day) x,
                    LATERAL (SELECT x.day::timestamp AT TIME ZONE p_tz AS t) y,
                    LATERAL (SELECT (x.day::timestamp
                                     - ((y.t - interval '3 hours') AT TIME ZONE p_tz
                                        - (y.t - interval '3 hours') AT TIME ZONE 'UTC'))
                                    AT TIME ZONE 'UTC' AS e) z),
         e AS (SELECT x.day, greatest(x.ds, p_from) AS a, least(x.de, p_to) AS b
               FROM (SELECT d.day, d.ds, lead(d.ds) OVER (ORDER BY d.day) AS de FROM d) x
               WHERE x.de IS NOT NULL),
         g AS (SELECT e.day, v.minutes, v.lo, v.hi
               FROM e,
                    LATERAL (SELECT date_bin('15 minutes', e.a + interval '15 minutes'
                                                           - interval '1 microsecond', o.o) AS q1,
                                    date_bin('15 minutes', e.b, o.o) AS q2,
                                    date_bin('1 hour', e.a + interval '1 hour'
                                                       - interval '1 microsecond', o.o) AS h1,
                                    date_bin('1 hour', e.b, o.o) AS h2
                             FROM (SELECT timestamptz '1970-01-01 00:00:00+00' AS o) o) y,
                    LATERAL (SELECT CASE WHEN y.q1 < y.q2 THEN y.q1 ELSE e.b END AS q1,
                                    CASE WHEN y.q1 < y.q2 THEN y.q2 ELSE e.b END AS q2) q,
                    LATERAL (SELECT CASE WHEN y.h1 < y.h2 THEN y.h1 ELSE q.q1 END AS h1,
                                    CASE WHEN y.h1 < y.h2 THEN y.h2 ELSE q.q1 END AS h2) h,
                    LATERAL (VALUES (60::smallint, h.h1, h.h2), (15::smallint, q.q1, h.h1),
                                    (15::smallint, h.h2, q.q2), (0::smallint, e.a, q.q1),
                                    (0::smallint, q.q2, e.b)) v(minutes, lo, hi)
               WHERE v.lo < v.hi),
         t AS (SELECT g.day, u.state, sum(u.starts) AS starts, sum(u.lasts) AS lasts
               FROM g, LATERAL (
                   SELECT s.state, s.starts, s.lasts FROM schedule_tallies s
                   WHERE g.minutes > 0 AND s.minutes = g.minutes
                     AND s.slot >= g.lo AND s.slot < g.hi
                   UNION ALL
                   SELECT c.state, 1, 0 FROM changes c
                   WHERE g.minutes = 0 AND c.state <> 'draft' AND c.win IS NOT NULL
                     AND lower(c.win) >= g.lo AND lower(c.win) < g.hi
                   UNION ALL
                   SELECT c.state, 0, 1 FROM changes c
                   WHERE g.minutes = 0 AND c.state <> 'draft' AND c.win IS NOT NULL
                     AND c.win && tstzrange(g.lo, g.hi, '(]')
                     AND upper(c.win) > g.lo AND upper(c.win) <= g.hi) u
               GROUP BY g.day, u.state),
         r AS (SELECT c.state, count(*) AS k FROM changes c
               WHERE c.state <> 'draft' AND c.win IS NOT NULL
               AND c.win @> p_from AND c.win && tstzrange(NULL, p_from)
               GROUP BY c.state),
         s AS (SELECT r.state FROM r UNION SELECT t.state FROM t),
         n AS (SELECT e.day, s.state,
                      (COALESCE(r.k, 0) + sum(COALESCE(t.starts, 0)) OVER w
                       - sum(COALESCE(t.lasts, 0)) OVER w + COALESCE(t.lasts, 0))::bigint AS k
               FROM e CROSS JOIN s LEFT JOIN r ON r.state = s.state
               LEFT JOIN t ON t.day = e.day AND t.state = s.state
               WINDOW w AS (PARTITION BY s.state ORDER BY e.day)),
         nd AS (SELECT n.day, json_object_agg(n.state, n.k ORDER BY n.state) AS by_state FROM n
                WHERE n.k > 0 GROUP BY n.day)
    SELECT COALESCE(json_agg(json_build_object('date', e.day,
                                               'by_state', COALESCE(nd.by_state, '{}'))
                             ORDER BY e.day), '[]')
    FROM e LEFT JOIN nd ON nd.day = e.day);
END
$$;
