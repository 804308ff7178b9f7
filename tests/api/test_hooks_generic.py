"""Generic webhook links (README "Webhook links"): Standard Webhooks
signatures (the published vectors' scheme, several signatures, clock skew),
a change raised and submitted at once, start and complete acting on it
(`unauthorized` when it was not approved), the gate in each resulting
state, replays (also concurrent ones) answered with the first result,
refusals recorded and counted."""

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import FIXTURES, ok, problem, unique
from hooklinks import (deliveries, make_integration, metric, raw_post, send_generic,
                       service)
from hooks import Verifier
from test_workflow import Signer


@pytest.fixture(scope="module")
def std(server):
    """A link whose changes are standard and assess low: approved at submit."""
    s = service(server)
    return make_integration(server, model="standard", services=[s], default_duration_s=7200)


@pytest.fixture(scope="module")
def normal(server):
    s = service(server)
    return make_integration(server, services=[s])


def low(**body):
    body.setdefault("title", unique("hooked"))
    body.setdefault("test_plan", "smoke tests")
    body.setdefault("backout_plan", "redeploy the previous release")
    body.setdefault("business_impact", "low")
    return body


def gate(url, **params):
    return requests.get(url, params=params, timeout=30, headers={"Connection": "close"})


def changes_count(server):
    return int(server.psql("SELECT count(*) FROM changes"))


