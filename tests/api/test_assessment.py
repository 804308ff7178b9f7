"""The impact assessment (README "Workflow"): every factor's points and
reason row, the level thresholds, and the impact set, on service maps built
for each test."""

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ok, problem, unique

FACTORS = {"tier", "blast_radius", "business_impact", "no_test_plan", "no_backout_plan",
           "short_notice", "conflicts", "freeze", "failure_history"}

_slot = itertools.count(1)


# --- helpers ---------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def win(start, end):
    return {"start": ts(start), "end": ts(end)}


def far_window(hours=2):
    """A window of its own, far in the future (> 48 h, overlapping no other
    test's window): year 2061 + one day per call."""
    start = datetime(2061, 1, 1, 10, tzinfo=timezone.utc) + timedelta(days=3 * next(_slot))
    return win(start, start + timedelta(hours=hours))


@pytest.fixture(scope="module")
def mk(server):
    """mk(tier, depends_on=[...]) -> a fresh service name."""
    admin = server.as_("admin")

    def make(tier=4, depends_on=()):
        name = unique(f"as{tier}")
        ok(admin.post("/services", json={"name": name, "title": name.upper(), "tier": tier,
                                         "depends_on": list(depends_on)}), 201)
        return name

    return make


def draft(server, services, who="alice", **body):
    """A draft with both plans, business impact low and its own far window
    unless told otherwise; None drops a field."""
    body.setdefault("title", unique("assess"))
    body["services"] = services
    body.setdefault("window", far_window())
    body.setdefault("test_plan", "run the smoke suite")
    body.setdefault("backout_plan", "roll back with the previous image")
    body.setdefault("business_impact", "low")
    body = {k: v for k, v in body.items() if v is not None}
    return ok(server.as_(who).post("/changes", json=body), 201)


def submit(server, cid, who="alice"):
    return ok(server.as_(who).post(f"/changes/{cid}/submit"))


def assess(server, services, keep=False, **body):
    """Create, submit; return the assessment as GET /assessment returns it
    (checked against the change's own copy). The change is cancelled
    afterwards unless keep, so that it conflicts with nothing later."""
    ch = submit(server, draft(server, services, **body)["id"])
    a = ok(server.as_("bob").get(f"/changes/{ch['id']}/assessment"))
    assert a["score"] == ch["assessment"]["score"] and a["level"] == ch["assessment"]["level"]
    assert a["reasons"] == ch["assessment"]["reasons"]
    assert a["version"] == ch["version"]
    a["_change"] = ch
    if not keep:
        ok(server.as_("alice").post(f"/changes/{ch['id']}/cancel", json={}))
    return a


def level_of(score):
    return "low" if score < 25 else "medium" if score < 50 else "high" if score < 75 else "critical"


def points(a):
    """factor -> points of the rows that carry points; every row is checked."""
    out = {}
    for r in a["reasons"]:
        assert set(r) >= {"factor", "points", "detail"}, r
        assert r["factor"] in FACTORS, r
        assert isinstance(r["points"], int) and r["points"] >= 0, r
        assert isinstance(r["detail"], str) and r["detail"].strip(), r
        assert r["factor"] not in out, f"factor listed twice: {a['reasons']}"
        if r["points"]:
            out[r["factor"]] = r["points"]
    return out


def check(a, expected):
    """The reason rows are exactly `expected` (zero-point rows may be listed),
    the score is their sum and the level follows the thresholds."""
    got = points(a)
    assert got == expected, f"reasons {a['reasons']} (score {a['score']}) != {expected}"
    assert a["score"] == sum(expected.values()), a
    assert a["level"] == level_of(a["score"]), a


def names(impact_set):
    return sorted(x["name"] if isinstance(x, dict) else x for x in impact_set)


# --- tier, blast radius, business impact, plans -----------------------------------------


@pytest.mark.parametrize("tier,pts", [(1, 40), (2, 25), (3, 10), (4, 0)])
def test_tier_points(server, mk, tier, pts):
    a = assess(server, [mk(tier)])
    check(a, {**({"tier": pts} if pts else {}), "blast_radius": 2})


def test_most_critical_tier_in_the_impact_set_counts(server, mk):
    # the listed service is tier 4; a tier-1 service depends on it
    root = mk(4)
    mk(1, depends_on=[root])
    a = assess(server, [root])
    check(a, {"tier": 40, "blast_radius": 4})


def test_tier_counts_once_for_several_services(server, mk):
    a = assess(server, [mk(2), mk(2), mk(3)])
    check(a, {"tier": 25, "blast_radius": 6})


