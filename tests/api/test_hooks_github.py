"""GitHub webhook links (README "Webhook links"): X-Hub-Signature-256 on
GitHub's own vector and on every fixture payload, ping, deployment raising
one change per deployment (also with its protection rule, at once),
deployment_status starting and completing it, events not acted on, replays
by X-GitHub-Delivery, and the gate in the states that follow."""

import copy
import json
import threading

import pytest
import requests

from conftest import ok, problem, unique
from test_workflow import Signer
from hooklinks import (deliveries, fixture, github_sig, make_integration, raw_post, send_github,
                       service)

SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@pytest.fixture(scope="module")
def gh(server):
    prod, other = service(server), service(server)
    return make_integration(server, "github", services=[other],
                            environments={"production": [prod]}), prod, other


def payload(name, repo=None, sha=None, env=None, state=None):
    """A fixture payload, with a repository of its own so tests do not meet."""
    p = copy.deepcopy(fixture(f"github/{name}"))
    p["repository"]["full_name"] = repo or p["repository"]["full_name"]
    if sha:
        p["deployment"]["sha"] = sha
    if env:
        p["deployment"]["environment"] = env
        if "environment" in p and isinstance(p["environment"], str):
            p["environment"] = env
    if state:
        p["deployment_status"]["state"] = state
    return p


def gate(url):
    return requests.get(url, timeout=30, headers={"Connection": "close"})


def test_githubs_signature_vector(server):
    v = fixture("github/github_signature_vector.json")
    assert github_sig(v["secret"], v["payload"].encode()) == v["X-Hub-Signature-256"]
    integ = make_integration(server, "github")
    server.psql(f"UPDATE integrations SET secret = $$"
                f"{v['secret']}$$ WHERE id = {integ['id']}")
    # the vector's body is not JSON: signed right, it gets as far as the body
    r = raw_post(integ["url"], v["payload"], {"X-GitHub-Event": "ping",
                                              "X-Hub-Signature-256": v["X-Hub-Signature-256"]})
    problem(r, 400)
    bad = v["X-Hub-Signature-256"][:-1] + ("0" if v["X-Hub-Signature-256"][-1] != "0" else "1")
    r = raw_post(integ["url"], v["payload"], {"X-GitHub-Event": "ping",
                                              "X-Hub-Signature-256": bad})
    problem(r, 401)


