"""Freeze windows (README "Freezes") and the change summary report (README
"Reports") over a small set of changes driven through the workflow."""

import base64
import math
import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from conftest import ok, problem, unique, walk

FREEZE_KEYS = {"id", "name", "window", "services", "hard", "reason", "created_by",
               "created_at", "updated_at"}
REPORT_KEYS = {"from", "to", "total", "by_state", "by_model", "success_rate", "failure_rate",
               "emergency_share", "unauthorized", "lead_time_median_s",
               "approval_turnaround_median_s", "weekly"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


_day = iter(range(1, 100000))


def far(hours=6):
    """A window of its own in 2090 (no change of this module's is ever there)."""
    start = datetime(2090, 1, 1, tzinfo=timezone.utc) + timedelta(days=2 * next(_day))
    return {"start": ts(start), "end": ts(start + timedelta(hours=hours))}


@pytest.fixture(scope="module")
def svcs(server):
    admin = server.as_("admin")
    names = []
    for tier in (3, 4, 4):
        n = unique("fr")
        ok(admin.post("/services", json={"name": n, "title": n, "tier": tier}), 201)
        names.append(n)
    return names


def create_freeze(server, **body):
    body.setdefault("name", unique("freeze"))
    body.setdefault("window", far())
    r = server.as_("manager").post("/freezes", json=body)
    f = ok(r, 201)
    assert r.headers.get("Location") == f"/api/v1/freezes/{f['id']}", r.headers
    return f


# --- freezes ---------------------------------------------------------------------------------


def test_create_and_read_a_freeze(server, svcs):
    w = far()
    f = create_freeze(server, name="Year-end freeze", window=w, services=[svcs[1], svcs[0]],
                      hard=False, reason="finance closes the books")
    assert set(f) >= FREEZE_KEYS, FREEZE_KEYS - set(f)
    assert f["name"] == "Year-end freeze" and f["window"] == w
    assert f["services"] == sorted([svcs[0], svcs[1]])
    assert f["hard"] is False and f["reason"] == "finance closes the books"
    assert f["created_by"]["id"] == server.users["manager"]["id"]
    assert TS.match(f["created_at"]) and TS.match(f["updated_at"])
    for who in ("alice", "bob", "cab1"):
        assert ok(server.as_(who).get(f"/freezes/{f['id']}")) == f


def test_freeze_defaults(server):
    f = create_freeze(server)
    assert f["hard"] is True, "hard defaults to true"
    assert f["services"] == [] and f["reason"] == ""
    f = create_freeze(server, hard=None, services=None)
    assert f["hard"] is True and f["services"] == []


def test_times_are_normalised(server):
    f = create_freeze(server, window={"start": "2091-03-04T05:06:07+02:00",
                                      "end": "2091-03-04T09:00:00.75Z"})
    assert f["window"] == {"start": "2091-03-04T03:06:07Z", "end": "2091-03-04T09:00:00Z"}


@pytest.mark.parametrize("body,field", [
    ({"window": {"start": "2092-01-01T10:00:00Z", "end": "2092-01-01T10:00:00Z"}}, "window.end"),
    ({"window": {"start": "2092-01-01T10:00:00Z", "end": "2092-01-01T09:00:00Z"}}, "window.end"),
    ({"window": {"start": "2092-01-01T10:00:00Z"}}, "window.end"),
    ({"window": {"start": "yesterday", "end": "2092-01-01T10:00:00Z"}}, "window.start"),
    ({"window": None}, "window"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"hard": "yes"}, "hard"),
    ({"services": ["no-such-service"]}, "services[0]"),
    ({"services": "SVC0"}, "services"),
    ({"colour": "red"}, "colour"),
])
def test_freeze_validation(server, svcs, body, field):
    full = {"name": unique("bad"), "window": far(), "services": [svcs[0]]}
    full.update(body)
    if full.get("services") == "SVC0":
        full["services"] = svcs[0]
    before = len(walk(server.as_("alice"), "/freezes", limit=200)[0])
    problem(server.as_("manager").post("/freezes", json=full), 422, field=field)
    assert len(walk(server.as_("alice"), "/freezes", limit=200)[0]) == before


def test_name_and_window_are_required(server):
    problem(server.as_("manager").post("/freezes", json={"window": far()}), 422, field="name")
    problem(server.as_("manager").post("/freezes", json={"name": "x"}), 422, field="window")


@pytest.mark.parametrize("i", [0, 1, 2])
def test_unknown_service_names_its_index(server, svcs, i):
    services = list(svcs)
    services[i] = unique("nope")
    problem(server.as_("manager").post("/freezes", json={
        "name": "x", "window": far(), "services": services}), 422, field=f"services[{i}]")


