"""The database goes away and comes back while the server runs.

This module has a cluster of its own, since it stops it."""

import hashlib
import re
import select
import signal
import socket
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from conftest import (PASSWORD, Server, finish_server, migrated_cluster, ok, problem,
                      start_server, unique)


@pytest.fixture(scope="module")
def own_cluster():
    with migrated_cluster() as c:
        yield c


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


def unavailable(r):
    """Assert r is a 503 problem with a Retry-After of whole seconds; return
    the seconds."""
    problem(r, 503)
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and int(ra) >= 1, f"Retry-After {ra!r} on a 503"
    return int(ra)


def log_since(server, mark):
    """The lines the server logged after mark (a length of its stderr),
    but for the access and auth logs' (README "Monitoring")."""
    return [x for x in server.stderr_text()[mark:].splitlines()
            if not re.search(r"\] (access|auth\.[a-z_]+) ", x)]


def all_at_once(fn, n):
    """Runs fn() in n threads at once; returns their results (or exceptions)."""
    results = [None] * n
    start = threading.Barrier(n)

    def go(i):
        start.wait(10)
        try:
            results[i] = fn()
        except Exception as e:  # reported by the caller's assertion
            results[i] = e

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_database_outage_and_recovery(server, own_cluster):
    alice = server.login("alice")
    token = server.token_client("bob").token
    bob = server.bearer(token)
    before = ok(alice.post("/changes", json={"title": unique("before")}), 201)
    assert server.anon().get("/readyz", api=False).status_code == 200
    # every pooled connection open, so that each is stale after the outage
    assert all(getattr(r, "status_code", r) == 200
               for r in all_at_once(lambda: alice.get("/me"), 8))
    mark = len(server.stderr_text())
    lost_title = unique("during outage")

    own_cluster.stop()
    try:
        t0 = time.monotonic()
        # Liveness does not depend on the database; readiness does.
        assert server.anon().get("/healthz", api=False).status_code == 200
        unavailable(server.anon().get("/readyz", api=False))
        # Everything that needs the database: 503 problem+json with
        # Retry-After, quickly.
        unavailable(alice.get(f"/changes/{before['id']}"))
        unavailable(alice.get("/changes"))
        unavailable(alice.post("/changes", json={"title": lost_title}))
        unavailable(bob.get("/me"))
        unavailable(server.anon().post("/session", json={"email": server.users["cab1"]["email"],
                                                         "password": PASSWORD}))
        # 200 more requests, more than pooled connections, reads and writes
        waits = set()
        for i in range(200):
            r = (alice.get("/me") if i % 3 == 0 else
                 bob.get("/changes", params={"limit": 1}) if i % 3 == 1 else
                 alice.post("/changes", json={"title": lost_title}))
            waits.add(unavailable(r))
        # Retry-After is the time to the next attempt to connect, which
        # backs off to 5 s (CABINET_DB_BACKOFF_MAX_MS)
        assert max(waits) <= 5, waits
        assert server.anon().get("/metrics", api=False).status_code == 200
        assert server.anon().get("/config").status_code == 200
        assert time.monotonic() - t0 < 60, "answers during the outage were slow"
        assert server.alive()
    finally:
        own_cluster.start()

    # Back without restarting the server. A client that waits as long as
    # Retry-After says finds it working: the next attempt to connect is due.
    r = alice.get("/me")
    if r.status_code != 200:
        time.sleep(unavailable(r))
        r = alice.get("/me")
    assert ok(r)["user"]["id"] == server.users["alice"]["id"]
    wait_for(lambda: any("database available again" in line
                         for line in log_since(server, mark)), 15,
             "the server did not log that the database is back")
    # From then on nothing is refused: each pooled connection, stale since
    # the outage, is found lost before use and opened afresh.
    for _ in range(3):
        results = all_at_once(lambda: alice.get("/changes", params={"limit": 1}), 8)
        assert [getattr(r, "status_code", r) for r in results] == [200] * 8, results
    assert ok(alice.get(f"/changes/{before['id']}"))["id"] == before["id"]
    after = ok(alice.post("/changes", json={"title": unique("after")}), 201)
    assert after["id"] > before["id"]
    assert ok(bob.get("/me"))["user"]["id"] == server.users["bob"]["id"]
    assert ok(server.anon().get("/readyz", api=False)) is not None
    assert server.login("cab1")
    # no write refused during the outage was stored
    assert server.psql(f"SELECT count(*) FROM changes WHERE title = '{lost_title}'") == "0"
    assert server.alive()

    # The outage is in the log once when it starts and once when it ends,
    # not once per refused request (206 of them).
    lines = log_since(server, mark)
    assert len([x for x in lines if "database unavailable" in x]) == 1, lines
    assert len([x for x in lines if "database available again" in x]) == 1, lines
    assert len(lines) == 2, lines


