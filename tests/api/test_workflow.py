"""The change lifecycle over HTTP (README "Workflow"): submit, start,
complete, close, cancel, every refused (state, action) pair, the order of
checks, If-Match, edits after submit, and the retrospective emergency path."""

import base64
import time
from datetime import datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from canonjson import content_hash
from conftest import ok, problem, unique

STATES = ["draft", "awaiting_approval", "approved", "rejected", "in_progress", "review",
          "closed", "cancelled"]
ACTIONS = ["submit", "start", "complete", "close", "cancel", "edit"]
ALLOWED = {
    ("draft", "submit"), ("draft", "cancel"), ("draft", "edit"),
    ("awaiting_approval", "cancel"), ("awaiting_approval", "edit"),
    ("approved", "start"), ("approved", "cancel"), ("approved", "edit"),
    ("in_progress", "complete"),
    ("review", "close"),
}
REFUSED = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in ALLOWED]

# A valid body for each action, so that only the state can be at fault.
BODIES = {
    "submit": None,
    "start": {},
    "complete": {"outcome": "successful", "notes": "done"},
    "close": {"review": "went fine"},
    "cancel": {"reason": "not needed"},
    "edit": {"title": "edited title"},
}


# --- helpers ---------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours_from_now(h):
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=h)


def window(start_h=24 * 10, length_h=2):
    s = hours_from_now(start_h)
    return {"start": ts(s), "end": ts(s + timedelta(hours=length_h))}


def b64(raw):
    return base64.b64encode(raw).decode()


def statement(ref, version, chash, decision, signed_at):
    return f"cabinet-approval-v1\n{ref}\n{version}\n{chash}\n{decision}\n{signed_at}"


def act(client, cid, action, body=None, **kw):
    """POST a lifecycle action (or PATCH for "edit")."""
    if action == "edit":
        return client.patch(f"/changes/{cid}", json=body if body is not None else {}, **kw)
    if body is None:
        return client.post(f"/changes/{cid}/{action}", **kw)
    return client.post(f"/changes/{cid}/{action}", json=body, **kw)


def get(server, cid):
    return ok(server.as_("alice").get(f"/changes/{cid}"))


class Signer:
    """One registered Ed25519 key per user, made on first use."""

    def __init__(self, server):
        self.server = server
        self.keys = {}

    def key(self, name):
        if name not in self.keys:
            sk = SigningKey.generate()
            k = ok(self.server.as_(name).post("/me/keys", json={
                "public_key": b64(sk.verify_key.encode()), "label": f"{name} test key"}), 201)
            self.keys[name] = (sk, k["id"])
        return self.keys[name]

    def decide(self, name, cid, decision="approve"):
        sk, kid = self.key(name)
        ch = get(self.server, cid)
        at = ts(datetime.now(timezone.utc))
        st = statement(ch["ref"], ch["version"], ch["content_hash"], decision, at)
        sig = b64(sk.sign(st.encode()).signature)
        return self.server.as_(name).post(f"/changes/{cid}/approvals", json={
            "decision": decision, "comment": f"{name} says {decision}", "key_id": kid,
            "signed_at": at, "signature": sig})


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


@pytest.fixture(scope="module")
def svc(server):
    """Services of each tier, made on demand (each call: a fresh one)."""
    admin = server.as_("admin")

    def make(tier=3):
        name = unique(f"wf{tier}")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier}), 201)
        return name

    return make


def new_change(server, svc, who="alice", tier=3, **body):
    """A draft that assesses low by default: one tier-3 service (10 + 2 points),
    both plans, business impact low, window ten days out."""
    body.setdefault("title", unique("wf change"))
    body.setdefault("services", [svc(tier)])
    body.setdefault("window", window())
    body.setdefault("test_plan", "smoke tests")
    body.setdefault("backout_plan", "redeploy the previous release")
    body.setdefault("business_impact", "low")
    body = {k: v for k, v in body.items() if v is not None}
    return ok(server.as_(who).post("/changes", json=body), 201)