def test_duplicate_service_is_422(server, svcs):
    problem(server.as_("manager").post("/freezes", json={
        "name": "x", "window": far(), "services": [svcs[0], svcs[0]]}), 422, field="services[1]")


def test_every_fault_of_a_freeze_is_named_at_once(server, svcs):
    mgr = server.as_("manager")
    name = unique("all")
    r = mgr.post("/freezes", json={
        "name": name, "window": {"start": "2092-01-01T10:00:00Z", "end": "2092-01-01T09:00:00Z"},
        "services": [svcs[0], "no-such-service"], "hard": "yes", "colour": "red"})
    problem(r, 422, fields=["window.end", "services[1]", "hard", "colour"])
    r = mgr.post("/freezes", json={"name": "", "window": {"start": "soon"},
                                   "services": ["no-such-service", svcs[1]]})
    problem(r, 422, fields=["name", "window.start", "window.end", "services[0]"])
    r = mgr.post("/freezes", json={"name": name, "window": far(),
                                   "services": [5, svcs[0], "Bad Name", svcs[0]]})
    problem(r, 422, fields=["services[0]", "services[2]", "services[3]"])
    assert name not in [f["name"] for f in walk(server.as_("alice"), "/freezes", limit=200)[0]]


@pytest.mark.parametrize("who", ["alice", "bob", "cab1", "ecab"])
def test_freeze_writes_are_for_managers(server, svcs, who):
    c = server.as_(who)
    name = unique("nope")
    problem(c.post("/freezes", json={"name": name, "window": far()}), 403)
    assert name not in [f["name"] for f in walk(server.as_("alice"), "/freezes", limit=200)[0]]
    f = create_freeze(server)
    problem(c.patch(f"/freezes/{f['id']}", json={"name": "mine now"}), 403)
    problem(c.delete(f"/freezes/{f['id']}"), 403)
    assert ok(c.get(f"/freezes/{f['id']}")) == f


def test_freezes_need_login(server):
    problem(server.anon().get("/freezes"), 401)
    problem(server.anon().post("/freezes", json={"name": "x", "window": far()}), 401)


def test_patch_is_a_merge(server, svcs):
    mgr = server.as_("manager")
    f = create_freeze(server, services=[svcs[0]], hard=True, reason="r1")
    g = ok(mgr.patch(f"/freezes/{f['id']}", json={"name": "renamed"}))
    assert g["name"] == "renamed"
    for k in ("window", "services", "hard", "reason", "created_by", "created_at"):
        assert g[k] == f[k], k
    g = ok(mgr.patch(f"/freezes/{f['id']}", json={"services": [svcs[2], svcs[1]],
                                                  "hard": False}))
    assert g["services"] == sorted([svcs[1], svcs[2]]) and g["hard"] is False
    assert g["name"] == "renamed" and g["reason"] == "r1"
    w = far()
    g = ok(mgr.patch(f"/freezes/{f['id']}", json={"window": w, "reason": None,
                                                  "services": []}))
    assert g["window"] == w and g["reason"] == "" and g["services"] == []
    assert ok(server.as_("alice").get(f"/freezes/{f['id']}")) == g


@pytest.mark.parametrize("patch,field", [
    ({"window": {"start": "2093-01-01T10:00:00Z", "end": "2093-01-01T09:00:00Z"}}, "window.end"),
    ({"name": None}, "name"),
    ({"window": None}, "window"),
    ({"services": ["no-such-service"]}, "services[0]"),
    ({"hard": 1}, "hard"),
    ({"id": 5}, "id"),
])
def test_patch_validation(server, svcs, patch, field):
    f = create_freeze(server, services=[svcs[0]])
    problem(server.as_("manager").patch(f"/freezes/{f['id']}", json=patch), 422, field=field)
    assert ok(server.as_("alice").get(f"/freezes/{f['id']}")) == f


def test_every_fault_of_a_freeze_patch_is_named_at_once(server, svcs):
    f = create_freeze(server, services=[svcs[0]])
    r = server.as_("manager").patch(f"/freezes/{f['id']}", json={
        "name": None, "window": None, "services": ["no-such-service"], "hard": 1, "id": 5})
    problem(r, 422, fields=["name", "window", "services[0]", "hard", "id"])
    assert ok(server.as_("alice").get(f"/freezes/{f['id']}")) == f


def test_patch_window_end_against_the_stored_start(server):
    f = create_freeze(server)
    problem(server.as_("manager").patch(f"/freezes/{f['id']}", json={
        "window": {"start": f["window"]["start"], "end": f["window"]["start"]}}), 422,
        field="window.end")


