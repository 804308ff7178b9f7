"""The schedule by local day from its counters (README "Conflicts and the
schedule", group=day; sql/0016_schedule_tallies.sql): every zone's offset
today is a whole number of quarter hours, the days read from the tallies
equal the aggregate over every change of the period (the statement the
schedule used before, kept here as the oracle) on random windows and
periods — windows crossing from and to, ending at local midnight or on a
quarter, days of 23 and 25 hours, zones a half or a quarter hour off UTC,
a midnight that happens twice or not at all, and an offset of seconds —
and the triggers keep the tallies equal to a rebuild across create,
submit, window edit, cancel, direct updates, delete and truncate.

The module has a database of its own; each test works in a stretch of time
no other test uses."""

import json
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import ok, unique

STATES = ["awaiting_approval", "approved", "rejected", "in_progress", "review", "closed",
          "cancelled"]

# The statement the schedule by day was before the counters, for the
# whole period (no service): the oracle.
ORACLE = """
WITH p AS (SELECT {f}::timestamptz AS f, {t}::timestamptz AS t, {tz}::text AS tz),
 c AS (SELECT c.state, greatest(lower(c.win), p.f) AS s, least(upper(c.win), p.t) AS e
       FROM changes c, p WHERE c.state <> 'draft' AND c.win IS NOT NULL
       AND c.win && tstzrange(p.f, p.t)),
 n AS (SELECT d::date AS day, c.state, count(*) AS k FROM c, p,
       generate_series(date_trunc('day', c.s AT TIME ZONE p.tz),
                       date_trunc('day', (c.e - interval '1 microsecond') AT TIME ZONE p.tz),
                       interval '1 day') d
       GROUP BY 1, 2),
 nd AS (SELECT day, json_object_agg(state, k ORDER BY state) AS by_state FROM n GROUP BY day),
 days AS (SELECT d::date AS day FROM p,
          generate_series(date_trunc('day', p.f AT TIME ZONE p.tz),
                          date_trunc('day', (p.t - interval '1 microsecond') AT TIME ZONE p.tz),
                          interval '1 day') d)
 SELECT COALESCE(json_agg(json_build_object('date', days.day,
                                            'by_state', COALESCE(nd.by_state, '{{}}'))
                          ORDER BY days.day), '[]')
 FROM days LEFT JOIN nd ON nd.day = days.day"""

KEPT = ("SELECT COALESCE(json_agg(json_build_array(minutes, slot, state, starts, lasts)"
        " ORDER BY minutes, slot, state), '[]') FROM schedule_tallies"
        " WHERE starts <> 0 OR lasts <> 0")


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def oracle(server, periods):
    """The oracle's days of each (from, to, zone)."""
    sql = "SELECT json_build_array(" + ", ".join(
        f"({ORACLE.format(f=lit(ts(f)), t=lit(ts(t)), tz=lit(z))})" for f, t, z in periods) + ")"
    return server.psql_json(sql, timeout=120)


def by_day(server, frm, to, tz, **extra):
    body = ok(server.as_("bob").get("/schedule", params={
        "from": ts(frm), "to": ts(to), "group": "day", "tz": tz, **extra}))
    return body["days"]


def assert_like_oracle(server, periods):
    want = oracle(server, periods)
    for (f, t, z), w in zip(periods, want):
        got = by_day(server, f, t, z)
        assert got == w, (ts(f), ts(t), z, [(g, x) for g, x in zip(got, w) if g != x][:5])


def assert_tallies_rebuild(server):
    """The kept tallies are those a rebuild counts, and none is negative."""
    kept = server.psql_json(KEPT)
    server.psql("SELECT schedule_tally_rebuild()")
    assert kept == server.psql_json(KEPT)
    assert server.psql("SELECT count(*) FROM schedule_tallies WHERE starts < 0 OR lasts < 0") \
        == "0"


def insert_windows(server, rows):
    """Changes straight into the table: (state, start, end or None)."""
    values = ", ".join(
        f"({lit(st)}, " + (f"tstzrange({lit(s.isoformat())}, {lit(e.isoformat())})"
                           if s is not None else "NULL") + ")"
        for st, s, e in rows)
    server.psql(f"""
        INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                             gate_token)
        SELECT 'days ' || x.i, 'standard', x.state, x.win, (SELECT min(id) FROM users), 'api',
               repeat('0', 64), 'days-' || gen_random_uuid()
        FROM (SELECT row_number() OVER () AS i, v.* FROM (VALUES {values}) v(state, win)) x""")


