"""The gate (README "Gate"): GET /gate/<token> in every state and for every
reason, the precedence of the reasons, `?wait=N` long-polls woken by an
approval, by the window opening, by a hard freeze ending and after the
listener's database connection was killed, a wait that runs out, the cap
on waiters (503 with Retry-After) and how it meets the per-client cap, a
prompt shutdown with waiters, and `curl -f --retry` as a pipeline runs it."""

import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import BIN, finish_server, ok, problem, run, sanitizer_env, start_server, unique
from test_workflow import Signer, act, get, new_change, submit, ts, window

# Generous bounds: the build is ASan's and the machine is shared. A wait
# that was woken returns far sooner than its N; one that ran out, no sooner.
WOKEN_WITHIN = 15


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(tier=3):
        name = unique(f"gt{tier}")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier}), 201)
        return name

    return make


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


def now_utc():
    return datetime.now(timezone.utc).replace(microsecond=0)


def around_now(before_s=3600, after_s=3600):
    n = now_utc()
    return {"start": ts(n - timedelta(seconds=before_s)), "end": ts(n + timedelta(seconds=after_s))}


def gate(ch, wait=None, timeout=60, **params):
    if wait is not None:
        params["wait"] = wait
    return requests.get(ch["gate_url"], params=params, timeout=timeout,
                        headers={"Connection": "close"})


def allowed(r, state, flags=()):
    body = ok(r, 200)
    assert body == {"allowed": True, "ref": body["ref"], "state": state,
                    "flags": body["flags"]}, body
    assert sorted(body["flags"]) == sorted(flags), body
    assert body["ref"].startswith("CHG-"), body
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    return body


def refused(r, reason, state):
    assert r.status_code == 409, f"expected 409, got {r.status_code}: {r.text[:500]}"
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    body = r.json()
    assert body == {"allowed": False, "ref": body["ref"], "state": state, "reason": reason}, body
    return body


def approved_now(server, svc, **kw):
    """A standard change assessed low, approved at submit, its window open."""
    kw.setdefault("window", around_now())
    ch = submit(server, new_change(server, svc, model="standard", **kw)["id"])
    assert ch["state"] == "approved", ch
    return ch


def awaiting_now(server, svc, **kw):
    """A normal change awaiting one CAB approval, its window open."""
    kw.setdefault("window", around_now())
    ch = submit(server, new_change(server, svc, **kw)["id"])
    assert ch["state"] == "awaiting_approval", ch
    return ch


def emergency_awaiting(server, svc):
    ch = submit(server, new_change(server, svc, model="emergency", window=around_now())["id"])
    assert ch["state"] == "awaiting_approval" and ch["kind"] == "emergency", ch
    return ch


def freeze(server, services, start_s=-3600, end_s=3600, hard=True):
    n = now_utc()
    return ok(server.as_("manager").post("/freezes", json={
        "name": unique("gate freeze"), "services": services, "hard": hard,
        "window": {"start": ts(n + timedelta(seconds=start_s)),
                   "end": ts(n + timedelta(seconds=end_s))}}), 201)


class Waiter(threading.Thread):
    """A long-poll on its own thread: .r is the response, .elapsed its time."""

    def __init__(self, ch, wait):
        super().__init__(daemon=True)
        self.ch, self.wait = ch, wait
        self.r = self.error = None
        self.started_at = self.elapsed = None

    def run(self):
        self.started_at = time.monotonic()
        try:
            self.r = gate(self.ch, wait=self.wait, timeout=self.wait + 60)
        except requests.RequestException as e:
            self.error = e
        self.elapsed = time.monotonic() - self.started_at

    def result(self, timeout):
        self.join(timeout)
        assert not self.is_alive(), f"the long-poll did not return within {timeout} s"
        assert self.error is None, self.error
        return self.r


# --- every state and reason ----------------------------------------------------------


def test_a_draft(server, svc):
    refused(gate(new_change(server, svc, window=around_now())), "draft", "draft")


def test_awaiting_approval(server, svc):
    refused(gate(awaiting_now(server, svc)), "awaiting_approval", "awaiting_approval")


def test_approved_inside_its_window(server, svc):
    ch = approved_now(server, svc)
    body = allowed(gate(ch), "approved")
    assert body["ref"] == ch["ref"]


def test_approved_before_its_window(server, svc):
    ch = submit(server, new_change(server, svc, model="standard", window=window())["id"])
    refused(gate(ch), "window_not_open", "approved")


def test_approved_after_its_window(server, svc):
    ch = approved_now(server, svc)
    server.psql(f"UPDATE changes SET win = tstzrange(now() - interval '2 hours', "
                f"now() - interval '1 hour') WHERE id = {ch['id']}")
    refused(gate(ch), "window_closed", "approved")


