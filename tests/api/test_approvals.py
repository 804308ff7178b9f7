"""Signed decisions (README "Signed decisions"): approvers' keys, the exact
statement, every refusal, policy counting, the command-line keygen/sign, and
the RFC 8032 Ed25519 vectors through the server's verification."""

import base64
import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from canonjson import content_hash
from conftest import (BIN, FIXTURES, PASSWORD, ok, page_items, problem, run, sanitizer_env,
                      sanitizer_findings, unique, walk)

VECTORS = FIXTURES / "ed25519" / "rfc8032_vectors.json"
APPROVAL_KEYS = {"id", "approver", "decision", "comment", "key_id", "public_key", "version",
                 "content_hash", "signed_at", "statement", "signature", "valid", "created_at"}
KEY_KEYS = {"id", "public_key", "label", "owner", "created_at", "revoked_at"}


# --- helpers ---------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_ts(offset_s=0):
    return ts(datetime.now(timezone.utc) + timedelta(seconds=offset_s))


def b64(raw):
    return base64.b64encode(raw).decode()


def statement(ref, version, chash, decision, signed_at):
    return f"cabinet-approval-v1\n{ref}\n{version}\n{chash}\n{decision}\n{signed_at}"


def sign(sk, text):
    return b64(sk.sign(text.encode()).signature)


def window(days=10, hours=2):
    s = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days)
    return {"start": ts(s), "end": ts(s + timedelta(hours=hours))}


class Signer:
    """Registered keys by user name (one each, made on first use)."""

    def __init__(self, server):
        self.server = server
        self.keys = {}

    def client(self, name):
        return self.server.as_(name) if name in self.server.users else self.server.login(name)

    def register(self, name, sk=None, label="test key"):
        sk = sk or SigningKey.generate()
        k = ok(self.client(name).post("/me/keys", json={
            "public_key": b64(sk.verify_key.encode()), "label": label}), 201)
        return sk, k

    def key(self, name):
        if name not in self.keys:
            sk, k = self.register(name)
            self.keys[name] = (sk, k["id"])
        return self.keys[name]

    def body(self, name, ch, decision="approve", signed_at=None, **over):
        """A correctly signed decision body on the change as given; `over`
        replaces the statement's parts (ref, version, hash, decision) or
        body fields (sk, key_id, ...)."""
        sk, kid = self.key(name)
        sk = over.pop("sk", sk)
        at = signed_at or now_ts()
        st = statement(over.pop("ref", ch["ref"]), over.pop("sign_version", ch["version"]),
                       over.pop("sign_hash", ch["content_hash"]),
                       over.pop("sign_decision", decision), at)
        body = {"decision": decision, "comment": f"{name}: {decision}", "key_id": kid,
                "signed_at": at, "signature": sign(sk, st)}
        body.update(over)
        return body, st

    def decide(self, name, cid, decision="approve", client=None, **over):
        ch = get(self.server, cid)
        body, _ = self.body(name, ch, decision, **over)
        return (client or self.client(name)).post(f"/changes/{cid}/approvals", json=body)


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(tier=3):
        name = unique(f"ap{tier}")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier}), 201)
        return name

    return make


# tier and plans -> level (no conflicts, no freeze, window ten days out)
LEVELS = {
    "low": {"tier": 3},                                          # 12
    "medium": {"tier": 2},                                       # 27
    "high": {"tier": 1, "test_plan": None},                      # 52
    "critical": {"tier": 1, "test_plan": None, "backout_plan": None,
                 "business_impact": "high"},                     # 87
}


def get(server, cid):
    return ok(server.as_("alice").get(f"/changes/{cid}"))


