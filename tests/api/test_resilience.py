"""The database goes away and comes back while the server runs.

This module has a cluster of its own, since it stops it."""

import signal
import threading
import time

import pytest
import requests

from conftest import (Cluster, PASSWORD, Server, finish_server, ok, problem, start_server,
                      unique)


@pytest.fixture(scope="module")
def own_cluster():
    c = Cluster()
    try:
        c.createdb("cabinet_template")
        cp = c.migrate("cabinet_template")
        assert cp.returncode == 0, cp.stderr
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="module")
def server(own_cluster):
    srv = start_server(own_cluster, "m_resilience")
    yield srv
    # The cluster must be up again for a clean stop.
    own_cluster.start()
    finish_server(srv)


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except requests.RequestException as e:
            last = e
        time.sleep(0.25)
    pytest.fail(f"{what} within {timeout} s (last: {last})")


def test_database_outage_and_recovery(server, own_cluster):
    alice = server.login("alice")
    token = server.token_client("bob").token
    bob = server.bearer(token)
    before = ok(alice.post("/changes", json={"title": unique("before")}), 201)
    assert server.anon().get("/readyz", api=False).status_code == 200

    own_cluster.stop()
    try:
        t0 = time.monotonic()
        # Liveness does not depend on the database; readiness does.
        assert server.anon().get("/healthz", api=False).status_code == 200
        r = server.anon().get("/readyz", api=False)
        assert r.status_code == 503, r.text
        # Everything that needs the database: 503 problem+json, quickly.
        problem(alice.get(f"/changes/{before['id']}"), 503)
        problem(alice.get("/changes"), 503)
        problem(alice.post("/changes", json={"title": "during outage"}), 503)
        problem(bob.get("/me"), 503)
        problem(server.anon().post("/session", json={"email": server.users["cab1"]["email"],
                                                     "password": PASSWORD}), 503)
        for _ in range(10):  # more requests than pooled connections
            problem(alice.get("/me"), 503)
        assert server.anon().get("/metrics", api=False).status_code == 200
        assert server.anon().get("/config").status_code == 200
        assert time.monotonic() - t0 < 60, "answers during the outage were slow"
        assert server.alive()
    finally:
        own_cluster.start()

    # Back without restarting the server: the pool reconnects by itself.
    wait_for(lambda: server.anon().get("/readyz", api=False).status_code == 200, 30,
             "/readyz did not recover")
    wait_for(lambda: alice.get("/me").status_code == 200, 30, "the API did not recover")
    assert ok(alice.get(f"/changes/{before['id']}"))["id"] == before["id"]
    after = ok(alice.post("/changes", json={"title": unique("after")}), 201)
    assert after["id"] > before["id"]
    assert ok(bob.get("/me"))["user"]["id"] == server.users["bob"]["id"]
    # Every pooled connection works again, not only the first one.
    for _ in range(12):
        assert ok(alice.get("/changes", params={"limit": 1}))
    assert server.login("cab1")
    assert server.alive()


def test_second_outage(server, own_cluster):
    """Recovery is not a one-off."""
    alice = server.login("alice")
    own_cluster.stop()
    try:
        problem(alice.get("/me"), 503)
    finally:
        own_cluster.start()
    wait_for(lambda: alice.get("/me").status_code == 200, 30, "the API did not recover")


def late_server(own_cluster, server, wait):
    """A second server for the module's database and server key, not started,
    that waits `wait` seconds for the database at start."""
    late = Server(own_cluster, server.db, name=unique("late"),
                  extra_env={"CABINET_DB_WAIT": str(wait)})
    late.key_path = server.key_path
    late.users = dict(server.users)
    return late


def start_waiting(late, timeout):
    """Runs late.start() in a thread and returns once the process says it
    waits for the database: the thread and the list its error lands in."""
    errors = []

    def go():
        try:
            late.start(timeout=timeout)
        except AssertionError as e:
            errors.append(e)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    wait_for(lambda: late.proc is not None, 10, "the process did not start")
    wait_for(lambda: "waiting for the database" in late.stderr_text(), 30,
             "serve did not say it waits")
    return t, errors


def test_serve_waits_for_the_database_at_start(server, own_cluster):
    late = late_server(own_cluster, server, 120)
    own_cluster.stop()
    try:
        t, errors = start_waiting(late, 150)
        time.sleep(2)
        assert late.alive(), late.stderr_tail()
    finally:
        own_cluster.start()
    t.join(160)
    assert not t.is_alive() and not errors, errors or late.stderr_tail()
    wait_for(lambda: late.anon().get("/readyz", api=False).status_code == 200, 30,
             "the late server did not become ready")
    assert ok(late.login("alice").get("/me"))["user"]["email"] == server.users["alice"]["email"]
    finish_server(late)


def test_serve_gives_up_when_the_wait_is_over(server, own_cluster):
    late = late_server(own_cluster, server, 1)
    own_cluster.stop()
    try:
        t0 = time.monotonic()
        with pytest.raises(AssertionError, match="exited 1 at start"):
            late.start(timeout=60)
        assert time.monotonic() - t0 < 30
    finally:
        own_cluster.start()
    assert "is the database migrated and reachable?" in late.stderr_text()
    late.stop()


def test_a_signal_ends_the_wait(server, own_cluster):
    late = late_server(own_cluster, server, 600)
    own_cluster.stop()
    try:
        t, errors = start_waiting(late, 120)
        t0 = time.monotonic()
        late.proc.send_signal(signal.SIGTERM)
        t.join(60)
        assert time.monotonic() - t0 < 15
        assert errors and "exited 0 at start" in str(errors[0]), errors
    finally:
        own_cluster.start()
    assert "before the database could be reached" in late.stderr_text()
    assert late.stop() == []