@pytest.mark.parametrize("n,pts", [(1, 2), (3, 6), (9, 18), (10, 20), (11, 20), (14, 20)])
def test_blast_radius_two_points_per_service_capped_at_20(server, mk, n, pts):
    # one listed root with n - 1 transitive dependents (a chain and a fan)
    root = mk(4)
    prev = root
    for i in range(n - 1):
        prev = mk(4, depends_on=[prev] if i % 2 == 0 else [root])
    a = assess(server, [root])
    check(a, {"blast_radius": pts})
    assert len(a["impact_set"]) == n, a["impact_set"]


@pytest.mark.parametrize("impact,pts", [("low", 0), ("medium", 10), ("high", 20), (None, 0)])
def test_business_impact(server, mk, impact, pts):
    a = assess(server, [mk(4)], business_impact=impact)
    check(a, {"blast_radius": 2, **({"business_impact": pts} if pts else {})})


@pytest.mark.parametrize("plan", [None, "", " ", "  \n\t \r\n"])
def test_no_test_plan(server, mk, plan):
    a = assess(server, [mk(4)], test_plan=plan)
    check(a, {"blast_radius": 2, "no_test_plan": 10})


@pytest.mark.parametrize("plan", [None, "", " ", "\t\n  \n"])
def test_no_backout_plan(server, mk, plan):
    a = assess(server, [mk(4)], backout_plan=plan)
    check(a, {"blast_radius": 2, "no_backout_plan": 15})


def test_a_plan_with_text_counts(server, mk):
    a = assess(server, [mk(4)], test_plan="  x  ", backout_plan="\n.\n")
    check(a, {"blast_radius": 2})


def test_every_factor_but_time_at_once(server, mk):
    a = assess(server, [mk(1)], business_impact="high", test_plan=None, backout_plan=None)
    check(a, {"tier": 40, "blast_radius": 2, "business_impact": 20, "no_test_plan": 10,
              "no_backout_plan": 15})
    assert a["level"] == "critical" and a["score"] == 87


# --- short notice ------------------------------------------------------------------------


@pytest.mark.parametrize("start_h,pts", [(1, 10), (47, 10), (-5, 10), (49, 0), (24 * 30, 0)])
def test_short_notice_for_normal_changes(server, mk, start_h, pts):
    s = now() + timedelta(hours=start_h)
    # a window that has started is still open at submission (one that has
    # ended cannot be submitted)
    a = assess(server, [mk(4)], window=win(s, s + timedelta(hours=max(1, 1 - start_h))))
    check(a, {"blast_radius": 2, **({"short_notice": pts} if pts else {})})


@pytest.mark.parametrize("start_h", [1, -2, 47])
def test_no_short_notice_points_for_emergencies(server, mk, start_h):
    s = now() + timedelta(hours=start_h)
    a = assess(server, [mk(4)], model="emergency", window=win(s, s + timedelta(hours=1)))
    check(a, {"blast_radius": 2})


# --- conflicts ----------------------------------------------------------------------------


def active(server, services, window, **body):
    """Another active (submitted) change of bob's."""
    ch = submit(server, draft(server, services, who="bob", window=window, **body)["id"],
                who="bob")
    assert ch["state"] in ("awaiting_approval", "approved"), ch
    return ch


def hours_window(base, a, b):
    return win(base + timedelta(hours=a), base + timedelta(hours=b))


def base_time():
    return datetime(2062, 1, 1, tzinfo=timezone.utc) + timedelta(days=3 * next(_slot))


def test_one_overlapping_change_on_the_same_service(server, mk):
    s, t0 = mk(4), base_time()
    active(server, [s], hours_window(t0, 0, 4))
    a = assess(server, [s], window=hours_window(t0, 3, 5))
    check(a, {"blast_radius": 2, "conflicts": 10})


def test_two_and_three_conflicts_are_capped_at_20(server, mk):
    s, t0 = mk(4), base_time()
    active(server, [s], hours_window(t0, 0, 4))
    active(server, [s], hours_window(t0, 1, 2))
    a = assess(server, [s], window=hours_window(t0, 1, 3))
    check(a, {"blast_radius": 2, "conflicts": 20})
    active(server, [s], hours_window(t0, 2, 6))
    a = assess(server, [s], window=hours_window(t0, 1, 3))
    check(a, {"blast_radius": 2, "conflicts": 20})


