"""Events out (README "Events out", /webhooks): subscriptions and their
validation and roles; Standard Webhooks signatures checked by our own HMAC
code (proved first against the published vectors); every event type with
its `type`, `timestamp` and `data`; subscriptions to chosen events; the chat
format; webhook-id per event and across retries; deleted subscriptions.

Receivers are http.server.ThreadingHTTPServer instances on 127.0.0.1 in
threads of this process; every wait is bounded."""

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from nacl.signing import SigningKey

from conftest import FIXTURES, free_port, ok, page_items, problem, unique
from hooks import WAIT, Receiver, Verifier, deliveries, wait_delivery

VECTORS = FIXTURES / "standard-webhooks" / "vectors.json"
EVENTS = ["change.created", "change.submitted", "change.state_changed", "change.approved",
          "change.rejected", "change.conflict_detected", "change.conflict_resolved",
          "freeze.created"]
WEBHOOK_KEYS = {"id", "url", "events", "format", "created_by", "created_at"}
DELIVERY_KEYS = {"id", "event_id", "type", "state", "attempts", "next_attempt_at",
                 "last_status", "last_error", "created_at", "delivered_at", "history"}
ATTEMPT_KEYS = {"at", "status", "error", "duration_ms"}
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def vectors():
    return json.loads(VECTORS.read_text())


def test_verifier_matches_the_published_vectors():
    vs = vectors()["published_vectors"]
    assert vs, "no published vectors"
    for v in vs:
        w = Verifier(v["secret"])
        assert w.sign(v["msg_id"], v["timestamp"], v["payload"]) == v["expected_signature"], v
        assert w.verify(v["msg_id"], v["timestamp"], v["payload"], v["expected_signature"],
                        now=v["timestamp"]), v
        # any change to id, timestamp or body breaks it
        assert not w.verify(v["msg_id"] + "x", v["timestamp"], v["payload"],
                            v["expected_signature"], now=v["timestamp"])
        assert not w.verify(v["msg_id"], v["timestamp"] + 1, v["payload"],
                            v["expected_signature"], now=v["timestamp"])
        assert not w.verify(v["msg_id"], v["timestamp"], v["payload"] + " ",
                            v["expected_signature"], now=v["timestamp"])


def test_verifier_matches_the_derived_vectors():
    vs = vectors()["derived_vectors_NOT_published_computed_locally_with_python_hmac"]
    assert vs, "no derived vectors"
    for v in vs:
        w = Verifier(v["secret"])
        assert w.sign(v["msg_id"], v["timestamp"], v["payload"]) == v["expected_signature"], v
        assert w.verify(v["msg_id"], v["timestamp"], v["payload"], v["expected_signature"],
                        now=v["timestamp"]), v


@pytest.mark.parametrize("i", range(len(vectors()["published_negative_vectors"])))
def test_verifier_refuses_the_negative_vectors(i):
    base = vectors()["published_vectors"][0]
    v = vectors()["published_negative_vectors"][i]
    desc = v.get("desc", "")
    w = Verifier(v.get("secret", base["secret"]))
    msg_id, payload, t = v.get("msg_id", base["msg_id"]), v.get("payload", base["payload"]), \
        v.get("timestamp", base["timestamp"])
    if "signature_header" in v:
        for ts in (t, t - 1, t + 1, int(time.time())):  # "any timestamp"
            assert not w.verify(msg_id, ts, payload, v["signature_header"], now=ts), (desc, ts)
    elif "signature_header_template" in v:
        good = v["signature_header_template"].replace("<VALID>", base["expected_signature"])
        assert w.verify(msg_id, t, payload, good, now=t), desc
        bad = v["signature_header_template"].replace("<VALID>", "")
        assert not w.verify(msg_id, t, payload, bad, now=t), desc
    elif "timestamp" in desc:
        now = int(time.time())
        for ts, accepted in ((now, True), (now - 299, True), (now + 299, True),
                             (now - 301, False), (now + 301, False)):
            header = w.sign(msg_id, ts, payload)
            assert w.verify(msg_id, ts, payload, header, now=now) is accepted, (desc, ts)
        for ts in ("hello", "161426533.0", "-161426533"):
            header = w.sign(msg_id, ts, payload)
            assert not w.verify(msg_id, ts, payload, header, now=now), (desc, ts)
            assert not w.verify(msg_id, ts, payload, header, now=161426533), (desc, ts)
    elif "secret" in desc:
        for secret in ("", "whsec_"):
            with pytest.raises(ValueError):
                Verifier(secret)
    else:
        pytest.fail(f"a negative vector this test does not handle: {v}")


# --- receivers --------------------------------------------------------------------------------