def test_in_progress_inside_and_after_its_window(server, svc):
    ch = approved_now(server, svc)
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    allowed(gate(ch), "in_progress")
    server.psql(f"UPDATE changes SET win = tstzrange(now() - interval '2 hours', now()) "
                f"WHERE id = {ch['id']}")
    refused(gate(ch), "window_closed", "in_progress")


def test_unauthorized_is_refused(server, svc):
    ch = approved_now(server, svc)
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    server.psql(f"UPDATE changes SET flags = '{{unauthorized}}' WHERE id = {ch['id']}")
    refused(gate(ch), "unauthorized", "in_progress")


def test_a_retrospective_emergency_passes_with_its_flags(server, svc):
    ch = emergency_awaiting(server, svc)
    out = ok(act(server.as_("manager"), ch["id"], "start",
                 {"retrospective": True, "reason": "payments are down"}))
    assert set(out["flags"]) == {"unauthorized", "retrospective"}, out
    body = allowed(gate(ch), "in_progress", flags=out["flags"])


def test_rejected(server, svc, signer):
    ch = awaiting_now(server, svc)
    ok(signer.decide("cab1", ch["id"], "reject"), 201)
    refused(gate(ch), "rejected", "rejected")


def test_cancelled(server, svc):
    ch = awaiting_now(server, svc)
    ok(act(server.as_("alice"), ch["id"], "cancel", {"reason": "not needed"}))
    refused(gate(ch), "cancelled", "cancelled")


@pytest.mark.parametrize("outcome,state", [("failed", "review"), ("successful", "closed")])
def test_review_and_closed(server, svc, outcome, state):
    ch = approved_now(server, svc)
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    assert ok(act(server.as_("alice"), ch["id"], "complete", {"outcome": outcome}))["state"] == state
    refused(gate(ch), state, state)


def test_state_comes_before_the_window_and_unauthorized(server, svc):
    """Precedence: the state, then unauthorized, then the window, then a freeze."""
    ch = new_change(server, svc, window=window())
    server.psql(f"UPDATE changes SET flags = '{{unauthorized}}' WHERE id = {ch['id']}")
    refused(gate(ch), "draft", "draft")
    ch = approved_now(server, svc)
    ok(act(server.as_("alice"), ch["id"], "start", {}))
    server.psql(f"UPDATE changes SET flags = '{{unauthorized}}', win = tstzrange(now() - "
                f"interval '2 hours', now() - interval '1 hour') WHERE id = {ch['id']}")
    refused(gate(ch), "unauthorized", "in_progress")


# --- freezes ---------------------------------------------------------------------------


def test_a_hard_freeze_blocks_a_normal_change_until_it_is_lifted(server, svc):
    s = svc()
    ch = approved_now(server, svc, services=[s])
    f = freeze(server, [s])
    refused(gate(ch), "frozen", "approved")
    # a freeze on another service does not
    other = approved_now(server, svc)
    allowed(gate(other), "approved")
    ok(server.as_("manager").delete(f"/freezes/{f['id']}"), 204)
    allowed(gate(ch), "approved")


def test_a_freeze_without_services_covers_every_change(server, svc):
    ch = approved_now(server, svc, window=around_now(60, 60))
    # only a few seconds, and only now: other tests' gates are spared
    f = freeze(server, [], start_s=-30, end_s=60)
    try:
        refused(gate(ch), "frozen", "approved")
    finally:
        server.as_("manager").delete(f"/freezes/{f['id']}")


def test_a_hard_freeze_that_is_not_on_now_does_not_block(server, svc):
    s = svc()
    ch = approved_now(server, svc, services=[s])
    freeze(server, [s], start_s=1800, end_s=7200)  # overlaps the window, later
    allowed(gate(ch), "approved")


def test_a_soft_freeze_does_not_block(server, svc):
    s = svc()
    ch = approved_now(server, svc, services=[s])
    freeze(server, [s], hard=False)
    allowed(gate(ch), "approved")


def test_a_hard_freeze_does_not_block_an_emergency(server, svc, signer):
    s = svc()
    ch = submit(server, new_change(server, svc, model="emergency", services=[s],
                                   window=around_now())["id"])
    freeze(server, [s])
    ok(signer.decide("ecab", ch["id"]), 201)
    assert get(server, ch["id"])["state"] == "approved"
    allowed(gate(ch), "approved")


# --- the token and the query -----------------------------------------------------------


def test_an_unknown_token_is_404(server):
    for token in ("gt_nosuchtoken", "x" * 300):
        r = requests.get(server.url(f"/gate/{token}"), timeout=20)
        problem(r, 404)


def test_no_authentication_is_needed_and_a_session_changes_nothing(server, svc):
    ch = approved_now(server, svc)
    r = server.as_("bob").get(ch["gate_url"].replace(server.base, ""), api=False)
    allowed(r, "approved")