def test_adjacent_windows_do_not_overlap(server, mk):
    s, t0 = mk(4), base_time()
    active(server, [s], hours_window(t0, 0, 2))   # [a, b)
    active(server, [s], hours_window(t0, 4, 6))   # [c, d)
    a = assess(server, [s], window=hours_window(t0, 2, 4))  # [b, c)
    check(a, {"blast_radius": 2})
    # one second of overlap is a conflict
    start, end = t0 + timedelta(hours=2), t0 + timedelta(hours=4)
    a = assess(server, [s], window=win(start - timedelta(seconds=1), end))
    check(a, {"blast_radius": 2, "conflicts": 10})


def test_intersecting_impact_sets_conflict(server, mk):
    # base <- mid <- top (top depends on mid, mid on base)
    base = mk(4)
    mid = mk(4, depends_on=[base])
    top = mk(4, depends_on=[mid])
    lone = mk(4)
    t0 = base_time()
    w = hours_window(t0, 0, 3)
    active(server, [top], w)  # impact set {top}
    # touching base: impact set {base, mid, top} meets {top}
    check(assess(server, [base], window=w), {"blast_radius": 6, "conflicts": 10})
    # touching mid: {mid, top} meets {top}
    check(assess(server, [mid], window=w), {"blast_radius": 4, "conflicts": 10})
    # a change kept active on base now conflicts with the next one on mid too
    assess(server, [base], window=w, keep=True)
    check(assess(server, [mid], window=w), {"blast_radius": 4, "conflicts": 20})
    # an unrelated service in the same window: no conflict
    check(assess(server, [lone], window=w), {"blast_radius": 2})


def test_a_dependency_of_my_service_changing_is_a_conflict(server, mk):
    base = mk(4)
    top = mk(4, depends_on=[base])
    t0 = base_time()
    w = hours_window(t0, 0, 3)
    active(server, [base], w)  # impact set {base, top}
    check(assess(server, [top], window=w), {"blast_radius": 2, "conflicts": 10})


def test_only_active_changes_conflict(server, mk):
    s, t0 = mk(4), base_time()
    w = hours_window(t0, 0, 3)
    draft(server, [s], who="bob", window=w)  # a draft is not active
    cancelled = active(server, [s], w)
    ok(server.as_("bob").post(f"/changes/{cancelled['id']}/cancel", json={"reason": "x"}))
    check(assess(server, [s], window=w), {"blast_radius": 2})


def test_an_in_progress_change_conflicts(server, mk):
    s, t0 = mk(4), base_time()
    w = hours_window(t0, 0, 3)
    ch = active(server, [s], w, model="standard")
    assert ch["state"] == "approved"
    ok(server.as_("bob").post(f"/changes/{ch['id']}/start", json={}))
    check(assess(server, [s], window=w), {"blast_radius": 2, "conflicts": 10})
    ok(server.as_("bob").post(f"/changes/{ch['id']}/complete", json={"outcome": "successful"}))
    # finished: no longer a conflict
    check(assess(server, [s], window=w), {"blast_radius": 2})


# --- freezes -------------------------------------------------------------------------------


@pytest.fixture
def freeze(server):
    """freeze(window, services, hard) -> a freeze, deleted after the test."""
    made = []
    mgr = server.as_("manager")

    def make(window, services=(), hard=True):
        f = ok(mgr.post("/freezes", json={"name": unique("freeze"), "window": window,
                                          "services": list(services), "hard": hard,
                                          "reason": "assessment test"}), 201)
        made.append(f["id"])
        return f

    yield make
    for fid in made:
        r = mgr.delete(f"/freezes/{fid}")
        assert r.status_code in (204, 404), r.text


@pytest.mark.parametrize("hard", [True, False])
def test_a_freeze_on_a_listed_service(server, mk, freeze, hard):
    s, t0 = mk(4), base_time()
    freeze(hours_window(t0, 0, 24), [s], hard=hard)
    a = assess(server, [s], window=hours_window(t0, 5, 6))
    check(a, {"blast_radius": 2, "freeze": 30})


def test_a_freeze_on_a_dependent_covers_the_impact_set(server, mk, freeze):
    base = mk(4)
    top = mk(4, depends_on=[base])
    t0 = base_time()
    freeze(hours_window(t0, 0, 24), [top], hard=False)
    check(assess(server, [base], window=hours_window(t0, 1, 2)),
          {"blast_radius": 4, "freeze": 30})
    # but a freeze on base does not cover a change to top alone (base is not
    # in top's impact set)
    other = base_time()
    freeze(hours_window(other, 0, 24), [base], hard=False)
    check(assess(server, [top], window=hours_window(other, 1, 2)), {"blast_radius": 2})