def test_second_outage(server, own_cluster):
    """Recovery is not a one-off."""
    alice = server.login("alice")
    own_cluster.stop()
    try:
        unavailable(alice.get("/me"))
    finally:
        own_cluster.start()
    wait_for(lambda: alice.get("/me").status_code == 200, 30, "the API did not recover")


def test_a_connection_the_server_ended_is_reopened_before_use(server, own_cluster):
    """PostgreSQL ends every connection of the server's (as a restart does,
    but it stays up): the requests that come next, on each pooled connection,
    all succeed, and the log says so once."""
    alice = server.login("alice")
    assert all(getattr(r, "status_code", r) == 200
               for r in all_at_once(lambda: alice.get("/me"), 8))
    mark = len(server.stderr_text())
    ended = server.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        f" WHERE datname = '{server.db}' AND application_name = 'cabinet'")
    assert int(ended) >= 4, ended  # the pool's four, and the jobs'
    for _ in range(3):
        results = all_at_once(lambda: alice.get("/changes", params={"limit": 1}), 8)
        assert [getattr(r, "status_code", r) for r in results] == [200] * 8, results
    lines = log_since(server, mark)
    assert len(lines) <= 1 and all("was lost" in x for x in lines), lines


class CuttingProxy:
    """A TCP proxy in front of the cluster's Unix socket that cuts a
    connection the moment it carries given bytes, before passing them on:
    the database never sees that message, and the server finds its
    connection lost after it sent it — whether the database did the work is
    something the server cannot tell, as when a database goes away under a
    statement."""

    def __init__(self, socket_path):
        self.path = socket_path
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.on = self.after = None
        self.primed = set()
        self.cuts = 0
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, on, after=None):
        """Cut the first connection that sends `on` (after it sent `after`,
        when given), once."""
        with self.lock:
            self.on, self.after, self.primed = on, after, set()

    def close(self):
        self.stopping = True
        self.lsock.close()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(c,), daemon=True).start()

    def _cut(self, conn, data):
        with self.lock:
            if self.on is None:
                return False
            if self.after is not None and self.after in data:
                self.primed.add(conn)
            if self.on in data and (self.after is None or conn in self.primed):
                self.on = self.after = None
                self.cuts += 1
                return True
            return False

    def _pump(self, c):
        u = socket.socket(socket.AF_UNIX)
        try:
            u.connect(self.path)
            while not self.stopping:
                ready, _, _ = select.select([c, u], [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is c:
                        if self._cut(c, data):
                            return
                        u.sendall(data)
                    else:
                        c.sendall(data)
        except OSError:
            return
        finally:
            c.close()
            u.close()


@pytest.fixture(scope="module")
def cutter(own_cluster):
    p = CuttingProxy(str(own_cluster.dir / ".s.PGSQL.5432"))
    yield p
    p.close()


@pytest.fixture(scope="module")
def proxied(own_cluster, cutter):
    """A server reaching its database through the cutting proxy, with one
    pooled connection, so that every request uses the one the proxy cuts."""
    db = "m_resilience_cut"
    owner = parse_qs(urlparse(own_cluster.url(db)).query)["user"][0]
    url = f"postgresql://127.0.0.1:{cutter.port}/{db}?user={owner}&sslmode=disable"
    srv = start_server(own_cluster, db, extra_env={"CABINET_DATABASE_URL": url,
                                                   "CABINET_DB_POOL": "1"})
    yield srv
    own_cluster.start()
    finish_server(srv)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest().encode()


def count_titled(srv, title):
    return int(srv.psql(f"SELECT count(*) FROM changes WHERE title = '{title}'"))


def cut_once(cutter, before):
    assert cutter.cuts == before + 1, "the proxy cut nothing: the case did not happen"
    return cutter.cuts


def test_a_read_whose_connection_is_lost_runs_again(proxied, cutter):
    alice = proxied.login("alice")
    n = cutter.cuts
    # the session look-up (a read) carries the hash of the session token
    cutter.arm(on=sha256_hex(alice.session_cookie))
    assert ok(alice.get("/me"))["user"]["id"] == proxied.users["alice"]["id"]
    cut_once(cutter, n)
    assert ok(alice.get("/changes"))


def test_a_write_outside_a_transaction_is_never_sent_twice(proxied, cutter):
    """A comment is one statement on its own (an INSERT with its audit
    row): lost after it was sent, it may have been done, so it is not sent
    again as it was — the read-only try refuses it — and the request gets
    503."""
    alice = proxied.login("alice")
    ch = ok(alice.post("/changes", json={"title": unique("cut-comment")}), 201)
    body = unique("comment-lost")
    n = cutter.cuts
    cutter.arm(on=body.encode())
    unavailable(alice.post(f"/changes/{ch['id']}/comments", json={"body": body}))
    cut_once(cutter, n)
    # the one attempt never reached the database; the read-only try refused it
    stored = f"SELECT count(*) FROM comments WHERE body = '{body}'"
    assert int(proxied.psql(stored)) == 0
    ok(alice.post(f"/changes/{ch['id']}/comments", json={"body": body}), 201)
    assert int(proxied.psql(stored)) == 1


def keyed():
    return {"Idempotency-Key": unique("key")}


def test_a_transaction_lost_at_begin_runs_on_a_new_connection(proxied, cutter):
    alice = proxied.login("alice")
    title = unique("begin-lost")
    n = cutter.cuts
    cutter.arm(after=sha256_hex(alice.session_cookie), on=b"BEGIN\x00")
    # with a key, a create is a transaction (without, a single statement)
    ok(alice.post("/changes", json={"title": title}, headers=keyed()), 201)
    cut_once(cutter, n)
    assert count_titled(proxied, title) == 1


def test_a_transaction_lost_midway_is_503_and_stores_nothing(proxied, cutter):
    alice = proxied.login("alice")
    title = unique("midway-lost")
    n = cutter.cuts
    cutter.arm(on=title.encode())
    unavailable(alice.post("/changes", json={"title": title}))
    cut_once(cutter, n)
    assert count_titled(proxied, title) == 0
    ok(alice.post("/changes", json={"title": title}), 201)
    assert count_titled(proxied, title) == 1


def test_a_lost_commit_is_not_sent_again(proxied, cutter):
    """Whether a lost COMMIT committed cannot be known: 503, and the work is
    not done a second time (here the database never saw the COMMIT)."""
    alice = proxied.login("alice")
    title = unique("commit-lost")
    n = cutter.cuts
    cutter.arm(after=title.encode(), on=b"COMMIT\x00")
    unavailable(alice.post("/changes", json={"title": title}, headers=keyed()))
    cut_once(cutter, n)
    assert count_titled(proxied, title) == 0
    assert ok(alice.get("/me"))


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
    assert "within CABINET_DB_WAIT (1 s)" in late.stderr_text(), late.stderr_text()
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