@pytest.mark.parametrize("bad", ["-1", "901", "abc", "1.5", "", "+5", "1e2", "0x10", "99999999"])
def test_wait_must_be_0_to_900(server, svc, bad):
    ch = approved_now(server, svc)
    problem(gate(ch, wait=bad), 422, field="wait")


def test_wait_is_checked_after_the_token(server):
    problem(requests.get(server.url("/gate/gt_nosuchtoken"), params={"wait": "x"}, timeout=20),
            404)


def test_wait_0_and_900_are_taken(server, svc):
    ch = approved_now(server, svc)
    allowed(gate(ch, wait=0), "approved")
    t0 = time.monotonic()
    allowed(gate(ch, wait=900), "approved")  # open already: answered at once
    assert time.monotonic() - t0 < WOKEN_WITHIN


def test_other_query_parameters_are_refused(server, svc):
    problem(gate(approved_now(server, svc), timeout_s=5), 400, field="timeout_s")


# --- long-polls ------------------------------------------------------------------------


def test_a_wait_that_runs_out_answers_409(server, svc):
    ch = awaiting_now(server, svc)
    t0 = time.monotonic()
    refused(gate(ch, wait=2), "awaiting_approval", "awaiting_approval")
    took = time.monotonic() - t0
    assert 1.9 <= took < WOKEN_WITHIN, took


def test_a_wait_returns_as_soon_as_the_approval_lands(server, svc, signer):
    ch = awaiting_now(server, svc)
    w = Waiter(ch, 30)
    w.start()
    time.sleep(1.5)
    assert w.is_alive(), "the long-poll returned before the approval"
    approved_at = time.monotonic()
    ok(signer.decide("cab1", ch["id"]), 201)
    allowed(w.result(60), "approved")
    done = w.started_at + w.elapsed
    assert done - approved_at < WOKEN_WITHIN, done - approved_at
    assert w.elapsed < 30 - 5, w.elapsed


def test_a_wait_is_woken_by_the_window_opening(server, svc):
    n = now_utc()
    opens = n + timedelta(seconds=4)
    ch = approved_now(server, svc, window={"start": ts(opens), "end": ts(n + timedelta(hours=1))})
    refused(gate(ch), "window_not_open", "approved")
    t0 = time.monotonic()
    allowed(gate(ch, wait=30), "approved")
    took = time.monotonic() - t0
    assert datetime.now(timezone.utc) >= opens, "answered 200 before the window opened"
    assert took < WOKEN_WITHIN, took


def test_a_wait_is_woken_by_a_hard_freeze_ending(server, svc):
    s = svc()
    ch = approved_now(server, svc, services=[s])
    f = freeze(server, [s], start_s=-600, end_s=4)
    ends = datetime.fromisoformat(f["window"]["end"].replace("Z", "+00:00"))
    refused(gate(ch), "frozen", "approved")
    t0 = time.monotonic()
    allowed(gate(ch, wait=30), "approved")
    assert datetime.now(timezone.utc) >= ends, "answered 200 before the freeze ended"
    assert time.monotonic() - t0 < WOKEN_WITHIN


def test_a_wait_is_woken_by_a_freeze_being_lifted(server, svc):
    s = svc()
    ch = approved_now(server, svc, services=[s])
    f = freeze(server, [s])
    w = Waiter(ch, 30)
    w.start()
    time.sleep(1.5)
    assert w.is_alive()
    ok(server.as_("manager").delete(f"/freezes/{f['id']}"), 204)
    allowed(w.result(60), "approved")
    assert w.elapsed < 30 - 5, w.elapsed


def listener_pids(server):
    out = server.psql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name = 'cabinet-listen'")
    return {int(x) for x in out.split()} if out else set()


def test_the_listener_survives_its_connection_being_killed(server, svc, signer):
    before = listener_pids(server)
    assert len(before) == 1, before
    ch = awaiting_now(server, svc)
    w = Waiter(ch, 60)
    w.start()
    time.sleep(1)
    server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'cabinet-listen'")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = listener_pids(server)
        if after and not after & before:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the listener did not reconnect: {listener_pids(server)}\n"
                    f"{server.stderr_tail(30)}")
    # the reconnection woke the waiter to look again: still waiting
    time.sleep(0.5)
    assert w.is_alive(), w.r and w.r.text
    approved_at = time.monotonic()
    ok(signer.decide("cab1", ch["id"]), 201)
    allowed(w.result(90), "approved")
    assert w.started_at + w.elapsed - approved_at < WOKEN_WITHIN


# --- curl, as a pipeline runs it ---------------------------------------------------------