def test_a_freeze_with_no_services_covers_everything(server, mk, freeze):
    t0 = base_time()
    freeze(hours_window(t0, 0, 10), [], hard=True)
    check(assess(server, [mk(4)], window=hours_window(t0, 9, 12)),
          {"blast_radius": 2, "freeze": 30})


def test_a_freeze_on_an_unrelated_service_does_not_count(server, mk, freeze):
    t0 = base_time()
    freeze(hours_window(t0, 0, 10), [mk(4)], hard=True)
    check(assess(server, [mk(4)], window=hours_window(t0, 1, 2)), {"blast_radius": 2})


def test_a_freeze_outside_the_window_does_not_count(server, mk, freeze):
    s, t0 = mk(4), base_time()
    freeze(hours_window(t0, 0, 2), [s], hard=True)
    # adjacent: [0, 2) and [2, 3) do not overlap
    check(assess(server, [s], window=hours_window(t0, 2, 3)), {"blast_radius": 2})


def test_a_freeze_counts_for_emergencies_too(server, mk, freeze):
    s, t0 = mk(4), base_time()
    freeze(hours_window(t0, 0, 10), [s], hard=True)
    check(assess(server, [s], model="emergency", window=hours_window(t0, 1, 2)),
          {"blast_radius": 2, "freeze": 30})


def test_several_freezes_count_once(server, mk, freeze):
    s, t0 = mk(4), base_time()
    freeze(hours_window(t0, 0, 10), [s], hard=True)
    freeze(hours_window(t0, 0, 10), [s], hard=False)
    freeze(hours_window(t0, 0, 10), [], hard=False)
    check(assess(server, [s], window=hours_window(t0, 1, 2)), {"blast_radius": 2, "freeze": 30})


# --- failure history -------------------------------------------------------------------------


def finished(server, services, outcome):
    """A standard low-risk change of bob's, approved at submit, run to an outcome."""
    bob = server.as_("bob")
    ch = submit(server, draft(server, services, who="bob", model="standard")["id"], who="bob")
    assert ch["state"] == "approved", ch
    ok(bob.post(f"/changes/{ch['id']}/start", json={}))
    done = ok(bob.post(f"/changes/{ch['id']}/complete", json={"outcome": outcome}))
    assert done["outcome"] == outcome
    return done


@pytest.mark.parametrize("history,pts", [
    (["successful"] * 4 + ["failed"], 10),           # 1 of 5 = 20 %
    (["successful"] * 4 + ["rolled_back"], 10),
    (["failed", "rolled_back", "successful"], 10),   # 2 of 3
    (["successful"] * 5 + ["failed"], 0),            # 1 of 6 < 20 %
    (["successful"] * 3, 0),
    ([], 0),
])
def test_failure_history(server, mk, history, pts):
    s = mk(4)
    for outcome in history:
        finished(server, [s], outcome)
    a = assess(server, [s])
    check(a, {"blast_radius": 2, **({"failure_history": pts} if pts else {})})


def test_failure_history_looks_at_the_last_20_only(server, mk):
    s = mk(4)
    for outcome in ["failed"] * 5 + ["successful"] * 20:
        finished(server, [s], outcome)
    # 5 of all 25 is 20 %, but 0 of the last 20
    check(assess(server, [s]), {"blast_radius": 2})
    finished(server, [s], "rolled_back")
    finished(server, [s], "failed")
    finished(server, [s], "failed")
    # the last 20: 3 bad of 20 = 15 %
    check(assess(server, [s]), {"blast_radius": 2})
    finished(server, [s], "failed")
    # 4 of 20
    check(assess(server, [s]), {"blast_radius": 2, "failure_history": 10})


def test_failure_history_is_per_service(server, mk):
    bad, good = mk(4), mk(4)
    finished(server, [bad], "failed")
    finished(server, [good], "successful")
    check(assess(server, [good]), {"blast_radius": 2})
    check(assess(server, [bad]), {"blast_radius": 2, "failure_history": 10})


# --- levels ------------------------------------------------------------------------------------


def fan(mk, first_tier, n):
    """n services listed directly: one of first_tier, the rest tier 4."""
    return [mk(first_tier)] + [mk(4) for _ in range(n - 1)]


