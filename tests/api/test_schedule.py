"""The forward schedule (README "Conflicts and the schedule"): GET /schedule,
/cab/agenda, /schedule/slots and /changes/recent — contents, ordering,
periods and errors. Paging, group=day and scale are in
test_schedule_pages.py.

Tests of /schedule, /cab/agenda and /schedule/slots work in time regions of
their own far in the future, with services of their own; /changes/recent
works around now with services of its own."""

import base64
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from conftest import ok, problem, unique, walk

ROW = {"id", "ref", "title", "state", "kind", "window", "services", "level", "conflict_count"}

# --- helpers ---------------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


_region = itertools.count()


def region():
    """The start of a 500-day stretch of time that no other test uses."""
    return datetime(2086, 1, 1, tzinfo=timezone.utc) + timedelta(days=500 * next(_region))


def win(base, start_h, end_h):
    return {"start": ts(base + timedelta(hours=start_h)),
            "end": ts(base + timedelta(hours=end_h))}


def b64(raw):
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(depends_on=(), tier=4):
        name = unique("sch")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier,
                                         "depends_on": list(depends_on)}), 201)
        return name

    return make


def new_change(server, services, window, who="alice", model="normal", submit=True, **extra):
    body = {"title": unique("sched"), "services": list(services), "window": window,
            "model": model, "test_plan": "smoke tests", "backout_plan": "roll back"}
    body.update(extra)
    c = server.as_(who)
    ch = ok(c.post("/changes", json=body), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
    return ch


def act(server, cid, action, body=None, who="alice"):
    return ok(server.as_(who).post(f"/changes/{cid}/{action}", json=body or {}))


def freeze(server, window, services=(), hard=True):
    return ok(server.as_("manager").post("/freezes", json={
        "name": unique("fz"), "window": window, "services": list(services), "hard": hard,
        "reason": "quiet period"}), 201)


@pytest.fixture(scope="module")
def cab_key(server):
    sk = SigningKey.generate()
    k = ok(server.as_("cab1").post("/me/keys", json={
        "public_key": b64(sk.verify_key.encode()), "label": "schedule tests"}), 201)
    return sk, k["id"]


def decide(server, cab_key, ch, decision):
    """One signed decision by cab1 (enough for a low-risk normal change)."""
    sk, kid = cab_key
    ch = ok(server.as_("bob").get(f"/changes/{ch['id']}"))
    at = ts(now())
    st = (f"cabinet-approval-v1\n{ch['ref']}\n{ch['version']}\n{ch['content_hash']}\n"
          f"{decision}\n{at}")
    ok(server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json={
        "decision": decision, "comment": decision, "key_id": kid, "signed_at": at,
        "signature": b64(sk.sign(st.encode()).signature)}), 201)
    return ok(server.as_("bob").get(f"/changes/{ch['id']}"))


def reject(server, cab_key, ch):
    assert decide(server, cab_key, ch, "reject")["state"] == "rejected"


def ids(items):
    return [c["id"] for c in items]


# --- /schedule -------------------------------------------------------------------------------


def schedule(server, base, start_h, end_h, who="bob"):
    w = win(base, start_h, end_h)
    return ok(server.as_(who).get("/schedule", params={"from": w["start"], "to": w["end"]}))