def test_a_change_is_raised_and_submitted_with_the_links_defaults(server, normal):
    before = time.time()
    r = send_generic(normal, low())
    body = ok(r, 201)
    ch = body["change"]
    assert ch["state"] == "awaiting_approval" and ch["source"] == "hook", ch
    assert ch["model"] == "normal" and ch["services"] == normal["services"]
    assert body["gate_url"] == ch["gate_url"] and ch["assessment"]["level"]
    start = datetime.strptime(ch["window"]["start"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    end = datetime.strptime(ch["window"]["end"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    assert before - 5 <= start.timestamp() <= time.time() + 5
    assert (end - start).total_seconds() == normal["default_duration_s"] == 3600
    assert server.psql(f"SELECT integration_id FROM changes WHERE id = {ch['id']}") == \
        str(normal["id"])
    got = ok(server.as_("admin").get(f"/changes/{ch['id']}"))
    assert got["state"] == "awaiting_approval" and got["gate_url"] == ch["gate_url"]
    g = gate(body["gate_url"])
    assert g.status_code == 409 and g.json()["reason"] == "awaiting_approval", g.text


def test_the_bodys_own_model_services_and_window_win(server, normal):
    s = service(server)
    w = {"start": (datetime.now(timezone.utc) - timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), "end": (datetime.now(timezone.utc) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")}
    ch = ok(send_generic(normal, low(model="standard", services=[s], window=w)), 201)["change"]
    # a window in the past is fine for a change a hook records
    assert ch["model"] == "standard" and ch["services"] == [s] and ch["window"] == w
    assert ch["state"] == "approved"


def test_bad_change_bodies_are_422_and_recorded(server, normal):
    r = send_generic(normal, {"description": "no title"})
    problem(r, 422, field="title")
    r = send_generic(normal, low(services=["no-such-service"]))
    problem(r, 422, field="services[0]")
    r = send_generic(normal, low(bogus=1))
    problem(r, 422, field="bogus")
    r = send_generic(normal, "not json")
    problem(r, 400)
    empty = make_integration(server)
    problem(send_generic(empty, low()), 422, field="services")
    refused = [d for d in deliveries(server, normal["id"]) if d["result"] == "refused"]
    assert {d["status"] for d in refused} >= {422, 400}
    assert all(d["reason"] for d in refused)


def test_an_open_external_ref_is_acted_on_not_raised_again(server, std):
    ref = unique("ci:build")
    first = ok(send_generic(std, low(external_ref=ref)), 201)["change"]
    n = changes_count(server)
    again = ok(send_generic(std, low(external_ref=ref, title="a second try")), 200)["change"]
    assert again["id"] == first["id"] and changes_count(server) == n


def test_start_and_complete_an_approved_change_and_the_gate(server, std):
    ch = ok(send_generic(std, low()), 201)["change"]
    assert ch["state"] == "approved"
    assert ok(gate(ch["gate_url"]))["allowed"] is True
    started = ok(send_generic(std, {"action": "start", "ref": ch["ref"]}), 200)
    assert started["change"]["state"] == "in_progress"
    assert started["change"]["flags"] == [] and started["gate_url"] == ch["gate_url"]
    assert ok(gate(ch["gate_url"]))["state"] == "in_progress"
    at = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = ok(send_generic(std, {"action": "complete", "ref": ch["ref"],
                                 "outcome": "successful", "finished_at": at}), 200)
    assert done["change"]["state"] == "closed" and done["change"]["outcome"] == "successful"
    assert server.psql(f"SELECT cab_ts(completed_at) FROM changes WHERE id = {ch['id']}") == at
    assert gate(ch["gate_url"]).json()["reason"] == "closed"
    # a finish reported again adds nothing
    assert ok(send_generic(std, {"action": "complete", "ref": ch["ref"],
                                 "outcome": "failed"}))["change"]["outcome"] == "successful"


def test_a_start_before_approval_is_flagged_unauthorized(server, normal):
    ch = ok(send_generic(normal, low()), 201)["change"]
    at = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = ok(send_generic(normal, {"action": "start", "ref": ch["ref"], "started_at": at}))
    assert got["change"]["state"] == "in_progress" and "unauthorized" in got["change"]["flags"]
    assert server.psql(f"SELECT cab_ts(started_at) FROM changes WHERE id = {ch['id']}") == at
    assert gate(ch["gate_url"]).json()["reason"] == "unauthorized"
    done = ok(send_generic(normal, {"action": "complete", "ref": ch["ref"],
                                    "outcome": "successful"}))
    assert done["change"]["state"] == "review" and "unauthorized" in done["change"]["flags"]
    assert gate(ch["gate_url"]).json()["reason"] == "review"
    moves = server.psql(f"SELECT string_agg(action || ' ' || actor, ',' ORDER BY seq) "
                        f"FROM audit_log WHERE entity = 'change' AND entity_id = '{ch['id']}' "
                        f"AND action <> 'change.created'")
    who = f"integration:{normal['id']}"
    assert moves == (f"change.assessed system,change.submit {who},change.start {who},"
                     f"change.complete {who}"), moves
    summary = ok(server.as_("admin").get("/reports/summary"))
    assert summary["unauthorized"] >= 1


def test_complete_without_start_records_both_by_external_ref(server, normal):
    ref = unique("ci:deploy")
    ok(send_generic(normal, low(external_ref=ref)), 201)
    fin = (datetime.now(timezone.utc) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = ok(send_generic(normal, {"action": "complete", "ref": ref, "outcome": "failed",
                                   "finished_at": fin}))["change"]
    assert got["state"] == "review" and got["outcome"] == "failed"
    assert "unauthorized" in got["flags"]
    times = server.psql(f"SELECT cab_ts(started_at) || ' ' || cab_ts(completed_at) "
                        f"FROM changes WHERE id = {got['id']}")
    assert times == f"{fin} {fin}", times


def test_actions_refused(server, normal):
    problem(send_generic(normal, {"action": "start", "ref": "CHG-99999999"}), 422, field="ref")
    problem(send_generic(normal, {"action": "start", "ref": unique("nothing")}), 422,
            field="ref")
    problem(send_generic(normal, {"action": "complete", "ref": "CHG-1"}), 422, field="outcome")
    problem(send_generic(normal, {"action": "deploy", "ref": "CHG-1"}), 422, field="action")
    problem(send_generic(normal, {"action": "start", "ref": "CHG-1", "extra": 1}), 422,
            field="extra")
    ch = ok(send_generic(normal, low()), 201)["change"]
    ok(server.as_("admin").post(f"/changes/{ch['id']}/cancel", json={"reason": "no"}))
    problem(send_generic(normal, {"action": "start", "ref": ch["ref"]}), 409)


def test_the_gate_passes_once_a_cab_approves(server, normal):
    ch = ok(send_generic(normal, low()), 201)["change"]
    signer = Signer(server)
    for who in ("cab1", "cab2", "cab3"):
        if ok(server.as_("admin").get(f"/changes/{ch['id']}"))["state"] == "approved":
            break
        assert signer.decide(who, ch["id"]).status_code == 201
    assert ok(gate(ch["gate_url"]))["allowed"] is True
    got = ok(send_generic(normal, {"action": "start", "ref": ch["ref"]}))["change"]
    assert got["flags"] == [] and ok(gate(ch["gate_url"]))["state"] == "in_progress"


# --- signatures --------------------------------------------------------------------------


def test_the_published_vectors_scheme_with_a_vector_secret(server, std):
    vec = json.loads((FIXTURES / "standard-webhooks" / "vectors.json").read_text())
    v = vec["published_vectors"][0]
    integ = make_integration(server, model="standard", services=std["services"])
    server.psql(f"UPDATE integrations SET secret = '{v['secret']}' WHERE id = {integ['id']}")
    # the vector itself: its timestamp is years old, so it is refused
    r = raw_post(integ["url"], v["payload"], {"webhook-id": v["msg_id"],
                                              "webhook-timestamp": str(v["timestamp"]),
                                              "webhook-signature": v["expected_signature"]})
    problem(r, 401)
    # the same secret now, with the reference verifier's signature
    body = json.dumps(low())
    assert send_generic(integ, body, secret=v["secret"]).status_code == 201
    ts = str(int(time.time()))
    good = Verifier(v["secret"]).sign("msg_multi", ts, body)
    neg = vec["published_negative_vectors"][2]["signature_header_template"]
    r = raw_post(integ["url"], body, {"webhook-id": "msg_multi", "webhook-timestamp": ts,
                                      "webhook-signature": neg.replace("<VALID>", good)})
    assert r.status_code == 201, r.text
    bad = vec["published_negative_vectors"][0]["signature_header"]
    for header in (bad, "v1,", "v2," + good[3:], good[3:], ""):
        r = raw_post(integ["url"], body, {"webhook-id": "msg_neg", "webhook-timestamp": ts,
                                          "webhook-signature": header})
        problem(r, 401)


def test_bad_signatures_are_401_without_detail_and_recorded(server, std):
    before = metric(server, "cabinet_hook_refusals_total", reason="signature")
    body = json.dumps(low())
    other = make_integration(server)
    cases = [
        send_generic(std, body, secret=other["secret"]),
        send_generic(std, body, headers={"webhook-id": "msg_changed_after_signing"}),
        raw_post(std["url"], body, {}),
        raw_post(std["url"], body, {"webhook-id": "m", "webhook-timestamp": str(int(time.time()))}),
    ]
    # a body changed after signing
    ts = str(int(time.time()))
    sig = Verifier(std["secret"]).sign("msg_t", ts, body)
    cases.append(raw_post(std["url"], body + " ", {"webhook-id": "msg_t",
                                                  "webhook-timestamp": ts,
                                                  "webhook-signature": sig}))
    for r in cases:
        p = problem(r, 401)
        assert p["detail"] == "Unauthorized" and "errors" not in p, p
    after = metric(server, "cabinet_hook_refusals_total", reason="signature")
    assert after - before == len(cases)
    refused = [d for d in deliveries(server, std["id"]) if d["result"] == "refused"
               and d["status"] == 401]
    assert len(refused) >= len(cases) and all(d["reason"] for d in refused)


@pytest.mark.parametrize("skew,status", [(-301, 401), (301, 401), (-290, 201), (290, 201)])
def test_clock_skew(server, std, skew, status):
    r = send_generic(std, low(), ts=int(time.time()) + skew)
    assert r.status_code == status, r.text


@pytest.mark.parametrize("ts", ["hello", "161426533.0", "-161426533", "0123", ""])
def test_timestamps_that_are_not_integers(server, std, ts):
    before = metric(server, "cabinet_hook_refusals_total", reason="timestamp")
    problem(send_generic(std, low(), ts=ts), 401)
    assert metric(server, "cabinet_hook_refusals_total", reason="timestamp") == before + 1


def test_unknown_links_are_404_and_counted(server):
    before = metric(server, "cabinet_hook_refusals_total", reason="unknown_link")
    r = raw_post(server.url("/hooks/hk_nosuchlinkatall"), "{}", {})
    problem(r, 404)
    assert metric(server, "cabinet_hook_refusals_total", reason="unknown_link") == before + 1


def test_oversize_bodies_are_413(server, std):
    before = metric(server, "cabinet_hook_refusals_total", reason="too_large")
    big = json.dumps(low(description="x" * (1024 * 1024 + 10)))
    problem(send_generic(std, big), 413)
    assert metric(server, "cabinet_hook_refusals_total", reason="too_large") == before + 1
    assert any(d["status"] == 413 for d in deliveries(server, std["id"]))


# --- replays -----------------------------------------------------------------------------


def test_a_replay_returns_the_first_result_and_creates_nothing(server, std):
    body = json.dumps(low())
    first = send_generic(std, body, msg_id="msg_replay_1")
    assert first.status_code == 201
    n = changes_count(server)
    before = metric(server, "cabinet_hook_replays_total")
    again = send_generic(std, body, msg_id="msg_replay_1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert changes_count(server) == n
    assert metric(server, "cabinet_hook_replays_total") == before + 1
    # an action replayed does not act twice
    ref = first.json()["change"]["ref"]
    a1 = send_generic(std, {"action": "start", "ref": ref}, msg_id="msg_replay_2")
    rev = server.psql(f"SELECT rev FROM changes WHERE id = {first.json()['change']['id']}")
    a2 = send_generic(std, {"action": "start", "ref": ref}, msg_id="msg_replay_2")
    assert a1.status_code == a2.status_code == 200 and a1.json() == a2.json()
    assert server.psql(f"SELECT rev FROM changes WHERE id = {first.json()['change']['id']}") == rev
    mine = [d for d in deliveries(server, std["id"]) if d["delivery_id"] in
            ("msg_replay_1", "msg_replay_2")]
    assert sorted(d["result"] for d in mine) == ["accepted", "accepted", "replayed", "replayed"]


def test_a_refused_delivery_may_be_sent_again(server, std):
    r = send_generic(std, {"description": "no title"}, msg_id="msg_fix_me")
    problem(r, 422, field="title")
    r = send_generic(std, low(), msg_id="msg_fix_me")
    assert r.status_code == 201, r.text


def test_concurrent_replays_make_one_change(server, std):
    body = json.dumps(low())
    n = changes_count(server)
    results, errors = [], []
    go = threading.Barrier(8)

    def send():
        try:
            go.wait(timeout=20)
            r = send_generic(std, body, msg_id="msg_concurrent")
            results.append((r.status_code, r.text))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 8
    assert {s for s, _ in results} == {201}, results
    assert len({json.loads(t)["change"]["id"] for _, t in results}) == 1
    assert changes_count(server) == n + 1
    mine = [d for d in deliveries(server, std["id"]) if d["delivery_id"] == "msg_concurrent"]
    assert sorted(d["result"] for d in mine) == ["accepted"] + ["replayed"] * 7