def test_delete(server):
    mgr = server.as_("manager")
    f = create_freeze(server)
    r = mgr.delete(f"/freezes/{f['id']}")
    assert r.status_code == 204 and r.content == b"", r.text
    problem(server.as_("alice").get(f"/freezes/{f['id']}"), 404)
    problem(mgr.delete(f"/freezes/{f['id']}"), 404)
    problem(mgr.patch(f"/freezes/{f['id']}", json={"name": "x"}), 404)
    assert f["id"] not in [x["id"] for x in walk(server.as_("alice"), "/freezes", limit=200)[0]]


@pytest.mark.parametrize("fid", ["987654321", "abc", "0", "-1"])
def test_unknown_freeze_is_404(server, fid):
    problem(server.as_("alice").get(f"/freezes/{fid}"), 404)
    problem(server.as_("manager").patch(f"/freezes/{fid}", json={"name": "x"}), 404)
    problem(server.as_("manager").delete(f"/freezes/{fid}"), 404)


def test_list_by_period_overlap(server):
    w = far(hours=4)
    f = create_freeze(server, window=w)
    s, e = parse(w["start"]), parse(w["end"])

    def listed(frm, to):
        items, _ = walk(server.as_("bob"), "/freezes", params={"from": ts(frm), "to": ts(to)})
        return f["id"] in [x["id"] for x in items]

    assert listed(s - timedelta(days=1), s + timedelta(seconds=1))
    assert listed(e - timedelta(seconds=1), e + timedelta(days=1))
    assert listed(s + timedelta(hours=1), s + timedelta(hours=2))
    assert listed(s - timedelta(days=1), e + timedelta(days=1))
    # [from, to) touching the freeze's [start, end) at an end does not overlap
    assert not listed(e, e + timedelta(days=1))
    assert not listed(s - timedelta(days=1), s)
    problem(server.as_("bob").get("/freezes", params={"from": "soon"}), 422, field="from")
    problem(server.as_("bob").get("/freezes", params={"to": "2090-13-01T00:00:00Z"}), 422,
            field="to")


def test_list_pages(server):
    for _ in range(3):
        create_freeze(server)
    items, pages = walk(server.as_("bob"), "/freezes", limit=2)
    ids = [x["id"] for x in items]
    assert pages >= 2 and len(ids) == len(set(ids)) >= 3


# --- reports ---------------------------------------------------------------------------------


class Clock:
    """Client-side bounds on server-side instants."""

    def __init__(self):
        self.t = {}

    def around(self, key, fn):
        before = time.time()
        out = fn()
        self.t[key] = (before, time.time())
        return out


def b64(raw):
    return base64.b64encode(raw).decode()


def approve(server, name, cid):
    sk = SigningKey.generate()
    k = ok(server.as_(name).post("/me/keys", json={"public_key": b64(sk.verify_key.encode())}),
           201)
    ch = ok(server.as_(name).get(f"/changes/{cid}"))
    at = ts(datetime.now(timezone.utc))
    st = (f"cabinet-approval-v1\n{ch['ref']}\n{ch['version']}\n{ch['content_hash']}\n"
          f"approve\n{at}")
    return ok(server.as_(name).post(f"/changes/{cid}/approvals", json={
        "decision": "approve", "key_id": k["id"], "signed_at": at,
        "signature": b64(sk.sign(st.encode()).signature)}), 201)


