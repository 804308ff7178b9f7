"""The rules of one home (README "States", "Changes"): what each caller may do
(`actions`), submitting a window that has already ended, every field at
fault named in one reply, one message per field, no-op patches, and list
queries that say what is valid."""

from datetime import datetime, timedelta, timezone

import pytest

from conftest import ok, problem, unique
from test_workflow import Signer, act, get, new_change, submit, ts, window


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(tier=3):
        name = unique(f"ru{tier}")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier}), 201)
        return name

    return make


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


def actions(server, who, cid):
    return ok(server.as_(who).get(f"/changes/{cid}"))["actions"]


def past_window(hours_ago_start, hours_ago_end):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return {"start": ts(now - timedelta(hours=hours_ago_start)),
            "end": ts(now - timedelta(hours=hours_ago_end))}


# --- actions -----------------------------------------------------------------------------

def test_actions_follow_the_caller_and_the_state(server, svc, signer):
    ch = new_change(server, svc)
    cid = ch["id"]
    assert ch["actions"] == ["submit", "edit", "cancel"]
    assert actions(server, "bob", cid) == []
    assert actions(server, "manager", cid) == ["submit", "edit", "cancel"]
    assert actions(server, "cab1", cid) == []
    submitted = submit(server, cid)
    assert submitted["state"] == "awaiting_approval"
    assert submitted["actions"] == ["edit", "cancel"]
    assert actions(server, "cab1", cid) == ["approve", "reject"]
    assert actions(server, "ecab", cid) == [], "ecab is not counted for a normal change"
    ok(signer.decide("cab1", cid), 201)
    assert actions(server, "alice", cid) == ["edit", "start", "cancel"]
    assert actions(server, "cab1", cid) == []
    ok(act(server.as_("alice"), cid, "start"))
    assert actions(server, "alice", cid) == ["complete"]
    ok(act(server.as_("alice"), cid, "complete", {"outcome": "failed"}))
    assert actions(server, "alice", cid) == ["close"]
    ok(act(server.as_("alice"), cid, "close", {"review": "learnt"}))
    assert actions(server, "alice", cid) == []


def test_actions_of_an_emergency_for_a_manager(server, svc):
    ch = new_change(server, svc, model="emergency")
    submit(server, ch["id"])
    assert actions(server, "manager", ch["id"]) == ["edit", "start", "cancel"]
    assert actions(server, "ecab", ch["id"]) == ["approve", "reject"]
    assert actions(server, "cab1", ch["id"]) == []


def test_lists_carry_the_callers_actions(server, svc):
    ch = new_change(server, svc)
    mine = ok(server.as_("alice").get("/changes", params={"q": ch["ref"]}))["items"]
    theirs = ok(server.as_("bob").get("/changes", params={"q": ch["ref"]}))["items"]
    assert [c["actions"] for c in mine] == [["submit", "edit", "cancel"]]
    assert [c["actions"] for c in theirs] == [[]]


# --- submitting a past window ---------------------------------------------------------------

def test_a_window_that_has_ended_cannot_be_submitted(server, svc):
    ch = new_change(server, svc, window=past_window(5, 3))
    body = problem(act(server.as_("alice"), ch["id"], "submit"), 422, field="window")
    assert "ended" in body["errors"][0]["message"], body
    after = get(server, ch["id"])
    assert after["state"] == "draft" and after["assessment"] is None
    assert after["version"] == ch["version"]


def test_an_emergency_with_a_past_window_is_recorded(server, svc):
    ch = new_change(server, svc, model="emergency", window=past_window(5, 3))
    assert submit(server, ch["id"])["state"] == "awaiting_approval"


def test_a_started_window_may_be_submitted(server, svc):
    ch = new_change(server, svc, window=past_window(1, -2))
    done = submit(server, ch["id"])
    assert done["state"] == "awaiting_approval"
    lead = [r for r in done["assessment"]["reasons"] if r["factor"] == "short_notice"]
    assert lead and lead[0]["points"] == 10, done["assessment"]


def test_submit_names_window_and_services_together(server):
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("bare")}), 201)
    problem(act(server.as_("alice"), ch["id"], "submit"), 422, fields=["window", "services"])


# --- every field at fault, once ----------------------------------------------------------------

def test_every_field_at_fault_in_one_reply(server):
    r = server.as_("alice").post("/changes", json={
        "title": unique("many"), "business_impact": "huge", "model": "urgent"})
    problem(r, 422, fields=["business_impact", "model"])


def test_unknown_field_and_bad_values_together(server, svc):
    r = server.as_("alice").post("/changes", json={
        "title": unique("many"), "colour": "red", "model": "urgent",
        "services": [svc(), "no-such-service-x"]})
    problem(r, 422, fields=["colour", "model", "services[1]"])


def test_a_field_of_the_wrong_type_is_named_once(server):
    body = problem(server.as_("alice").post("/changes", json={"title": 42}), 422, field="title")
    assert [e["field"] for e in body["errors"]].count("title") == 1, body


def test_a_window_time_that_is_not_a_date_says_so(server):
    body = problem(server.as_("alice").post("/changes", json={
        "title": unique("when"), "window": {"start": "tomorrow",
                                            "end": "2030-01-01T00:00:00Z"}}),
        422, field="window.start")
    msg = [e["message"] for e in body["errors"] if e["field"] == "window.start"][0]
    assert "RFC 3339" in msg and "required" not in msg, msg


# --- patches -------------------------------------------------------------------------------

def test_an_empty_patch_changes_nothing(server, svc, signer):
    ch = new_change(server, svc)
    cid = ch["id"]
    submit(server, cid)
    ok(signer.decide("cab1", cid), 201)
    before = server.as_("alice").get(f"/changes/{cid}")
    assert ok(before)["state"] == "approved"
    r = server.as_("alice").patch(f"/changes/{cid}", json={})
    after = ok(r)
    assert r.headers["ETag"] == before.headers["ETag"]
    assert after["version"] == ok(before)["version"] and after["state"] == "approved"
    assert [a["valid"] for a in after["approvals"]] == [True]


def test_a_patch_to_the_same_values_changes_nothing(server, svc):
    ch = new_change(server, svc)
    r = server.as_("alice").patch(f"/changes/{ch['id']}", json={
        "title": ch["title"], "services": ch["services"]})
    assert ok(r)["version"] == ch["version"] and r.headers["ETag"] == '"1"'


def test_an_empty_patch_still_checks_if_match_and_state(server, svc):
    ch = new_change(server, svc)
    problem(server.as_("alice").patch(f"/changes/{ch['id']}", json={},
                                      headers={"If-Match": '"999"'}), 412)
    problem(server.as_("bob").patch(f"/changes/{ch['id']}", json={}), 403)


# --- list queries ---------------------------------------------------------------------------

def test_an_unknown_state_lists_the_states(server):
    body = problem(server.as_("alice").get("/changes", params={"state": "drafty"}), 422,
                   field="state")
    msg = body["errors"][0]["message"]
    for s in ("draft", "awaiting_approval", "approved", "rejected", "in_progress", "review",
              "closed", "cancelled"):
        assert s in msg, msg


def test_a_draft_without_a_window_can_be_cancelled(server):
    alice = server.as_("alice")
    ch = ok(alice.post("/changes", json={"title": unique("nowin")}), 201)
    done = ok(alice.post(f"/changes/{ch['id']}/cancel", json={"reason": "not needed"}))
    assert done["state"] == "cancelled" and done["window"] is None