@pytest.fixture
def hooks(server):
    """Receivers and subscriptions made by one test, removed after it."""
    made = {"rx": [], "hooks": []}

    class Hooks:
        def receiver(self, name=None, answer=None, port=0):
            rx = Receiver(name or unique("rx"), answer, port)
            made["rx"].append(rx)
            return rx

        def subscribe(self, target, events=("*",), format=None, who="manager"):
            url = target.url if isinstance(target, Receiver) else target
            body = {"url": url, "events": list(events)}
            if format:
                body["format"] = format
            r = server.as_(who).post("/webhooks", json=body)
            w = ok(r, 201)
            made["hooks"].append(w["id"])
            if isinstance(target, Receiver):
                target.secret = w["secret"]
            return w

    yield Hooks()
    for wid in made["hooks"]:
        server.as_("admin").delete(f"/webhooks/{wid}")
    for rx in made["rx"]:
        rx.stop()


# --- helpers --------------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    assert isinstance(s, str) and TS_RE.match(s), s
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def window(days=10, hours=2):
    s = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days)
    return {"start": ts(s), "end": ts(s + timedelta(hours=hours))}


@pytest.fixture(scope="module")
def svc(server):
    def make(tier=3):
        name = unique("wh")
        ok(server.as_("admin").post("/services", json={"name": name, "title": name,
                                                       "tier": tier}), 201)
        return name
    return make


def new_change(server, svc, who="alice", submit=False, **body):
    body.setdefault("title", unique("Webhook change"))
    body.setdefault("services", [svc()])
    body.setdefault("window", window())
    body.setdefault("test_plan", "smoke tests")
    body.setdefault("backout_plan", "roll back")
    body.setdefault("business_impact", "low")
    ch = ok(server.as_(who).post("/changes", json=body), 201)
    if submit:
        ch = ok(server.as_(who).post(f"/changes/{ch['id']}/submit"))
    return ch


@pytest.fixture(scope="module")
def keys(server):
    made = {}

    def key(name):
        if name not in made:
            sk = SigningKey.generate()
            k = ok(server.as_(name).post("/me/keys", json={
                "public_key": base64.b64encode(sk.verify_key.encode()).decode(),
                "label": "webhook tests"}), 201)
            made[name] = (sk, k["id"])
        return made[name]
    return key


def decide(server, keys, name, cid, decision):
    ch = ok(server.as_(name).get(f"/changes/{cid}"))
    sk, kid = keys(name)
    at = ts(datetime.now(timezone.utc))
    st = "\n".join(["cabinet-approval-v1", ch["ref"], str(ch["version"]), ch["content_hash"],
                    decision, at])
    sig = base64.b64encode(sk.sign(st.encode()).signature).decode()
    return ok(server.as_(name).post(f"/changes/{cid}/approvals", json={
        "decision": decision, "comment": decision, "key_id": kid, "signed_at": at,
        "signature": sig}), 201)


def check_envelope(rec, type_, t0):
    """A standard delivery: exactly {type, timestamp, data}, the right type,
    a timestamp of the event (not before the test began, not after receipt),
    and a webhook-timestamp that is the send time in Unix seconds."""
    body = rec.json
    assert set(body) == {"type", "timestamp", "data"}, body
    assert body["type"] == type_, body
    at = parse_ts(body["timestamp"]).timestamp()
    assert int(t0) - 1 <= at <= rec.at + 1, (body["timestamp"], t0, rec.at)
    sent = rec.headers["webhook-timestamp"]
    assert re.fullmatch(r"[0-9]+", sent), sent
    assert int(at) <= int(sent) <= rec.at + 1, (sent, at, rec.at)
    assert isinstance(body["data"], dict), body
    return body["data"]


# --- subscriptions: CRUD, validation, roles ----------------------------------------------------


def test_create_list_and_delete_a_subscription(server):
    mgr = server.as_("manager")
    url = f"http://127.0.0.1:{free_port()}/cab"
    r = mgr.post("/webhooks", json={"url": url, "events": ["change.created", "freeze.created"],
                                    "format": "chat"})
    w = ok(r, 201)
    assert set(w) >= WEBHOOK_KEYS | {"secret"}, w
    assert w["url"] == url and w["events"] == ["change.created", "freeze.created"]
    assert w["format"] == "chat"
    assert w["created_by"]["id"] == server.users["manager"]["id"], w
    parse_ts(w["created_at"])
    assert r.headers.get("Location") == f"/api/v1/webhooks/{w['id']}", r.headers
    # the secret is a Standard Webhooks secret of 24..64 random bytes
    assert w["secret"].startswith("whsec_"), w["secret"]
    raw = base64.b64decode(w["secret"][len("whsec_"):], validate=True)
    assert 24 <= len(raw) <= 64, len(raw)
    Verifier(w["secret"])

    # listed without the secret, by managers and admins
    for who in ("manager", "admin"):
        body = ok(server.as_(who).get("/webhooks"))
        items = page_items(body)
        mine = [x for x in items if x["id"] == w["id"]]
        assert len(mine) == 1, items
        assert "secret" not in mine[0] and w["secret"] not in json.dumps(body), mine
        assert {k: mine[0][k] for k in WEBHOOK_KEYS} == {k: w[k] for k in WEBHOOK_KEYS}
    # a second one gets another secret; format defaults to standard
    w2 = ok(server.as_("admin").post("/webhooks", json={"url": url, "events": ["*"]}), 201)
    assert w2["format"] == "standard" and w2["events"] == ["*"], w2
    assert w2["secret"] != w["secret"] and w2["id"] != w["id"]
    assert w2["created_by"]["id"] == server.users["admin"]["id"]

    r = mgr.delete(f"/webhooks/{w['id']}")
    assert r.status_code == 204, r.text
    assert w["id"] not in [x["id"] for x in page_items(ok(mgr.get("/webhooks")))]
    problem(mgr.delete(f"/webhooks/{w['id']}"), 404)
    problem(mgr.get(f"/webhooks/{w['id']}/deliveries"), 404)
    problem(mgr.delete("/webhooks/99999999"), 404)
    problem(mgr.delete("/webhooks/abc"), 404)
    assert ok(server.as_("admin").delete(f"/webhooks/{w2['id']}"), 204) is None


