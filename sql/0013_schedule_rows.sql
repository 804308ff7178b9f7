-- The forward schedule and the CAB agenda in compact rows, a page at a
-- time, by window start then id: indexes that hold those changes in that
-- order, the row itself, and the page functions, which read only the rows
-- of the page (and the few changes already running when the period
-- starts).

-- Non-draft changes with a window, and changes awaiting approval, by
-- (window start, id): a page is a range scan of one of them.
CREATE INDEX changes_scheduled ON changes (lower(win), id)
    WHERE state <> 'draft' AND win IS NOT NULL;
CREATE INDEX changes_awaiting ON changes (lower(win), id)
    WHERE state = 'awaiting_approval' AND win IS NOT NULL;
-- The planner's statistics of window starts: those of an expression index
-- are not used when the index is partial, and without them a range of
-- starts is guessed at a fixed share of the table, which can make a month
-- look small enough to read whole and sort.
CREATE STATISTICS changes_win_start ON (lower(win)) FROM changes;
-- The agenda's changes already running when its period starts: changes_win
-- (0001) holds every change, most of them not awaiting approval.
CREATE INDEX changes_awaiting_win ON changes USING gist (win)
    WHERE state = 'awaiting_approval' AND win IS NOT NULL;

-- A change as the schedule and the agenda list it: what a timeline needs,
-- no document. level is the latest assessment's, conflict_count its
-- unresolved conflicts.
CREATE FUNCTION change_row(c changes) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'ref', 'CHG-' || c.id,
        'title', c.title,
        'state', c.state,
        'kind', (SELECT m.kind FROM models m WHERE m.name = c.model),
        'window', json_build_object('start', cab_ts(lower(c.win)), 'end', cab_ts(upper(c.win))),
        'services', COALESCE((SELECT json_agg(cs.service ORDER BY cs.service)
                              FROM change_services cs WHERE cs.change_id = c.id), '[]'),
        'level', (SELECT a.level FROM assessments a WHERE a.change_id = c.id
                  ORDER BY a.id DESC LIMIT 1),
        'conflict_count', (SELECT count(*) FROM change_conflict_records(c.id) k
                           WHERE k.state <> 'resolved'))
$$;

-- A page position as a cursor holds it: microseconds since the epoch.
CREATE FUNCTION schedule_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000000)::bigint
$$;
CREATE FUNCTION schedule_at(us bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$
    SELECT timestamptz 'epoch' + us * interval '1 microsecond'
$$;

-- The non-draft changes whose window overlaps [p_from, p_to), after the
-- position (p_start, p_id), by (window start, id), at most p_limit. Two
-- parts, each on an index: the changes already running at p_from (the GiST
-- on win, asked only range questions, and the position tested after it,
-- behind OFFSET 0, so that no plan reads them from changes_scheduled,
-- which would start at the beginning of time; they are few, and all come
-- before the others), and those starting within the period: a range read
-- of changes_scheduled from the later of p_from and p_start, no further
-- than the page. There the position is tested as an OR, not a row
-- comparison, whose range the index would start at p_start however far
-- before p_from it lies. The
-- period's bounds may be infinite; p_start -infinity with p_id 0 is the
-- first page. A SQL function of one SELECT, so that the planner inlines it
-- where it is called and plans it with the caller's values.
CREATE FUNCTION schedule_page(p_from timestamptz, p_to timestamptz, p_start timestamptz,
                              p_id bigint, p_limit int) RETURNS SETOF changes
    LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT a.* FROM (SELECT c.* FROM changes c
                         WHERE c.state <> 'draft' AND c.win IS NOT NULL
                           AND c.win @> p_from AND c.win && tstzrange(NULL, p_from)
                         OFFSET 0) a
        WHERE (lower(a.win), a.id) > (p_start, p_id)
        UNION ALL
        (SELECT c.* FROM changes c
         WHERE c.state <> 'draft' AND c.win IS NOT NULL
           AND lower(c.win) >= greatest(p_from, p_start) AND lower(c.win) < p_to
           AND (lower(c.win) > p_start OR (lower(c.win) = p_start AND c.id > p_id))
         ORDER BY lower(c.win), c.id LIMIT p_limit)) c
    ORDER BY lower(c.win), c.id LIMIT p_limit
$$;

-- The same for changes awaiting approval (changes_awaiting_win,
-- changes_awaiting).
CREATE FUNCTION agenda_page(p_from timestamptz, p_to timestamptz, p_start timestamptz,
                            p_id bigint, p_limit int) RETURNS SETOF changes
    LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT a.* FROM (SELECT c.* FROM changes c
                         WHERE c.state = 'awaiting_approval' AND c.win IS NOT NULL
                           AND c.win @> p_from AND c.win && tstzrange(NULL, p_from)
                         OFFSET 0) a
        WHERE (lower(a.win), a.id) > (p_start, p_id)
        UNION ALL
        (SELECT c.* FROM changes c
         WHERE c.state = 'awaiting_approval' AND c.win IS NOT NULL
           AND lower(c.win) >= greatest(p_from, p_start) AND lower(c.win) < p_to
           AND (lower(c.win) > p_start OR (lower(c.win) = p_start AND c.id > p_id))
         ORDER BY lower(c.win), c.id LIMIT p_limit)) c
    ORDER BY lower(c.win), c.id LIMIT p_limit
$$;

-- Whether PostgreSQL knows the time zone p (for the schedule by local day):
-- asking it costs nothing, where looking the name up in pg_timezone_names
-- reads every zone file. The caller has made sure that p is written as an
-- IANA name, so that an abbreviation or a POSIX rule, which PostgreSQL
-- would also take, never reaches here.
CREATE FUNCTION cab_zone_known(p text) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM now() AT TIME ZONE p;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