HIGH = {"tier": 1, "test_plan": None}                       # 40 + 2 + 10 = 52
CRITICAL = {"tier": 1, "test_plan": None, "backout_plan": None,
            "business_impact": "high"}                       # 40 + 2 + 10 + 15 + 20 = 87
MEDIUM = {"tier": 2}                                         # 25 + 2 = 27


def submit(server, cid, who="alice"):
    return ok(act(server.as_(who), cid, "submit"))


def reach(server, svc, signer, state, model="normal"):
    """A change of alice's brought to `state` through the API."""
    alice = server.as_("alice")
    std = model == "normal" and state in ("approved", "in_progress", "review", "closed")
    ch = new_change(server, svc, model="standard" if std else model)
    cid = ch["id"]
    if state == "draft":
        return ch
    if state == "cancelled":
        return ok(act(alice, cid, "cancel", {"reason": "no longer needed"}))
    ch = submit(server, cid)
    if state == "awaiting_approval":
        assert ch["state"] == "awaiting_approval", ch
        return ch
    if state == "rejected":
        ok(signer.decide("cab1", cid, "reject"), 201)
        ch = get(server, cid)
        assert ch["state"] == "rejected", ch
        return ch
    assert ch["state"] == "approved", ch
    if state == "approved":
        return ch
    ch = ok(act(alice, cid, "start", {}))
    if state == "in_progress":
        return ch
    ch = ok(act(alice, cid, "complete", {"outcome": "failed" if state == "review"
                                         else "successful"}))
    assert ch["state"] == state, ch
    return ch


def etag_of(server, cid):
    r = server.as_("alice").get(f"/changes/{cid}")
    ok(r)
    return r.headers["ETag"]


# --- submit -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing,fields", [
    ("window", ["window"]),
    ("services", ["services"]),
    ("both", ["window", "services"]),
])
def test_submit_needs_a_window_and_services(server, svc, missing, fields):
    body = {"title": unique("incomplete")}
    if missing not in ("window", "both"):
        body["window"] = window()
    if missing not in ("services", "both"):
        body["services"] = [svc()]
    ch = ok(server.as_("alice").post("/changes", json=body), 201)
    problem(act(server.as_("alice"), ch["id"], "submit"), 422, fields=fields)
    after = get(server, ch["id"])
    assert after["state"] == "draft" and after["assessment"] is None, after
    assert after["required_approvals"] is None
    problem(server.as_("alice").get(f"/changes/{ch['id']}/assessment"), 404)


def test_submit_moves_a_draft_to_awaiting_approval_with_an_assessment(server, svc):
    ch = new_change(server, svc)
    assert ch["assessment"] is None and ch["required_approvals"] is None
    r = act(server.as_("alice"), ch["id"], "submit")
    sub = ok(r)
    assert sub["state"] == "awaiting_approval", sub
    assert sub["version"] == ch["version"], "a submit is not an edit"
    assert sub["content_hash"] == ch["content_hash"] == content_hash(sub)
    a = sub["assessment"]
    assert a["score"] == 12 and a["level"] == "low", a
    assert {x["factor"]: x["points"] for x in a["reasons"] if x["points"]} == {
        "tier": 10, "blast_radius": 2}, a
    assert a["impact_set"] == ch["services"], a
    assert sub["required_approvals"]["needed"] == 1
    assert sub["required_approvals"]["have"] == 0
    assert sub["required_approvals"]["satisfied"] is False
    # The ETag moved and GET agrees with what the action returned.
    assert r.headers["ETag"] != '"1"'
    r2 = server.as_("alice").get(f"/changes/{ch['id']}")
    assert r2.headers["ETag"] == r.headers["ETag"] and ok(r2)["state"] == "awaiting_approval"
    got = ok(server.as_("bob").get(f"/changes/{ch['id']}/assessment"))
    assert got["score"] == a["score"] and got["level"] == a["level"]
    assert got["reasons"] == a["reasons"] and got["version"] == sub["version"]