def test_every_zone_offset_is_whole_quarter_hours(server):
    """What the tallies' quarters rely on for local days to fall on them:
    every offset a zone uses today (DST included, where it is in force
    now) is a multiple of 15 minutes."""
    off = server.psql("SELECT string_agg(name || ' ' || utc_offset, ', ') FROM pg_timezone_names"
                      " WHERE extract(epoch FROM utc_offset)::bigint % 900 <> 0")
    assert off == "", off
    assert int(server.psql("SELECT count(*) FROM pg_timezone_names")) > 300


# The zones of the comparisons: one and the other side of UTC, half and
# quarter hours off it, daylight saving of an hour and of half an hour, a
# midnight that does not exist and one that happens twice (Havana), and
# Monrovia's offset of -0:44:30 until 7 January 1972.
ZONES = ["UTC", "Europe/London", "America/St_Johns", "Asia/Kathmandu", "Asia/Kolkata",
         "America/New_York", "America/Havana", "Australia/Lord_Howe", "Pacific/Chatham"]


def local_midnights(zone, start, days):
    z = ZoneInfo(zone)
    d = start.astimezone(z).date()
    for i in range(days):
        yield datetime.combine(d + timedelta(days=i), datetime.min.time(), z) \
            .astimezone(timezone.utc)


def random_windows(rng, base, span_days, zones, n):
    out = []
    edges = [m for z in zones for m in local_midnights(z, base, span_days)]
    for _ in range(n):
        start = base + timedelta(seconds=rng.randrange(span_days * 86400))
        kind = rng.random()
        if kind < 0.25:       # ends at a local midnight after its start
            later = [m for m in edges if start < m <= start + timedelta(days=3)]
            end = rng.choice(later) if later else start + timedelta(hours=1)
        elif kind < 0.4:      # starts at a local midnight
            start = rng.choice(edges)
            end = start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 1440, 1441]))
        elif kind < 0.55:     # on quarter hours
            start = start.replace(minute=15 * rng.randrange(4), second=0)
            end = start + timedelta(minutes=15 * rng.randrange(1, 200))
        elif kind < 0.65:     # days long
            end = start + timedelta(seconds=rng.randrange(86400, 9 * 86400))
        else:
            end = start + timedelta(seconds=rng.randrange(1, 12 * 3600))
        st = rng.choice(STATES + ["closed", "closed", "draft"])
        out.append((st, start, end))
    out.append(("draft", None, None))
    out.append(("cancelled", None, None))
    return out


def random_periods(rng, base, span_days, zones, n):
    out = []
    for _ in range(n):
        z = rng.choice(zones)
        mids = list(local_midnights(z, base - timedelta(days=2), span_days + 4))
        kind = rng.random()
        if kind < 0.4:        # local midnight to local midnight
            i = rng.randrange(len(mids) - 1)
            f, t = mids[i], mids[rng.randrange(i + 1, len(mids))]
        elif kind < 0.6:      # seconds anywhere
            f = base - timedelta(days=2) + timedelta(seconds=rng.randrange((span_days + 2) * 86400))
            t = f + timedelta(seconds=rng.randrange(1, 12 * 86400))
        elif kind < 0.8:      # quarter hours
            f = rng.choice(mids) + timedelta(minutes=15 * rng.randrange(-8, 8))
            t = f + timedelta(minutes=15 * rng.randrange(1, 1500))
        else:                 # less than a quarter, or within one day
            f = rng.choice(mids) + timedelta(seconds=rng.randrange(-3600, 3600))
            t = f + timedelta(seconds=rng.randrange(1, 3 * 3600))
        out.append((f, t, z))
    return out


@pytest.mark.parametrize("seed,base", [
    (1, datetime(2101, 3, 5, tzinfo=timezone.utc)),      # London, New York, Havana go forward
    (2, datetime(2101, 10, 20, tzinfo=timezone.utc)),    # back (Havana: 1 to 0 o'clock)
    (3, datetime(2102, 3, 28, tzinfo=timezone.utc)),     # Lord Howe, Chatham
])
def test_days_equal_the_aggregate(server, seed, base):
    rng = random.Random(seed)
    span = 24
    insert_windows(server, random_windows(rng, base, span, ZONES, 400))
    periods = random_periods(rng, base, span, ZONES, 36)
    # the whole stretch, and more, in every zone
    periods += [(base - timedelta(days=3), base + timedelta(days=span + 3), z) for z in ZONES]
    assert_like_oracle(server, periods)
    assert_tallies_rebuild(server)


