"""Conflicts over HTTP (README "Conflicts and the schedule"): which windows
and impact sets conflict, freezes hard and soft, global and per service,
records stored once and listed on both sides, their overlap (direct or
shared), the change document's compact entries and summary, each change's
conflicts in full under /changes/{id}/conflicts, resolution and reopening,
acknowledgement, the ETag of the other change, the risk assessment's
`conflicts` reason, and two changes submitted at the same moment through two
server instances.

Every test works in a time region of its own (far in the future) with
services of its own, so that no test sees another's changes or freezes."""

import base64
import itertools
import threading
from datetime import datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from conftest import Server, ok, page_items, problem, unique, walk

CONFLICT_KEYS = {"id", "kind", "overlap", "state", "changes", "parties", "with", "services", "note",
                 "acknowledged_by", "acknowledged_at", "detected_at", "resolved_at"}
ENTRY_KEYS = {"id", "kind", "overlap", "state"}  # and "other" or "freeze"
SUMMARY_KEYS = {"total", "open", "acknowledged", "direct"}
TS_LEN = len("2080-01-01T00:00:00Z")

# --- helpers ---------------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_region = itertools.count()


def region():
    """The start of a 20-day stretch of time no other test of this module uses."""
    return datetime(2080, 1, 1, tzinfo=timezone.utc) + timedelta(days=20 * next(_region))


def win(base, start_h, end_h, start_s=0, end_s=0):
    return {"start": ts(base + timedelta(hours=start_h, seconds=start_s)),
            "end": ts(base + timedelta(hours=end_h, seconds=end_s))}


def b64(raw):
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(depends_on=(), tier=4):
        name = unique("cf")
        ok(admin.post("/services", json={"name": name, "title": name.upper(), "tier": tier,
                                         "depends_on": list(depends_on)}), 201)
        return name

    return make


def client(server, who):
    return server.as_(who)


def new_change(server, services, window, who="alice", model="normal", submit=True, **extra):
    body = {"title": unique("cf change"), "services": list(services), "window": window,
            "model": model, "test_plan": "smoke tests", "backout_plan": "roll back",
            "business_impact": "low"}
    body.update(extra)
    c = client(server, who)
    ch = ok(c.post("/changes", json=body), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
        assert ch["state"] in ("awaiting_approval", "approved"), ch["state"]
    return ch


def get(server, cid):
    r = server.as_("cab4").get(f"/changes/{cid}")
    ch = ok(r)
    etag = r.headers.get("ETag")
    assert etag and etag.startswith('"'), r.headers
    return ch, etag


def act(server, cid, action, body=None, who="alice"):
    return client(server, who).post(f"/changes/{cid}/{action}", json=body or {})


def records(server, cid, kind=None, state=None):
    """The change's conflict records in full, every state, from
    /changes/{id}/conflicts (the change document lists unresolved ones
    only, and compactly)."""
    out, _ = walk(server.as_("cab4"), f"/changes/{cid}/conflicts", limit=200)
    if kind:
        out = [k for k in out if k["kind"] == kind]
    if state == "active":
        out = [k for k in out if k["state"] != "resolved"]
    elif state:
        out = [k for k in out if k["state"] == state]
    return out


def pair_record(server, a, b):
    """The one change-change record of a and b, seen from a; None if none."""
    found = [k for k in records(server, a, "change") if f"CHG-{b}" in k["changes"]]
    assert len(found) <= 1, found
    return found[0] if found else None


def open_pair(server, a, b):
    k = pair_record(server, a, b)
    return k is not None and k["state"] != "resolved"


def all_conflicts(server, **params):
    items, _ = walk(server.as_("bob"), "/conflicts", params=params, limit=200)
    return items


def freeze(server, window, services=(), hard=True, name=None):
    r = server.as_("manager").post("/freezes", json={
        "name": name or unique("freeze"), "window": window, "services": list(services),
        "hard": hard, "reason": "test freeze"})
    return ok(r, 201)


def freeze_records(server, cid, fid):
    return [k for k in records(server, cid, "freeze") if (k["with"] or {}).get("freeze") == fid]


@pytest.fixture(scope="module")
def cab_key(server):
    sk = SigningKey.generate()
    k = ok(server.as_("cab1").post("/me/keys", json={
        "public_key": b64(sk.verify_key.encode()), "label": "conflict tests"}), 201)
    return sk, k["id"]


def reject(server, cab_key, cid):
    sk, kid = cab_key
    ch, _ = get(server, cid)
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    st = (f"cabinet-approval-v1\n{ch['ref']}\n{ch['version']}\n{ch['content_hash']}\n"
          f"reject\n{at}")
    r = server.as_("cab1").post(f"/changes/{cid}/approvals", json={
        "decision": "reject", "comment": "clashes with another change", "key_id": kid,
        "signed_at": at, "signature": b64(sk.sign(st.encode()).signature)})
    ok(r, 201)
    ch, _ = get(server, cid)
    assert ch["state"] == "rejected", ch["state"]
    return ch


# --- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("second,expect", [
    ((2, 4, 0, 0), False),       # [0h,2h) and [2h,4h) touch: no conflict
    ((4, 6, 0, 0), False),       # apart
    ((2, 4, -1, 0), True),       # starts one second before the first ends
    ((0, 2, 0, 0), True),        # the same window
    ((-1, 0, 0, 1), True),       # ends one second after the first starts
    ((-2, 0, 0, 0), False),      # ends as the first starts
], ids=["touching-after", "apart", "one-second-overlap", "same", "one-second-before",
        "touching-before"])
def test_window_overlap_rules(server, svc, second, expect):
    base = region() + timedelta(days=1)
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, second[0], second[1], second[2], second[3]), who="bob")
    assert open_pair(server, a["id"], b["id"]) is expect
    assert open_pair(server, b["id"], a["id"]) is expect


def test_a_window_inside_another_conflicts_both_ways(server, svc):
    base = region()
    s = svc()
    outer = new_change(server, [s], win(base, 0, 48), who="alice")
    inner = new_change(server, [s], win(base, 10, 11), who="bob")
    k = pair_record(server, outer["id"], inner["id"])
    assert k is not None and k["state"] == "open", k
    assert k["services"] == [s]
    # and when the small one is submitted first
    base = region()
    inner = new_change(server, [s], win(base, 10, 11), who="bob")
    outer = new_change(server, [s], win(base, 0, 48), who="alice")
    assert open_pair(server, inner["id"], outer["id"])