def new_change(server, svc, who="alice", level="low", submit=True, **body):
    spec = dict(LEVELS[level])
    tier = spec.pop("tier")
    body.setdefault("title", unique("ap change"))
    body.setdefault("services", [svc(tier)])
    body.setdefault("window", window())
    body.setdefault("test_plan", "smoke tests")
    body.setdefault("backout_plan", "roll back")
    body.setdefault("business_impact", "low")
    body.update(spec)
    body = {k: v for k, v in body.items() if v is not None}
    c = server.as_(who) if who in server.users else server.login(who)
    ch = ok(c.post("/changes", json=body), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
        assert ch["assessment"]["level"] == level, ch["assessment"]
    return ch


def approvals(server, cid):
    return page_items(ok(server.as_("bob").get(f"/changes/{cid}/approvals")))


def all_keys(server):
    items, _ = walk(server.as_("bob"), "/keys", limit=200)
    return {k["id"]: k for k in items}


@pytest.fixture(scope="module")
def cabmgr(server):
    """A user holding both cab and manager, made through POST /users."""
    email = f"{unique('cabmgr')}@cabinet.test"
    u = ok(server.as_("admin").post("/users", json={
        "email": email, "name": "Cab Manager", "password": PASSWORD,
        "roles": ["cab", "manager"]}), 201)
    assert sorted(u["roles"]) == ["cab", "manager", "requester"]
    return email


# --- keys -----------------------------------------------------------------------------------


def test_register_list_and_revoke_a_key(server, signer):
    sk = SigningKey.generate()
    pk = b64(sk.verify_key.encode())
    r = server.as_("cab1").post("/me/keys", json={"public_key": pk, "label": "laptop"})
    k = ok(r, 201)
    assert set(k) >= KEY_KEYS, k
    assert k["public_key"] == pk and k["label"] == "laptop" and k["revoked_at"] is None
    assert k["owner"]["id"] == server.users["cab1"]["id"]
    listed = all_keys(server)[k["id"]]
    assert listed["public_key"] == pk and listed["revoked_at"] is None
    assert listed["owner"]["id"] == server.users["cab1"]["id"]
    assert listed["owner"]["email"] == server.users["cab1"]["email"]
    # another user cannot revoke it
    problem(server.as_("cab2").delete(f"/me/keys/{k['id']}"), 404)
    assert all_keys(server)[k["id"]]["revoked_at"] is None
    r = server.as_("cab1").delete(f"/me/keys/{k['id']}")
    assert r.status_code == 204, r.text
    listed = all_keys(server)[k["id"]]  # still listed, so old approvals stay verifiable
    assert isinstance(listed["revoked_at"], str) and listed["revoked_at"].endswith("Z"), listed
    assert listed["public_key"] == pk
    problem(server.as_("cab1").delete(f"/me/keys/{k['id']}"), 404)


def _urlsafe_key():
    while True:
        raw = SigningKey.generate().verify_key.encode()
        s = b64(raw)
        if "+" in s or "/" in s:
            return s.replace("+", "-").replace("/", "_")


@pytest.mark.parametrize("pk", [
    "", "abc", b64(b"\x01" * 31), b64(b"\x01" * 33), b64(b"\x01" * 64),
    b64(b"\x02" * 32).rstrip("="), b64(b"\x03" * 32) + "\n", " " + b64(b"\x04" * 32),
    (b"\x05" * 32).hex(), _urlsafe_key(), "=" * 44, 12345, None, ["x"],
])
def test_bad_public_keys_are_422(server, pk):
    problem(server.as_("cab1").post("/me/keys", json={"public_key": pk, "label": "bad"}), 422,
            field="public_key")


def test_public_key_is_required(server):
    problem(server.as_("cab1").post("/me/keys", json={"label": "none"}), 422, field="public_key")


def test_every_fault_of_a_key_is_named_at_once(server):
    before = all_keys(server)
    problem(server.as_("cab1").post("/me/keys", json={"public_key": "abc", "label": "x" * 101,
                                                      "colour": "red"}), 422,
            fields=["public_key", "label", "colour"])
    assert all_keys(server) == before


def test_duplicate_key_is_409(server):
    pk = b64(SigningKey.generate().verify_key.encode())
    ok(server.as_("cab1").post("/me/keys", json={"public_key": pk, "label": "a"}), 201)
    problem(server.as_("cab1").post("/me/keys", json={"public_key": pk, "label": "b"}), 409)
    problem(server.as_("cab2").post("/me/keys", json={"public_key": pk, "label": "c"}), 409)
    assert sum(1 for k in all_keys(server).values() if k["public_key"] == pk) == 1


def test_keys_need_login(server):
    problem(server.anon().get("/keys"), 401)
    problem(server.anon().post("/me/keys", json={"public_key": b64(b"\x00" * 32)}), 401)


# --- an accepted decision ----------------------------------------------------------------------


def test_a_signed_approval_is_accepted(server, svc, signer):
    ch = new_change(server, svc)
    body, st = signer.body("cab1", ch)
    r = server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body)
    a = ok(r, 201)
    assert set(a) >= APPROVAL_KEYS, APPROVAL_KEYS - set(a)
    assert a["statement"] == st, (a["statement"], st)
    assert a["signature"] == body["signature"]
    sk, kid = signer.key("cab1")
    assert a["public_key"] == b64(sk.verify_key.encode()) and a["key_id"] == kid
    assert a["valid"] is True and a["decision"] == "approve"
    assert a["version"] == ch["version"] and a["content_hash"] == ch["content_hash"]
    assert a["signed_at"] == body["signed_at"] and a["comment"] == body["comment"]
    assert a["approver"]["id"] == server.users["cab1"]["id"]
    # anyone can re-verify it from what is returned
    VerifyKey(base64.b64decode(a["public_key"])).verify(a["statement"].encode(),
                                                         base64.b64decode(a["signature"]))
    assert a["statement"] == statement(ch["ref"], a["version"], a["content_hash"], "approve",
                                       a["signed_at"])
    assert a["content_hash"] == content_hash(ch)
    listed = approvals(server, ch["id"])
    assert [x["id"] for x in listed] == [a["id"]] and listed[0]["statement"] == st
    after = get(server, ch["id"])
    assert after["state"] == "approved", after
    assert after["required_approvals"] == {**after["required_approvals"], "needed": 1,
                                           "have": 1, "satisfied": True}