def test_schedule_lists_non_draft_changes_and_freezes_overlapping_the_period(server, svc):
    base = region()
    s = svc()
    # the period is [24h, 72h)
    inside = new_change(server, [s], win(base, 30, 32))
    approved = new_change(server, [s], win(base, 25, 26), model="standard")
    assert approved["state"] == "approved"
    straddling = new_change(server, [s], win(base, 23, 25), who="bob")
    covering = new_change(server, [s], win(base, 0, 100), who="bob")
    at_end = new_change(server, [s], win(base, 71, 72))
    cancelled = new_change(server, [s], win(base, 40, 41))
    act(server, cancelled["id"], "cancel", {"reason": "not needed"})
    draft = new_change(server, [s], win(base, 30, 31), submit=False)
    before = new_change(server, [s], win(base, 22, 24))      # ends as the period starts
    after = new_change(server, [s], win(base, 72, 74))       # starts as the period ends
    f_in = freeze(server, win(base, 50, 52), services=[s])
    f_straddle = freeze(server, win(base, 70, 80), hard=False)
    f_touch = freeze(server, win(base, 10, 24))

    body = schedule(server, base, 24, 72)
    assert set(body) == {"from", "to", "changes", "freezes", "next_cursor"}, body.keys()
    assert body["next_cursor"] is None
    assert body["from"] == ts(base + timedelta(hours=24))
    assert body["to"] == ts(base + timedelta(hours=72))
    got = ids(body["changes"])
    expected = [covering, straddling, approved, inside, cancelled, at_end]
    assert got == ids(expected), "non-draft changes overlapping, by window start"
    for excluded in (draft, before, after):
        assert excluded["id"] not in got
    by_id = {c["id"]: c for c in body["changes"]}
    assert by_id[cancelled["id"]]["state"] == "cancelled"
    assert by_id[approved["id"]]["state"] == "approved"
    assert by_id[inside["id"]]["ref"] == inside["ref"]
    assert by_id[inside["id"]]["window"] == inside["window"]
    for c in body["changes"]:
        assert set(c) == ROW, set(c)
        assert c["ref"] == f"CHG-{c['id']}" and c["services"] == [s]
    assert by_id[inside["id"]]["title"] == inside["title"]
    assert by_id[inside["id"]]["kind"] == "normal"
    assert by_id[approved["id"]]["kind"] == "standard"
    full = ok(server.as_("bob").get(f"/changes/{inside['id']}"))
    assert by_id[inside["id"]]["level"] == full["assessment"]["level"]
    # the overlapping changes count their unresolved conflicts
    assert by_id[inside["id"]]["conflict_count"] == full["conflict_summary"]["total"] >= 1
    assert by_id[cancelled["id"]]["conflict_count"] == 0, "a cancelled change conflicts no more"
    fz = [f["id"] for f in body["freezes"]]
    assert fz == [f_in["id"], f_straddle["id"]], fz
    assert body["freezes"][0] == f_in
    assert body["freezes"][1]["hard"] is False
    assert f_touch["id"] not in fz


def test_schedule_orders_equal_starts_by_id(server, svc):
    base = region()
    s, t = svc(), svc()
    first = new_change(server, [s], win(base, 5, 9))
    second = new_change(server, [t], win(base, 5, 6), who="bob")
    earlier = new_change(server, [t], win(base, 4, 20))
    body = schedule(server, base, 0, 24)
    assert ids(body["changes"]) == [earlier["id"], first["id"], second["id"]]