def test_drafts_do_not_conflict(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    draft = new_change(server, [s], win(base, 0, 2), who="bob", submit=False)
    assert records(server, a["id"]) == []
    assert records(server, draft["id"]) == []


# --- impact sets -----------------------------------------------------------------------------


def test_a_base_service_conflicts_with_a_service_three_levels_up(server, svc):
    base_svc = svc()
    l1 = svc([base_svc])
    l2 = svc([l1])
    l3 = svc([l2])
    base = region()
    low = new_change(server, [base_svc], win(base, 0, 4), who="alice")
    impact = sorted(low["assessment"]["impact_set"])
    assert impact == sorted([base_svc, l1, l2, l3]), impact
    high = new_change(server, [l3], win(base, 2, 6), who="bob")
    k = pair_record(server, high["id"], low["id"])
    assert k is not None and k["state"] == "open", k
    assert k["kind"] == "change"
    assert k["services"] == [l3], "the shared part of the impact sets"
    assert k["changes"] == [f"CHG-{min(low['id'], high['id'])}",
                            f"CHG-{max(low['id'], high['id'])}"]


def test_the_dependency_direction_matters(server, svc):
    """A change on a service only touches what depends on it: two services
    that depend on the same base do not conflict with each other."""
    base_svc = svc()
    left = svc([base_svc])
    right = svc([base_svc])
    base = region()
    a = new_change(server, [left], win(base, 0, 4), who="alice")
    b = new_change(server, [right], win(base, 0, 4), who="bob")
    assert pair_record(server, a["id"], b["id"]) is None
    # the base itself reaches both
    c = new_change(server, [base_svc], win(base, 1, 2), who="bob")
    assert open_pair(server, c["id"], a["id"]) and open_pair(server, c["id"], b["id"])
    assert pair_record(server, c["id"], a["id"])["services"] == [left]
    assert pair_record(server, c["id"], b["id"])["services"] == [right]


def test_a_dependency_cycle(server, svc):
    one = svc()
    two = svc([one])
    ok(server.as_("admin").patch(f"/services/{one}", json={"depends_on": [two]}))
    three = svc([one])
    base = region()
    a = new_change(server, [one], win(base, 0, 3), who="alice")
    assert sorted(a["assessment"]["impact_set"]) == sorted([one, two, three])
    b = new_change(server, [two], win(base, 2, 5), who="bob")
    assert sorted(b["assessment"]["impact_set"]) == sorted([one, two, three])
    k = pair_record(server, a["id"], b["id"])
    assert k is not None and k["state"] == "open"
    assert k["services"] == sorted([one, two, three])


def test_unrelated_services_never_conflict(server, svc):
    base = region()
    x, y = svc(), svc()
    a = new_change(server, [x], win(base, 0, 5), who="alice")
    b = new_change(server, [y], win(base, 0, 5), who="bob")
    assert records(server, a["id"]) == []
    assert records(server, b["id"]) == []
    assert not [k for k in all_conflicts(server)
                if {f"CHG-{a['id']}", f"CHG-{b['id']}"} & set(k["changes"])]


# --- stored once -----------------------------------------------------------------------------


def test_one_record_listed_on_both_changes_and_once_in_the_list(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    ca, _ = get(server, a["id"])
    cb, _ = get(server, b["id"])
    # on each change document, a compact entry naming the other side
    [ea] = ca["conflicts"]
    [eb] = cb["conflicts"]
    assert set(ea) == ENTRY_KEYS | {"other"}, set(ea)
    assert ea["id"] == eb["id"] and ea["kind"] == "change" and ea["state"] == "open"
    assert ea["overlap"] == "direct", "both list s"
    assert ea["other"] == {"id": b["id"], "ref": b["ref"], "title": b["title"]}
    assert eb["other"] == {"id": a["id"], "ref": a["ref"], "title": a["title"]}
    assert ca["conflict_summary"] == cb["conflict_summary"] == {
        "total": 1, "open": 1, "acknowledged": 0, "direct": 1}
    # in full under /changes/{id}/conflicts
    [ka] = records(server, a["id"])
    [kb] = records(server, b["id"])
    assert set(ka) == CONFLICT_KEYS, set(ka) ^ CONFLICT_KEYS
    assert ka["id"] == ea["id"] and ka["overlap"] == "direct"
    assert ka["id"] == kb["id"]
    assert ka["kind"] == "change" and ka["state"] == "open"
    assert ka["changes"] == kb["changes"] == [a["ref"], b["ref"]]
    assert ka["with"]["ref"] == b["ref"] and kb["with"]["ref"] == a["ref"]
    assert ka["with"]["title"] == b["title"] and ka["with"]["state"] == "awaiting_approval"
    # both parties as compact rows, so that a page of conflicts needs no more requests
    assert ka["parties"] == kb["parties"]
    pa, pb = ka["parties"]
    assert set(pa) == {"id", "ref", "title", "state", "window", "requester"}, pa
    assert (pa["ref"], pa["title"], pa["window"]) == (a["ref"], a["title"], a["window"])
    assert (pb["ref"], pb["title"], pb["window"]) == (b["ref"], b["title"], b["window"])
    assert pa["state"] == pb["state"] == "awaiting_approval"
    assert pa["requester"]["email"] == a["requester"]["email"]
    assert pb["requester"]["email"] == b["requester"]["email"]
    assert ka["note"] is None and ka["acknowledged_by"] is None and ka["resolved_at"] is None
    assert len(ka["detected_at"]) == TS_LEN and ka["detected_at"].endswith("Z")
    listed = [k for k in all_conflicts(server) if k["id"] == ka["id"]]
    assert len(listed) == 1, listed
    assert listed[0]["changes"] == [a["ref"], b["ref"]]
    assert listed[0]["state"] == "open"
    # an edit that keeps the conflict true keeps the one record
    ok(client(server, "alice").patch(f"/changes/{a['id']}", json={"title": "renamed"}))
    assert [k["id"] for k in records(server, a["id"])] == [ka["id"]]
    assert [k["id"] for k in get(server, a["id"])[0]["conflicts"]] == [ka["id"]]
    assert len([k for k in all_conflicts(server) if k["id"] == ka["id"]]) == 1


def test_three_changes_make_three_pairs(server, svc):
    base = region()
    s = svc()
    chs = [new_change(server, [s], win(base, i, i + 3), who=("alice", "bob")[i % 2])
           for i in range(3)]
    ids = set()
    for ch in chs:
        mine = records(server, ch["id"], "change", "open")
        assert len(mine) == 2, mine
        ids |= {k["id"] for k in mine}
    assert len(ids) == 3, ids


def test_conflict_list_filters_and_pages(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    c = new_change(server, [s], win(base, 1, 3), who="bob")
    kid_ab = pair_record(server, a["id"], b["id"])["id"]
    kid_ac = pair_record(server, a["id"], c["id"])["id"]
    ok(act(server, c["id"], "cancel", {"reason": "not needed"}, who="bob"))
    open_ids = {k["id"] for k in all_conflicts(server, open="true")}
    closed_ids = {k["id"] for k in all_conflicts(server, open="false")}
    every = all_conflicts(server)
    assert kid_ab in open_ids and kid_ab not in closed_ids
    assert kid_ac in closed_ids and kid_ac not in open_ids
    assert {k["id"] for k in every} == open_ids | closed_ids
    assert not open_ids & closed_ids
    assert all(k["state"] != "resolved" for k in all_conflicts(server, open="true"))
    assert all(k["state"] == "resolved" for k in all_conflicts(server, open="false"))
    ids = [k["id"] for k in every]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    one_by_one, pages = walk(server.as_("alice"), "/conflicts", limit=1)
    assert [k["id"] for k in one_by_one] == ids and pages >= len(ids)


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_conflict_list_bad_open_is_400(server, value):
    problem(server.as_("alice").get("/conflicts", params={"open": value}), 400)


def test_conflict_list_needs_login(server):
    problem(server.anon().get("/conflicts"), 401)


# --- resolution and reopening ----------------------------------------------------------------


def test_cancel_resolves_on_both_sides(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    _, etag_b = get(server, b["id"])
    ok(act(server, a["id"], "cancel", {"reason": "moved to next week"}))
    cb, etag_b2 = get(server, b["id"])
    assert cb["conflicts"] == [], "the document lists unresolved conflicts only"
    assert cb["conflict_summary"] == {"total": 0, "open": 0, "acknowledged": 0, "direct": 0}
    [k] = records(server, b["id"])
    assert k["id"] == kid and k["state"] == "resolved", k
    assert k["resolved_at"] is not None and k["resolved_at"].endswith("Z")
    assert k["with"]["state"] == "cancelled"
    assert etag_b2 != etag_b, "a resolved conflict changes the other change's ETag"
    assert records(server, a["id"])[0]["state"] == "resolved"
    # the cancelled change no longer counts for a new one
    c = new_change(server, [s], win(base, 0, 2), who="alice")
    assert pair_record(server, c["id"], a["id"]) is None
    assert open_pair(server, c["id"], b["id"])


def test_a_signed_rejection_resolves(server, svc, cab_key):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    assert open_pair(server, a["id"], b["id"])
    reject(server, cab_key, b["id"])
    k = pair_record(server, a["id"], b["id"])
    assert k["state"] == "resolved" and k["resolved_at"] is not None, k
    assert pair_record(server, b["id"], a["id"])["state"] == "resolved"


def test_start_keeps_and_complete_resolves(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice", model="standard")
    b = new_change(server, [s], win(base, 1, 3), who="bob", model="standard")
    assert a["state"] == "approved" and get(server, b["id"])[0]["state"] == "approved"
    assert open_pair(server, a["id"], b["id"])
    ok(act(server, a["id"], "start"))
    k = pair_record(server, a["id"], b["id"])
    assert k["state"] == "open", "an in-progress change is still active"
    _, etag_b = get(server, b["id"])
    done = ok(act(server, a["id"], "complete", {"outcome": "successful", "notes": "ok"}))
    assert done["state"] in ("closed", "review")
    k = pair_record(server, b["id"], a["id"])
    assert k["state"] == "resolved" and k["resolved_at"] is not None, k
    assert get(server, b["id"])[1] != etag_b


def test_moving_a_window_resolves_and_moving_it_back_reopens(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    first = pair_record(server, a["id"], b["id"])
    assert first["state"] == "open"
    # moved to touch the other window: no longer a conflict
    ch = ok(client(server, "bob").patch(f"/changes/{b['id']}",
                                        json={"window": win(base, 2, 4)}))
    assert ch["state"] == "awaiting_approval"
    k = pair_record(server, a["id"], b["id"])
    assert k["id"] == first["id"] and k["state"] == "resolved" and k["resolved_at"], k
    assert all_conflicts_state(server, first["id"]) == "resolved"
    # back into overlap: the same record opens again
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"window": win(base, 1, 3)}))
    k = pair_record(server, a["id"], b["id"])
    assert k["id"] == first["id"] and k["state"] == "open", k
    assert k["resolved_at"] is None
    assert k["detected_at"] >= first["detected_at"]
    assert all_conflicts_state(server, first["id"]) == "open"
    assert len(records(server, b["id"])) == 1


def test_changing_services_resolves_and_reopens(server, svc):
    base = region()
    s, other = svc(), svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 0, 2), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"services": [other]}))
    assert pair_record(server, a["id"], b["id"])["state"] == "resolved"
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"services": [other, s]}))
    k = pair_record(server, a["id"], b["id"])
    assert k["id"] == kid and k["state"] == "open" and k["services"] == [s]