def test_a_manager_may_submit_anyones_change(server, svc):
    ch = new_change(server, svc)
    assert submit(server, ch["id"], who="manager")["state"] == "awaiting_approval"


def test_standard_low_risk_is_approved_at_submit(server, svc):
    ch = new_change(server, svc, model="standard")
    sub = submit(server, ch["id"])
    assert sub["assessment"]["level"] == "low"
    assert sub["state"] == "approved", sub
    assert sub["approvals"] == []


def test_standard_above_low_risk_awaits_approval(server, svc):
    ch = new_change(server, svc, model="standard", **MEDIUM)
    sub = submit(server, ch["id"])
    assert sub["assessment"]["level"] == "medium", sub["assessment"]
    assert sub["state"] == "awaiting_approval", sub
    assert sub["required_approvals"]["needed"] == 2


def test_normal_low_risk_is_not_approved_at_submit(server, svc):
    sub = submit(server, new_change(server, svc)["id"])
    assert sub["assessment"]["level"] == "low" and sub["state"] == "awaiting_approval"


# --- start, complete, close, cancel ----------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "awaiting_approval", "approved"])
@pytest.mark.parametrize("who", ["alice", "manager"])
def test_cancel_from_every_cancellable_state(server, svc, signer, state, who):
    ch = reach(server, svc, signer, state)
    out = ok(act(server.as_(who), ch["id"], "cancel", {"reason": "superseded"}))
    assert out["state"] == "cancelled", out
    assert get(server, ch["id"])["state"] == "cancelled"


def test_cancel_without_a_reason(server, svc):
    ch = new_change(server, svc)
    assert ok(act(server.as_("alice"), ch["id"], "cancel"))["state"] == "cancelled"


def test_approved_start_complete_successful_low_closes(server, svc, signer):
    ch = submit(server, new_change(server, svc)["id"])
    assert ch["state"] == "awaiting_approval"
    ok(signer.decide("cab1", ch["id"]), 201)
    ch = get(server, ch["id"])
    assert ch["state"] == "approved" and ch["required_approvals"]["satisfied"] is True
    ch = ok(act(server.as_("alice"), ch["id"], "start", {}))
    assert ch["state"] == "in_progress" and ch["outcome"] is None
    ch = ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": "successful",
                                                            "notes": "all green"}))
    assert ch["state"] == "closed" and ch["outcome"] == "successful", ch


def test_a_manager_may_start_and_complete_anyones_change(server, svc, signer):
    ch = reach(server, svc, signer, "approved")
    mgr = server.as_("manager")
    assert ok(act(mgr, ch["id"], "start", {}))["state"] == "in_progress"
    assert ok(act(mgr, ch["id"], "complete", {"outcome": "successful"}))["state"] == "closed"


