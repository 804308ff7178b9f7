"""Slow and greedy clients: headers have a deadline, each client may hold
only so many of the server's workers (CABINET_MAX_PER_CLIENT), counted by
its address, or through a trusted proxy (CABINET_TRUSTED_PROXIES) by the
address X-Forwarded-For names, and the counts never leak."""

import re
import socket
import threading
import time

import pytest

import rawhttp
from conftest import BIN, finish_server, run, start_server
from rawhttp import get, read_reply

# HTTP_BODY_DEADLINE_MS: a request's headers (and body) must arrive within it
DEADLINE = 5
CAP = 3


@pytest.fixture(scope="module")
def server(cluster):
    srv = start_server(cluster, "m_clients", users={"alice": ""},
                       extra_env={"CABINET_MAX_PER_CLIENT": str(CAP), "CABINET_THREADS": "12"})
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def behind(cluster):
    """A server behind proxies on 127.0.0.1, in 10.0.0.0/8, 172.16.0.0/12 and
    2001:db8::/32."""
    srv = start_server(cluster, "m_clients_behind", users={"alice": ""},
                       extra_env={"CABINET_MAX_PER_CLIENT": "2", "CABINET_THREADS": "12",
                                  "CABINET_TRUSTED_PROXIES":
                                      "127.0.0.1, 10.0.0.0/8,2001:db8::/32 ,172.16.0.0/12"})
    yield srv
    finish_server(srv)


def connect(srv, source="127.0.0.1", timeout=10):
    """A connection to srv from a loopback address of our choosing."""
    return rawhttp.connect(srv.port, source, timeout)


def kept(srv, source="127.0.0.1", extra=b""):
    """A kept-alive connection that has been served once: it now counts for
    its client until it closes."""
    s = connect(srv, source)
    r = get(s, extra=extra)
    assert r.status == 200 and not r.closed, (r.status, r.body)
    return s


def refused(r, client, what="connections"):
    """r is the 503 of a client over its share: Retry-After, the connection
    closed, the client named."""
    assert r.status == 503, (r.status, r.body)
    assert r.headers.get("retry-after") == "1", r.headers
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.closed, "the connection of a refused client stays open"
    detail = r.json()["detail"]
    assert detail.startswith(f"{client} has "), detail
    assert what in detail, detail


def close_all(socks):
    for s in socks:
        s.close()


def assert_exact_share(srv, source="127.0.0.1", timeout=15):
    """Exactly CAP connections of source are admitted at once: one fewer
    would mean a count leaked, one more that a count went missing. (Closes
    reach the server a moment after they are made: until they have, it
    may still refuse one of the CAP, and that is tried again.)"""
    deadline = time.monotonic() + timeout
    while True:
        socks = []
        try:
            for _ in range(CAP):
                socks.append(connect(srv, source))
                if get(socks[-1]).status != 200:
                    break
            else:
                with connect(srv, source) as extra:
                    refused(get(extra), source)
                return
        finally:
            close_all(socks)
        assert time.monotonic() < deadline, f"{source} is never admitted {CAP} times: a count leaked"
        time.sleep(0.2)


def eventually_refused(probe, client, what, timeout=5):
    """Sends probe() until the server refuses it (what was held reaches the
    server a moment after it is sent); checks the refusal."""
    deadline = time.monotonic() + timeout
    while True:
        r = probe()
        if r.status == 503:
            refused(r, client, what)
            return
        assert r.status == 200, (r.status, r.body)
        assert time.monotonic() < deadline, f"{client} was never held back"
        time.sleep(0.05)


# --- headers have the deadline ------------------------------------------------------


def trickle(srv, first=None, gap=1.0):
    """Sends request headers one byte every gap seconds (after a whole first
    request, when given, on the same connection); returns how long the
    server let that go on and the status it answered (None: it closed)."""
    data = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 60 + b"\r\n\r\n"
    with connect(srv, "127.0.0.4", timeout=30) as s:
        if first is not None:
            assert get(s).status == 200
        t0 = time.monotonic()
        s.settimeout(gap)
        for b in data:
            try:
                s.send(bytes([b]))
                got = s.recv(65536)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - t0, None
            m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
            return time.monotonic() - t0, int(m.group(1)) if m else None
        return time.monotonic() - t0, 200