@pytest.mark.parametrize("case,score,level", [
    ("24", 24, "low"), ("25", 25, "medium"), ("49", 49, "medium"), ("50", 50, "high"),
    ("74", 74, "high"), ("75", 75, "critical"),
])
def test_level_thresholds(server, mk, case, score, level):
    if case == "24":    # tier 3 (10) + 7 services (14)
        a = assess(server, fan(mk, 3, 7))
        want = {"tier": 10, "blast_radius": 14}
    elif case == "25":  # 5 tier-4 services (10) + no backout plan (15)
        a = assess(server, fan(mk, 4, 5), backout_plan=None)
        want = {"blast_radius": 10, "no_backout_plan": 15}
    elif case == "49":  # tier 2 (25) + 2 services (4) + high impact (20)
        a = assess(server, fan(mk, 2, 2), business_impact="high")
        want = {"tier": 25, "blast_radius": 4, "business_impact": 20}
    elif case == "50":  # tier 1 (40) + 5 services (10)
        a = assess(server, fan(mk, 1, 5))
        want = {"tier": 40, "blast_radius": 10}
    elif case == "74":  # tier 1 (40) + 2 services (4) + high impact (20) + no test plan (10)
        a = assess(server, fan(mk, 1, 2), business_impact="high", test_plan=None)
        want = {"tier": 40, "blast_radius": 4, "business_impact": 20, "no_test_plan": 10}
    else:               # tier 1 (40) + 5 services (10) + no backout (15) + medium (10)
        a = assess(server, fan(mk, 1, 5), backout_plan=None, business_impact="medium")
        want = {"tier": 40, "blast_radius": 10, "no_backout_plan": 15, "business_impact": 10}
    check(a, want)
    assert a["score"] == score and a["level"] == level, a
    needed = {"low": 1, "medium": 2, "high": 3, "critical": 4}[level]
    assert a["_change"]["required_approvals"]["needed"] == needed, a["_change"]
    assert a["_change"]["required_approvals"]["policy"]["level"] == level


# --- impact set ----------------------------------------------------------------------------------


def test_impact_set_is_transitive_with_a_cycle(server, mk):
    # a <- b <- c <- a (a cycle), d depends on c; x is unrelated
    a = mk(3)
    b = mk(4, depends_on=[a])
    c = mk(2, depends_on=[b])
    ok(server.as_("admin").patch(f"/services/{a}", json={"depends_on": [c]}))
    d = mk(4, depends_on=[c])
    x = mk(1)
    res = assess(server, [a])
    assert names(res["impact_set"]) == sorted([a, b, c, d]), res["impact_set"]
    assert x not in names(res["impact_set"])
    check(res, {"tier": 25, "blast_radius": 8})
    # from inside the cycle: the same set (d is reached through c)
    res = assess(server, [b])
    assert names(res["impact_set"]) == sorted([a, b, c, d])
    # a leaf reaches only itself
    res = assess(server, [d])
    assert names(res["impact_set"]) == [d]
    check(res, {"blast_radius": 2})


def test_impact_set_of_several_services_is_their_union(server, mk):
    r1, r2 = mk(4), mk(4)
    shared = mk(3, depends_on=[r1, r2])
    only1 = mk(4, depends_on=[r1])
    res = assess(server, [r1, r2])
    assert names(res["impact_set"]) == sorted([r1, r2, shared, only1])
    check(res, {"tier": 10, "blast_radius": 8})


def test_impact_set_agrees_with_the_service_impact_endpoint(server, mk):
    root = mk(4)
    m1 = mk(4, depends_on=[root])
    mk(2, depends_on=[m1])
    res = assess(server, [root])
    imp = ok(server.as_("alice").get(f"/services/{root}/impact"))
    assert names(res["impact_set"]) == names(imp["impact_set"])
    check(res, {"tier": 25, "blast_radius": 2 * imp["blast_radius"]})


# --- the endpoint ----------------------------------------------------------------------------------


def test_assessment_before_submit_is_404(server, mk):
    ch = draft(server, [mk(4)])
    problem(server.as_("alice").get(f"/changes/{ch['id']}/assessment"), 404)
    problem(server.as_("alice").get(f"/changes/{ch['ref']}/assessment"), 404)
    submit(server, ch["id"])
    a = ok(server.as_("alice").get(f"/changes/{ch['ref']}/assessment"))
    assert set(a) >= {"score", "level", "reasons", "impact_set", "version"}, a


def test_assessment_of_an_unknown_change_is_404(server):
    problem(server.as_("alice").get("/changes/987654321/assessment"), 404)


def test_assessment_needs_login(server, mk):
    ch = submit(server, draft(server, [mk(4)])["id"])
    problem(server.anon().get(f"/changes/{ch['id']}/assessment"), 401)