def all_conflicts_state(server, kid):
    found = [k for k in all_conflicts(server) if k["id"] == kid]
    assert len(found) == 1, found
    return found[0]["state"]


# --- ETag of the other change ----------------------------------------------------------------


def test_a_new_conflict_changes_the_other_change_etag(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    before, etag = get(server, a["id"])
    assert before["conflicts"] == [] and records(server, a["id"]) == []
    new_change(server, [s], win(base, 1, 3), who="bob")
    after, etag2 = get(server, a["id"])
    assert len(after["conflicts"]) == 1 and after["conflict_summary"]["open"] == 1
    assert etag2 != etag, "the representation changed, so must the ETag"
    # an edit based on the old representation is refused
    problem(client(server, "alice").patch(f"/changes/{a['id']}", json={"title": "stale"},
                                          headers={"If-Match": etag}), 412)
    ok(client(server, "alice").patch(f"/changes/{a['id']}", json={"title": "fresh"},
                                     headers={"If-Match": etag2}))


def test_an_unrelated_submit_leaves_the_etag_alone(server, svc):
    base = region()
    s, t = svc(), svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    _, etag = get(server, a["id"])
    new_change(server, [t], win(base, 0, 2), who="bob")
    assert get(server, a["id"])[1] == etag


def test_a_freeze_conflict_changes_the_change_etag(server, svc):
    """The change's representation gains (and later resolves) a freeze
    record, so its ETag must change both times."""
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    _, etag = get(server, a["id"])
    f = freeze(server, win(base, 1, 5), services=[s])
    ch, etag2 = get(server, a["id"])
    assert [k["kind"] for k in ch["conflicts"]] == ["freeze"]
    assert len(records(server, a["id"], "freeze", "open")) == 1
    assert etag2 != etag, "a new freeze conflict must change the ETag"
    ok(server.as_("manager").delete(f"/freezes/{f['id']}"), 204)
    ch, etag3 = get(server, a["id"])
    assert ch["conflicts"] == []
    assert records(server, a["id"], "freeze")[0]["state"] == "resolved"
    assert etag3 != etag2, "a resolved freeze conflict must change the ETag"


# --- freezes ---------------------------------------------------------------------------------


def test_a_global_freeze_created_after_submit(server, svc):
    base = region()
    s = svc()
    dep = svc([s])
    a = new_change(server, [s], win(base, 10, 12), who="alice")
    assert records(server, a["id"]) == []
    f = freeze(server, win(base, 11, 30), services=[], hard=True, name="Global stop")
    [k] = freeze_records(server, a["id"], f["id"])
    assert set(k) == CONFLICT_KEYS
    assert k["kind"] == "freeze" and k["state"] == "open"
    assert k["changes"] == [a["ref"]]
    assert k["with"] == {"freeze": f["id"], "name": "Global stop", "hard": True,
                         "window": f["window"]}
    assert [p["ref"] for p in k["parties"]] == [a["ref"]]
    assert k["parties"][0]["window"] == a["window"]
    assert k["services"] == sorted([s, dep]), "every service of the impact set is covered"
    listed = [x for x in all_conflicts(server, open="true") if x["id"] == k["id"]]
    assert len(listed) == 1 and listed[0]["kind"] == "freeze"


def test_a_soft_freeze_conflicts_too(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    f = freeze(server, win(base, 1, 2), services=[s], hard=False)
    [k] = freeze_records(server, a["id"], f["id"])
    assert k["state"] == "open" and k["with"]["hard"] is False
    assert k["services"] == [s]


def test_a_freeze_existing_at_submit(server, svc):
    base = region()
    s = svc()
    f = freeze(server, win(base, 0, 24), services=[s], hard=True)
    a = new_change(server, [s], win(base, 5, 6), who="alice")
    [k] = freeze_records(server, a["id"], f["id"])
    assert k["state"] == "open"
    factors = {r["factor"] for r in a["assessment"]["reasons"]}
    assert "freeze" in factors


@pytest.mark.parametrize("where,expect", [
    ("own", True),          # the changed service itself
    ("dependent", True),    # a service in the impact set
    ("dependency", False),  # a service the changed one depends on: not in the impact set
    ("unrelated", False),
])
def test_a_per_service_freeze_covers_only_the_impact_set(server, svc, where, expect):
    below = svc()
    s = svc([below])
    above = svc([s])
    other = svc()
    target = {"own": s, "dependent": above, "dependency": below, "unrelated": other}[where]
    base = region()
    a = new_change(server, [s], win(base, 0, 4), who="alice")
    f = freeze(server, win(base, 2, 8), services=[target])
    found = freeze_records(server, a["id"], f["id"])
    if expect:
        assert len(found) == 1 and found[0]["state"] == "open", found
        assert found[0]["services"] == [target]
    else:
        assert found == []


def test_a_freeze_that_only_touches_the_window_does_not_conflict(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 2, 4), who="alice")
    f1 = freeze(server, win(base, 0, 2))
    f2 = freeze(server, win(base, 4, 6))
    assert freeze_records(server, a["id"], f1["id"]) == []
    assert freeze_records(server, a["id"], f2["id"]) == []
    f3 = freeze(server, win(base, 3, 4, 59 * 60 + 59, 0))  # the last second of the window
    assert len(freeze_records(server, a["id"], f3["id"])) == 1


def test_moving_a_freeze_resolves_and_reopens(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    f = freeze(server, win(base, 1, 3), services=[s])
    [k] = freeze_records(server, a["id"], f["id"])
    assert k["state"] == "open"
    m = server.as_("manager")
    ok(m.patch(f"/freezes/{f['id']}", json={"window": win(base, 2, 6)}))
    [k2] = freeze_records(server, a["id"], f["id"])
    assert k2["id"] == k["id"] and k2["state"] == "resolved" and k2["resolved_at"], k2
    ok(m.patch(f"/freezes/{f['id']}", json={"window": win(base, 1, 6)}))
    [k3] = freeze_records(server, a["id"], f["id"])
    assert k3["id"] == k["id"] and k3["state"] == "open" and k3["resolved_at"] is None, k3
    # narrowing its services away resolves it as well
    other = svc()
    ok(m.patch(f"/freezes/{f['id']}", json={"services": [other]}))
    [k4] = freeze_records(server, a["id"], f["id"])
    assert k4["state"] == "resolved"
    # and hard -> soft is reflected once it covers the change again
    ok(m.patch(f"/freezes/{f['id']}", json={"services": [], "hard": False}))
    [k5] = freeze_records(server, a["id"], f["id"])
    assert k5["state"] == "open" and k5["with"]["hard"] is False


def test_deleting_a_freeze_resolves_its_conflicts(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 0, 2), who="bob")
    f = freeze(server, win(base, 0, 1), services=[s], name="Board meeting")
    [ka] = freeze_records(server, a["id"], f["id"])
    [kb] = freeze_records(server, b["id"], f["id"])
    assert ka["id"] != kb["id"], "one freeze record per change"
    ok(server.as_("manager").delete(f"/freezes/{f['id']}"), 204)
    for cid, kid in ((a["id"], ka["id"]), (b["id"], kb["id"])):
        [k] = [x for x in records(server, cid, "freeze") if x["id"] == kid]
        assert k["state"] == "resolved" and k["resolved_at"], k
        assert k["with"]["name"] == "Board meeting", "the record keeps the freeze's name"
    # the change-change conflict is untouched
    assert open_pair(server, a["id"], b["id"])
    # a new freeze on the same spot is a new record
    f2 = freeze(server, win(base, 0, 1), services=[s])
    [k] = freeze_records(server, a["id"], f2["id"])
    assert k["state"] == "open" and k["id"] not in (ka["id"], kb["id"])


def test_cancelling_resolves_freeze_conflicts(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    f = freeze(server, win(base, 0, 3), services=[s])
    assert freeze_records(server, a["id"], f["id"])[0]["state"] == "open"
    ok(act(server, a["id"], "cancel", {"reason": "frozen"}))
    assert freeze_records(server, a["id"], f["id"])[0]["state"] == "resolved"
    # a freeze moved later finds nothing on a cancelled change
    ok(server.as_("manager").patch(f"/freezes/{f['id']}", json={"window": win(base, 1, 4)}))
    assert freeze_records(server, a["id"], f["id"])[0]["state"] == "resolved"


# --- acknowledgement -------------------------------------------------------------------------


def ack(server, who, kid, body=None):
    return client(server, who).post(f"/conflicts/{kid}/acknowledge",
                                    json={"note": "accepted: low traffic"} if body is None
                                    else body)


def test_acknowledge_rules(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    problem(server.anon().post(f"/conflicts/{kid}/acknowledge", json={"note": "x"}), 401)
    problem(ack(server, "cab2", kid), 403)
    problem(ack(server, "ecab", kid), 403)
    problem(ack(server, "alice", 999999999), 404)
    problem(ack(server, "alice", "nope"), 404)
    problem(ack(server, "alice", kid, {}), 422, field="note")
    problem(ack(server, "alice", kid, {"note": ""}), 422, field="note")
    problem(ack(server, "alice", kid, {"note": "   "}), 422, field="note")
    problem(ack(server, "alice", kid, {"note": None}), 422, field="note")
    problem(ack(server, "alice", kid, {"note": "ok", "colour": "red"}), 422, field="colour")
    assert pair_record(server, a["id"], b["id"])["state"] == "open", "refusals change nothing"
    _, etag_a = get(server, a["id"])
    _, etag_b = get(server, b["id"])
    k = ok(ack(server, "bob", kid, {"note": "alice's change is read-only"}))
    assert k["id"] == kid and k["state"] == "acknowledged"
    assert k["note"] == "alice's change is read-only"
    assert k["acknowledged_by"]["id"] == server.users["bob"]["id"]
    assert k["acknowledged_at"] and k["acknowledged_at"].endswith("Z")
    for cid, etag in ((a["id"], etag_a), (b["id"], etag_b)):
        ch, etag2 = get(server, cid)
        [entry] = ch["conflicts"]
        assert entry["id"] == kid and entry["state"] == "acknowledged", entry
        assert ch["conflict_summary"] == {"total": 1, "open": 0, "acknowledged": 1,
                                          "direct": 1}
        [seen] = records(server, cid)
        assert seen["state"] == "acknowledged" and seen["note"] == k["note"]
        assert etag2 != etag, f"CHG-{cid}: acknowledging changes its representation"
    # no longer open
    problem(ack(server, "alice", kid), 409)
    problem(ack(server, "manager", kid), 409)
    # still listed as not resolved
    assert kid in {x["id"] for x in all_conflicts(server, open="true")}


def test_every_fault_of_an_acknowledgement_is_named_at_once(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    problem(ack(server, "alice", kid, {"note": "", "colour": "red"}), 422,
            fields=["note", "colour"])
    assert pair_record(server, a["id"], b["id"])["state"] == "open"


def test_a_manager_may_acknowledge_any_conflict(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="alice")
    kid = pair_record(server, a["id"], b["id"])["id"]
    problem(ack(server, "bob", kid), 403)
    k = ok(ack(server, "manager", kid))
    assert k["acknowledged_by"]["id"] == server.users["manager"]["id"]


def test_a_freeze_conflict_can_be_acknowledged_by_its_owner(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="bob")
    f = freeze(server, win(base, 1, 3), services=[s], hard=False)
    [k] = freeze_records(server, a["id"], f["id"])
    problem(ack(server, "alice", k["id"]), 403)
    got = ok(ack(server, "bob", k["id"]))
    assert got["state"] == "acknowledged"


def test_a_resolved_conflict_cannot_be_acknowledged(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    ok(act(server, b["id"], "cancel", {"reason": "x"}, who="bob"))
    problem(ack(server, "alice", kid), 409)
    assert pair_record(server, a["id"], b["id"])["state"] == "resolved"


def test_an_acknowledgement_survives_edits_but_not_resolution(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    kid = pair_record(server, a["id"], b["id"])["id"]
    ok(ack(server, "alice", kid))
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"title": "still overlapping"}))
    assert pair_record(server, a["id"], b["id"])["state"] == "acknowledged"
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"window": win(base, 5, 6)}))
    assert pair_record(server, a["id"], b["id"])["state"] == "resolved"
    ok(client(server, "bob").patch(f"/changes/{b['id']}", json={"window": win(base, 1, 3)}))
    k = pair_record(server, a["id"], b["id"])
    assert k["id"] == kid and k["state"] == "open", "a reopened conflict needs a new look"
    ok(ack(server, "bob", kid))