def test_an_offset_of_seconds(server):
    """Monrovia was 44 minutes 30 seconds behind UTC until 7 January 1972:
    its local days begin within quarters, which are read from the changes."""
    rng = random.Random(7)
    base, zone = datetime(1971, 12, 20, tzinfo=timezone.utc), "Africa/Monrovia"
    insert_windows(server, random_windows(rng, base, 30, [zone, "UTC"], 300))
    periods = random_periods(rng, base, 30, [zone], 20)
    periods += [(base, base + timedelta(days=30), zone),
                (base - timedelta(days=1), base + timedelta(days=31), "UTC")]
    assert_like_oracle(server, periods)


def test_the_largest_period_over_many_changes(server):
    """400 days, a change every few hours, some running into and out of it."""
    base = datetime(2110, 1, 1, tzinfo=timezone.utc)
    server.psql(f"""
        SELECT setseed(0.11);
        INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                             gate_token)
        SELECT 'days ' || g, 'standard', (ARRAY{STATES})[1 + floor(random() * {len(STATES)})::int],
               tstzrange(x.s, x.s + (60 + floor(random() * 3 * 86400)::int) * interval '1 second'),
               (SELECT min(id) FROM users), 'api', repeat('0', 64), 'days-' || gen_random_uuid()
        FROM generate_series(1, 3000) g,
             LATERAL (SELECT timestamptz '{ts(base)}' - interval '5 days'
                             + floor(random() * 410 * 86400)::int * interval '1 second'
                             + g * interval '0 seconds' AS s) x""")
    assert_like_oracle(server, [(base, base + timedelta(days=400), z)
                                for z in ("UTC", "Europe/London", "Asia/Kathmandu")])


def wanted(server, frm, to, tz):
    return oracle(server, [(frm, to, tz)])[0]


def test_the_triggers_keep_the_tallies(server):
    base = datetime(2120, 6, 1, tzinfo=timezone.utc)
    frm, to = base - timedelta(days=1), base + timedelta(days=6)
    admin, alice = server.as_("admin"), server.as_("alice")
    svc = unique("days")
    ok(admin.post("/services", json={"name": svc, "title": svc, "tier": 4, "depends_on": []}),
       201)

    def create(start_h, end_h, model="standard"):
        return ok(alice.post("/changes", json={
            "title": unique("days"), "services": [svc], "model": model,
            "window": {"start": ts(base + timedelta(hours=start_h)),
                       "end": ts(base + timedelta(hours=end_h))},
            "test_plan": "smoke tests", "backout_plan": "roll back"}), 201)

    def check(listed=True, **want):
        days = by_day(server, frm, to, "Europe/London")
        assert days == wanted(server, frm, to, "Europe/London")
        if listed:
            assert days == by_day(server, frm, to, "Europe/London", service=svc), \
                "the service's direct count agrees"
        for day, states in want.items():
            got = next(d["by_state"] for d in days if d["date"] == day)
            assert got == states, (day, got)
        assert_tallies_rebuild(server)

    d = [(base + timedelta(days=i)).date().isoformat() for i in range(-1, 6)]
    a = create(23.25, 23.75)                # London is UTC+1: the next day there
    check(**{d[1]: {}, d[2]: {}})
    ok(alice.post(f"/changes/{a['id']}/submit"))
    check(**{d[1]: {}, d[2]: {"approved": 1}})
    b = create(1, 49, model="normal")
    ok(alice.post(f"/changes/{b['id']}/submit"))
    check(**{d[1]: {"awaiting_approval": 1}, d[2]: {"approved": 1, "awaiting_approval": 1},
             d[3]: {"awaiting_approval": 1}, d[4]: {}})
    # a window edit re-assesses (standard, low: approved again) and moves it
    r = alice.get(f"/changes/{a['id']}")
    ok(alice.patch(f"/changes/{a['id']}", headers={"If-Match": r.headers["ETag"]},
                   json={"window": {"start": ts(base + timedelta(hours=71)),
                                    "end": ts(base + timedelta(hours=72))}}))
    check(**{d[2]: {"awaiting_approval": 1}, d[3]: {"awaiting_approval": 1},
             d[4]: {"approved": 1}})
    ok(alice.post(f"/changes/{b['id']}/cancel", json={"reason": "not now"}))
    check(**{d[1]: {"cancelled": 1}, d[3]: {"cancelled": 1}})
    # a draft counts nowhere, nor does a cancelled draft without a window
    create(2, 3)
    e = ok(alice.post("/changes", json={"title": unique("days"), "services": [svc],
                                        "model": "standard"}), 201)
    ok(alice.post(f"/changes/{e['id']}/cancel", json={"reason": "no"}))
    check(**{d[1]: {"cancelled": 1}})
    # updates of many rows at once, of other columns, and a delete
    server.psql(f"UPDATE changes SET win = tstzrange(lower(win) + interval '1 day',"
                f" upper(win) + interval '1 day') WHERE id IN ({a['id']}, {b['id']})")
    server.psql(f"UPDATE changes SET title = 'renamed', rev = rev + 1 WHERE id = {a['id']}")
    check(**{d[5]: {"approved": 1}})
    server.psql(f"UPDATE changes SET state = 'draft' WHERE id = {b['id']}")
    check(**{d[2]: {}, d[3]: {}})
    server.psql(f"UPDATE changes SET state = 'closed' WHERE id = {b['id']}")
    check(**{d[2]: {"closed": 1}, d[3]: {"closed": 1}, d[4]: {"closed": 1}})
    insert_windows(server, [("review", base + timedelta(hours=100), base + timedelta(hours=101)),
                            ("rejected", base + timedelta(hours=100), base + timedelta(hours=130))])
    check(False, **{d[5]: {"approved": 1, "review": 1, "rejected": 1}, d[6]: {"rejected": 1}})
    server.psql(f"DELETE FROM changes WHERE title LIKE 'days %' AND win && tstzrange("
                f"{lit(ts(frm))}, {lit(ts(to))})")
    check(**{d[5]: {"approved": 1}, d[6]: {}})