def median_bounds(pairs):
    lo = sorted(p[0] for p in pairs)
    hi = sorted(p[1] for p in pairs)
    n = len(pairs)
    if n % 2:
        return lo[n // 2], hi[n // 2]
    return (lo[n // 2 - 1] + lo[n // 2]) / 2, (hi[n // 2 - 1] + hi[n // 2]) / 2


@pytest.fixture(scope="module")
def report_set(server):
    """Seven changes made in a period of their own, driven through the workflow:

    c1 normal     approved after ~1.5 s, started, successful    -> closed
    c2 standard   approved at submit, started, failed           -> review
    c3 normal     approved after ~3.5 s, started, rolled back   -> review
    c4 emergency  started retrospectively, successful           -> review, unauthorized
    c5 normal     draft
    c6 normal     awaiting approval
    c7 normal     cancelled from draft
    """
    admin, alice, mgr = server.as_("admin"), server.as_("alice"), server.as_("manager")
    svc = unique("rep")
    ok(admin.post("/services", json={"name": svc, "title": "Reported", "tier": 3}), 201)
    server.as_("cab1")  # log in now: nothing below waits on it
    time.sleep(1.1)
    t_from = ts(datetime.now(timezone.utc))
    clock = Clock()
    base = datetime.now(timezone.utc).replace(microsecond=0)
    leads = {"c1": timedelta(days=10), "c2": timedelta(days=3), "c3": timedelta(days=5),
             "c4": timedelta(hours=-1), "c6": timedelta(days=20)}
    models = {"c1": "normal", "c2": "standard", "c3": "normal", "c4": "emergency",
              "c5": "normal", "c6": "normal", "c7": "normal"}
    ids, windows = {}, {}
    t_mid = None
    for name, model in models.items():
        if name == "c5":
            time.sleep(1.1)
            t_mid = ts(datetime.now(timezone.utc))
        start = base + leads.get(name, timedelta(days=7))
        windows[name] = start
        ch = ok(alice.post("/changes", json={
            "title": f"report {name}", "model": model, "services": [svc],
            "window": {"start": ts(start), "end": ts(start + timedelta(hours=2))},
            "test_plan": "t", "backout_plan": "b"}), 201)
        ids[name] = ch["id"]
    for name in ("c1", "c2", "c3", "c4", "c6"):
        sub = clock.around(("submit", name), lambda: ok(alice.post(f"/changes/{ids[name]}/submit")))
        want = "approved" if name == "c2" else "awaiting_approval"
        assert sub["state"] == want, sub
    clock.t[("approve", "c2")] = clock.t[("submit", "c2")]
    time.sleep(1.5)
    clock.around(("approve", "c1"), lambda: approve(server, "cab1", ids["c1"]))
    time.sleep(2.0)
    clock.around(("approve", "c3"), lambda: approve(server, "cab2", ids["c3"]))
    for name, outcome in (("c1", "successful"), ("c2", "failed"), ("c3", "rolled_back")):
        ok(alice.post(f"/changes/{ids[name]}/start", json={}))
        ok(alice.post(f"/changes/{ids[name]}/complete", json={"outcome": outcome}))
    ok(mgr.post(f"/changes/{ids['c4']}/start", json={"retrospective": True,
                                                     "reason": "outage"}))
    ok(alice.post(f"/changes/{ids['c4']}/complete", json={"outcome": "successful"}))
    ok(alice.post(f"/changes/{ids['c7']}/cancel", json={}))
    t_to = ts(datetime.now(timezone.utc) + timedelta(seconds=1))
    changes = {n: ok(alice.get(f"/changes/{i}")) for n, i in ids.items()}
    expect_states = {"c1": "closed", "c2": "review", "c3": "review", "c4": "review",
                     "c5": "draft", "c6": "awaiting_approval", "c7": "cancelled"}
    assert {n: c["state"] for n, c in changes.items()} == expect_states
    assert "unauthorized" in changes["c4"]["flags"]
    time.sleep(1.1)  # nothing else is created in [t_from, t_to)
    return {"from": t_from, "mid": t_mid, "to": t_to, "changes": changes, "clock": clock,
            "windows": windows}


def summary(server, frm, to, who="bob"):
    return ok(server.as_(who).get("/reports/summary", params={"from": frm, "to": to}))


def test_summary_counts(server, report_set):
    r = summary(server, report_set["from"], report_set["to"])
    assert set(r) >= REPORT_KEYS, REPORT_KEYS - set(r)
    assert r["from"] == report_set["from"] and r["to"] == report_set["to"]
    assert r["total"] == 7, r
    assert r["by_state"] == {"closed": 1, "review": 3, "draft": 1, "awaiting_approval": 1,
                             "cancelled": 1}, r["by_state"]
    assert r["by_model"] == {"normal": 5, "standard": 1, "emergency": 1}, r["by_model"]
    # outcomes: c1 successful, c2 failed, c3 rolled back, c4 successful
    assert r["success_rate"] == pytest.approx(0.5) and r["failure_rate"] == pytest.approx(0.5)
    assert r["emergency_share"] == pytest.approx(0.1429, abs=1e-9), r["emergency_share"]
    assert r["unauthorized"] == 1


def test_summary_medians(server, report_set):
    r = summary(server, report_set["from"], report_set["to"])
    clock, windows = report_set["clock"], report_set["windows"]
    leads = []
    for name in ("c1", "c2", "c3", "c4", "c6"):
        t0, t1 = clock.t[("submit", name)]
        ws = windows[name].timestamp()
        leads.append((ws - t1, ws - t0))
    lo, hi = median_bounds(leads)  # c3's: 5 days
    assert isinstance(r["lead_time_median_s"], int), r
    assert math.floor(lo) - 1 <= r["lead_time_median_s"] <= math.ceil(hi) + 1, (r, lo, hi)
    turns = []
    for name in ("c1", "c2", "c3"):
        s0, s1 = clock.t[("submit", name)]
        a0, a1 = clock.t[("approve", name)]
        turns.append((0, 0) if name == "c2" else (a0 - s1, a1 - s0))
    lo, hi = median_bounds(turns)  # c1's: about 1.5 s
    assert isinstance(r["approval_turnaround_median_s"], int), r
    assert math.floor(lo) <= r["approval_turnaround_median_s"] <= math.ceil(hi), (r, lo, hi)
    assert r["approval_turnaround_median_s"] >= 1


def test_summary_weekly(server, report_set):
    r = summary(server, report_set["from"], report_set["to"])
    weeks = {}
    for name, c in report_set["changes"].items():
        d = parse(c["created_at"]).date()
        monday = (d - timedelta(days=d.weekday())).isoformat()
        w = weeks.setdefault(monday, {"week": monday, "created": 0, "successful": 0,
                                      "failed": 0, "rolled_back": 0, "emergency": 0})
        w["created"] += 1
        if c["outcome"]:
            w[c["outcome"]] += 1
        if c["kind"] == "emergency":
            w["emergency"] += 1
    assert r["weekly"] == [weeks[k] for k in sorted(weeks)], r["weekly"]
    for w in r["weekly"]:
        assert date.fromisoformat(w["week"]).weekday() == 0  # a Monday


def test_summary_of_an_empty_period(server, report_set):
    r = summary(server, "2001-01-01T00:00:00Z", "2001-02-01T00:00:00Z")
    assert r["total"] == 0 and r["by_state"] == {} and r["by_model"] == {}
    assert r["success_rate"] is None and r["failure_rate"] is None
    assert r["emergency_share"] is None and r["unauthorized"] == 0
    assert r["lead_time_median_s"] is None and r["approval_turnaround_median_s"] is None
    assert r["weekly"] == []


def test_summary_counts_changes_created_in_the_period(server, report_set):
    # c1..c4 were created before `mid`, c5..c7 at or after it
    first = summary(server, report_set["from"], report_set["mid"])
    assert first["total"] == 4, first
    assert first["by_state"] == {"closed": 1, "review": 3}, first["by_state"]
    assert first["by_model"] == {"normal": 2, "standard": 1, "emergency": 1}
    assert first["emergency_share"] == pytest.approx(0.25)
    assert first["unauthorized"] == 1
    second = summary(server, report_set["mid"], report_set["to"])
    assert second["total"] == 3, second
    assert second["by_state"] == {"draft": 1, "awaiting_approval": 1, "cancelled": 1}
    assert second["success_rate"] is None and second["failure_rate"] is None
    assert second["emergency_share"] == pytest.approx(0.0) and second["unauthorized"] == 0
    assert sum(w["created"] for w in second["weekly"]) == 3
    earlier = summary(server, ts(parse(report_set["from"]) - timedelta(days=1)),
                      report_set["from"])
    assert earlier["total"] == 0, earlier


def test_summary_defaults_to_the_last_30_days(server, report_set):
    r = ok(server.as_("alice").get("/reports/summary"))
    now = datetime.now(timezone.utc)
    assert abs((parse(r["to"]) - now).total_seconds()) < 60, r["to"]
    assert abs((parse(r["from"]) - (now - timedelta(days=30))).total_seconds()) < 60, r["from"]
    assert r["total"] >= 7
    assert sum(r["by_state"].values()) == r["total"] == sum(r["by_model"].values())


def test_summary_accepts_offsets(server, report_set):
    frm = parse(report_set["from"]).astimezone(timezone(timedelta(hours=2)))
    r = ok(server.as_("bob").get("/reports/summary", params={
        "from": frm.isoformat(), "to": report_set["to"]}))
    assert r["from"] == report_set["from"] and r["total"] == 7


@pytest.mark.parametrize("params,field", [
    ({"from": "yesterday"}, "from"),
    ({"to": "2031-02-30T00:00:00Z"}, "to"),
    ({"from": "2031-01-01"}, "from"),
    ({"from": "2031-01-02T00:00:00Z", "to": "2031-01-01T00:00:00Z"}, "to"),
    ({"from": "2031-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"}, "to"),
])
def test_summary_bad_period_is_422(server, params, field):
    problem(server.as_("bob").get("/reports/summary", params=params), 422, field=field)


def test_summary_needs_login(server):
    problem(server.anon().get("/reports/summary"), 401)