def test_schedule_normalises_its_period(server, svc):
    base = region()
    s = svc()
    ch = new_change(server, [s], win(base, 1, 2))
    r = server.as_("bob").get("/schedule", params={
        "from": (base + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.75+02:00"),
        "to": (base + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S+02:00")})
    body = ok(r)
    assert body["from"] == ts(base) and body["to"] == ts(base + timedelta(hours=3))
    assert ids(body["changes"]) == [ch["id"]]


def test_schedule_default_period_is_last_week_to_a_month_ahead(server):
    t0 = now()
    body = ok(server.as_("bob").get("/schedule"))
    t1 = now() + timedelta(seconds=1)
    f, t = parse(body["from"]), parse(body["to"])
    assert t0 - timedelta(days=7, seconds=1) <= f <= t1 - timedelta(days=7)
    assert t0 + timedelta(days=30, seconds=-1) <= t <= t1 + timedelta(days=30)


def test_schedule_may_span_four_hundred_days(server, svc):
    base = region()
    s = svc()
    far = new_change(server, [s], win(base, 399 * 24, 399 * 24 + 1))
    body = schedule(server, base, 0, 400 * 24)
    assert far["id"] in ids(body["changes"])


@pytest.mark.parametrize("params,field", [
    ({"from": "2086-01-02T00:00:00Z", "to": "2086-01-01T00:00:00Z"}, "to"),
    ({"from": "2086-01-01T00:00:00Z", "to": "2086-01-01T00:00:00Z"}, "to"),
    ({"from": "2086-01-01T00:00:00Z", "to": "2087-02-05T00:00:01Z"}, "to"),  # 400 d + 1 s
    ({"from": "yesterday", "to": "2086-01-01T00:00:00Z"}, "from"),
    ({"from": "2086-01-01T00:00:00Z", "to": "2086-13-01T00:00:00Z"}, "to"),
    ({"from": "2086-01-01", "to": "2086-01-02T00:00:00Z"}, "from"),
    ({"from": ""}, "from"),
])
@pytest.mark.parametrize("path", ["/schedule", "/cab/agenda"])
def test_schedule_and_agenda_period_errors(server, path, params, field):
    problem(server.as_("alice").get(path, params=params), 422, field=field)


def test_schedule_and_agenda_need_login(server):
    problem(server.anon().get("/schedule"), 401)
    problem(server.anon().get("/cab/agenda"), 401)


# --- /cab/agenda -----------------------------------------------------------------------------


def agenda(server, base, start_h, end_h):
    w = win(base, start_h, end_h)
    return ok(server.as_("cab2").get("/cab/agenda", params={"from": w["start"],
                                                            "to": w["end"]}))


def test_agenda_lists_changes_awaiting_approval_by_window_start(server, svc, cab_key):
    base = region()
    s = svc()
    later = new_change(server, [s], win(base, 30, 31))
    sooner = new_change(server, [s], win(base, 10, 40), who="bob")
    same_start = new_change(server, [svc()], win(base, 10, 11))
    approved = new_change(server, [svc()], win(base, 12, 13), model="standard")
    assert approved["state"] == "approved"
    draft = new_change(server, [s], win(base, 12, 13), submit=False)
    cancelled = new_change(server, [s], win(base, 12, 13))
    act(server, cancelled["id"], "cancel", {"reason": "x"})
    rejected = new_change(server, [svc()], win(base, 12, 13), who="bob")
    reject(server, cab_key, rejected)
    outside = new_change(server, [s], win(base, 50, 51))

    body = agenda(server, base, 0, 48)
    assert set(body) == {"from", "to", "items", "next_cursor"}
    assert body["next_cursor"] is None
    assert body["from"] == ts(base) and body["to"] == ts(base + timedelta(hours=48))
    got = ids(body["items"])
    assert got == [sooner["id"], same_start["id"], later["id"]], got
    for gone in (approved, draft, cancelled, rejected, outside):
        assert gone["id"] not in got
    items = {c["id"]: c for c in body["items"]}
    for c in body["items"]:
        assert set(c) == ROW, set(c)
        assert c["state"] == "awaiting_approval" and c["kind"] == "normal"
        assert c["level"] in ("low", "medium", "high", "critical")
    # the two changes on s overlap: each counts the conflict
    assert items[later["id"]]["conflict_count"] == 1
    assert items[sooner["id"]]["conflict_count"] == 1
    assert items[same_start["id"]]["conflict_count"] == 0


def test_agenda_forgets_a_change_once_decided(server, svc, cab_key):
    base = region()
    s = svc()
    ch = new_change(server, [s], win(base, 5, 6))
    other = new_change(server, [svc()], win(base, 6, 7), who="bob")
    assert ids(agenda(server, base, 0, 24)["items"]) == [ch["id"], other["id"]]
    assert decide(server, cab_key, ch, "approve")["state"] == "approved"
    assert ids(agenda(server, base, 0, 24)["items"]) == [other["id"]]
    # an edit sends it back to the CAB
    ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"title": "edited"}))
    assert ids(agenda(server, base, 0, 24)["items"]) == [ch["id"], other["id"]]
    act(server, other["id"], "cancel", {"reason": "x"}, who="bob")
    assert ids(agenda(server, base, 0, 24)["items"]) == [ch["id"]]


def test_agenda_without_a_period_lists_every_change_awaiting_approval(server, svc, cab_key):
    """No from/to: every change awaiting approval, whatever its window (not
    only those of a default period), by window start; from and to are null."""
    t = now()
    s = svc()
    ahead = new_change(server, [s], win(t + timedelta(days=60), 0, 1))
    far = new_change(server, [svc()], win(t + timedelta(days=900), 0, 2), who="bob")
    # a window long past: an emergency (a normal change cannot be submitted
    # once its window has ended)
    begun = new_change(server, [svc()], win(t - timedelta(days=20), 0, 1), model="emergency")
    approved = new_change(server, [svc()], win(t + timedelta(days=61), 0, 1), model="standard")
    assert approved["state"] == "approved"
    draft = new_change(server, [s], win(t + timedelta(days=62), 0, 1), submit=False)
    decided = new_change(server, [svc()], win(t + timedelta(days=63), 0, 1), who="bob")
    reject(server, cab_key, decided)

    body = ok(server.as_("cab1").get("/cab/agenda", params={"limit": 200}))
    assert body["from"] is None and body["to"] is None
    every, _ = walk(server.as_("cab1"), "/cab/agenda", limit=7)
    got = ids(every)
    for c in (ahead, far, begun):
        assert c["id"] in got, c["id"]
    for c in (approved, draft, decided):
        assert c["id"] not in got, c["id"]
    assert got.index(begun["id"]) < got.index(ahead["id"]) < got.index(far["id"])
    starts = [c["window"]["start"] for c in every]
    assert starts == sorted(starts)
    assert {c["state"] for c in every} == {"awaiting_approval"}
    assert len(got) == len(set(got))


def test_agenda_with_one_bound_leaves_the_other_open(server, svc):
    base = region()
    before = new_change(server, [svc()], win(base, 0, 1))
    after = new_change(server, [svc()], win(base, 24 * 450, 24 * 450 + 1))
    middle = ts(base + timedelta(days=10))
    body = ok(server.as_("cab1").get("/cab/agenda", params={"from": middle}))
    assert body["from"] == middle and body["to"] is None
    got = ids(walk(server.as_("cab1"), "/cab/agenda", {"from": middle}, limit=200)[0])
    assert after["id"] in got and before["id"] not in got
    body = ok(server.as_("cab1").get("/cab/agenda", params={"to": middle}))
    assert body["from"] is None and body["to"] == middle
    got = ids(walk(server.as_("cab1"), "/cab/agenda", {"to": middle}, limit=200)[0])
    assert before["id"] in got and after["id"] not in got


# --- /schedule/slots -------------------------------------------------------------------------


def slots(server, services, duration="PT2H", after=None, limit=None, who="alice"):
    params = {"services": ",".join(services), "duration": duration}
    if after is not None:
        params["after"] = ts(after) if isinstance(after, datetime) else after
    if limit is not None:
        params["limit"] = limit
    return ok(server.as_(who).get("/schedule/slots", params=params))


def spans(body, base):
    """The slots as (start_h, end_h) pairs relative to base."""
    out = []
    for it in body["items"]:
        assert set(it) == {"start", "end"}, it
        out.append(((parse(it["start"]) - base).total_seconds() / 3600,
                    (parse(it["end"]) - base).total_seconds() / 3600))
    return out


def test_free_time_gives_back_to_back_slots(server, svc):
    base = region()
    s = svc()
    body = slots(server, [s], after=base)
    assert set(body) == {"items", "searched_until"}
    assert spans(body, base) == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert body["searched_until"] == ts(base + timedelta(days=90))
    assert spans(slots(server, [s], duration="PT90M", after=base, limit=3), base) == [
        (0, 1.5), (1.5, 3), (3, 4.5)]
    assert spans(slots(server, [s], duration="P1DT2H", after=base, limit=2), base) == [
        (0, 26), (26, 52)]


def test_after_defaults_to_now(server, svc):
    s = svc()
    t0 = now()
    body = slots(server, [s], duration="PT1H", limit=1)
    t1 = now() + timedelta(seconds=1)
    [it] = body["items"]
    start = parse(it["start"])
    assert t0 <= start <= t1
    assert parse(it["end"]) - start == timedelta(hours=1)
    assert t0 + timedelta(days=90) <= parse(body["searched_until"]) <= t1 + timedelta(days=90)


def test_after_with_an_offset(server, svc):
    base = region()
    s = svc()
    after = (base + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    body = slots(server, [s], after=after, limit=1)
    assert spans(body, base) == [(0, 2)]


def test_a_busy_change_is_skipped(server, svc):
    base = region()
    s = svc()
    new_change(server, [s], win(base, 3, 5))
    assert spans(slots(server, [s], after=base, limit=3), base) == [(0, 2), (5, 7), (7, 9)]


def test_a_change_running_at_after_pushes_the_first_slot(server, svc):
    base = region()
    s = svc()
    new_change(server, [s], win(base, -5, 1))
    assert spans(slots(server, [s], after=base, limit=1), base) == [(1, 3)]


def test_a_slot_fits_exactly_between_two_changes(server, svc):
    base = region()
    s = svc()
    new_change(server, [s], win(base, 0, 2))
    new_change(server, [s], win(base, 4, 6), who="bob")
    assert spans(slots(server, [s], after=base, limit=2), base) == [(2, 4), (6, 8)]
    # three hours do not fit in the gap
    assert spans(slots(server, [s], duration="PT3H", after=base, limit=1), base) == [(6, 9)]


@pytest.mark.parametrize("who_changes,busy", [
    ("itself", True),
    ("dependent", True),     # a service that depends on it is in its impact set
    ("dependency", True),    # a change on what it depends on reaches it
    ("sibling", False),      # depends on the same base, not on it
    ("unrelated", False),
])
def test_what_counts_as_busy(server, svc, who_changes, busy):
    base_svc = svc()
    s = svc([base_svc])
    dependent = svc([s])
    sibling = svc([base_svc])
    other = svc()
    target = {"itself": s, "dependent": dependent, "dependency": base_svc,
              "sibling": sibling, "other": other, "unrelated": other}[who_changes]
    base = region()
    new_change(server, [target], win(base, 1, 3))
    got = spans(slots(server, [s], after=base, limit=2), base)
    assert got == ([(3, 5), (5, 7)] if busy else [(0, 2), (2, 4)]), got
    # the proposal agrees with the conflict rules
    first = got[0]
    probe = new_change(server, [s], win(base, first[0], first[1]), who="bob")
    probe = ok(server.as_("bob").get(f"/changes/{probe['id']}"))
    assert [k for k in probe["conflicts"] if k["kind"] == "change"] == []
    clash = new_change(server, [s], win(base, 1, 3), who="bob")
    clash = ok(server.as_("bob").get(f"/changes/{clash['id']}"))
    assert bool([k for k in clash["conflicts"]
                 if k["kind"] == "change" and k["state"] == "open"
                 and k["other"]["ref"] != probe["ref"]]) is busy


def test_inactive_changes_are_not_busy(server, svc, cab_key):
    base = region()
    s = svc()
    new_change(server, [s], win(base, 0, 2), submit=False)
    cancelled = new_change(server, [s], win(base, 2, 4))
    act(server, cancelled["id"], "cancel", {"reason": "x"})
    rejected = new_change(server, [s], win(base, 4, 6))
    reject(server, cab_key, rejected)
    done = new_change(server, [s], win(base, 6, 8), model="standard")
    assert done["state"] == "approved"
    act(server, done["id"], "start")
    busy_now = spans(slots(server, [s], after=base, limit=5), base)
    assert busy_now == [(0, 2), (2, 4), (4, 6), (8, 10), (10, 12)], "in progress is busy"
    act(server, done["id"], "complete", {"outcome": "successful", "notes": "ok"})
    assert spans(slots(server, [s], after=base, limit=5), base) == [
        (0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]


def test_an_approved_change_is_busy(server, svc):
    base = region()
    s = svc()
    ch = new_change(server, [s], win(base, 0, 2), model="standard")
    assert ch["state"] == "approved"
    assert spans(slots(server, [s], after=base, limit=1), base) == [(2, 4)]


@pytest.mark.parametrize("scope,hard,busy", [
    ("itself", True, True),
    ("itself", False, True),
    ("all", True, True),
    ("dependent", True, True),
    ("dependency", True, False),   # a freeze on what it depends on does not cover it
    ("unrelated", False, False),
])
def test_freezes_that_cover_it_are_skipped(server, svc, scope, hard, busy):
    base_svc = svc()
    s = svc([base_svc])
    dependent = svc([s])
    other = svc()
    covers = {"itself": [s], "all": [], "dependent": [dependent], "dependency": [base_svc],
              "unrelated": [other]}[scope]
    base = region()
    freeze(server, win(base, 2, 10), services=covers, hard=hard)
    got = spans(slots(server, [s], after=base, limit=2), base)
    assert got == ([(0, 2), (10, 12)] if busy else [(0, 2), (2, 4)]), got


def test_several_services_join_their_busy_time(server, svc):
    base = region()
    a, b = svc(), svc()
    new_change(server, [a], win(base, 0, 1))
    freeze(server, win(base, 3, 4), services=[b])
    assert spans(slots(server, [a], after=base, limit=2), base) == [(1, 3), (3, 5)]
    assert spans(slots(server, [b], after=base, limit=2), base) == [(0, 2), (4, 6)]
    assert spans(slots(server, [a, b], after=base, limit=2), base) == [(1, 3), (4, 6)]


def test_limits(server, svc):
    base = region()
    s = svc()
    assert len(slots(server, [s], after=base, limit=1)["items"]) == 1
    twenty = spans(slots(server, [s], duration="PT1H", after=base, limit=20), base)
    assert twenty == [(i, i + 1) for i in range(20)]


def test_nothing_free_within_the_horizon(server, svc):
    base = region()
    s = svc()
    freeze(server, win(base, 0, 89 * 24), services=[s])
    body = slots(server, [s], duration="P2D", after=base)
    assert body["items"] == []
    assert body["searched_until"] == ts(base + timedelta(days=90))
    # a day still fits at the end of the search
    body = slots(server, [s], duration="P1D", after=base)
    assert spans(body, base) == [(89 * 24, 90 * 24)]
    # thirty days may be asked for
    assert slots(server, [svc()], duration="P30D", after=base, limit=1)["items"]


SLOT_ERRORS = [
    ({"duration": "PT2H"}, "services"),
    ({"services": "", "duration": "PT2H"}, "services"),
    ({"services": ",", "duration": "PT2H"}, "services"),
    ({"services": "No_Such", "duration": "PT2H"}, "services"),
    ({"services": "no-such-service", "duration": "PT2H"}, "services"),
    ({"services": "S0"}, "duration"),
    ({"services": "S0", "duration": ""}, "duration"),
    ({"services": "S0", "duration": "2H"}, "duration"),
    ({"services": "S0", "duration": "P"}, "duration"),
    ({"services": "S0", "duration": "PT"}, "duration"),
    ({"services": "S0", "duration": "P1M"}, "duration"),
    ({"services": "S0", "duration": "P1Y"}, "duration"),
    ({"services": "S0", "duration": "PT0S"}, "duration"),
    ({"services": "S0", "duration": "PT2H30"}, "duration"),
    ({"services": "S0", "duration": "P31D"}, "duration"),
    ({"services": "S0", "duration": "PT721H"}, "duration"),
    ({"services": "S0", "duration": "-PT2H"}, "duration"),
    ({"services": "S0", "duration": "PT2H", "after": "soon"}, "after"),
    ({"services": "S0", "duration": "PT2H", "after": "2086-02-30T00:00:00Z"}, "after"),
    ({"services": "S0", "duration": "PT2H", "limit": "0"}, "limit"),
    ({"services": "S0", "duration": "PT2H", "limit": "21"}, "limit"),
    ({"services": "S0", "duration": "PT2H", "limit": "x"}, "limit"),
    ({"services": "S0", "duration": "PT2H", "limit": ""}, "limit"),
    ({"services": "S0", "duration": "PT2H", "limit": "2.5"}, "limit"),
]


def _slot_error_id(case):
    params, field = case
    shown = ",".join(f"{k}={v!r}" for k, v in params.items() if k != "services" or v != "S0")
    return f"{field}:{shown or 'missing'}"


@pytest.mark.parametrize("params,field", SLOT_ERRORS, ids=[_slot_error_id(c) for c in SLOT_ERRORS])
def test_slot_errors(server, svc, params, field):
    s = svc()
    params = {k: (s if v == "S0" else v) for k, v in params.items()}
    problem(server.as_("alice").get("/schedule/slots", params=params), 422, field=field)


def test_an_unknown_service_is_named(server, svc):
    s = svc()
    body = problem(server.as_("alice").get("/schedule/slots", params={
        "services": f"{s},ghost-service", "duration": "PT1H"}), 422, field="services")
    assert any("ghost-service" in e["message"] for e in body["errors"]), body


def test_slots_need_login(server, svc):
    problem(server.anon().get("/schedule/slots", params={"services": "x", "duration": "PT1H"}),
            401)


# --- /changes/recent -------------------------------------------------------------------------


def around_now(start_h, end_h):
    t = now()
    return {"start": ts(t + timedelta(hours=start_h)), "end": ts(t + timedelta(hours=end_h))}


def recent(server, service, hours=None, who="bob"):
    params = {"service": service}
    if hours is not None:
        params["hours"] = hours
    body = ok(server.as_(who).get("/changes/recent", params=params))
    assert isinstance(body.get("items"), list), body
    return body


@pytest.fixture(scope="module")
def chain(svc):
    """root <- base <- s <- dependent (each depends on the one before)."""
    root = svc()
    base = svc([root])
    s = svc([base])
    dependent = svc([s])
    return root, base, s, dependent


def test_recent_follows_what_the_service_depends_on(server, svc, chain, cab_key):
    root, base, s, dependent = chain
    on_s = new_change(server, [s], around_now(-2, 1))
    # windows that have ended are recorded as emergencies (a normal change
    # cannot be submitted after its window)
    on_base = new_change(server, [base], around_now(-3, -2.5), who="bob", model="emergency")
    on_root = new_change(server, [root], around_now(-4, -3.5), model="emergency")
    on_dependent = new_change(server, [dependent], around_now(-1, 0.5))
    on_other = new_change(server, [svc()], around_now(-1, 0.5))
    draft = new_change(server, [s], around_now(-1, 0.5), submit=False)
    cancelled = new_change(server, [s], around_now(-1, 0.5))
    act(server, cancelled["id"], "cancel", {"reason": "x"})
    rejected = new_change(server, [base], around_now(-1, 0.5), who="bob")
    reject(server, cab_key, rejected)
    future = new_change(server, [s], around_now(24 * 5, 24 * 5 + 2))

    body = recent(server, s)
    assert body.get("next_cursor") is None
    got = ids(body["items"])
    assert got == [on_s["id"], on_base["id"], on_root["id"]], got
    for absent in (on_dependent, on_other, draft, cancelled, rejected, future):
        assert absent["id"] not in got
    assert body["items"][0]["ref"] == on_s["ref"]
    assert body["items"][0]["state"] == "awaiting_approval"
    # from the dependent's side, the change on s (and below) is what changed
    got_dep = ids(recent(server, dependent)["items"])
    assert on_dependent["id"] in got_dep and on_s["id"] in got_dep
    assert on_root["id"] in got_dep
    # from the root's side, nothing above it counts
    assert ids(recent(server, root)["items"]) == [on_root["id"]]


def test_recent_hours_window(server, svc):
    base_svc = svc()
    s = svc([base_svc])
    now_change = new_change(server, [s], around_now(-0.5, 0.5))
    hours_ago = new_change(server, [base_svc], around_now(-10, -9), model="emergency")
    days_ago = new_change(server, [s], around_now(-100, -99), model="emergency")
    assert ids(recent(server, s, hours=1)["items"]) == [now_change["id"]]
    assert ids(recent(server, s, hours=12)["items"]) == [now_change["id"], hours_ago["id"]]
    assert ids(recent(server, s)["items"]) == [now_change["id"], hours_ago["id"]], \
        "72 hours by default"
    assert ids(recent(server, s, hours=120)["items"]) == [
        now_change["id"], hours_ago["id"], days_ago["id"]]
    assert days_ago["id"] in ids(recent(server, s, hours=2160)["items"])


def test_recent_counts_what_started_or_completed_in_the_period(server, svc):
    s = svc()
    started = new_change(server, [s], around_now(24 * 10, 24 * 10 + 2), model="standard")
    assert started["state"] == "approved"
    finished = new_change(server, [s], around_now(24 * 20, 24 * 20 + 2), model="standard",
                          who="bob")
    assert finished["state"] == "approved"
    assert ids(recent(server, s, hours=1)["items"]) == [], "future windows alone do not count"
    act(server, started["id"], "start")
    act(server, finished["id"], "start", who="bob")
    act(server, finished["id"], "complete", {"outcome": "successful", "notes": "ok"}, who="bob")
    items = recent(server, s, hours=1)["items"]
    assert sorted(ids(items)) == sorted([started["id"], finished["id"]])
    states = {c["id"]: c["state"] for c in items}
    assert states[started["id"]] == "in_progress"
    assert states[finished["id"]] in ("closed", "review")


@pytest.mark.parametrize("params,field", [
    ({}, "service"),
    ({"service": ""}, "service"),
    ({"service": "Not A Slug"}, "service"),
    ({"service": "no-such-service"}, "service"),
    ({"service": "S0", "hours": "0"}, "hours"),
    ({"service": "S0", "hours": "-5"}, "hours"),
    ({"service": "S0", "hours": "2161"}, "hours"),
    ({"service": "S0", "hours": "x"}, "hours"),
    ({"service": "S0", "hours": ""}, "hours"),
    ({"service": "S0", "hours": "1.5"}, "hours"),
])
def test_recent_errors(server, svc, params, field):
    s = svc()
    params = {k: (s if v == "S0" else v) for k, v in params.items()}
    problem(server.as_("alice").get("/changes/recent", params=params), 422, field=field)


def test_recent_needs_login(server, svc):
    problem(server.anon().get("/changes/recent", params={"service": svc()}), 401)