@pytest.mark.parametrize("outcome,level,expect", [
    ("successful", "low", "closed"),
    ("failed", "low", "review"),
    ("rolled_back", "low", "review"),
    ("successful", "medium", "closed"),
    ("successful", "high", "review"),
    ("successful", "critical", "review"),
])
def test_pir_rule(server, svc, signer, outcome, level, expect):
    extra = {"low": {}, "medium": MEDIUM, "high": HIGH, "critical": CRITICAL}[level]
    ch = submit(server, new_change(server, svc, **extra)["id"])
    assert ch["assessment"]["level"] == level, ch["assessment"]
    approvers = {"low": ["cab1"], "medium": ["cab1", "cab2"], "high": ["cab1", "cab2", "cab3"],
                 "critical": ["cab1", "cab2", "cab3", "manager"]}[level]
    for name in approvers:
        ok(signer.decide(name, ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    done = ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": outcome}))
    assert done["state"] == expect, (level, outcome, done["state"])
    assert done["outcome"] == outcome


def test_emergency_always_goes_to_review(server, svc, signer):
    ch = submit(server, new_change(server, svc, model="emergency")["id"])
    assert ch["state"] == "awaiting_approval" and ch["required_approvals"]["needed"] == 1
    ok(signer.decide("ecab", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    done = ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": "successful"}))
    assert done["state"] == "review", done
    assert "unauthorized" not in done["flags"]


def test_review_closes_with_review_text(server, svc, signer):
    ch = reach(server, svc, signer, "review")
    alice = server.as_("alice")
    for bad in ({}, {"review": ""}, {"review": None}):
        problem(act(alice, ch["id"], "close", bad), 422, field="review")
    assert get(server, ch["id"])["state"] == "review"
    out = ok(act(alice, ch["id"], "close", {"review": "the migration timed out; add a canary"}))
    assert out["state"] == "closed", out


@pytest.mark.parametrize("body", [{}, {"outcome": "fine"}, {"outcome": None}, {"outcome": 1}])
def test_complete_needs_an_outcome(server, svc, signer, body):
    ch = reach(server, svc, signer, "in_progress")
    problem(act(server.as_("alice"), ch["id"], "complete", body), 422, field="outcome")
    assert get(server, ch["id"])["state"] == "in_progress"


@pytest.mark.parametrize("action,body", [
    ("start", {"when": "now"}), ("complete", {"outcome": "successful", "x": 1}),
    ("cancel", {"why": "x"}), ("close", {"review": "r", "extra": True}),
])
def test_unknown_fields_in_actions_are_422(server, svc, signer, action, body):
    state = {"start": "approved", "complete": "in_progress", "cancel": "draft",
             "close": "review"}[action]
    ch = reach(server, svc, signer, state)
    r = act(server.as_("alice"), ch["id"], action, body)
    problem(r, 422)
    assert get(server, ch["id"])["state"] == state


# --- refused pairs and the order of checks ---------------------------------------------


@pytest.mark.parametrize("state,action", REFUSED)
def test_refused_state_action_is_409_naming_the_state(server, svc, signer, state, action):
    ch = reach(server, svc, signer, state)
    before = get(server, ch["id"])
    body = problem(act(server.as_("alice"), ch["id"], action, BODIES[action]), 409)
    assert state in body["detail"], body
    after = get(server, ch["id"])
    assert after["state"] == state and after["version"] == before["version"], after
    # The manager (who may act on any change) is refused the same way.
    body = problem(act(server.as_("manager"), ch["id"], action, BODIES[action]), 409)
    assert state in body["detail"], body


@pytest.mark.parametrize("state,action", [
    ("awaiting_approval", "submit"), ("draft", "complete"), ("closed", "close"),
    ("in_progress", "edit"), ("cancelled", "cancel"), ("rejected", "start"),
    ("review", "submit"),
])
def test_non_owner_gets_403_before_409(server, svc, signer, state, action):
    ch = reach(server, svc, signer, state)
    problem(act(server.as_("bob"), ch["id"], action, BODIES[action]), 403)
    # a cab member is no owner either
    problem(act(server.as_("cab1"), ch["id"], action, BODIES[action]), 403)
    assert get(server, ch["id"])["state"] == state


@pytest.mark.parametrize("state,action", [
    ("draft", "submit"), ("draft", "cancel"), ("approved", "start"),
    ("in_progress", "complete"), ("review", "close"), ("draft", "edit"),
])
def test_non_owner_is_403_on_allowed_actions_too(server, svc, signer, state, action):
    ch = reach(server, svc, signer, state)
    problem(act(server.as_("bob"), ch["id"], action, BODIES[action]), 403)
    after = get(server, ch["id"])
    assert after["state"] == state and after["version"] == ch["version"]


@pytest.mark.parametrize("action", ["submit", "start", "complete", "close", "cancel"])
def test_unknown_change_is_404_before_403(server, action):
    problem(act(server.as_("bob"), 987654321, action, BODIES[action]), 404)
    problem(act(server.as_("bob"), "CHG-987654321", action, BODIES[action]), 404)


def test_body_is_checked_before_the_state(server, svc):
    # complete on a draft with no valid outcome: 422 (body) comes before 409 (state)
    ch = new_change(server, svc)
    problem(act(server.as_("alice"), ch["id"], "complete", {"outcome": "meh"}), 422,
            field="outcome")
    problem(act(server.as_("alice"), ch["id"], "close", {"review": ""}), 422, field="review")


def test_403_before_412(server, svc):
    ch = new_change(server, svc)
    problem(act(server.as_("bob"), ch["id"], "submit", headers={"If-Match": '"999"'}), 403)


def test_412_before_422_and_409(server, svc):
    ch = new_change(server, svc)
    alice = server.as_("alice")
    problem(act(alice, ch["id"], "complete", {"outcome": "meh"},
                headers={"If-Match": '"999"'}), 412)
    problem(act(alice, ch["id"], "close", {"review": "x"}, headers={"If-Match": '"999"'}), 412)


def test_if_match_on_actions(server, svc):
    alice = server.as_("alice")
    ch = new_change(server, svc)
    old = etag_of(server, ch["id"])
    ok(alice.patch(f"/changes/{ch['id']}", json={"description": "edited"}))
    new = etag_of(server, ch["id"])
    assert new != old
    problem(act(alice, ch["id"], "submit", headers={"If-Match": old}), 412)
    assert get(server, ch["id"])["state"] == "draft"
    # a weak ETag never matches
    problem(act(alice, ch["id"], "submit", headers={"If-Match": "W/" + new}), 412)
    r = act(alice, ch["id"], "submit", headers={"If-Match": new})
    assert ok(r)["state"] == "awaiting_approval"
    after_submit = r.headers["ETag"]
    assert after_submit not in (old, new)
    assert etag_of(server, ch["id"]) == after_submit
    # the pre-submit ETag is stale now for cancel too
    problem(act(alice, ch["id"], "cancel", {"reason": "x"}, headers={"If-Match": new}), 412)
    assert get(server, ch["id"])["state"] == "awaiting_approval"
    r = act(alice, ch["id"], "cancel", {"reason": "x"},
            headers={"If-Match": f'"0", {after_submit}'})
    assert ok(r)["state"] == "cancelled"


def test_if_match_star_is_accepted(server, svc):
    ch = new_change(server, svc)
    r = act(server.as_("alice"), ch["id"], "submit", headers={"If-Match": "*"})
    assert ok(r)["state"] == "awaiting_approval"


def test_a_decision_moves_the_etag(server, svc, signer):
    ch = submit(server, new_change(server, svc, **MEDIUM)["id"])
    before = etag_of(server, ch["id"])
    ok(signer.decide("cab1", ch["id"]), 201)
    after = etag_of(server, ch["id"])
    assert after != before, "the representation changed (approvals) but the ETag did not"
    problem(act(server.as_("alice"), ch["id"], "cancel", {}, headers={"If-Match": before}), 412)


# --- edits after submit -----------------------------------------------------------------


def test_editing_an_awaiting_change_voids_approvals_and_reassesses(server, svc, signer):
    alice = server.as_("alice")
    ch = submit(server, new_change(server, svc, **MEDIUM)["id"])
    assert ch["assessment"]["level"] == "medium" and ch["required_approvals"]["needed"] == 2
    ok(signer.decide("cab1", ch["id"]), 201)
    mid = get(server, ch["id"])
    assert mid["required_approvals"]["have"] == 1 and mid["state"] == "awaiting_approval"
    assert [a["valid"] for a in mid["approvals"]] == [True]
    old_etag = etag_of(server, ch["id"])

    # drop the test plan: +10 points, same level
    r = alice.patch(f"/changes/{ch['id']}", json={"test_plan": None},
                    headers={"If-Match": old_etag})
    ed = ok(r)
    assert ed["version"] == ch["version"] + 1, ed
    assert ed["content_hash"] == content_hash(ed) != ch["content_hash"]
    assert ed["state"] == "awaiting_approval", ed
    assert [a["valid"] for a in ed["approvals"]] == [False], ed["approvals"]
    assert ed["approvals"][0]["version"] == ch["version"]
    assert ed["required_approvals"]["have"] == 0, ed["required_approvals"]
    assert ed["required_approvals"]["satisfied"] is False
    a = ed["assessment"]
    assert a["version"] == ed["version"], a
    assert a["score"] == ch["assessment"]["score"] + 10, (a, ch["assessment"])
    assert any(x["factor"] == "no_test_plan" and x["points"] == 10 for x in a["reasons"]), a
    assert r.headers["ETag"] != old_etag
    got = ok(alice.get(f"/changes/{ch['id']}/assessment"))
    assert got["version"] == ed["version"] and got["score"] == a["score"]
    # the voided approval no longer counts: two fresh ones are needed
    ok(signer.decide("cab1", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "awaiting_approval"
    ok(signer.decide("cab2", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"


def test_editing_an_approved_change_returns_it_to_awaiting_approval(server, svc, signer):
    ch = submit(server, new_change(server, svc)["id"])
    ok(signer.decide("cab1", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"
    ed = ok(server.as_("alice").patch(f"/changes/{ch['id']}",
                                      json={"description": "one more step"}))
    assert ed["state"] == "awaiting_approval", ed
    assert ed["version"] == ch["version"] + 1
    assert [a["valid"] for a in ed["approvals"]] == [False]
    assert ed["required_approvals"]["have"] == 0
    assert ed["assessment"]["version"] == ed["version"]


def test_editing_a_standard_low_change_reapproves_it(server, svc):
    ch = submit(server, new_change(server, svc, model="standard")["id"])
    assert ch["state"] == "approved"
    ed = ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"description": "tweak"}))
    assert ed["state"] == "approved" and ed["version"] == ch["version"] + 1
    assert ed["assessment"]["version"] == ed["version"]
    # an edit that raises the risk sends it to the CAB
    ed = ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"business_impact": "high"}))
    assert ed["assessment"]["level"] == "medium", ed["assessment"]
    assert ed["state"] == "awaiting_approval", ed


@pytest.mark.parametrize("state", ["in_progress", "review", "closed", "cancelled", "rejected"])
def test_changes_in_progress_or_later_cannot_be_edited(server, svc, signer, state):
    ch = reach(server, svc, signer, state)
    for who in ("alice", "manager"):
        body = problem(server.as_(who).patch(f"/changes/{ch['id']}",
                                             json={"title": "too late"}), 409)
        assert state in body["detail"], body
    after = get(server, ch["id"])
    assert after["title"] == ch["title"] and after["version"] == ch["version"]


# --- the retrospective emergency path ----------------------------------------------------


def emergency_awaiting(server, svc):
    ch = submit(server, new_change(server, svc, model="emergency",
                                   window=window(start_h=-1, length_h=3))["id"])
    assert ch["state"] == "awaiting_approval" and ch["kind"] == "emergency", ch
    return ch


def test_manager_starts_an_emergency_retrospectively(server, svc):
    ch = emergency_awaiting(server, svc)
    out = ok(act(server.as_("manager"), ch["id"], "start",
                 {"retrospective": True, "reason": "payments are down"}))
    assert out["state"] == "in_progress", out
    assert "unauthorized" in out["flags"] and "retrospective" in out["flags"], out["flags"]
    assert get(server, ch["id"])["flags"] == out["flags"]


@pytest.mark.parametrize("body", [{"retrospective": True}, {"retrospective": True, "reason": ""},
                                  {"retrospective": True, "reason": None}])
def test_retrospective_start_needs_a_reason(server, svc, body):
    ch = emergency_awaiting(server, svc)
    problem(act(server.as_("manager"), ch["id"], "start", body), 422, field="reason")
    after = get(server, ch["id"])
    assert after["state"] == "awaiting_approval" and after["flags"] == []


@pytest.mark.parametrize("who", ["alice", "ecab", "cab1", "bob"])
def test_retrospective_start_is_for_managers_only(server, svc, who):
    ch = emergency_awaiting(server, svc)
    problem(act(server.as_(who), ch["id"], "start",
                {"retrospective": True, "reason": "urgent"}), 403)
    assert get(server, ch["id"])["state"] == "awaiting_approval"


def test_plain_start_of_an_awaiting_emergency_is_409(server, svc):
    ch = emergency_awaiting(server, svc)
    body = problem(act(server.as_("manager"), ch["id"], "start", {}), 409)
    assert "awaiting_approval" in body["detail"], body


@pytest.mark.parametrize("model", ["normal", "standard"])
def test_retrospective_start_of_a_non_emergency_is_409(server, svc, model):
    ch = submit(server, new_change(server, svc, model=model, **MEDIUM)["id"])
    assert ch["state"] == "awaiting_approval"
    problem(act(server.as_("manager"), ch["id"], "start",
                {"retrospective": True, "reason": "urgent"}), 409)
    after = get(server, ch["id"])
    assert after["state"] == "awaiting_approval" and "unauthorized" not in after["flags"]


def test_ecab_approval_while_in_progress_clears_unauthorized(server, svc, signer):
    ch = emergency_awaiting(server, svc)
    ok(act(server.as_("manager"), ch["id"], "start", {"retrospective": True, "reason": "fire"}))
    ok(signer.decide("ecab", ch["id"]), 201)
    after = get(server, ch["id"])
    assert after["state"] == "in_progress", after
    assert "unauthorized" not in after["flags"], after["flags"]
    assert "retrospective" in after["flags"], after["flags"]
    assert after["required_approvals"]["satisfied"] is True
    done = ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": "successful"}))
    assert done["state"] == "review"
    assert ok(act(server.as_("alice"), ch["id"], "close", {"review": "ok"}))["state"] == "closed"


def test_rejection_of_a_retrospective_emergency_keeps_it_in_progress(server, svc, signer):
    ch = emergency_awaiting(server, svc)
    ok(act(server.as_("manager"), ch["id"], "start", {"retrospective": True, "reason": "fire"}))
    a = ok(signer.decide("ecab", ch["id"], "reject"), 201)
    assert a["decision"] == "reject"
    after = get(server, ch["id"])
    assert after["state"] == "in_progress", after
    assert "unauthorized" in after["flags"], after["flags"]
    # it goes to review, flagged
    done = ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": "successful"}))
    assert done["state"] == "review" and "unauthorized" in done["flags"], done


def test_unauthorized_change_in_review_can_still_be_authorised(server, svc, signer):
    ch = emergency_awaiting(server, svc)
    ok(act(server.as_("manager"), ch["id"], "start", {"retrospective": True, "reason": "fire"}))
    done = ok(act(server.as_("manager"), ch["id"], "complete", {"outcome": "failed"}))
    assert done["state"] == "review" and "unauthorized" in done["flags"]
    ok(signer.decide("ecab", ch["id"]), 201)
    after = get(server, ch["id"])
    assert after["state"] == "review" and "unauthorized" not in after["flags"], after


def test_no_decisions_on_an_authorised_change_in_progress(server, svc, signer):
    ch = reach(server, svc, signer, "in_progress")
    body = problem(signer.decide("cab2", ch["id"]), 409)
    assert "in_progress" in body["detail"], body


def test_timestamps_follow_the_lifecycle(server, svc, signer):
    # each action leaves the change's updated_at at or after the previous one
    ch = new_change(server, svc, model="standard")
    stamps = [ch["updated_at"]]
    time.sleep(1.1)
    ch = submit(server, ch["id"])
    stamps.append(ch["updated_at"])
    ch = ok(act(server.as_("alice"), ch["id"], "start", {}))
    stamps.append(ch["updated_at"])
    assert stamps == sorted(stamps) and stamps[1] > stamps[0], stamps