def test_a_bulk_load_without_the_trigger_and_a_rebuild(server):
    """What a bulk loader does: the insert trigger disabled, then one
    rebuild, which counts what the trigger would have."""
    base = datetime(2130, 1, 1, tzinfo=timezone.utc)
    server.psql(f"""
        ALTER TABLE changes DISABLE TRIGGER schedule_tally_insert;
        INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                             gate_token)
        SELECT 'bulk ' || g, 'standard', (ARRAY['closed', 'cancelled', 'approved'])[1 + g % 3],
               tstzrange(t, t + (g % 29) * interval '37 minutes' + interval '1 second'),
               (SELECT min(id) FROM users), 'api', repeat('0', 64), 'bulk-' || g
        FROM generate_series(1, 5000) g,
             LATERAL (SELECT timestamptz '{ts(base)}' + g * interval '611 seconds' AS t) x;
        ALTER TABLE changes ENABLE TRIGGER schedule_tally_insert;""")
    frm, to = base, base + timedelta(days=40)
    assert by_day(server, frm, to, "UTC") != wanted(server, frm, to, "UTC"), \
        "without the trigger the tallies miss the rows"
    server.psql("SELECT schedule_tally_rebuild()")
    assert_like_oracle(server, [(frm, to, "UTC"), (frm, to, "Asia/Kathmandu")])
    assert_tallies_rebuild(server)


def test_truncate_empties_the_tallies(cluster):
    """A database of its own: TRUNCATE of changes leaves no tallies."""
    url = cluster.createdb("m_days_truncate", template="cabinet_template")
    from conftest import psql
    psql(url, "INSERT INTO users (email, name, password_hash) VALUES ('t@x.org', 't', 'x');"
              " INSERT INTO changes (title, model, state, win, requester_id, source,"
              " content_hash, gate_token) SELECT 'x', 'standard', 'closed',"
              " tstzrange(now(), now() + interval '1 hour'), min(id), 'api', repeat('0', 64),"
              " 'tr-1' FROM users")
    assert psql(url, "SELECT count(*) FROM schedule_tallies") == "4"
    psql(url, "TRUNCATE changes CASCADE")
    assert psql(url, "SELECT count(*) FROM schedule_tallies") == "0"
