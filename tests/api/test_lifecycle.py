"""A graceful stop (README "Running in production" > "Stopping"): on SIGTERM
new connections are refused at once, the request and the webhook delivery
under way finish, an idle kept-alive connection does not hold the stop up,
and the process exits 0; what is still running after
CABINET_SHUTDOWN_SECONDS is cut off (one log line) and the process exits 1.

Each test has a server of its own, since each one stops it."""

import json
import signal
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import API, PASSWORD, finish_server, ok, sanitizer_findings, start_server, unique
from hooks import Receiver
from rawhttp import connect, read_reply

USERS = {"alice": "", "manager": "manager"}


def refused_now(port):
    """Whether a new connection to port is refused."""
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def login_request(srv, body):
    return (f"POST {API}/session HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()


def stopped(srv, timeout):
    """Waits (bounded) for the process to end; its status and how long it took."""
    t0 = time.monotonic()
    status = srv.proc.wait(timeout=timeout)
    return status, time.monotonic() - t0


def own(cluster, **env):
    return start_server(cluster, unique("life").replace("-", "_"), users=USERS,
                        extra_env={k: str(v) for k, v in env.items()})


def test_a_request_under_way_finishes_and_new_connections_are_refused(cluster):
    srv = own(cluster, CABINET_SHUTDOWN_SECONDS=8)
    try:
        # an idle kept-alive connection, whose request was answered before
        idle = connect(srv.port)
        idle.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
        assert read_reply(idle).status == 200
        body = json.dumps({"email": srv.users["alice"]["email"], "password": PASSWORD}).encode()
        slow = connect(srv.port)
        slow.sendall(login_request(srv, body) + body[:10])
        time.sleep(0.3)  # the request is in the server's hands, its body half sent
        srv.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        deadline = t0 + 3
        while not refused_now(srv.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        refused_after = time.monotonic() - t0
        assert srv.alive(), "exited with a request under way"
        slow.sendall(body[10:])
        reply = read_reply(slow)
        assert reply.status == 200, reply.body
        assert reply.json()["user"]["email"] == srv.users["alice"]["email"]
        assert reply.headers.get("connection", "").lower() == "close", reply.headers
        status, took = stopped(srv, 8)
        print(f"refused {refused_after:.2f} s after SIGTERM; exited {took:.2f} s after the reply")
        assert status == 0, srv.stderr_tail()
        # the idle connection did not hold the stop up for the bound
        assert time.monotonic() - t0 < 6
        assert idle.recv(1) == b""
        slow.close()
        idle.close()
    finally:
        finish_server(srv)


def test_a_delivery_under_way_finishes(cluster):
    rx = Receiver("slow-at-stop", answer=lambda rec, seen: (200, 3))
    srv = own(cluster, CABINET_SHUTDOWN_SECONDS=10, CABINET_WEBHOOK_TIMEOUT=10)
    try:
        w = ok(srv.as_("manager").post("/webhooks", json={"url": rx.url,
                                                           "events": ["change.created"]}), 201)
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        ok(srv.as_("alice").post("/changes", json={
            "title": unique("stop"),
            "window": {"start": start.strftime(fmt),
                       "end": (start + timedelta(hours=1)).strftime(fmt)}}), 201)
        rx.wait(lambda rs: rs[:1], "the delivery")
        srv.proc.send_signal(signal.SIGTERM)
        status, took = stopped(srv, 12)
        print(f"exited {took:.2f} s after SIGTERM, the receiver answering after 3 s")
        assert status == 0, srv.stderr_tail()
        assert took >= 2, "did not wait for the delivery"
        rows = srv.psql(f"SELECT state FROM deliveries WHERE webhook_id = {w['id']}")
        assert rows.splitlines() == ["delivered"], rows
    finally:
        rx.stop()
        finish_server(srv)


def test_a_request_that_never_ends_is_cut_at_the_bound(cluster):
    srv = own(cluster, CABINET_SHUTDOWN_SECONDS=2)
    try:
        stuck = connect(srv.port)
        # a body announced and never sent: the server waits for it
        stuck.sendall(login_request(srv, b"x" * 100))
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        status, took = stopped(srv, 10)
        print(f"exited {took:.2f} s after SIGTERM with CABINET_SHUTDOWN_SECONDS=2")
        assert status == 1, srv.stderr_tail()
        assert 1.8 <= took < 4, took
        text = srv.stderr_text()
        cut = [ln for ln in text.splitlines() if "cut off" in ln]
        assert len(cut) == 1, text
        assert "1 request and 0 webhook or mail deliveries" in cut[0], cut
        assert "CABINET_SHUTDOWN_SECONDS" in cut[0], cut
        assert not sanitizer_findings(text), text
        stuck.close()
    finally:
        if srv.alive():
            finish_server(srv)
        else:  # its exit status 1 was the point, and is checked above
            srv.proc = None
            srv._stderr.close()