def curl(url, wait, timeout=120):
    return subprocess.Popen(["curl", "-f", "--no-progress-meter", "--retry", "3",
                             f"{url}?wait={wait}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), timeout


def finish(proc_timeout):
    proc, timeout = proc_timeout
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"curl did not finish within {timeout} s")
    return proc.returncode, out, err


def test_curl_succeeds_once_the_change_is_approved(server, svc, signer):
    ch = awaiting_now(server, svc)
    p = curl(ch["gate_url"], 5)
    time.sleep(1)
    ok(signer.decide("cab1", ch["id"]), 201)
    rc, out, err = finish(p)
    assert rc == 0, (rc, out, err)
    assert '"allowed":true' in out, out


def test_curl_fails_with_22_on_409(server, svc):
    ch = awaiting_now(server, svc)
    rc, out, err = finish(curl(ch["gate_url"], 1))
    assert rc == 22, (rc, out, err)
    assert "409" in err, err


# --- the cap on waiters, the per-client cap, shutdown ---------------------------------------


@pytest.fixture(scope="module")
def capped(cluster):
    """A server of its own: two waiters at most, two connections per client,
    one database connection (a waiter holds none while it waits)."""
    srv = start_server(cluster, "m_gate_capped", name="gate-capped",
                       extra_env={"CABINET_GATE_WAITERS": "2", "CABINET_MAX_PER_CLIENT": "2",
                                  "CABINET_DB_POOL": "1"})
    yield srv
    if srv.proc is not None:
        finish_server(srv)


@pytest.fixture(scope="module")
def capped_svc(capped):
    def make(tier=3):
        name = unique("gc")
        ok(capped.as_("admin").post("/services", json={"name": name, "title": name,
                                                      "tier": tier}), 201)
        return name
    return make


def test_the_waiter_cap_and_the_per_client_cap(capped, capped_svc):
    signer = Signer(capped)
    a = awaiting_now(capped, capped_svc)
    held = [Waiter(a, 30) for _ in range(2)]
    for w in held:
        w.start()
    time.sleep(2)
    assert all(w.is_alive() for w in held)
    # one more that would wait: 503 with Retry-After, at once
    r = gate(a, wait=10)
    body = problem(r, 503)
    assert int(r.headers["Retry-After"]) >= 1, r.headers
    assert "wait on gates" in body["detail"], body
    # a look without waiting is not capped, nor is an open gate with wait
    refused(gate(a, wait=0), "awaiting_approval", "awaiting_approval")
    allowed(gate(approved_now(capped, capped_svc), wait=10), "approved")
    # the waiters count against neither the per-client cap (2) nor the one
    # database connection: this client is served
    ok(capped.as_("alice").get(f"/changes/{a['id']}"))
    ok(signer.decide("cab1", a["id"]), 201)
    for w in held:
        allowed(w.result(60), "approved")
        assert w.elapsed < 30 - 5
        assert w.r.headers.get("Connection", "").lower() == "close", w.r.headers


def test_curl_retry_honours_retry_after_from_the_waiter_cap(capped, capped_svc):
    signer = Signer(capped)
    a = awaiting_now(capped, capped_svc)
    b = awaiting_now(capped, capped_svc)
    held = [Waiter(a, 30) for _ in range(2)]
    for w in held:
        w.start()
    time.sleep(2)
    t0 = time.monotonic()
    p = curl(b["gate_url"], 10)
    time.sleep(1)
    # the slots free up and b is approved before curl's retry
    ok(signer.decide("cab1", a["id"]), 201)
    ok(signer.decide("cab1", b["id"]), 201)
    rc, out, err = finish(p)
    assert rc == 0, (rc, out, err)
    assert '"allowed":true' in out, out
    assert "retry" in err.lower(), err
    assert time.monotonic() - t0 >= 3, "curl did not wait for Retry-After"
    for w in held:
        allowed(w.result(60), "approved")


def test_sigterm_with_waiters_stops_promptly(capped, capped_svc):
    a = awaiting_now(capped, capped_svc)
    held = [Waiter(a, 300) for _ in range(2)]
    for w in held:
        w.start()
    time.sleep(2)
    t0 = time.monotonic()
    problems = capped.stop(timeout=30)
    took = time.monotonic() - t0
    assert not problems, problems
    assert took < 10, took
    for w in held:
        refused(w.result(30), "awaiting_approval", "awaiting_approval")


def test_the_waiter_cap_must_leave_workers_free(cluster):
    cp = run([BIN, "serve"], env={"CABINET_THREADS": "8", "CABINET_GATE_WAITERS": "8",
                                  "CABINET_DATABASE_URL": cluster.url("cabinet_template"),
                                  **sanitizer_env()}, timeout=60, check=False)
    assert cp.returncode == 2, (cp.returncode, cp.stderr)
    assert "CABINET_GATE_WAITERS" in cp.stderr, cp.stderr