# --- overlap: direct or shared --------------------------------------------------------------


def entry_with(ch, other_id):
    """The compact entry of ch's conflict with change other_id."""
    found = [k for k in ch["conflicts"] if (k.get("other") or {}).get("id") == other_id]
    assert len(found) == 1, ch["conflicts"]
    return found[0]


def test_overlap_direct_when_a_change_touches_the_others_impact_set(server, svc):
    """A change on A and one on B, which depends on A: the first reaches B,
    which the second lists, so the overlap is direct."""
    a_svc = svc()
    b_svc = svc([a_svc])
    base = region()
    on_a = new_change(server, [a_svc], win(base, 0, 4), who="alice")
    on_b = new_change(server, [b_svc], win(base, 1, 3), who="bob")
    k = pair_record(server, on_a["id"], on_b["id"])
    assert k["services"] == [b_svc] and k["overlap"] == "direct", k
    for mine, other in ((on_a, on_b), (on_b, on_a)):
        e = entry_with(get(server, mine["id"])[0], other["id"])
        assert e["overlap"] == "direct" and e["kind"] == "change", e
    [listed] = [x for x in all_conflicts(server) if x["id"] == k["id"]]
    assert listed["overlap"] == "direct"


def test_overlap_shared_when_they_meet_only_downstream(server, svc):
    """Changes on B and on C, both of which D depends on: their impact sets
    meet on D alone, which neither lists, so the overlap is shared."""
    b_svc, c_svc = svc(), svc()
    d_svc = svc([b_svc, c_svc])
    base = region()
    on_b = new_change(server, [b_svc], win(base, 0, 4), who="alice")
    on_c = new_change(server, [c_svc], win(base, 1, 3), who="bob")
    k = pair_record(server, on_b["id"], on_c["id"])
    assert k["services"] == [d_svc] and k["overlap"] == "shared", k
    ch, etag_b = get(server, on_b["id"])
    assert entry_with(ch, on_c["id"])["overlap"] == "shared"
    assert ch["conflict_summary"] == {"total": 1, "open": 1, "acknowledged": 0, "direct": 0}
    # C's change now lists B as well: it touches B's impact set, so direct;
    # the same record, updated, and B's document (and ETag) moves with it
    ok(client(server, "bob").patch(f"/changes/{on_c['id']}", json={"services": [c_svc, b_svc]}))
    k2 = pair_record(server, on_b["id"], on_c["id"])
    assert k2["id"] == k["id"] and k2["state"] == "open" and k2["overlap"] == "direct", k2
    ch, etag_b2 = get(server, on_b["id"])
    assert entry_with(ch, on_c["id"])["overlap"] == "direct"
    assert ch["conflict_summary"]["direct"] == 1
    assert etag_b2 != etag_b, "the overlap shown on B's document changed"
    # and back
    ok(client(server, "bob").patch(f"/changes/{on_c['id']}", json={"services": [c_svc]}))
    assert pair_record(server, on_b["id"], on_c["id"])["overlap"] == "shared"
    assert get(server, on_b["id"])[1] != etag_b2