def test_headers_sent_a_byte_a_second_are_cut_off_at_the_deadline(server):
    """CivetWeb times a request's headers from when a worker takes the
    connection (the first request) or from the end of the previous
    response (keep-alive_timeout_ms, now the same 5 s): a client that sends
    one byte a second is answered 400 and closed after 5 s, never served."""
    results = {}
    threads = [threading.Thread(target=lambda k=k, f=f: results.__setitem__(k, trickle(server, f)))
               for k, f in (("first", None), ("kept-alive", True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    for case, (took, status) in results.items():
        assert status in (400, None), (case, status)
        assert DEADLINE - 0.5 <= took <= DEADLINE + 2, (case, took)
    assert len(results) == 2


# --- a share of the workers per client ------------------------------------------------


def test_a_client_past_its_share_gets_503_and_is_closed(server):
    socks = [kept(server) for _ in range(CAP)]
    try:
        with connect(server) as extra:
            refused(get(extra), "127.0.0.1")
        # another client is not held back
        with connect(server, "127.0.0.2") as other:
            assert get(other).status == 200
        # a connection that closes gives its place back
        socks.pop().close()
        deadline = time.monotonic() + 5
        while True:
            s = connect(server)
            if get(s).status == 200:
                socks.append(s)
                break
            s.close()
            assert time.monotonic() < deadline, "a closed connection kept its place"
            time.sleep(0.05)
        with connect(server) as extra:
            refused(get(extra), "127.0.0.1")
        # requests on the connections it has go on being served
        for s in socks:
            assert get(s, "/api/v1/config").status == 200
    finally:
        close_all(socks)


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


def churn_one(srv, kind, source):
    """One connection that ends a particular way; returns the statuses it saw
    (503 is always possible: the churn runs several at once)."""
    statuses = []
    s = connect(srv, source, timeout=20)
    try:
        if kind == "close":
            statuses.append(get(s, extra=b"Connection: close\r\n").status)
        elif kind == "keep-alive":
            for _ in range(3):
                r = get(s)
                statuses.append(r.status)
                if r.closed:
                    break
        elif kind == "reset":
            statuses.append(get(s).status)
            rst_close(s)
        elif kind == "half-body":
            s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nContent-Length: 100\r\n\r\n{\"email\":")
            time.sleep(0.2)
        elif kind == "bad-framing":
            s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                      b"Content-Length: 3\r\n\r\n{}")
            statuses.append(read_reply(s).status)
        elif kind == "garbage":
            s.sendall(b"GARBAGE\r\n\r\n")
            statuses.append(read_reply(s).status)
        elif kind == "silent":
            pass
        elif kind == "over":
            more = []
            try:
                for _ in range(CAP + 1):
                    more.append(connect(srv, source, timeout=20))
                    r = get(more[-1])
                    statuses.append(r.status)
                    if r.status == 503:
                        break
            finally:
                close_all(more)
        elif kind == "stalled-body":
            s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nContent-Length: 100\r\n\r\n{")
            statuses.append(read_reply(s).status)  # 408 after the deadline, or 503
        elif kind == "idle":
            r = get(s)
            statuses.append(r.status)
            if r.status == 200:
                s.settimeout(DEADLINE + 5)
                assert s.recv(1) == b"", "an idle kept-alive connection was not closed"
    except (ConnectionResetError, BrokenPipeError):
        statuses.append("reset")
    finally:
        s.close()
    return statuses


def test_the_counts_never_leak(server):
    """Connections that end every way there is, many at once, from two
    clients; afterwards each client has exactly its share again."""
    kinds = ["close", "keep-alive", "reset", "half-body", "bad-framing", "garbage", "silent",
             "over"]
    plan = [(k, src) for src in ("127.0.0.1", "127.0.0.2") for k in kinds * 5]
    plan += [("stalled-body", "127.0.0.1"), ("idle", "127.0.0.2"), ("idle", "127.0.0.1")]
    seen, errors = [], []
    lock = threading.Lock()

    def worker(part):
        for kind, src in part:
            try:
                got = churn_one(server, kind, src)
            except Exception as e:  # reported below
                with lock:
                    errors.append((kind, src, repr(e)))
                continue
            with lock:
                seen.append((kind, got))

    threads = [threading.Thread(target=worker, args=(plan[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(seen) == len(plan)
    allowed = {200, 400, 408, 503, "reset"}
    assert all(set(got) <= allowed for _, got in seen), seen
    assert all(503 in got for kind, got in seen if kind == "over"), seen
    assert_exact_share(server, "127.0.0.1")
    assert_exact_share(server, "127.0.0.2")


# --- behind a trusted proxy ---------------------------------------------------------


def hold(srv, xff_lines):
    """A request from the proxy (127.0.0.1) whose body stalls, so that it
    holds a worker for its client until the socket closes."""
    s = connect(srv, timeout=20)
    s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + b"".join(b"X-Forwarded-For: " + x.encode() + b"\r\n" for x in xff_lines)
              + b"Content-Length: 100\r\n\r\n{")
    return s


def stalled(s, wait=0.5):
    """Whether the request on s is still waiting for its body (admitted),
    rather than answered (refused) within wait seconds."""
    s.settimeout(wait)
    try:
        s.recv(1)
        return False
    except socket.timeout:
        return True
    finally:
        s.settimeout(20)


def through_proxy(srv, xff_lines):
    with connect(srv) as s:
        return get(s, extra=b"".join(b"X-Forwarded-For: " + x.encode() + b"\r\n"
                                     for x in xff_lines))


# Which client a request from the proxy counts for: the X-Forwarded-For
# lines it carries, and the held client its 503 must name (None: another
# client, admitted).
FORWARDED = [
    (["203.0.113.5"], "203.0.113.5"),
    (["198.51.100.7, 203.0.113.5"], "203.0.113.5"),   # what a client wrote itself is ignored
    (["203.0.113.5, 10.1.2.3"], "203.0.113.5"),       # a trusted proxy's hop is skipped
    (["203.0.113.5", "10.1.2.3"], "203.0.113.5"),     # two lines are one list
    (["203.0.113.5:4711"], "203.0.113.5"),
    (["::ffff:203.0.113.5"], "203.0.113.5"),
    (["bogus, 203.0.113.5"], "203.0.113.5"),
    (["203.0.113.5, 172.31.255.254"], "203.0.113.5"),  # inside a /12
    (["203.0.113.5, 172.32.0.1"], None),               # just past it
    (["203.0.113.5, 11.0.0.1"], None),
    (["203.0.113.6"], None),
    (["203.0.113.5, 198.51.100.7"], None),            # the rightmost untrusted one is the client
    (["203.0.113.5, bogus"], None),                   # the walk ends there: the proxy's own
    ([], None),
    (["10.9.9.9"], "10.9.9.9"),                       # all trusted: the leftmost
    (["10.9.9.9, 10.200.0.1, 2001:db8::1"], "10.9.9.9"),
    (["10.9.9.8"], None),
    (["2001:db9::5"], "2001:db9::5"),
    (["[2001:db9::5]:443"], "2001:db9::5"),
    (["2001:db9::6"], None),
]


def test_behind_a_trusted_proxy_requests_count_for_the_forwarded_client(behind):
    holds = []
    try:
        for xff in (["203.0.113.5"], ["10.9.9.9, 10.0.0.1"], ["[2001:db9::5]:443, 2001:db8::7"]):
            holds += [hold(behind, xff), hold(behind, xff)]
        for client in ("203.0.113.5", "10.9.9.9", "2001:db9::5"):
            eventually_refused(lambda c=client: through_proxy(behind, [c]), client, "requests")
        for xff, client in FORWARDED:
            r = through_proxy(behind, xff)
            if client is None:
                assert r.status == 200, (xff, r.status, r.body)
            else:
                refused(r, client, "requests")
    finally:
        close_all(holds)
    # the stalled requests end (400: the body never came) and give their
    # places back: two can be held again, exactly two (while the server
    # has not yet seen every close, one of the two may still be refused,
    # and that is tried again)
    deadline = time.monotonic() + 15
    while True:
        held = [hold(behind, ["203.0.113.5"]) for _ in range(2)]
        try:
            if all(stalled(s) for s in held):
                eventually_refused(lambda: through_proxy(behind, ["203.0.113.5"]),
                                   "203.0.113.5", "requests")
                break
        finally:
            close_all(held)
        assert time.monotonic() < deadline, "the ended requests kept their places"
        time.sleep(0.2)


def test_a_peer_that_is_not_trusted_is_counted_by_itself(behind):
    """From 127.0.0.2, not a trusted proxy, X-Forwarded-For means nothing."""
    socks = [kept(behind, "127.0.0.2", b"X-Forwarded-For: 203.0.113.77\r\n") for _ in range(2)]
    try:
        with connect(behind, "127.0.0.2") as s:
            refused(get(s, extra=b"X-Forwarded-For: 203.0.113.78\r\n"), "127.0.0.2")
    finally:
        close_all(socks)


def test_through_a_proxy_only_requests_under_way_count(behind):
    """A proxy's idle kept-alive connections hold nothing for the client
    they last carried, and one connection carries many clients in turn."""
    idle = [kept(behind, "127.0.0.1", b"X-Forwarded-For: 198.51.100.9\r\n") for _ in range(2)]
    try:
        assert through_proxy(behind, ["198.51.100.9"]).status == 200
        s = idle[0]
        for i in range(6):
            r = get(s, extra=f"X-Forwarded-For: 198.51.100.{i % 3 + 9}\r\n".encode())
            assert r.status == 200 and not r.closed, (i, r.status, r.body)
    finally:
        close_all(idle)


@pytest.mark.parametrize("value", ["nonsense", "10.0.0.0/33", "::1/129", "10.0.0.0/", "/8",
                                   "10.0.0.1,,10.0.0.2", "10.0.0.1/8x", "[::1]", "127.0.0.1:80"])
def test_trusted_proxies_that_are_not_addresses_stop_the_start(value):
    cp = run([BIN, "serve"], env={"CABINET_TRUSTED_PROXIES": value}, check=False, timeout=30)
    assert cp.returncode == 2, (value, cp.returncode, cp.stderr)
    assert "CABINET_TRUSTED_PROXIES takes IP addresses and networks" in cp.stderr, cp.stderr


# --- the defaults ---------------------------------------------------------------------


def defaults():
    cp = run([BIN, "serve", "--help"], check=False)
    assert cp.returncode == 0, cp.stderr
    found = {}
    for line in cp.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith("CABINET_"):
            found[parts[0]] = parts[2]
    return found


def open_clients(srv, n_clients, each):
    """Each of n_clients opens `each` connections and sends a request on each
    (read nothing yet); returns the sockets, client by client."""
    socks = []
    for c in range(n_clients):
        for _ in range(each):
            s = connect(srv, f"127.0.0.{11 + c}", timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
    return socks


def answered_within(srv, source, seconds):
    try:
        with connect(srv, source, timeout=seconds) as s:
            return get(s).status
    except socket.timeout:
        return None


def test_a_handful_of_clients_cannot_take_every_worker_by_default(cluster):
    """With the defaults (256 workers, 16 each), five greedy clients leave
    most workers free: each is refused past 16 and a sixth is served at
    once. Without the share and with fewer workers, the same five starve it."""
    d = defaults()
    assert d["CABINET_THREADS"] == "256" and d["CABINET_MAX_PER_CLIENT"] == "16", d
    srv = start_server(cluster, "m_clients_defaults", users={"alice": ""},
                       extra_env={"CABINET_THREADS": d["CABINET_THREADS"],
                                  "CABINET_MAX_PER_CLIENT": d["CABINET_MAX_PER_CLIENT"]})
    try:
        socks = open_clients(srv, 5, 20)
        try:
            statuses = [read_reply(s).status for s in socks]
            for c in range(5):
                mine = statuses[c * 20:(c + 1) * 20]
                assert mine.count(200) == 16 and mine.count(503) == 4, (c, mine)
            assert answered_within(srv, "127.0.0.30", 2) == 200
        finally:
            close_all(socks)
    finally:
        finish_server(srv)
    starved = start_server(cluster, "m_clients_starved", users={"alice": ""},
                           extra_env={"CABINET_THREADS": "16", "CABINET_MAX_PER_CLIENT": "0"})
    try:
        socks = open_clients(starved, 5, 4)
        try:
            time.sleep(0.5)
            assert answered_within(starved, "127.0.0.30", 2) is None, \
                "sixteen workers and no share per client served a sixth client at once"
        finally:
            close_all(socks)
    finally:
        finish_server(starved)