def test_every_event_name_and_star_are_accepted(server):
    w = ok(server.as_("manager").post("/webhooks", json={
        "url": "https://hooks.example.invalid/x", "events": EVENTS}), 201)
    assert w["events"] == EVENTS
    ok(server.as_("manager").delete(f"/webhooks/{w['id']}"), 204)


GOOD = {"url": "http://127.0.0.1:9/hook", "events": ["change.created"]}


@pytest.mark.parametrize("over,field", [
    ({"url": None}, "url"),
    ({"url": ""}, "url"),
    ({"url": "ftp://127.0.0.1/hook"}, "url"),
    ({"url": "127.0.0.1:9/hook"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "http://127.0.0.1:9/a b"}, "url"),
    ({"url": "http://"}, "url"),
    ({"url": 42}, "url"),
    ({"events": None}, "events"),
    ({"events": []}, "events"),
    ({"events": "change.created"}, "events"),
    ({"events": ["change.deleted"]}, "events[0]"),
    ({"events": ["change.created", "nope"]}, "events[1]"),
    ({"events": ["change.created", "change.created"]}, "events[1]"),
    ({"events": ["*", "change.approved", "*"]}, "events[2]"),
    ({"events": ["Change.Created"]}, "events[0]"),
    ({"format": "xml"}, "format"),
    ({"format": ""}, "format"),
    ({"format": 1}, "format"),
    ({"secret": "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "secret"),
])
def test_invalid_subscriptions_are_422(server, over, field):
    body = {**GOOD, **over}
    body = {k: v for k, v in body.items() if v is not None}
    before = page_items(ok(server.as_("manager").get("/webhooks")))
    problem(server.as_("manager").post("/webhooks", json=body), 422, field=field)
    assert page_items(ok(server.as_("manager").get("/webhooks"))) == before


def test_every_fault_of_a_subscription_is_named_at_once(server):
    body = {"url": "ftp://127.0.0.1/hook", "events": ["change.created", "nope", "change.created"],
            "format": "xml", "secret": "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    before = page_items(ok(server.as_("manager").get("/webhooks")))
    problem(server.as_("manager").post("/webhooks", json=body), 422,
            fields=["url", "events[1]", "events[2]", "format", "secret"])
    assert page_items(ok(server.as_("manager").get("/webhooks"))) == before


def test_malformed_bodies(server):
    mgr = server.as_("manager")
    problem(mgr.post("/webhooks", data="{", headers={"Content-Type": "application/json"}), 400)
    problem(mgr.post("/webhooks", data=json.dumps(GOOD), headers={"Content-Type": "text/plain"}),
            415)


@pytest.mark.parametrize("who", ["alice", "cab1", "ecab"])
def test_only_managers_and_admins(server, who):
    w = ok(server.as_("manager").post("/webhooks", json=GOOD), 201)
    try:
        c = server.as_(who)
        problem(c.get("/webhooks"), 403)
        problem(c.post("/webhooks", json=GOOD), 403)
        problem(c.delete(f"/webhooks/{w['id']}"), 403)
        problem(c.get(f"/webhooks/{w['id']}/deliveries"), 403)
        problem(c.post(f"/webhooks/{w['id']}/deliveries/1/retry"), 403)
        # still there
        assert w["id"] in [x["id"] for x in page_items(ok(server.as_("manager").get("/webhooks")))]
    finally:
        ok(server.as_("manager").delete(f"/webhooks/{w['id']}"), 204)


def test_webhooks_need_login(server):
    anon = server.anon()
    problem(anon.get("/webhooks"), 401)
    problem(anon.post("/webhooks", json=GOOD), 401)
    problem(anon.delete("/webhooks/1"), 401)
    problem(anon.get("/webhooks/1/deliveries"), 401)
    problem(anon.post("/webhooks/1/deliveries/1/retry"), 401)


# --- events, signed ------------------------------------------------------------------------------


def test_change_lifecycle_events_are_signed_and_complete(server, svc, keys, hooks):
    t0 = time.time()
    rx = hooks.receiver("lifecycle")
    w = hooks.subscribe(rx, ["*"])
    ch = new_change(server, svc)
    ref = ch["ref"]

    created = rx.wait_event("change.created", ref)
    data = check_envelope(created, "change.created", t0)
    assert data["change"]["ref"] == ref and data["change"]["id"] == ch["id"], data
    assert data["change"]["state"] == "draft" and data["change"]["title"] == ch["title"]
    assert data["change"]["services"] == ch["services"]
    assert data["change"]["window"] == ch["window"]

    sub = ok(server.as_("alice").post(f"/changes/{ch['id']}/submit"))
    assert sub["state"] == "awaiting_approval", sub
    submitted = rx.wait_event("change.submitted", ref)
    data = check_envelope(submitted, "change.submitted", t0)
    assert data["change"]["ref"] == ref and data["change"]["state"] == "awaiting_approval"
    assert data["change"]["assessment"]["level"] == sub["assessment"]["level"], data
    assert (data.get("from"), data.get("to")) == ("draft", "awaiting_approval"), data
    changed = rx.wait(lambda rs: [r for r in rs if r.type == "change.state_changed"
                                  and r.ref == ref], "state_changed at submit")
    data = check_envelope(changed[0], "change.state_changed", t0)
    assert (data["from"], data["to"]) == ("draft", "awaiting_approval"), data
    assert data["change"]["state"] == "awaiting_approval"

    decide(server, keys, "cab1", ch["id"], "approve")
    assert ok(server.as_("alice").get(f"/changes/{ch['id']}"))["state"] == "approved"
    approved = rx.wait_event("change.approved", ref)
    data = check_envelope(approved, "change.approved", t0)
    assert data["change"]["ref"] == ref and data["change"]["state"] == "approved", data
    assert [a["decision"] for a in data["change"]["approvals"]] == ["approve"], data
    assert data["change"]["approvals"][0]["approver"]["id"] == server.users["cab1"]["id"]
    assert (data.get("from"), data.get("to")) == ("awaiting_approval", "approved"), data
    rx.wait(lambda rs: [r for r in rs if r.type == "change.state_changed"
                        and r.ref == ref and r.json["data"]["to"] == "approved"],
            "state_changed at approval")

    # every delivery is signed with this subscription's secret, and only that
    assert rx.verify_all()
    other = Verifier("whsec_" + base64.b64encode(b"\x07" * 32).decode())
    r = approved
    assert not other.verify(r.id, r.headers["webhook-timestamp"], r.body,
                            r.headers["webhook-signature"], now=r.at)
    # one webhook-id per event; the deliveries list names the same ids
    mine = [r for r in rx.snapshot() if r.ref == ref]
    assert sorted(r.type for r in mine) == sorted([
        "change.created", "change.submitted", "change.state_changed", "change.approved",
        "change.state_changed"]), mine
    assert len({r.id for r in mine}) == len(mine), mine
    listed = {d["event_id"]: d for d in deliveries(server, w["id"])}
    for r in mine:
        assert r.id in listed and listed[r.id]["type"] == r.type, (r, listed)


def test_rejected_event(server, svc, keys, hooks):
    t0 = time.time()
    rx = hooks.receiver("rejected")
    hooks.subscribe(rx, ["*"])
    ch = new_change(server, svc, submit=True)
    assert ch["state"] == "awaiting_approval", ch
    decide(server, keys, "cab2", ch["id"], "reject")
    assert ok(server.as_("alice").get(f"/changes/{ch['id']}"))["state"] == "rejected"
    rec = rx.wait_event("change.rejected", ch["ref"])
    data = check_envelope(rec, "change.rejected", t0)
    assert data["change"]["ref"] == ch["ref"] and data["change"]["state"] == "rejected", data
    assert [a["decision"] for a in data["change"]["approvals"]] == ["reject"], data
    assert (data.get("from"), data.get("to")) == ("awaiting_approval", "rejected"), data
    assert not rx.of("change.approved", ch["ref"])
    assert rx.verify_all()


CONFLICT_EVENT_KEYS = {"conflict", "changes", "freeze"}
CONFLICT_KEYS = {"id", "kind", "overlap", "state", "services", "detected_at", "resolved_at"}
CHANGE_ROW_KEYS = {"id", "ref", "title", "state", "window"}


def check_conflict_event(data):
    """The lean shape: the record, a compact row per change, the freeze."""
    assert set(data) == CONFLICT_EVENT_KEYS, data.keys()
    assert set(data["conflict"]) == CONFLICT_KEYS, data["conflict"]
    for row in data["changes"]:
        assert set(row) == CHANGE_ROW_KEYS, row
        assert row["ref"] == f"CHG-{row['id']}", row
    assert [c["id"] for c in data["changes"]] == sorted(c["id"] for c in data["changes"])
    return data["conflict"]


def about_pair(type_, refs):
    return lambda rs: [r for r in rs if r.type == type_
                       and {c.get("ref") for c in r.json["data"].get("changes") or []} == refs]


def test_conflict_events(server, svc, hooks):
    t0 = time.time()
    rx = hooks.receiver("conflicts")
    hooks.subscribe(rx, ["change.conflict_detected", "change.conflict_resolved"])
    s, w = svc(), window(days=20)
    a = new_change(server, svc, services=[s], window=w, submit=True)
    b = new_change(server, svc, who="bob", services=[s], window=w, submit=True)
    refs = {a["ref"], b["ref"]}

    det = rx.wait(about_pair("change.conflict_detected", refs), "conflict_detected")[0]
    data = check_envelope(det, "change.conflict_detected", t0)
    k = check_conflict_event(data)
    assert k["kind"] == "change" and k["state"] == "open", k
    assert k["overlap"] == "direct" and k["services"] == [s], k
    assert k["resolved_at"] is None and TS_RE.match(k["detected_at"]), k
    assert data["freeze"] is None
    assert [c["ref"] for c in data["changes"]] == [a["ref"], b["ref"]], data["changes"]
    assert data["changes"][0]["title"] == a["title"] and data["changes"][0]["window"] == w
    det_states = {c["ref"]: c["state"] for c in data["changes"]}
    listed = ok(server.as_("alice").get(f"/changes/{b['id']}"))["conflicts"]
    assert k["id"] in [c["id"] for c in listed], listed

    ok(server.as_("bob").post(f"/changes/{b['id']}/cancel", json={"reason": "clash"}))
    res = rx.wait(about_pair("change.conflict_resolved", refs), "conflict_resolved")[0]
    data = check_envelope(res, "change.conflict_resolved", t0)
    kr = check_conflict_event(data)
    assert kr["id"] == k["id"] and kr["state"] == "resolved", data
    assert TS_RE.match(kr["resolved_at"]) and kr["detected_at"] == k["detected_at"], kr
    assert {c["ref"] for c in data["changes"]} == refs, data["changes"]
    by_ref = {c["ref"]: c["state"] for c in data["changes"]}
    assert by_ref[b["ref"]] == "cancelled", by_ref
    assert det.id != res.id
    # subscribed to conflicts only
    assert {r.type for r in rx.snapshot()} <= {"change.conflict_detected",
                                              "change.conflict_resolved"}
    assert rx.verify_all()
    # the changes as they are once the write that made the conflict commits:
    # both submitted (only active changes can conflict)
    assert det_states == {a["ref"]: "awaiting_approval", b["ref"]: "awaiting_approval"}, \
        det_states


def test_a_conflict_event_stays_small_however_many_conflicts_the_changes_have(server, svc,
                                                                               hooks):
    """Each change already has a dozen conflicts when the last one opens:
    its event still holds one record and two compact rows, no change
    document and no other conflict, so its size does not grow with them.
    The other events keep their change document, with compact conflicts."""
    t0 = time.time()
    rx = hooks.receiver("lean")
    hooks.subscribe(rx, ["change.conflict_detected", "change.submitted"])
    s, w = svc(), window(days=30, hours=6)
    crowd = [new_change(server, svc, who=("alice", "bob")[i % 2], services=[s], window=w,
                        submit=True) for i in range(12)]
    last = new_change(server, svc, who="bob", services=[s], window=w, submit=True)
    assert ok(server.as_("bob").get(f"/changes/{last['id']}"))["conflict_summary"]["total"] == 12
    refs = {crowd[0]["ref"], last["ref"]}
    rec = rx.wait(about_pair("change.conflict_detected", refs), "the last pair's event")[0]
    data = check_envelope(rec, "change.conflict_detected", t0)
    check_conflict_event(data)
    assert all("conflicts" not in c for c in data["changes"]), data["changes"]
    assert len(rec.body) < 1024, (len(rec.body), rec.body[:300])
    # and so is every one of the 78 events of these 13 changes
    mine = {c["ref"] for c in crowd} | {last["ref"]}

    def crowd_events(rs):
        got = {r.id: r for r in rs if r.type == "change.conflict_detected"
               and {c["ref"] for c in r.json["data"]["changes"]} <= mine}
        return list(got.values()) if len(got) >= 78 else None

    events = rx.wait(crowd_events, "78 conflict events")
    assert len(events) == 78, len(events)
    assert max(len(r.body) for r in events) < 1024
    # change.submitted: the whole change document, its conflicts compact
    doc = check_envelope(rx.wait_event("change.submitted", last["ref"]), "change.submitted",
                         t0)["change"]
    assert doc["conflict_summary"] == {"total": 12, "open": 12, "acknowledged": 0, "direct": 12}
    assert sorted(e["other"]["ref"] for e in doc["conflicts"]) == \
        sorted(c["ref"] for c in crowd)
    assert all(set(e) == {"id", "kind", "overlap", "state", "other"} for e in doc["conflicts"])


def test_a_freeze_conflict_event_names_the_freeze(server, svc, hooks):
    t0 = time.time()
    rx = hooks.receiver("freeze-conflict")
    hooks.subscribe(rx, ["change.conflict_detected", "change.conflict_resolved"])
    s, w = svc(), window(days=40)
    ch = new_change(server, svc, services=[s], window=w, submit=True)
    name = unique("Event freeze")
    f = ok(server.as_("manager").post("/freezes", json={
        "name": name, "window": w, "services": [s], "hard": False, "reason": "x"}), 201)

    def about(type_):
        return lambda rs: [r for r in rs if r.type == type_
                           and (r.json["data"].get("freeze") or {}).get("id") == f["id"]]

    rec = rx.wait(about("change.conflict_detected"), "freeze conflict_detected")[0]
    data = check_envelope(rec, "change.conflict_detected", t0)
    k = check_conflict_event(data)
    assert k["kind"] == "freeze" and k["overlap"] is None and k["services"] == [s], k
    assert data["freeze"] == {"id": f["id"], "name": name, "hard": False}, data["freeze"]
    assert [c["ref"] for c in data["changes"]] == [ch["ref"]]
    ok(server.as_("manager").delete(f"/freezes/{f['id']}"), 204)
    rec = rx.wait(about("change.conflict_resolved"), "freeze conflict_resolved")[0]
    data = check_envelope(rec, "change.conflict_resolved", t0)
    assert check_conflict_event(data)["state"] == "resolved"
    assert data["freeze"] == {"id": f["id"], "name": name, "hard": False}, data["freeze"]
    assert rx.verify_all()


def test_freeze_created_event(server, svc, hooks):
    t0 = time.time()
    rx = hooks.receiver("freezes")
    hooks.subscribe(rx, ["freeze.created"])
    s = svc()
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=400)
    fw = {"start": ts(start), "end": ts(start + timedelta(hours=8))}
    name = unique("Webhook freeze")
    f = ok(server.as_("manager").post("/freezes", json={
        "name": name, "window": fw, "services": [s], "hard": False, "reason": "audit"}), 201)
    rec = rx.wait(lambda rs: [r for r in rs if r.type == "freeze.created"
                              and r.json["data"].get("freeze", {}).get("id") == f["id"]],
                  "freeze.created")[0]
    data = check_envelope(rec, "freeze.created", t0)
    fz = data["freeze"]
    assert fz["name"] == name and fz["window"] == fw and fz["services"] == [s], fz
    assert fz["hard"] is False and fz["reason"] == "audit", fz
    assert rx.verify_all()


def test_receivers_get_only_the_events_they_subscribed_to(server, svc, keys, hooks):
    star = hooks.receiver("star")
    appr = hooks.receiver("approved-only")
    mix = hooks.receiver("rejected-and-freezes")
    ws = hooks.subscribe(star, ["*"])
    wa = hooks.subscribe(appr, ["change.approved"])
    wm = hooks.subscribe(mix, ["change.rejected", "freeze.created"], who="admin")

    good = new_change(server, svc, submit=True)
    decide(server, keys, "cab3", good["id"], "approve")
    bad = new_change(server, svc, submit=True)
    decide(server, keys, "cab3", bad["id"], "reject")
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=500)
    f = ok(server.as_("manager").post("/freezes", json={
        "name": unique("sub freeze"), "services": [svc()],
        "window": {"start": ts(start), "end": ts(start + timedelta(hours=1))}}), 201)
    last = ok(server.as_("alice").post("/changes", json={"title": unique("last")}), 201)

    # the star receiver gets everything, the last event too
    for t, ref in (("change.created", good["ref"]), ("change.submitted", good["ref"]),
                   ("change.approved", good["ref"]), ("change.rejected", bad["ref"]),
                   ("change.created", last["ref"])):
        star.wait_event(t, ref)
    star.wait(lambda rs: [r for r in rs if r.type == "freeze.created"
                          and r.json["data"]["freeze"]["id"] == f["id"]], "freeze.created")
    appr.wait_event("change.approved", good["ref"])
    mix.wait_event("change.rejected", bad["ref"])
    mix.wait(lambda rs: [r for r in rs if r.type == "freeze.created"], "freeze.created")
    # let anything else in flight arrive: every delivery of theirs is settled
    for w in (wa, wm):
        deadline = time.monotonic() + WAIT
        while any(d["state"] == "pending" for d in deliveries(server, w["id"])):
            assert time.monotonic() < deadline, deliveries(server, w["id"])
            time.sleep(0.2)

    assert {r.type for r in appr.snapshot()} == {"change.approved"}, appr.snapshot()
    assert {r.type for r in mix.snapshot()} == {"change.rejected", "freeze.created"}, \
        mix.snapshot()
    assert not appr.of(ref=bad["ref"]) and not mix.of(ref=good["ref"])
    assert {d["type"] for d in deliveries(server, wa["id"])} == {"change.approved"}
    assert {d["type"] for d in deliveries(server, wm["id"])} == {"change.rejected",
                                                                "freeze.created"}
    assert len(deliveries(server, ws["id"])) > len(deliveries(server, wa["id"])) + \
        len(deliveries(server, wm["id"]))
    # the same event has the same id for every subscription
    a = appr.of("change.approved", good["ref"])[0]
    assert a.id == star.of("change.approved", good["ref"])[0].id
    for rx in (star, appr, mix):
        assert rx.verify_all()


# --- chat format ------------------------------------------------------------------------------


def test_chat_text_names_ref_title_window_and_link(server, svc, hooks):
    rx = hooks.receiver("chat")
    hooks.subscribe(rx, ["change.created", "change.submitted"], format="chat")
    title = unique("Rotate the TLS certificates")
    ch = new_change(server, svc, title=title, window=window(days=12, hours=3))
    ok(server.as_("alice").post(f"/changes/{ch['id']}/submit"))
    got = rx.wait(lambda rs: len(rs) >= 2 and rs, "two chat messages")
    for r in got:
        assert r.headers.get("content-type", "").split(";")[0] == "application/json", r.headers
        body = r.json
        assert set(body) == {"text"} and isinstance(body["text"], str), body
        text = body["text"]
        assert ch["ref"] in text and title in text, text
        assert ch["window"]["start"] in text and ch["window"]["end"] in text, text
        links = re.findall(r"https?://[^\s\"<>|]+", text)
        assert links, text
        link = [x for x in links if ch["ref"] in x or f"/{ch['id']}" in x]
        assert link, (links, text)
        assert link[0].startswith(server.base), (link, server.base)
        page = requests.get(link[0], timeout=20, headers={"Connection": "close"})
        assert page.status_code == 200, (link, page.status_code)
    texts = [r.json["text"] for r in got]
    assert texts[0] != texts[1], texts  # each says what happened


# --- ids, retries, dedupe ----------------------------------------------------------------------


def test_webhook_id_is_stable_across_retries_so_receivers_can_dedupe(server, svc, hooks):
    # the first attempt of each event fails; the manual retry sends it again
    rx = hooks.receiver("retry", answer=lambda rec, seen: 500 if seen == 0 else 200)
    w = hooks.subscribe(rx, ["change.created"])
    ch = new_change(server, svc)
    first = rx.wait_event("change.created", ch["ref"])
    d = wait_delivery(server, w["id"], lambda d: d["attempts"] >= 1, "first attempt")
    assert d["state"] == "pending" and d["last_status"] == 500, d
    assert d["event_id"] == first.id and d["type"] == "change.created", d
    assert parse_ts(d["next_attempt_at"]) > datetime.now(timezone.utc), d  # not yet due
    r = server.as_("manager").post(f"/webhooks/{w['id']}/deliveries/{d['id']}/retry")
    again = ok(r, 202)
    assert again["id"] == d["id"] and again["state"] == "pending", again
    rx.wait(lambda rs: len(rx.of("change.created", ch["ref"])) >= 2, "the retry")
    d = wait_delivery(server, w["id"], lambda x: x["id"] == d["id"] and x["state"] == "delivered",
                      "delivered")
    assert d["attempts"] == 2 and d["last_status"] == 200, d
    assert [h["status"] for h in d["history"]] == [500, 200], d
    # a delivered one can be sent again too: still the same id
    ok(server.as_("admin").post(f"/webhooks/{w['id']}/deliveries/{d['id']}/retry"), 202)
    rx.wait(lambda rs: len(rx.of("change.created", ch["ref"])) >= 3, "a second retry")
    recs = rx.of("change.created", ch["ref"])
    assert len(recs) == 3 and len({r.id for r in recs}) == 1, recs
    assert len({r.body for r in recs}) == 1, recs  # the same event, byte for byte
    assert rx.verify_all()
    # dedupe by webhook-id: three requests, one event
    seen = {}
    for r in recs:
        seen.setdefault(r.id, r)
    assert len(seen) == 1

    # another event gets another id
    ch2 = new_change(server, svc)
    other = rx.wait_event("change.created", ch2["ref"])
    assert other.id != first.id


def test_retry_of_another_webhooks_delivery_is_404(server, svc, hooks):
    a, b = hooks.receiver("a"), hooks.receiver("b")
    wa, wb = hooks.subscribe(a, ["change.created"]), hooks.subscribe(b, ["freeze.created"])
    ch = new_change(server, svc)
    a.wait_event("change.created", ch["ref"])
    da = wait_delivery(server, wa["id"], lambda d: d["state"] == "delivered", "delivered")
    mgr = server.as_("manager")
    problem(mgr.post(f"/webhooks/{wb['id']}/deliveries/{da['id']}/retry"), 404)
    problem(mgr.post(f"/webhooks/{wa['id']}/deliveries/99999999/retry"), 404)
    problem(mgr.post(f"/webhooks/99999999/deliveries/{da['id']}/retry"), 404)
    after = [d for d in deliveries(server, wa["id"]) if d["id"] == da["id"]][0]
    assert after["state"] == "delivered" and after["attempts"] == da["attempts"], after
    time.sleep(0.5)
    assert len(a.of("change.created", ch["ref"])) == 1
    assert not b.snapshot()


def test_deliveries_list_is_paged_newest_first(server, svc, hooks):
    rx = hooks.receiver("paged")
    w = hooks.subscribe(rx, ["change.created"])
    refs = [new_change(server, svc)["ref"] for _ in range(3)]
    for ref in refs:
        rx.wait_event("change.created", ref)
    mgr = server.as_("manager")
    first = ok(mgr.get(f"/webhooks/{w['id']}/deliveries", params={"limit": 2}))
    items = page_items(first)
    assert len(items) == 2 and first["next_cursor"], first
    rest = ok(mgr.get(f"/webhooks/{w['id']}/deliveries",
                      params={"limit": 2, "cursor": first["next_cursor"]}))
    every = items + page_items(rest)
    assert rest["next_cursor"] is None and len(every) == 3, rest
    ids = [d["id"] for d in every]
    assert ids == sorted(ids, reverse=True), ids
    assert [d["event_id"] for d in every] == [
        rx.of("change.created", ref)[0].id for ref in reversed(refs)], every
    for d in every:
        assert set(d) >= DELIVERY_KEYS, DELIVERY_KEYS - set(d)
        assert d["type"] == "change.created"
    d = wait_delivery(server, w["id"], lambda d: d["id"] == every[0]["id"]
                      and d["state"] == "delivered", "delivered")
    assert d["attempts"] == 1 and d["last_status"] == 200 and d["last_error"] is None, d
    assert d["next_attempt_at"] is None, d
    parse_ts(d["created_at"]) and parse_ts(d["delivered_at"])
    assert len(d["history"]) == 1 and set(d["history"][0]) == ATTEMPT_KEYS, d
    h = d["history"][0]
    assert h["status"] == 200 and h["error"] is None and h["duration_ms"] >= 0, h
    parse_ts(h["at"])
    assert parse_ts(d["created_at"]) <= parse_ts(h["at"]) <= parse_ts(d["delivered_at"]) \
        + timedelta(seconds=1), d


# --- deleting a subscription -------------------------------------------------------------------


def test_a_deleted_subscription_receives_nothing_more(server, svc, hooks):
    gone = hooks.receiver("gone")
    control = hooks.receiver("control")
    wg = hooks.subscribe(gone, ["*"])
    hooks.subscribe(control, ["change.created"])
    before = new_change(server, svc)
    gone.wait_event("change.created", before["ref"])
    assert ok(server.as_("manager").delete(f"/webhooks/{wg['id']}"), 204) is None
    after = new_change(server, svc, submit=True)
    control.wait_event("change.created", after["ref"])
    time.sleep(1.5)  # the worker polls every fraction of a second
    assert not gone.of(ref=after["ref"]), gone.snapshot()
    assert all(r.ref == before["ref"] for r in gone.snapshot()), gone.snapshot()
    n = server.psql(f"SELECT count(*) FROM deliveries WHERE webhook_id = {wg['id']} "
                    f"AND created_at > (SELECT deleted_at FROM webhooks WHERE id = {wg['id']})")
    assert n == "0", n


def test_deleting_a_subscription_kills_its_pending_deliveries(server, svc, hooks):
    closed = f"http://127.0.0.1:{free_port()}/nobody-home"
    w = hooks.subscribe(closed, ["change.created"])
    ch = new_change(server, svc)
    d = wait_delivery(server, w["id"], lambda d: d["attempts"] >= 1, "a failed attempt")
    assert d["state"] == "pending" and d["last_status"] is None and d["last_error"], d
    ok(server.as_("manager").delete(f"/webhooks/{w['id']}"), 204)
    states = server.psql(f"SELECT string_agg(state, ',') FROM deliveries "
                         f"WHERE webhook_id = {w['id']}")
    assert states == "dead", (states, ch["ref"])
    problem(server.as_("manager").post(f"/webhooks/{w['id']}/deliveries/{d['id']}/retry"), 404)
    time.sleep(1)
    assert server.psql(f"SELECT string_agg(state, ',') FROM deliveries "
                       f"WHERE webhook_id = {w['id']}") == "dead"


def test_chat_text_of_a_freeze_conflict_names_the_freeze(server, svc, hooks):
    rx = hooks.receiver("chat-freeze")
    hooks.subscribe(rx, ["change.conflict_detected"], format="chat")
    s, w = svc(), window(days=41)
    ch = new_change(server, svc, services=[s], window=w, submit=True)
    name = unique("Chat freeze")
    ok(server.as_("manager").post("/freezes", json={
        "name": name, "window": w, "services": [s], "hard": False, "reason": "x"}), 201)
    got = rx.wait(lambda rs: [r for r in rs if name in r.json["text"]], "a chat message")
    text = got[0].json["text"]
    assert f"falls in the freeze “{name}”" in text and ch["ref"] in text and s in text, text