def test_ping(server, gh):
    integ, _, _ = gh
    r = send_github(integ, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert ok(r)["ok"] is True


@pytest.mark.parametrize("event,name", [
    ("deployment", "deployment.payload.json"),
    ("deployment_status", "deployment_status.payload.json"),
    ("deployment_protection_rule", "DERIVED.deployment_protection_rule.requested.payload.json"),
])
def test_every_fixture_is_verified_and_acted_on(server, gh, event, name):
    integ, prod, _ = gh
    repo = unique("Codertocat/Hello")
    body = json.dumps(payload(name, repo=repo)).encode()
    problem(send_github(integ, event, body, secret="wrong"), 401)
    problem(raw_post(integ["url"], body, {"X-GitHub-Event": event}), 401)
    r = send_github(integ, event, body)
    got = ok(r, 201)
    ch = got["change"]
    assert ch["external_ref"] == f"github:{repo}:production:{SHA}", ch
    assert ch["services"] == [prod] and ch["source"] == "hook"
    assert ch["title"] == f"Deploy {repo} master to production"
    if event == "deployment_status":  # success, never approved
        assert ch["state"] == "review" and ch["outcome"] == "successful"
        assert "unauthorized" in ch["flags"]
        assert server.psql(f"SELECT cab_ts(completed_at) FROM changes WHERE id = {ch['id']}") \
            == "2019-05-15T15:20:55Z"
    else:
        assert ch["state"] == "awaiting_approval"
    if event == "deployment_protection_rule":
        url = payload(name)["deployment_callback_url"]
        assert got["callback_url"] == url
        assert server.psql(f"SELECT callback_url FROM changes WHERE id = {ch['id']}") == url
        assert any(d["callback_url"] == url for d in deliveries(server, integ["id"]))


def test_one_deployment_one_change_through_its_events(server, gh):
    integ, prod, _ = gh
    repo = unique("octo/app")
    sha = "AB" * 20
    dep = ok(send_github(integ, "deployment", payload("deployment.payload.json", repo=repo,
                                                       sha=sha)), 201)["change"]
    assert dep["external_ref"] == f"github:{repo}:production:{'ab' * 20}"
    rule = ok(send_github(integ, "deployment_protection_rule", payload(
        "DERIVED.deployment_protection_rule.requested.payload.json", repo=repo, sha=sha)), 200)
    assert rule["change"]["id"] == dep["id"]
    r = gate(dep["gate_url"])
    assert r.status_code == 409 and r.json()["reason"] == "awaiting_approval"
    for state in ("queued", "pending", "inactive", "waiting"):
        got = send_github(integ, "deployment_status", payload(
            "deployment_status.payload.json", repo=repo, sha=sha, state=state))
        assert ok(got, 202) == {"ignored": True}
    started = ok(send_github(integ, "deployment_status", payload(
        "deployment_status.payload.json", repo=repo, sha=sha, state="in_progress")))["change"]
    assert started["id"] == dep["id"] and started["state"] == "in_progress"
    assert "unauthorized" in started["flags"]
    assert gate(dep["gate_url"]).json()["reason"] == "unauthorized"
    done = ok(send_github(integ, "deployment_status", payload(
        "deployment_status.payload.json", repo=repo, sha=sha, state="failure")))["change"]
    assert done["state"] == "review" and done["outcome"] == "failed"
    assert gate(dep["gate_url"]).json()["reason"] == "review"


def test_an_approved_deployment_passes_the_gate_and_closes(server):
    s = service(server)
    integ = make_integration(server, "github", services=[s])
    repo = unique("octo/std")
    p = payload("deployment.payload.json", repo=repo, env="staging")
    dep = ok(send_github(integ, "deployment", p), 201)["change"]
    assert dep["services"] == [s] and dep["external_ref"].endswith(f":staging:{SHA}")
    signer = Signer(server)
    for who in ("cab1", "cab2", "cab3", "cab4"):
        if ok(server.as_("admin").get(f"/changes/{dep['id']}"))["state"] == "approved":
            break
        assert signer.decide(who, dep["id"]).status_code == 201
    assert ok(gate(dep["gate_url"]))["allowed"] is True
    st = payload("deployment_status.payload.json", repo=repo, env="staging", state="in_progress")
    started = ok(send_github(integ, "deployment_status", st))["change"]
    assert started["state"] == "in_progress" and started["flags"] == []
    assert ok(gate(dep["gate_url"]))["state"] == "in_progress"
    st["deployment_status"]["state"] = "success"
    done = ok(send_github(integ, "deployment_status", st))["change"]
    assert done["state"] in ("closed", "review") and done["outcome"] == "successful"
    assert "unauthorized" not in done["flags"]
    assert gate(dep["gate_url"]).json()["reason"] == done["state"]


@pytest.mark.parametrize("event", ["push", "pull_request", "issues", ""])
def test_other_events_are_ignored(server, gh, event):
    integ, _, _ = gh
    assert ok(send_github(integ, event, {"ref": "refs/heads/main"}), 202) == {"ignored": True}


def test_bad_payloads_are_422(server, gh):
    integ, _, _ = gh
    p = payload("deployment.payload.json", repo=unique("o/r"))
    p["deployment"]["sha"] = "f95f852"
    problem(send_github(integ, "deployment", p), 422, field="deployment.sha")
    del p["repository"]
    problem(send_github(integ, "deployment", p), 422, field="repository.full_name")


def test_replays_by_delivery_id(server, gh):
    integ, _, _ = gh
    p = payload("deployment.payload.json", repo=unique("o/replay"))
    first = send_github(integ, "deployment", p, delivery="d-1-" + unique())
    delivery = first.request.headers["X-GitHub-Delivery"]
    again = send_github(integ, "deployment", p, delivery=delivery)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    results = [d["result"] for d in deliveries(server, integ["id"])
               if d["delivery_id"] == delivery]
    assert sorted(results) == ["accepted", "replayed"]


def test_concurrent_deliveries_about_one_deployment_make_one_change(server, gh):
    integ, _, _ = gh
    repo = unique("o/race")
    bodies = [("deployment", payload("deployment.payload.json", repo=repo)),
              ("deployment_protection_rule", payload(
                  "DERIVED.deployment_protection_rule.requested.payload.json", repo=repo))] * 3
    out, go = [], threading.Barrier(len(bodies))

    def send(event, body):
        go.wait(timeout=20)
        out.append(send_github(integ, event, body))

    threads = [threading.Thread(target=send, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status_code for r in out) == [200] * 5 + [201], [r.text for r in out]
    assert len({r.json()["change"]["id"] for r in out}) == 1
    n = server.psql(f"SELECT count(*) FROM changes WHERE external_ref = "
                    f"'github:{repo}:production:{SHA}'")
    assert n == "1"


def test_a_long_non_ascii_deployment_raises_its_change(server, gh):
    """The description is cut at a character boundary, never refused: a task
    of 700 two-byte characters and a long environment used to be a 500."""
    integ, _, _ = gh
    repo = unique("octo/long")
    p = payload("deployment.payload.json", repo=repo, sha="cd" * 20, env="é" * 150)
    p["deployment"]["task"] = "x" + "é" * 700
    ch = ok(send_github(integ, "deployment", p), 201)["change"]
    assert ch["description"].startswith(f"GitHub deployment {p['deployment']['id']} of {repo}")
    assert len(ch["description"].encode()) <= 1196
    assert ch["description"].encode().decode("utf-8") == ch["description"]
