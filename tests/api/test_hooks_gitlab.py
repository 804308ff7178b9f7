"""GitLab webhook links (README "Webhook links"): X-Gitlab-Token compared
with the secret, the Deployment Hook fixture and its statuses (running
raises and starts, success/failed/canceled complete), the external_ref from
the full SHA at the end of commit_url, deduplication by Idempotency-Key or
by (deployment, status), other events ignored, and the gate."""

import copy
import threading

import pytest
import requests

from conftest import ok, problem, unique
from hooklinks import deliveries, fixture, make_integration, send_gitlab, service

SHA = "279484c09fbe69ededfced8c1bb6e6d24616b468"


@pytest.fixture(scope="module")
def gl(server):
    staging = service(server)
    return make_integration(server, "gitlab", services=[service(server)],
                            environments={"staging": [staging]}), staging


_deployment = [1000]


def payload(status=None, project=None, deployment=None, commit=SHA):
    p = copy.deepcopy(fixture("gitlab/deployment_hook.payload.json"))
    p["project"]["path_with_namespace"] = project or p["project"]["path_with_namespace"]
    if status:
        p["status"] = status
    if deployment is None:
        _deployment[0] += 1
        deployment = _deployment[0]
    p["deployment_id"] = deployment
    p["commit_url"] = p["commit_url"].rsplit("/", 1)[0] + "/" + commit
    return p


def gate(url):
    return requests.get(url, timeout=30, headers={"Connection": "close"})


def test_the_fixture_as_published(server, gl):
    integ, staging = gl
    p = fixture("gitlab/deployment_hook.payload.json")
    problem(send_gitlab(integ, p, token="wrong"), 401)
    problem(send_gitlab(integ, p, token=integ["secret"] + "x"), 401)
    problem(send_gitlab(integ, p, headers={"X-Gitlab-Token": ""}), 401)
    got = ok(send_gitlab(integ, p), 201)
    ch = got["change"]
    assert ch["external_ref"] == f"gitlab:root/test-deployment-webhooks:staging:{SHA}", ch
    assert ch["services"] == [staging] and ch["source"] == "hook"
    # success of a change never approved: started, completed, flagged, in review
    assert ch["state"] == "review" and ch["outcome"] == "successful"
    assert "unauthorized" in ch["flags"]
    assert server.psql(f"SELECT cab_ts(completed_at) FROM changes WHERE id = {ch['id']}") == \
        "2021-04-28T19:50:00Z"
    assert gate(got["gate_url"]).json()["reason"] == "review"
    # without an Idempotency-Key, the same deployment and status is a replay
    again = send_gitlab(integ, p)
    assert again.status_code == 201 and again.json() == got
    assert again.headers.get("Idempotent-Replayed") == "true"
    mine = [d for d in deliveries(server, integ["id"]) if d["delivery_id"] == "deployment:15:success"]
    assert sorted(d["result"] for d in mine) == ["accepted", "replayed"]


@pytest.mark.parametrize("final,outcome", [("success", "successful"), ("failed", "failed"),
                                           ("canceled", "failed")])
def test_running_then_finished(server, gl, final, outcome):
    integ, _ = gl
    project = unique("grp/proj")
    dep = 5000 + len(final)
    run = ok(send_gitlab(integ, payload("running", project=project, deployment=dep)), 201)
    ch = run["change"]
    assert ch["state"] == "in_progress" and "unauthorized" in ch["flags"]
    assert gate(run["gate_url"]).json()["reason"] == "unauthorized"
    done = ok(send_gitlab(integ, payload(final, project=project, deployment=dep)))["change"]
    assert done["id"] == ch["id"] and done["state"] == "review" and done["outcome"] == outcome


def test_an_approved_change_a_ci_job_raised_is_reported_on(server, gl):
    """A generic link raises the change with the external_ref GitLab will
    report on; once approved, GitLab's running and success act on it."""
    integ, _ = gl
    s = service(server)
    project = unique("grp/approved")
    ref = f"gitlab:{project}:staging:{SHA}"
    ch = ok(server.as_("alice").post("/changes", json={
        "title": "deploy", "model": "standard", "services": [s], "external_ref": ref,
        "test_plan": "t", "backout_plan": "b", "business_impact": "low",
        "window": {"start": "2020-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z"}}), 201)
    sub = ok(server.as_("alice").post(f"/changes/{ch['id']}/submit"))
    assert sub["state"] == "approved", sub["state"]
    run = ok(send_gitlab(integ, payload("running", project=project)))
    assert run["change"]["id"] == ch["id"] and run["change"]["flags"] == []
    assert ok(gate(run["gate_url"]))["allowed"] is True
    done = ok(send_gitlab(integ, payload("success", project=project)))["change"]
    assert done["state"] == "closed" and done["outcome"] == "successful"


def test_idempotency_key_wins_over_the_deployment(server, gl):
    integ, _ = gl
    p = payload("running", project=unique("grp/key"))
    key = unique("idem")
    a = send_gitlab(integ, p, headers={"Idempotency-Key": key})
    b = send_gitlab(integ, p, headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = send_gitlab(integ, p, headers={"Idempotency-Key": unique("idem")})
    assert c.status_code == 200 and c.json()["change"]["id"] == a.json()["change"]["id"]


@pytest.mark.parametrize("event,status", [("Push Hook", "success"), ("Pipeline Hook", "running"),
                                          ("Deployment Hook", "created"),
                                          ("Deployment Hook", "blocked")])
def test_other_events_and_statuses_are_ignored(server, gl, event, status):
    integ, _ = gl
    r = send_gitlab(integ, payload(status), event=event)
    assert ok(r, 202) == {"ignored": True}


def test_commit_urls_without_a_full_sha_are_422(server, gl):
    integ, _ = gl
    problem(send_gitlab(integ, payload("running", commit="279484c0")), 422, field="commit_url")
    p = payload("running")
    del p["project"]
    problem(send_gitlab(integ, p), 422, field="project.path_with_namespace")


def test_concurrent_replays_make_one_change(server, gl):
    integ, _ = gl
    p = payload("running", project=unique("grp/race"))
    out, go = [], threading.Barrier(6)

    def send():
        go.wait(timeout=20)
        out.append(send_gitlab(integ, p))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r.status_code for r in out] == [201] * 6, [r.text for r in out]
    assert len({r.text for r in out}) == 1
    n = server.psql(f"SELECT count(*) FROM changes WHERE external_ref = "
                    f"'gitlab:{p['project']['path_with_namespace']}:staging:{SHA}'")
    assert n == "1"