def test_version_and_hash_may_be_sent_when_current(server, svc, signer):
    ch = new_change(server, svc)
    body, _ = signer.body("cab1", ch, version=ch["version"], content_hash=ch["content_hash"])
    ok(server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body), 201)


def test_decision_by_ref(server, svc, signer):
    ch = new_change(server, svc)
    body, _ = signer.body("cab2", ch)
    ok(server.as_("cab2").post(f"/changes/{ch['ref']}/approvals", json=body), 201)


def test_signed_at_within_five_minutes_is_fine(server, svc, signer):
    ch = new_change(server, svc, level="medium")
    ok(signer.decide("cab1", ch["id"], signed_at=now_ts(-240)), 201)
    ok(signer.decide("cab2", ch["id"], signed_at=now_ts(+240)), 201)
    assert get(server, ch["id"])["state"] == "approved"


# --- refusals -------------------------------------------------------------------------------------


def refused(server, ch, r, status, field=None):
    body = problem(r, status, field=field)
    assert approvals(server, ch["id"]) == [], "a refused decision was stored"
    after = get(server, ch["id"])
    assert after["state"] == ch["state"] and after["required_approvals"]["have"] == 0, after
    return body


@pytest.mark.parametrize("how", ["random", "garbage", "empty", "other_ref", "other_version",
                                 "other_hash", "other_decision", "other_time", "other_secret",
                                 "truncated"])
def test_a_signature_that_does_not_verify_is_422(server, svc, signer, how):
    ch = new_change(server, svc)
    over = {
        "random": {"signature": b64(os.urandom(64))},
        "garbage": {"signature": "not base64!"},
        "empty": {"signature": ""},
        "other_ref": {"ref": "CHG-999999"},
        "other_version": {"sign_version": ch["version"] + 1},
        "other_hash": {"sign_hash": "0" * 64},
        "other_decision": {"sign_decision": "reject"},
        "other_time": {},
        "other_secret": {"sk": SigningKey.generate()},
        "truncated": {},
    }[how]
    body, st = signer.body("cab1", ch, **over)
    if how == "other_time":
        body["signed_at"] = now_ts(-60)  # signed another instant than the one sent
        if body["signed_at"] in st:
            body["signed_at"] = now_ts(-61)
    if how == "truncated":
        body["signature"] = b64(base64.b64decode(body["signature"])[:63])
    r = server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body)
    p = refused(server, ch, r, 422, field="signature")
    if how not in ("garbage", "empty", "truncated"):
        # the detail quotes the statement that must be signed
        must = statement(ch["ref"], ch["version"], ch["content_hash"], "approve",
                         body["signed_at"])
        assert must in p["detail"] or must.replace("\n", "\\n") in p["detail"], p


