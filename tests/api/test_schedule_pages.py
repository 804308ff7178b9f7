"""The schedule and the agenda a page at a time (README "Conflicts and the
schedule"): the cursor (every change once, in order, stable when changes
are added before it), limit, a malformed cursor, service=, group=day with
a time zone (the local date of a window near midnight, DST), and at scale,
that a month's first page reads only the rows it returns (EXPLAIN).

Each test works in a stretch of time of its own far in the future, with
services of its own."""

import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import ok, problem, unique, walk

ROW = {"id", "ref", "title", "state", "kind", "window", "services", "level", "conflict_count"}


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


_region = itertools.count()


def region():
    """The start of a 500-day stretch of time that no other test uses (a
    1 January, so a test may pick a date within the year)."""
    return datetime(2090 + 2 * next(_region), 1, 1, tzinfo=timezone.utc)


def win(base, start_h, end_h):
    return {"start": ts(base + timedelta(hours=start_h)),
            "end": ts(base + timedelta(hours=end_h))}


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make():
        name = unique("pg")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": 4,
                                         "depends_on": []}), 201)
        return name

    return make


def new_change(server, services, window, who="alice", model="normal", submit=True):
    c = server.as_(who)
    ch = ok(c.post("/changes", json={
        "title": unique("page"), "services": list(services), "window": window, "model": model,
        "test_plan": "smoke tests", "backout_plan": "roll back"}), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
    return ch


def freeze(server, window, services=()):
    return ok(server.as_("manager").post("/freezes", json={
        "name": unique("fz"), "window": window, "services": list(services), "hard": False,
        "reason": "quiet"}), 201)


def ids(items):
    return [c["id"] for c in items]


def period(base, start_h, end_h, **extra):
    w = win(base, start_h, end_h)
    return {"from": w["start"], "to": w["end"], **extra}


def schedule_pages(client, params, limit):
    """Every page of the schedule: (changes, the pages' bodies)."""
    params = dict(params, limit=limit)
    changes, bodies = [], []
    while True:
        body = ok(client.get("/schedule", params=params))
        assert set(body) == {"from", "to", "changes", "freezes", "next_cursor"}, set(body)
        assert len(body["changes"]) <= limit
        bodies.append(body)
        changes.extend(body["changes"])
        if body["next_cursor"] is None:
            return changes, bodies
        assert len(body["changes"]) == limit, "a page before the last is full"
        assert len(bodies) < 100, "the cursor never ends"
        params["cursor"] = body["next_cursor"]


# --- paging ----------------------------------------------------------------------------------


def test_paging_gives_every_change_once_in_window_order(server, svc):
    base = region()
    s = svc()
    made = [new_change(server, [s], win(base, -30, 2), who="bob")]    # running at the start
    made += [new_change(server, [s], win(base, 5, 6 + i)) for i in range(4)]  # equal starts
    made += [new_change(server, [svc()], win(base, 10 + 3 * i, 11 + 3 * i), model="standard")
             for i in range(9)]
    f = freeze(server, win(base, 20, 30))
    client = server.as_("bob")
    params = period(base, 0, 48)
    whole = ok(client.get("/schedule", params=dict(params, limit=200)))
    assert whole["next_cursor"] is None
    expected = sorted(made, key=lambda c: (c["window"]["start"], c["id"]))
    assert ids(whole["changes"]) == ids(expected)
    for limit in (1, 3, 4, 14):
        got, bodies = schedule_pages(client, params, limit)
        assert ids(got) == ids(expected), limit
        assert got == whole["changes"], "the same rows, page by page"
        for body in bodies:
            assert body["freezes"] == whole["freezes"], "freezes come whole on every page"
            assert (body["from"], body["to"]) == (params["from"], params["to"])
    assert [x["id"] for x in whole["freezes"]] == [f["id"]]
    for c in whole["changes"]:
        assert set(c) == ROW


def test_the_default_page_is_fifty(server, svc):
    base = region()
    s = svc()
    for i in range(51):
        new_change(server, [s], win(base, i, i + 1), model="standard")
    body = ok(server.as_("bob").get("/schedule", params=period(base, 0, 60)))
    assert len(body["changes"]) == 50 and body["next_cursor"]
    rest = ok(server.as_("bob").get("/schedule", params=period(
        base, 0, 60, cursor=body["next_cursor"])))
    assert len(rest["changes"]) == 1 and rest["next_cursor"] is None


def test_a_cursor_is_stable_when_changes_arrive_before_it(server, svc):
    base = region()
    s = svc()
    first = [new_change(server, [s], win(base, 10 + i, 11 + i), model="standard")
             for i in range(6)]
    client = server.as_("bob")
    params = period(base, 0, 48, limit=3)
    page1 = ok(client.get("/schedule", params=params))
    assert ids(page1["changes"]) == ids(first[:3])
    # a change before the cursor, one at its very start time, and one after
    before = new_change(server, [s], win(base, 1, 2), model="standard")
    same = new_change(server, [s], win(base, 12, 13), model="standard")
    after = new_change(server, [s], win(base, 14, 15), model="standard")
    assert same["id"] > first[2]["id"]
    page2 = ok(client.get("/schedule", params=dict(params, cursor=page1["next_cursor"])))
    # (12h, same) sorts after (12h, first[2]), where the cursor stands
    assert ids(page2["changes"]) == [same["id"], first[3]["id"], first[4]["id"]]
    page3 = ok(client.get("/schedule", params=dict(params, cursor=page2["next_cursor"])))
    assert ids(page3["changes"]) == [after["id"], first[5]["id"]]
    assert page3["next_cursor"] is None
    seen = ids(page1["changes"] + page2["changes"] + page3["changes"])
    assert len(seen) == len(set(seen))
    assert before["id"] not in seen, "it arrived before the cursor"
    # the same cursor read again gives the same page
    again = ok(client.get("/schedule", params=dict(params, cursor=page1["next_cursor"])))
    assert again["changes"] == page2["changes"]


def test_a_cursor_holds_the_position_not_the_row(server, svc):
    """The row the cursor was made from may move out of the period: the
    next page still starts after the position the cursor holds."""
    base = region()
    s = svc()
    made = [new_change(server, [s], win(base, 10 + i, 11 + i)) for i in range(4)]
    client = server.as_("bob")
    params = period(base, 0, 48, limit=2)
    page1 = ok(client.get("/schedule", params=params))
    assert ids(page1["changes"]) == ids(made[:2])
    # the last row of the page moves far out of the period
    ok(server.as_("alice").patch(f"/changes/{made[1]['id']}",
                                 json={"window": win(base, 100, 101)}))
    page2 = ok(client.get("/schedule", params=dict(params, cursor=page1["next_cursor"])))
    assert ids(page2["changes"]) == ids(made[2:])


LIMIT_ERRORS = ["0", "201", "-1", "x", "", "1.5", "99999999999999999999"]


@pytest.mark.parametrize("path", ["/schedule", "/cab/agenda"])
@pytest.mark.parametrize("limit", LIMIT_ERRORS)
def test_limit_bounds(server, path, limit):
    problem(server.as_("bob").get(path, params={"limit": limit}), 422, field="limit")


@pytest.mark.parametrize("path", ["/schedule", "/cab/agenda"])
def test_limits_that_are_allowed(server, svc, path):
    base = region()
    s = svc()
    for i in range(3):
        new_change(server, [s], win(base, i, i + 1))
    params = period(base, 0, 10)
    one = ok(server.as_("bob").get(path, params=dict(params, limit=1)))
    key = "changes" if path == "/schedule" else "items"
    assert len(one[key]) == 1 and one["next_cursor"]
    most = ok(server.as_("bob").get(path, params=dict(params, limit=200)))
    assert len(most[key]) == 3 and most["next_cursor"] is None


def other_cursor(server, path):
    """A genuine cursor of the other list (schedule ↔ agenda)."""
    base = region()
    s = server.as_("admin")
    name = unique("pg")
    ok(s.post("/services", json={"name": name, "title": name, "tier": 4, "depends_on": []}), 201)
    for i in range(2):
        new_change(server, [name], win(base, i, i + 1))
    body = ok(server.as_("bob").get(path, params=period(base, 0, 10, limit=1)))
    return body["next_cursor"]


@pytest.mark.parametrize("path", ["/schedule", "/cab/agenda"])
def test_a_malformed_cursor_is_422(server, path):
    good = other_cursor(server, path)
    assert good
    ok(server.as_("bob").get(path, params={"cursor": good}))
    theirs = other_cursor(server, "/cab/agenda" if path == "/schedule" else "/schedule")
    flipped = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    for bad in ["", "x", good[:-1], good + "A", good.replace(good[2], "+", 1), theirs,
                "c2NoZWR1bGU6MQ", "MTAw"]:
        problem(server.as_("bob").get(path, params={"cursor": bad}), 422, field="cursor")
    # a cursor altered in its digits still decodes to some position: it is
    # honoured as one (opaque, not signed), never an error of the server
    r = server.as_("bob").get(path, params={"cursor": flipped})
    assert r.status_code in (200, 422), r.text


def test_schedule_by_service(server, svc):
    base = region()
    s, t = svc(), svc()
    on_s = [new_change(server, [s], win(base, i, i + 1)) for i in range(3)]
    both = new_change(server, [s, t], win(base, 5, 6), who="bob")
    on_t = new_change(server, [t], win(base, 2, 3), who="bob")
    f_s = freeze(server, win(base, 1, 2), services=[s])
    f_all = freeze(server, win(base, 3, 4))
    f_t = freeze(server, win(base, 4, 5), services=[t])
    params = period(base, 0, 24, service=s)
    got, _ = schedule_pages(server.as_("bob"), params, 2)
    assert ids(got) == ids(on_s) + [both["id"]]
    assert on_t["id"] not in ids(got)
    body = ok(server.as_("bob").get("/schedule", params=params))
    assert [f["id"] for f in body["freezes"]] == [f_s["id"], f_all["id"]]
    assert f_t["id"] not in [f["id"] for f in body["freezes"]]


@pytest.mark.parametrize("service", ["", "Not A Slug", "no-such-service"])
def test_schedule_service_errors(server, service):
    problem(server.as_("bob").get("/schedule", params={"service": service}), 422,
            field="service")
    problem(server.as_("bob").get("/schedule", params={"service": service, "group": "day"}),
            422, field="service")


# --- the agenda ------------------------------------------------------------------------------


def test_agenda_pages(server, svc):
    base = region()
    s = svc()
    waiting = [new_change(server, [s], win(base, i * 2, i * 2 + 3)) for i in range(7)]
    new_change(server, [svc()], win(base, 1, 2), model="standard")     # approved: not listed
    params = period(base, 0, 48)
    whole = ok(server.as_("cab1").get("/cab/agenda", params=dict(params, limit=200)))
    assert ids(whole["items"]) == ids(waiting)
    for limit in (1, 2, 3, 7):
        got, pages = walk(server.as_("cab1"), "/cab/agenda", params, limit=limit)
        assert got == whole["items"], limit
        assert pages == -(-len(waiting) // limit), "the last full page says there is no more"
    # with a cursor the bounds still come back as given
    page = ok(server.as_("cab1").get("/cab/agenda", params=dict(params, limit=2)))
    nxt = ok(server.as_("cab1").get("/cab/agenda", params=dict(params, limit=2,
                                                                  cursor=page["next_cursor"])))
    assert (nxt["from"], nxt["to"]) == (params["from"], params["to"])
    assert ids(nxt["items"]) == ids(waiting[2:4])


def test_agenda_without_bounds_pages_through_every_change_awaiting(server, svc):
    base = region()
    s = svc()
    mine = [new_change(server, [s], win(base, i, i + 1)) for i in range(3)]
    got, _ = walk(server.as_("cab1"), "/cab/agenda", limit=5)
    assert len(got) == len(set(ids(got)))
    assert [c for c in ids(got) if c in ids(mine)] == ids(mine)
    keys = [(c["window"]["start"], c["id"]) for c in got]
    assert keys == sorted(keys)
    expected = int(server.psql("SELECT count(*) FROM changes WHERE state = 'awaiting_approval'"))
    assert len(got) == expected


# --- group=day -------------------------------------------------------------------------------


def local_days(start, end, frm, to, zone):
    """The local dates a window [start, end) cut to [frm, to) touches."""
    s, e = max(start, frm), min(end, to)
    if s >= e:
        return []
    d, last = s.astimezone(zone).date(), (e - timedelta(microseconds=1)).astimezone(zone).date()
    out = []
    while d <= last:
        out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def expected_days(changes, frm, to, zone):
    days = {}
    d, last = frm.astimezone(zone).date(), (to - timedelta(microseconds=1)).astimezone(zone).date()
    while d <= last:
        days[d.isoformat()] = {}
        d += timedelta(days=1)
    for c in changes:
        for day in local_days(parse(c["window"]["start"]), parse(c["window"]["end"]), frm, to,
                              zone):
            days[day][c["state"]] = days[day].get(c["state"], 0) + 1
    return [{"date": k, "by_state": v} for k, v in sorted(days.items())]


def grouped(server, frm, to, tz=None, **extra):
    params = {"from": ts(frm), "to": ts(to), "group": "day", **extra}
    if tz is not None:
        params["tz"] = tz
    body = ok(server.as_("bob").get("/schedule", params=params))
    assert set(body) == {"from", "to", "tz", "days", "freezes"}, set(body)
    return body


def test_a_change_near_midnight_lands_on_its_local_date(server, svc):
    y = region().year
    s = svc()
    # summer: London is UTC+1, so 23:30 UTC is 00:30 the next day there
    summer = datetime(y, 7, 10, 23, 30, tzinfo=timezone.utc)
    late = new_change(server, [s], {"start": ts(summer), "end": ts(summer + timedelta(minutes=20))},
                      model="standard")
    # winter: London is UTC, the same date
    winter = datetime(y, 1, 20, 23, 30, tzinfo=timezone.utc)
    new_change(server, [s], {"start": ts(winter), "end": ts(winter + timedelta(minutes=20))},
               model="standard")
    frm, to = datetime(y, 1, 1, tzinfo=timezone.utc), datetime(y, 12, 31, tzinfo=timezone.utc)

    utc = {d["date"]: d["by_state"] for d in grouped(server, frm, to, service=s)["days"]}
    london_body = grouped(server, frm, to, "Europe/London", service=s)
    assert london_body["tz"] == "Europe/London"
    london = {d["date"]: d["by_state"] for d in london_body["days"]}
    assert utc[f"{y}-07-10"] == {late["state"]: 1} and utc[f"{y}-07-11"] == {}
    assert london[f"{y}-07-10"] == {} and london[f"{y}-07-11"] == {late["state"]: 1}
    assert utc[f"{y}-01-20"] == london[f"{y}-01-20"] == {"approved": 1}
    assert grouped(server, frm, to, "UTC", service=s)["days"] == \
        grouped(server, frm, to, service=s)["days"], "UTC is the default"


@pytest.mark.parametrize("by_service", [True, False], ids=["service", "tallies"])
def test_days_follow_the_zone_across_daylight_saving(server, svc, by_service):
    y = region().year
    s = svc()
    zone = ZoneInfo("Europe/London")
    # the last Sundays of March and October of that year
    march = max(datetime(y, 3, d, tzinfo=timezone.utc) for d in range(25, 32)
                if datetime(y, 3, d).weekday() == 6)
    october = max(datetime(y, 10, d, tzinfo=timezone.utc) for d in range(25, 32)
                  if datetime(y, 10, d).weekday() == 6)
    made = []
    for day in (march, october):
        for start_h, end_h in [(-1, -0.5), (-0.75, 0.25), (22.5, 23.5), (23.25, 23.75),
                               (0.5, 1.5), (-30, 50)]:
            made.append(new_change(server, [s], win(day, start_h, end_h), model="standard"))
    cancelled = new_change(server, [s], win(march, 23.5, 24.5))
    ok(server.as_("alice").post(f"/changes/{cancelled['id']}/cancel", json={"reason": "x"}))
    made.append(ok(server.as_("alice").get(f"/changes/{cancelled['id']}")))
    new_change(server, [s], win(march, 23.5, 24.5), submit=False)   # a draft counts nowhere
    for day in (march, october):
        frm, to = day - timedelta(days=3), day + timedelta(days=3, hours=5)
        for tz, z in [("Europe/London", zone), (None, timezone.utc),
                      ("America/New_York", ZoneInfo("America/New_York")),
                      ("Asia/Kolkata", ZoneInfo("Asia/Kolkata"))]:
            body = grouped(server, frm, to, tz, **({"service": s} if by_service else {}))
            assert body["days"] == expected_days(made, frm, to, z), (day, tz)
            dates = [d["date"] for d in body["days"]]
            assert len(dates) == len(set(dates)), "a day of 23 or 25 hours is still one day"


def test_by_state_counts(server, svc):
    base = region()
    s, t = svc(), svc()
    approved = [new_change(server, [s], win(base, 2 + i, 3 + i), model="standard")
                for i in range(3)]
    waiting = [new_change(server, [s], win(base, 10 + i, 11 + i)) for i in range(2)]
    done = new_change(server, [s], win(base, 5, 6), model="standard")
    ok(server.as_("alice").post(f"/changes/{done['id']}/cancel", json={"reason": "x"}))
    spanning = new_change(server, [t], win(base, 20, 20 + 24 * 2), model="standard")
    f = freeze(server, win(base, 1, 2))
    body = grouped(server, base, base + timedelta(days=4))
    days = {d["date"]: d["by_state"] for d in body["days"]}
    d0, d1, d2, d3 = [(base + timedelta(days=i)).date().isoformat() for i in range(4)]
    assert list(days) == [d0, d1, d2, d3], "every day of the period, in order"
    assert days[d0] == {"approved": len(approved) + 1, "awaiting_approval": len(waiting),
                        "cancelled": 1}
    assert days[d1] == days[d2] == {"approved": 1}, "a change counts on each day it touches"
    assert days[d3] == {}
    assert [x["id"] for x in body["freezes"]] == [f["id"]]
    assert spanning["state"] == "approved"
    only_t = {d["date"]: d["by_state"] for d in grouped(
        server, base, base + timedelta(days=4), service=t)["days"]}
    assert only_t[d0] == only_t[d1] == only_t[d2] == {"approved": 1}


@pytest.mark.parametrize("params,field", [
    ({"group": "day", "tz": "Mars/Olympus_Mons"}, "tz"),
    ({"group": "day", "tz": ""}, "tz"),
    ({"group": "day", "tz": "Europe/London; DROP TABLE changes"}, "tz"),
    ({"group": "day", "tz": "x" * 100}, "tz"),
    ({"group": "day", "tz": "Europe/Nowhere"}, "tz"),
    ({"group": "day", "tz": "BST"}, "tz"),                      # an abbreviation
    ({"group": "day", "tz": "EST5EDT,M3.2.0,M11.1.0"}, "tz"),   # a POSIX rule
    ({"group": "day", "tz": "+05"}, "tz"),
    ({"group": "day", "tz": "Europe/"}, "tz"),
    ({"group": "day", "tz": "Europe//London"}, "tz"),
    ({"tz": "Europe/London"}, "tz"),
    ({"group": "week"}, "group"),
    ({"group": ""}, "group"),
    ({"group": "day", "cursor": "abc"}, "cursor"),
    ({"group": "day", "limit": "5"}, "limit"),
    ({"group": "day", "from": "2090-01-02T00:00:00Z", "to": "2090-01-01T00:00:00Z"}, "to"),
])
def test_group_errors(server, params, field):
    problem(server.as_("bob").get("/schedule", params=params), 422, field=field)


@pytest.mark.parametrize("tz", ["UTC", "Etc/GMT+3", "America/Argentina/Buenos_Aires"])
def test_zones_that_are_known(server, tz):
    assert ok(server.as_("bob").get("/schedule", params={"group": "day", "tz": tz}))["tz"] == tz


def test_group_day_default_period(server):
    body = ok(server.as_("bob").get("/schedule", params={"group": "day"}))
    assert body["tz"] == "UTC"
    assert len(body["days"]) in (37, 38), "the last 7 days to 30 ahead"
    f, t = parse(body["from"]), parse(body["to"])
    assert body["days"][0]["date"] == f.date().isoformat()
    assert body["days"][-1]["date"] == (t - timedelta(microseconds=1)).date().isoformat()


# --- at scale --------------------------------------------------------------------------------

SCALE_MONTH = datetime(2150, 3, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def month_of_changes(server):
    """30,000 non-draft changes in one month (more than the target's
    27,500), a hundred of them already running when it starts, and 10,000
    more in the months around it, written straight into the tables."""
    server.psql(f"""
        INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                             gate_token)
        SELECT 'scale ' || g, 'standard',
               (ARRAY['approved', 'awaiting_approval', 'closed', 'cancelled'])[1 + g % 4],
               tstzrange(t, t + interval '2 hours'),
               (SELECT min(id) FROM users), 'api', repeat('0', 64), 'scale-' || g
        FROM generate_series(1, 40000) g,
             LATERAL (SELECT CASE WHEN g <= 30000
                             THEN timestamptz '{ts(SCALE_MONTH)}' + (g - 1) * interval '89 seconds'
                             WHEN g <= 30100
                             THEN timestamptz '{ts(SCALE_MONTH)}' - interval '1 hour'
                             ELSE timestamptz '{ts(SCALE_MONTH)}' - interval '60 days'
                                  + (g - 30100) * interval '15 minutes' END AS t) x;
        ANALYZE changes;
    """, timeout=300)
    return SCALE_MONTH, SCALE_MONTH + timedelta(days=31)


def plan_nodes(plan):
    yield plan
    for p in plan.get("Plans", []):
        yield from plan_nodes(p)


PAGE_SQL = ("SELECT change_row(p), schedule_us(lower(p.win)), p.id FROM {fn}("
            " COALESCE($1::timestamptz, '-infinity'), COALESCE($2::timestamptz, 'infinity'),"
            " COALESCE(schedule_at($3::bigint), '-infinity'), $4::bigint, $5::int) p"
            " ORDER BY lower(p.win), p.id")


@pytest.mark.parametrize("fn", ["schedule_page", "agenda_page"])
@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("cursor", [False, True])
def test_a_months_page_reads_only_its_rows(server, month_of_changes, fn, mode, cursor):
    """EXPLAIN ANALYZE of the server's page statement (as db_schedule.c
    prepares it), with the plan the database would make for it either way:
    no node reads more of changes than the page and the changes running as
    the month starts, nothing is a sequential scan."""
    frm, to = month_of_changes
    start = "NULL, 0" if not cursor else \
        f"{int((frm + timedelta(days=10)).timestamp() * 1_000_000)}, 1"
    out = server.psql(f"""
        SET plan_cache_mode = {mode};
        PREPARE page(timestamptz, timestamptz, bigint, bigint, int) AS {PAGE_SQL.format(fn=fn)};
        EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
            EXECUTE page('{ts(frm)}', '{ts(to)}', {start}, 51);
    """)
    plan = __import__("json").loads(out[out.index("["):])[0]["Plan"]
    nodes = list(plan_nodes(plan))
    on_changes = [n for n in nodes if n.get("Relation Name") == "changes"]
    assert on_changes, plan
    for n in on_changes:
        assert n["Node Type"] != "Seq Scan", n
        touched = (n["Actual Rows"] + n.get("Rows Removed by Filter", 0)
                   + n.get("Rows Removed by Index Recheck", 0)) * n["Actual Loops"]
        assert touched <= 51 + 150, (n["Node Type"], n.get("Index Name"), touched)
    assert plan["Actual Rows"] == 51


def test_a_months_first_page_over_http(server, month_of_changes):
    frm, to = month_of_changes
    client = server.as_("bob")
    body = ok(client.get("/schedule", params={"from": ts(frm), "to": ts(to)}))
    assert len(body["changes"]) == 50 and body["next_cursor"]
    starts = [c["window"]["start"] for c in body["changes"]]
    assert starts == sorted(starts)
    assert starts[0] < ts(frm), "the changes running as the month starts come first"
    last = ok(client.get("/schedule", params={"from": ts(frm), "to": ts(to), "limit": 200,
                                              "cursor": body["next_cursor"]}))
    assert len(last["changes"]) == 200
    assert not set(ids(body["changes"])) & set(ids(last["changes"]))
    days = grouped(server, frm, to)["days"]
    assert len(days) == 31
    assert sum(sum(d["by_state"].values()) for d in days) >= 30100