def test_a_freeze_conflict_has_no_overlap(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    f = freeze(server, win(base, 1, 3), services=[s], name="Quiet hours")
    [k] = freeze_records(server, a["id"], f["id"])
    assert k["overlap"] is None
    [e] = get(server, a["id"])[0]["conflicts"]
    assert e == {"id": k["id"], "kind": "freeze", "overlap": None, "state": "open",
                 "freeze": {"id": f["id"], "name": "Quiet hours"}}, e


# --- the change document's compact conflicts -------------------------------------------------


def test_the_document_lists_20_unresolved_conflicts_and_counts_them_all(server, svc):
    """26 changes conflict with one; one is cancelled (resolved) and one
    acknowledged. The document lists 20 compact entries, direct ones
    first, and its summary counts the 25 unresolved ones."""
    s, t = svc(), svc()
    svc([s, t])  # depends on both: where changes on s and on t meet
    base = region()
    subject = new_change(server, [s], win(base, 0, 100), who="alice")
    others = []
    for i in range(26):
        # odd ones list s (direct), even ones t (meeting s only on d: shared);
        # windows apart from each other, so that only the subject is met
        on = [s] if i % 2 else [t]
        others.append(new_change(server, on, win(base, 1 + 3 * i, 3 + 3 * i),
                                 who=("bob", "alice")[i % 2]))
    ok(act(server, others[3]["id"], "cancel", {"reason": "not needed"}))
    kid = pair_record(server, subject["id"], others[4]["id"])["id"]
    ok(client(server, "bob").post(f"/conflicts/{kid}/acknowledge",
                                  json={"note": "a read-only change"}))
    ch, _ = get(server, subject["id"])
    assert ch["conflict_summary"] == {"total": 25, "open": 24, "acknowledged": 1,
                                      "direct": 12}, ch["conflict_summary"]
    assert set(ch["conflict_summary"]) == SUMMARY_KEYS
    entries = ch["conflicts"]
    assert len(entries) == 20, len(entries)
    for e in entries:
        assert set(e) == ENTRY_KEYS | {"other"}, e
        assert set(e["other"]) == {"id", "ref", "title"}, e
        assert "services" not in e and "with" not in e
    direct = [o["id"] for i, o in enumerate(others) if i % 2 and i != 3]
    shared = [o["id"] for i, o in enumerate(others) if i % 2 == 0]
    # direct first, then by the other change's window start (here, creation order)
    assert [e["other"]["id"] for e in entries] == (direct + shared)[:20]
    assert [e["overlap"] for e in entries] == ["direct"] * 12 + ["shared"] * 8
    assert others[3]["id"] not in {e["other"]["id"] for e in entries}
    [acked] = [e for e in entries if e["id"] == kid]
    assert acked["state"] == "acknowledged"
    # the full list has all 26, the resolved one too
    full = records(server, subject["id"])
    assert len(full) == 26 and len([k for k in full if k["state"] == "resolved"]) == 1
    assert {k["with"]["ref"] for k in full} == {o["ref"] for o in others}


def test_the_document_orders_direct_first_then_by_window_start_then_id(server, svc):
    s, t = svc(), svc()
    d = svc([s, t])
    base = region() + timedelta(days=1)
    subject = new_change(server, [s], win(base, 0, 10), who="alice")
    shared_late = new_change(server, [t], win(base, 1, 2), who="bob")
    direct_late = new_change(server, [s], win(base, 5, 6), who="bob")
    direct_on_d = new_change(server, [d], win(base, 3, 4), who="bob")
    shared_early = new_change(server, [t], win(base, -1, 1), who="bob")
    direct_same_start = new_change(server, [s], win(base, 3, 4), who="bob")
    f = freeze(server, win(base, 2, 8), services=[s], name="Mid-window freeze")
    soon_freeze = freeze(server, win(base, -5, 1), services=[d], name="Early freeze")
    ch, _ = get(server, subject["id"])
    got = [(e["kind"], (e.get("other") or e.get("freeze"))["id"]) for e in ch["conflicts"]]
    assert got == [
        ("change", direct_on_d["id"]),        # direct, starts at 3 (lower id)
        ("change", direct_same_start["id"]),  # direct, starts at 3
        ("change", direct_late["id"]),        # direct, starts at 5
        ("freeze", soon_freeze["id"]),        # the rest by start: -5
        ("change", shared_early["id"]),       # -1
        ("change", shared_late["id"]),        # 1
        ("freeze", f["id"]),                  # 2
    ], got
    assert ch["conflict_summary"] == {"total": 7, "open": 7, "acknowledged": 0, "direct": 3}


# --- /changes/{id}/conflicts -----------------------------------------------------------------


def test_a_changes_conflicts_in_full_paged_and_filtered(server, svc):
    s = svc()
    base = region()
    subject = new_change(server, [s], win(base, 0, 30), who="alice")
    others = [new_change(server, [s], win(base, 1 + 3 * i, 3 + 3 * i), who="bob")
              for i in range(5)]
    f = freeze(server, win(base, 20, 21), services=[s])
    ok(act(server, others[1]["id"], "cancel", {"reason": "x"}, who="bob"))
    cab = server.as_("cab3")
    path = f"/changes/{subject['id']}/conflicts"
    pages, n = walk(cab, path, limit=2)
    assert n == 3, "six records two at a time"
    ids = [k["id"] for k in pages]
    assert ids == sorted(ids) and len(set(ids)) == 6
    for k in pages:
        assert set(k) == CONFLICT_KEYS, set(k) ^ CONFLICT_KEYS
        assert k["services"] == [s]
        assert subject["ref"] in k["changes"]
    # seen from the subject: `with` names the other side
    assert sorted(k["with"]["ref"] for k in pages if k["kind"] == "change") == \
        sorted(o["ref"] for o in others)
    [fz] = [k for k in pages if k["kind"] == "freeze"]
    assert fz["with"]["freeze"] == f["id"] and fz["overlap"] is None
    # the same as GET /conflicts has for them
    everything = {k["id"]: k for k in all_conflicts(server)}
    for k in pages:
        assert {x: y for x, y in k.items() if x != "with"} == \
            {x: y for x, y in everything[k["id"]].items() if x != "with"}
    # open=true|false as in GET /conflicts
    unresolved, _ = walk(cab, path, params={"open": "true"}, limit=200)
    resolved, _ = walk(cab, path, params={"open": "false"}, limit=200)
    assert len(unresolved) == 5 and all(k["state"] != "resolved" for k in unresolved)
    assert [k["with"]["ref"] for k in resolved] == [others[1]["ref"]]
    # by ref too
    assert [k["id"] for k in walk(cab, f"/changes/{subject['ref']}/conflicts", limit=200)[0]] \
        == ids
    # the other side sees its own one
    [mine] = walk(cab, f"/changes/{others[0]['id']}/conflicts")[0]
    assert mine["with"]["ref"] == subject["ref"]


def test_a_changes_conflicts_refusals(server, svc):
    s = svc()
    base = region()
    a = new_change(server, [s], win(base, 0, 2), who="alice")
    b = new_change(server, [s], win(base, 1, 3), who="bob")
    bob = server.as_("bob")
    for bad in ("999999999", "CHG-999999999", "nope", "0"):
        problem(bob.get(f"/changes/{bad}/conflicts"), 404)
    draft = new_change(server, [s], win(base, 0, 2), submit=False)
    assert ok(bob.get(f"/changes/{draft['id']}/conflicts")) == {"items": [],
                                                                 "next_cursor": None}
    path = f"/changes/{a['id']}/conflicts"
    for params in ({"open": "yes"}, {"open": ""}, {"limit": "0"}, {"limit": "201"},
                   {"cursor": "not-a-cursor"}, {"state": "open"}):
        problem(bob.get(path, params=params), 400)
    # a cursor of another list is not one of this list
    for i in range(2):
        new_change(server, [s], win(base, 0, 2), who="bob")
    other_cursor = ok(bob.get("/conflicts", params={"limit": 1}))["next_cursor"]
    assert other_cursor
    problem(bob.get(path, params={"cursor": other_cursor}), 400)
    problem(server.anon().get(path), 401)
    assert pair_record(server, a["id"], b["id"]) is not None


# --- the risk assessment ---------------------------------------------------------------------


def conflict_reason(ch):
    found = [r for r in ch["assessment"]["reasons"] if r["factor"] == "conflicts"]
    return found[0] if found else None


def test_the_assessment_counts_the_same_conflicts(server, svc):
    base_svc = svc()
    top = svc([base_svc])
    base = region()
    a = new_change(server, [base_svc], win(base, 0, 4), who="alice")
    assert conflict_reason(a) is None
    b = new_change(server, [top], win(base, 3, 5), who="bob")
    rb = conflict_reason(b)
    assert rb is not None and rb["points"] == 10 and "1 other" in rb["detail"], rb
    assert len(records(server, b["id"], "change", "active")) == 1
    # not counted: touching, unrelated, draft, cancelled
    ok(act(server, new_change(server, [top], win(base, 0, 4), who="bob")["id"], "cancel",
           {"reason": "x"}, who="bob"))
    new_change(server, [top], win(base, 0, 4), who="bob", submit=False)
    new_change(server, [svc()], win(base, 0, 4), who="bob")
    new_change(server, [top], win(base, 4, 6), who="bob")
    c = new_change(server, [top], win(base, 2, 4), who="alice")
    rc = conflict_reason(c)
    active = records(server, c["id"], "change", "active")
    assert len(active) == 2, active
    assert rc is not None and rc["points"] == 20 and "2 other" in rc["detail"], rc
    d = new_change(server, [svc()], win(base, 2, 4), who="alice")
    assert conflict_reason(d) is None and records(server, d["id"]) == []
    # re-assessed on edit: moved away, the reason goes with the records
    ch = ok(client(server, "alice").patch(f"/changes/{c['id']}",
                                          json={"window": win(base, 10, 11)}))
    assert conflict_reason(ch) is None
    assert records(server, c["id"], "change", "active") == []


# --- two instances at once -------------------------------------------------------------------


def test_simultaneous_submits_through_two_instances(server, svc):
    second = Server(server.cluster, server.db, name=server.name + "-second",
                    extra_env={"CABINET_SERVER_KEY_FILE": str(server.key_path)})
    second.users = server.users
    second.start()
    try:
        one = server.login("alice")
        two = second.login("bob")
        failures = []
        for round_ in range(10):
            base = region()
            s = svc()
            a = ok(one.post("/changes", json={
                "title": unique("race a"), "services": [s], "window": win(base, 0, 2),
                "test_plan": "t", "backout_plan": "b"}), 201)
            b = ok(two.post("/changes", json={
                "title": unique("race b"), "services": [s], "window": win(base, 1, 3),
                "test_plan": "t", "backout_plan": "b"}), 201)
            barrier = threading.Barrier(2, timeout=30)
            results = {}

            def submit(tag, c, cid):
                try:
                    barrier.wait()
                    results[tag] = c.post(f"/changes/{cid}/submit", timeout=60)
                except Exception as e:  # reported below
                    results[tag] = e

            threads = [threading.Thread(target=submit, args=("a", one, a["id"])),
                       threading.Thread(target=submit, args=("b", two, b["id"]))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=90)
            assert not any(t.is_alive() for t in threads), "a submit never returned"
            for tag in ("a", "b"):
                r = results[tag]
                assert not isinstance(r, Exception), (round_, tag, r)
                assert r.status_code == 200, (round_, tag, r.status_code, r.text[:500])
            seen = {}
            for cid, reader in ((a["id"], server.as_("cab3")), (b["id"], second.login("cab3"))):
                ch = ok(reader.get(f"/changes/{cid}"))
                seen[cid] = [k for k in ch["conflicts"] if k["kind"] == "change"]
            listed = [k for k in all_conflicts(server)
                      if set(k["changes"]) == {f"CHG-{a['id']}", f"CHG-{b['id']}"}]
            ok_round = (len(seen[a["id"]]) == 1 and len(seen[b["id"]]) == 1
                        and seen[a["id"]][0]["id"] == seen[b["id"]][0]["id"]
                        and seen[a["id"]][0]["state"] == "open"
                        and len(listed) == 1 and listed[0]["state"] == "open")
            if not ok_round:
                failures.append((round_, a["id"], b["id"], seen, listed))
        assert not failures, f"{len(failures)} of 10 pairs lost or doubled a conflict: {failures}"
    finally:
        problems = second.stop()
    assert not problems, (problems, second.stderr_tail())


# --- the stored impact sets and the locks (sql/0012) -----------------------------------------


def stored(server, cid):
    """The change's stored impact set as 'names|window', '' when none."""
    return server.psql(
        "SELECT array_to_string(impact_names(sids), ',') || '|' || cab_ts(lower(win)) || '/'"
        f" || cab_ts(upper(win)) FROM change_impact_sets WHERE change_id = {cid}")


def test_the_stored_impact_set_follows_edits_cancel_and_complete(server, svc):
    base = region()
    low = svc()
    up = svc(depends_on=[low])
    other = svc()
    w1, w2 = win(base, 0, 2), win(base, 5, 7)
    draft = new_change(server, [low], w1, submit=False)
    assert stored(server, draft["id"]) == "", "a draft has none"
    ok(act(server, draft["id"], "submit"))
    assert stored(server, draft["id"]) == ",".join(sorted([low, up])) + f"|{w1['start']}/{w1['end']}"
    # one row per change, however many times it is assessed
    ok(client(server, "alice").patch(f"/changes/{draft['id']}", json={"window": w2}))
    assert stored(server, draft["id"]) == ",".join(sorted([low, up])) + f"|{w2['start']}/{w2['end']}"
    ok(client(server, "alice").patch(f"/changes/{draft['id']}", json={"services": [other]}))
    assert stored(server, draft["id"]) == f"{other}|{w2['start']}/{w2['end']}"
    assert server.psql("SELECT count(*) FROM change_impact_sets"
                       f" WHERE change_id = {draft['id']}") == "1"
    # the listed services are kept for the overlap
    assert server.psql("SELECT array_to_string(impact_names(listed), ',') FROM"
                       f" change_impact_sets WHERE change_id = {draft['id']}") == other
    ok(act(server, draft["id"], "cancel", {"reason": "not needed"}))
    assert stored(server, draft["id"]) == ""
    done = new_change(server, [other], win(base, 10, 11), model="standard")
    assert stored(server, done["id"]) != ""
    ok(act(server, done["id"], "start"))
    assert stored(server, done["id"]) != "", "in progress is active"
    ok(act(server, done["id"], "complete", {"outcome": "successful", "notes": "ok"}))
    assert stored(server, done["id"]) == ""


def test_a_freeze_longer_than_62_days_takes_the_global_lock_and_still_conflicts(server, svc):
    base = region()
    s = svc()
    a = new_change(server, [s], win(base, 30, 32))
    long_win = {"start": ts(base), "end": ts(base + timedelta(days=70))}
    f = freeze(server, long_win, services=[s])
    got = freeze_records(server, a["id"], f["id"])
    assert [(k["state"], k["services"]) for k in got] == [("open", [s])]
    # a change submitted inside it later meets it as well
    b = new_change(server, [s], win(base, 24 * 40, 24 * 40 + 2))
    assert [k["state"] for k in freeze_records(server, b["id"], f["id"])] == ["open"]
    # shrunk to a narrow window that leaves b out: b's record resolves, a's stays
    ok(server.as_("manager").patch(f"/freezes/{f['id']}", json={
        "window": {"start": ts(base), "end": ts(base + timedelta(days=3))}}))
    assert [k["state"] for k in freeze_records(server, b["id"], f["id"])] == ["resolved"]
    assert [k["state"] for k in freeze_records(server, a["id"], f["id"])] == ["open"]