def test_another_users_key_is_422(server, svc, signer):
    ch = new_change(server, svc)
    sk2, kid2 = signer.key("cab2")
    body, _ = signer.body("cab1", ch, sk=sk2, key_id=kid2)
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="key_id")


@pytest.mark.parametrize("kid", [987654321, 0, -1, "1", None])
def test_unknown_or_bad_key_id_is_422(server, svc, signer, kid):
    ch = new_change(server, svc)
    body, _ = signer.body("cab1", ch, key_id=kid)
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="key_id")


def test_a_revoked_key_is_422(server, svc, signer):
    ch = new_change(server, svc)
    sk, k = signer.register("cab3", label="soon revoked")
    assert server.as_("cab3").delete(f"/me/keys/{k['id']}").status_code == 204
    body, _ = signer.body("cab3", ch, sk=sk, key_id=k["id"])
    refused(server, ch, server.as_("cab3").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="key_id")


@pytest.mark.parametrize("offset", [-360, 360, -3600, 86400])
def test_signed_at_more_than_5_minutes_off_is_422(server, svc, signer, offset):
    ch = new_change(server, svc)
    body, _ = signer.body("cab1", ch, signed_at=now_ts(offset))  # signed correctly
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="signed_at")


@pytest.mark.parametrize("fmt", [
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    lambda d: d.strftime("%Y-%m-%d %H:%M:%SZ"),
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"),
    lambda d: d.strftime("%Y-%m-%dt%H:%M:%Sz"),
    lambda d: str(int(d.timestamp())),
    lambda d: "",
])
def test_malformed_signed_at_is_422(server, svc, signer, fmt):
    ch = new_change(server, svc)
    at = fmt(datetime.now(timezone.utc))
    sk, kid = signer.key("cab1")
    st = statement(ch["ref"], ch["version"], ch["content_hash"], "approve", at)
    body = {"decision": "approve", "key_id": kid, "signed_at": at, "signature": sign(sk, st)}
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="signed_at")


def test_stale_version_or_hash_sent_is_422(server, svc, signer):
    ch = new_change(server, svc)
    body, _ = signer.body("cab1", ch, version=ch["version"] + 1)
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="version")
    body, _ = signer.body("cab1", ch, content_hash="f" * 64)
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="content_hash")


@pytest.mark.parametrize("decision", ["maybe", "", None, "APPROVE"])
def test_bad_decision_is_422(server, svc, signer, decision):
    ch = new_change(server, svc)
    body, _ = signer.body("cab1", ch)
    body["decision"] = decision
    refused(server, ch, server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body),
            422, field="decision")


def test_the_owner_may_not_decide(server, svc, signer):
    ch = new_change(server, svc, who="cab1")  # a cab member's own change
    refused(server, ch, signer.decide("cab1", ch["id"]), 403)
    ch = new_change(server, svc, who="manager", level="critical")
    refused(server, ch, signer.decide("manager", ch["id"]), 403)


@pytest.mark.parametrize("who", ["bob", "alice"])
def test_a_requester_only_user_may_not_decide(server, svc, signer, who):
    ch = new_change(server, svc, who="cab2")
    refused(server, ch, signer.decide(who, ch["id"]), 403)


def test_roles_the_policy_does_not_count_are_403(server, svc, signer):
    normal = new_change(server, svc, level="medium")
    refused(server, normal, signer.decide("ecab", normal["id"]), 403)
    refused(server, normal, signer.decide("manager", normal["id"]), 403)
    refused(server, normal, signer.decide("admin", normal["id"]), 403)


def test_cab_may_not_decide_on_an_emergency(server, svc, signer):
    ch = new_change(server, svc, model="emergency", level="medium")
    assert ch["required_approvals"]["needed"] == 1
    assert ch["required_approvals"]["policy"]["quotas"] == [{"role": "ecab", "count": 1}]
    refused(server, ch, signer.decide("cab1", ch["id"]), 403)
    refused(server, ch, signer.decide("manager", ch["id"]), 403)
    ok(signer.decide("ecab", ch["id"]), 201)
    after = get(server, ch["id"])
    assert after["state"] == "approved" and after["required_approvals"]["satisfied"] is True


def test_a_second_decision_on_the_same_version_is_409(server, svc, signer):
    ch = new_change(server, svc, level="medium")
    ok(signer.decide("cab1", ch["id"]), 201)
    problem(signer.decide("cab1", ch["id"]), 409)
    problem(signer.decide("cab1", ch["id"], "reject"), 409)
    assert len(approvals(server, ch["id"])) == 1
    after = get(server, ch["id"])
    assert after["state"] == "awaiting_approval" and after["required_approvals"]["have"] == 1


@pytest.mark.parametrize("state", ["draft", "cancelled", "approved"])
def test_no_decisions_outside_awaiting_approval(server, svc, signer, state):
    alice = server.as_("alice")
    ch = new_change(server, svc, submit=state != "draft")
    if state == "cancelled":
        ch = ok(alice.post(f"/changes/{ch['id']}/cancel", json={}))
    if state == "approved":
        ok(signer.decide("cab1", ch["id"]), 201)
        ch = get(server, ch["id"])
    before = len(approvals(server, ch["id"]))
    body = problem(signer.decide("cab2", ch["id"]), 409)
    assert state in body["detail"], body
    assert len(approvals(server, ch["id"])) == before
    assert get(server, ch["id"])["state"] == state


# --- freezes --------------------------------------------------------------------------------------


@pytest.fixture
def freeze(server):
    made = []
    mgr = server.as_("manager")

    def make(ch, hard):
        f = ok(mgr.post("/freezes", json={"name": unique("fz"), "window": ch["window"],
                                          "services": ch["services"], "hard": hard}), 201)
        made.append(f["id"])
        return f

    yield make
    for fid in made:
        mgr.delete(f"/freezes/{fid}")


def test_approval_under_a_covering_hard_freeze_is_409(server, svc, signer, freeze):
    ch = new_change(server, svc, level="low")
    f = freeze(ch, hard=True)
    problem(signer.decide("cab1", ch["id"]), 409)
    assert approvals(server, ch["id"]) == []
    assert get(server, ch["id"])["state"] == "awaiting_approval"
    # once a manager lifts the freeze the approval goes through
    assert server.as_("manager").delete(f"/freezes/{f['id']}").status_code == 204
    ok(signer.decide("cab1", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"


def test_a_rejection_under_a_hard_freeze_is_fine(server, svc, signer, freeze):
    ch = new_change(server, svc, level="low")
    freeze(ch, hard=True)
    ok(signer.decide("cab1", ch["id"], "reject"), 201)
    assert get(server, ch["id"])["state"] == "rejected"


def test_an_emergency_may_be_approved_under_a_hard_freeze(server, svc, signer, freeze):
    ch = new_change(server, svc, model="emergency")
    freeze(ch, hard=True)
    ok(signer.decide("ecab", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"


def test_a_soft_freeze_only_adds_points(server, svc, signer, freeze):
    ch = new_change(server, svc, level="low", submit=False)
    freeze(ch, hard=False)
    ch = ok(server.as_("alice").post(f"/changes/{ch['id']}/submit"))
    reasons = {x["factor"]: x["points"] for x in ch["assessment"]["reasons"]}
    assert reasons.get("freeze") == 30, ch["assessment"]
    assert ch["assessment"]["level"] == "medium"  # 12 + 30
    ok(signer.decide("cab1", ch["id"]), 201)
    ok(signer.decide("cab2", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"


# --- rejection ----------------------------------------------------------------------------------


def test_one_rejection_rejects(server, svc, signer):
    ch = new_change(server, svc, level="high")
    ok(signer.decide("cab1", ch["id"]), 201)
    ok(signer.decide("cab2", ch["id"]), 201)
    a = ok(signer.decide("cab3", ch["id"], "reject"), 201)
    assert a["decision"] == "reject" and a["valid"] is True
    after = get(server, ch["id"])
    assert after["state"] == "rejected", after
    # a rejected change takes no more decisions
    problem(signer.decide("cab4", ch["id"]), 409)


def test_a_signed_rejection_is_verifiable(server, svc, signer):
    ch = new_change(server, svc)
    body, st = signer.body("cab1", ch, "reject")
    a = ok(server.as_("cab1").post(f"/changes/{ch['id']}/approvals", json=body), 201)
    assert a["statement"] == st and st.split("\n")[4] == "reject"
    VerifyKey(base64.b64decode(a["public_key"])).verify(st.encode(),
                                                         base64.b64decode(a["signature"]))


# --- policy counting --------------------------------------------------------------------------------


def required(server, cid):
    ch = get(server, cid)
    ra = ch["required_approvals"]
    return ch["state"], ra["needed"], ra["have"], ra["satisfied"]


@pytest.mark.parametrize("level,needed", [("low", 1), ("medium", 2), ("high", 3)])
def test_cab_counts_by_level(server, svc, signer, level, needed):
    ch = new_change(server, svc, level=level)
    assert required(server, ch["id"]) == ("awaiting_approval", needed, 0, False)
    pol = ch["required_approvals"]["policy"]
    assert pol["level"] == level and pol["quotas"] == [{"role": "cab", "count": needed}], pol
    for i in range(1, needed + 1):
        ok(signer.decide(f"cab{i}", ch["id"]), 201)
        state = "approved" if i == needed else "awaiting_approval"
        assert required(server, ch["id"]) == (state, needed, i, i == needed)


def test_critical_needs_three_cab_and_a_manager(server, svc, signer):
    ch = new_change(server, svc, level="critical")
    assert ch["required_approvals"]["needed"] == 4
    quotas = sorted((q["role"], q["count"]) for q in ch["required_approvals"]["policy"]["quotas"])
    assert quotas == [("cab", 3), ("manager", 1)]
    for i in range(1, 5):  # four cab members fill only the three cab slots
        ok(signer.decide(f"cab{i}", ch["id"]), 201)
    assert required(server, ch["id"]) == ("awaiting_approval", 4, 3, False)
    ok(signer.decide("manager", ch["id"]), 201)
    assert required(server, ch["id"]) == ("approved", 4, 4, True)


def test_a_user_with_cab_and_manager_counts_once(server, svc, signer, cabmgr):
    ch = new_change(server, svc, level="critical")
    ok(signer.decide("cab1", ch["id"]), 201)
    ok(signer.decide("cab2", ch["id"]), 201)
    ok(signer.decide(cabmgr, ch["id"]), 201)
    # three people: one slot each, whatever roles they hold
    assert required(server, ch["id"]) == ("awaiting_approval", 4, 3, False)
    ok(signer.decide("manager", ch["id"]), 201)  # cabmgr moves to the third cab slot
    assert required(server, ch["id"]) == ("approved", 4, 4, True)


def test_cab_and_manager_user_completes_three_cab(server, svc, signer, cabmgr):
    ch = new_change(server, svc, level="critical")
    for name in ("cab1", "cab2", "cab3"):
        ok(signer.decide(name, ch["id"]), 201)
    assert required(server, ch["id"]) == ("awaiting_approval", 4, 3, False)
    ok(signer.decide(cabmgr, ch["id"]), 201)
    assert required(server, ch["id"]) == ("approved", 4, 4, True)


def test_a_rejection_does_not_count_as_an_approval(server, svc, signer):
    ch = new_change(server, svc, level="medium")
    ok(signer.decide("cab1", ch["id"]), 201)
    ok(signer.decide("cab2", ch["id"], "reject"), 201)
    st, needed, have, sat = required(server, ch["id"])
    assert st == "rejected" and have == 1 and not sat


def test_a_model_policy_override_changes_what_is_needed(server, svc, signer):
    admin = server.as_("admin")
    strict = unique("strict")
    ok(admin.post("/models", json={"name": strict, "kind": "normal", "title": "Strict",
                                   "policy": {"low": [{"role": "cab", "count": 2}]}}), 201)
    ch = new_change(server, svc, level="low", model=strict)
    assert required(server, ch["id"]) == ("awaiting_approval", 2, 0, False)
    ok(signer.decide("cab1", ch["id"]), 201)
    assert required(server, ch["id"]) == ("awaiting_approval", 2, 1, False)
    ok(signer.decide("cab2", ch["id"]), 201)
    assert required(server, ch["id"]) == ("approved", 2, 2, True)
    # a level the model does not override keeps the default
    ch = new_change(server, svc, level="medium", model=strict)
    assert required(server, ch["id"])[1] == 2


def test_a_model_policy_may_count_other_roles(server, svc, signer):
    admin = server.as_("admin")
    mgr_only = unique("mgronly")
    ok(admin.post("/models", json={"name": mgr_only, "kind": "normal", "title": "Managers",
                                   "policy": {"medium": [{"role": "manager", "count": 1}]}}),
       201)
    ch = new_change(server, svc, level="medium", model=mgr_only)
    assert required(server, ch["id"]) == ("awaiting_approval", 1, 0, False)
    assert ch["required_approvals"]["policy"]["quotas"] == [{"role": "manager", "count": 1}]
    refused(server, ch, signer.decide("cab1", ch["id"]), 403)
    ok(signer.decide("manager", ch["id"]), 201)
    assert required(server, ch["id"]) == ("approved", 1, 1, True)


def test_an_emergency_model_policy_override(server, svc, signer):
    admin = server.as_("admin")
    two = unique("ecab2")
    ok(admin.post("/models", json={"name": two, "kind": "emergency", "title": "Two ECAB",
                                   "policy": {"low": [{"role": "ecab", "count": 1},
                                                      {"role": "cab", "count": 1}]}}), 201)
    ch = new_change(server, svc, level="low", model=two)
    assert required(server, ch["id"]) == ("awaiting_approval", 2, 0, False)
    ok(signer.decide("ecab", ch["id"]), 201)
    assert required(server, ch["id"]) == ("awaiting_approval", 2, 1, False)
    ok(signer.decide("cab1", ch["id"]), 201)
    assert required(server, ch["id"]) == ("approved", 2, 2, True)


def test_concurrent_decisions_by_different_people_all_count(server, svc, signer):
    import threading
    ch = new_change(server, svc, level="high")
    bodies = {n: signer.body(n, ch)[0] for n in ("cab1", "cab2", "cab3")}
    results = {}

    def go(n):
        results[n] = server.login(n).post(f"/changes/{ch['id']}/approvals", json=bodies[n])

    threads = [threading.Thread(target=go, args=(n,)) for n in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r.status_code == 201 for r in results.values()), \
        {n: (r.status_code, r.text[:200]) for n, r in results.items()}
    assert required(server, ch["id"]) == ("approved", 3, 3, True)


# --- the command line: keygen and sign ------------------------------------------------------------


def cli(*args, check=True):
    cp = run([BIN, *args], env=sanitizer_env(), timeout=60, check=False)
    assert not sanitizer_findings(cp.stderr), cp.stderr
    if check:
        assert cp.returncode == 0, f"{args}: {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    return cp


def test_cli_keygen_and_sign_are_accepted(server, svc, tmp_path):
    keyfile = tmp_path / "approver.key"
    cp = cli("keygen", "--key", keyfile)
    pub = cp.stdout.strip()
    raw_pub = base64.b64decode(pub, validate=True)
    assert len(raw_pub) == 32 and b64(raw_pub) == pub
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    secret = base64.b64decode(keyfile.read_text().strip(), validate=True)
    assert len(secret) == 64 and secret[32:] == raw_pub
    assert SigningKey(secret[:32]).verify_key.encode() == raw_pub
    # never overwrites
    before = keyfile.read_bytes()
    cp = cli("keygen", "--key", keyfile, check=False)
    assert cp.returncode != 0 and keyfile.read_bytes() == before

    k = ok(server.as_("cab4").post("/me/keys", json={"public_key": pub, "label": "cli"}), 201)
    ch = new_change(server, svc)
    cp = cli("sign", "--key", keyfile, "--ref", ch["ref"], "--version", str(ch["version"]),
             "--hash", ch["content_hash"], "--decision", "approve")
    out = json.loads(cp.stdout)
    assert set(out) >= {"signed_at", "signature", "statement"}, out
    st = statement(ch["ref"], ch["version"], ch["content_hash"], "approve", out["signed_at"])
    assert out["statement"] == st
    # the signature verifies independently
    VerifyKey(raw_pub).verify(st.encode(), base64.b64decode(out["signature"]))
    with pytest.raises(BadSignatureError):
        VerifyKey(raw_pub).verify(st.replace("approve", "reject").encode(),
                                  base64.b64decode(out["signature"]))
    a = ok(server.as_("cab4").post(f"/changes/{ch['id']}/approvals", json={
        "decision": "approve", "key_id": k["id"], "signed_at": out["signed_at"],
        "signature": out["signature"], "comment": "from the command line"}), 201)
    assert a["statement"] == st and a["public_key"] == pub and a["valid"] is True
    assert get(server, ch["id"])["state"] == "approved"


def test_cli_sign_with_a_given_time(server, svc, tmp_path):
    keyfile = tmp_path / "k"
    pub = cli("keygen", "--key", keyfile).stdout.strip()
    at = "2031-01-02T03:04:05Z"
    out = json.loads(cli("sign", "--key", keyfile, "--ref", "CHG-7", "--version", "3",
                         "--hash", "a" * 64, "--decision", "reject", "--signed-at", at).stdout)
    assert out["signed_at"] == at
    st = statement("CHG-7", 3, "a" * 64, "reject", at)
    assert out["statement"] == st
    VerifyKey(base64.b64decode(pub)).verify(st.encode(), base64.b64decode(out["signature"]))
    # Ed25519 is deterministic: the same statement signs the same way
    again = json.loads(cli("sign", "--key", keyfile, "--ref", "CHG-7", "--version", "3",
                           "--hash", "a" * 64, "--decision", "reject", "--signed-at",
                           at).stdout)
    assert again["signature"] == out["signature"]


@pytest.mark.parametrize("args", [
    ["--version", "x"], ["--hash", "A" * 64], ["--hash", "a" * 63], ["--decision", "ok"],
    ["--signed-at", "2031-01-02 03:04:05"],
])
def test_cli_sign_refuses_bad_arguments(tmp_path, args):
    keyfile = tmp_path / "k"
    cli("keygen", "--key", keyfile)
    base = {"--ref": "CHG-1", "--version": "1", "--hash": "b" * 64, "--decision": "approve"}
    base.update(dict(zip(args[::2], args[1::2])))
    flat = [x for kv in base.items() for x in kv]
    cp = cli("sign", "--key", keyfile, *flat, check=False)
    assert cp.returncode == 2, (cp.returncode, cp.stdout, cp.stderr)
    assert cp.stdout.strip() == ""


# --- RFC 8032 vectors ----------------------------------------------------------------------------


def vectors():
    data = json.loads(VECTORS.read_text())
    assert isinstance(data.get("vectors"), list) and data["vectors"], data
    return data["vectors"]


@pytest.mark.parametrize("i", range(2))
def test_rfc8032_vectors_verify_with_pynacl(i):
    v = vectors()[i]
    seed = bytes.fromhex(v["secret_seed_hex"])
    pk = bytes.fromhex(v["public_key_hex"])
    msg = bytes.fromhex(v["message_hex"])
    sig = bytes.fromhex(v["signature_hex"])
    sk = SigningKey(seed)
    assert sk.verify_key.encode() == pk
    assert sk.sign(msg).signature == sig
    assert VerifyKey(pk).verify(msg, sig) == msg
    with pytest.raises(BadSignatureError):
        VerifyKey(pk).verify(msg + b"x", sig)


def test_rfc8032_vector_keys_go_through_the_server(server, svc, signer):
    vs = vectors()
    assert len(vs) >= 2
    for v, who in zip(vs, ("cab2", "cab3")):
        seed = bytes.fromhex(v["secret_seed_hex"])
        pk = bytes.fromhex(v["public_key_hex"])
        sk = SigningKey(seed)
        k = ok(server.as_(who).post("/me/keys", json={"public_key": b64(pk),
                                                      "label": "RFC 8032 vector"}), 201)
        assert k["public_key"] == b64(pk)
        ch = new_change(server, svc)
        body, st = signer.body(who, ch, sk=sk, key_id=k["id"])
        a = ok(server.as_(who).post(f"/changes/{ch['id']}/approvals", json=body), 201)
        assert a["public_key"] == b64(pk) and a["statement"] == st and a["valid"] is True
        VerifyKey(pk).verify(st.encode(), base64.b64decode(a["signature"]))
        assert get(server, ch["id"])["state"] == "approved"
        # the vector's own signature is over its own message, not this statement
        ch2 = new_change(server, svc)
        body, _ = signer.body(who, ch2, sk=sk, key_id=k["id"])
        body["signature"] = b64(bytes.fromhex(v["signature_hex"]))
        problem(server.as_(who).post(f"/changes/{ch2['id']}/approvals", json=body), 422,
                field="signature")
