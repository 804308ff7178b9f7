"""The iCalendar feed streamed (README "Conflicts and the schedule"): a
large feed goes out with Transfer-Encoding: chunked as the rows are read,
parses whole, and leaves the connection usable; HEAD, HTTP/1.0, and errors
found before the first byte. Spoken by hand over sockets (rawhttp) to see
the framing, which a client library hides."""

import socket
import time
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

import rawhttp
from conftest import ok, problem, unique

FEED = "/api/v1/schedule.ics"
EVENTS = 3000


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def feed(server):
    """A feed token, a service of its own, and EVENTS approved changes on it
    within the feed's period, written straight into the tables (the
    workflow is not under test here), with a freeze."""
    name = unique("stream")
    ok(server.as_("admin").post("/services", json={"name": name, "title": name, "tier": 4,
                                                   "depends_on": []}), 201)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    server.psql(f"""
        WITH c AS (
            INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                                 gate_token)
            SELECT 'streamed change ' || g || ' — with a title long enough to fold, ünïcode',
                   'standard', 'approved',
                   tstzrange(timestamptz '{ts(now)}' + g * interval '20 minutes',
                             timestamptz '{ts(now)}' + g * interval '20 minutes'
                             + interval '1 hour'),
                   (SELECT min(id) FROM users), 'api', repeat('0', 64), '{name}-' || g
            FROM generate_series(1, {EVENTS}) g RETURNING id)
        INSERT INTO change_services (change_id, service) SELECT id, '{name}' FROM c;
    """, timeout=120)
    fz = ok(server.as_("manager").post("/freezes", json={
        "name": unique("fz"), "services": [name], "hard": True, "reason": "quiet",
        "window": {"start": ts(now + timedelta(days=2)), "end": ts(now + timedelta(days=3))}}),
        201)
    t = ok(server.as_("alice").post("/tokens", json={"name": "stream", "scope": "feed"}), 201)
    return {"token": t["token"], "service": name, "freeze": fz}


def head_of(s):
    """Reads a response's status line and headers; returns (status,
    headers, the bytes read past them)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before the headers: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, rest


class Stream:
    """Reads a chunked body (RFC 9112 §7.1) off a socket."""

    def __init__(self, s, buffered):
        self.s, self.buf = s, buffered

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def chunks(self):
        """Every data chunk, then stops after the last (zero) chunk and its
        empty trailer. EOFError when the connection ends before that."""
        out = []
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                assert self._line() == b"", "no trailer fields"
                return out
            self._need(size + 2)
            out.append(self.buf[:size])
            assert self.buf[size:size + 2] == b"\r\n"
            self.buf = self.buf[size + 2:]


def request(s, method, path, version=b"HTTP/1.1", extra=b""):
    s.sendall(method + b" " + path.encode() + b" " + version + b"\r\nHost: 127.0.0.1\r\n"
              + extra + b"\r\n")


def vevents(body):
    cal = icalendar.Calendar.from_ical(body)
    return [e for e in cal.walk("VEVENT")]


def test_a_large_feed_is_streamed_in_chunks_and_parses_whole(server, feed):
    path = f"{FEED}?token={feed['token']}&service={feed['service']}"
    s = rawhttp.connect(server.port, timeout=60)
    try:
        request(s, b"GET", path)
        status, headers, rest = head_of(s)
        assert status == 200
        assert headers.get("transfer-encoding") == "chunked", headers
        assert "content-length" not in headers, headers
        assert headers["content-type"].replace(" ", "") == "text/calendar;charset=utf-8"
        assert headers.get("cache-control") == "no-store"
        assert headers.get("x-content-type-options") == "nosniff"
        chunks = Stream(s, rest).chunks()
        body = b"".join(chunks)
        assert len(chunks) > 10, "sent as it is made, not in one piece"
        assert max(len(c) for c in chunks) < 64 * 1024
        assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
        events = vevents(body)
        assert len(events) == EVENTS + 1, "every change and the freeze"
        uids = {str(e["UID"]) for e in events}
        assert len(uids) == len(events)
        host = server.base.split("://", 1)[1]
        assert f"freeze-{feed['freeze']['id']}@{host}" in uids
        starts = [e["DTSTART"].dt for e in events if str(e["UID"]).startswith("change-")]
        assert starts == sorted(starts), "by window start"
        assert {str(e["STATUS"]) for e in events} == {"CONFIRMED"}
        # the connection stays open for the next request
        request(s, b"GET", "/healthz")
        r = rawhttp.read_reply(s)
        assert r.status == 200
    finally:
        s.close()


def test_the_streamed_feed_is_what_a_client_library_reads(server, feed):
    r = server.anon().get("/schedule.ics", params={"token": feed["token"],
                                                   "service": feed["service"]})
    assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
    s = rawhttp.connect(server.port, timeout=60)
    try:
        request(s, b"GET", f"{FEED}?token={feed['token']}&service={feed['service']}")
        _, _, rest = head_of(s)
        raw = b"".join(Stream(s, rest).chunks())
    finally:
        s.close()
    # DTSTAMP is the row's update time: the same on both reads
    assert r.content == raw


def test_head_sends_the_headers_only_and_keeps_the_connection(server, feed):
    s = rawhttp.connect(server.port, timeout=60)
    try:
        request(s, b"HEAD", f"{FEED}?token={feed['token']}")
        status, headers, rest = head_of(s)
        assert status == 200 and rest == b""
        assert headers.get("transfer-encoding") == "chunked"
        assert headers["content-type"].startswith("text/calendar")
        # no body follows: the next response is the next thing on the wire
        request(s, b"GET", "/healthz")
        r = rawhttp.read_reply(s)
        assert r.status == 200 and r.json()
    finally:
        s.close()


def test_an_http_1_0_client_gets_the_body_until_the_connection_closes(server, feed):
    s = rawhttp.connect(server.port, timeout=60)
    try:
        request(s, b"GET", f"{FEED}?token={feed['token']}&service={feed['service']}",
                version=b"HTTP/1.0")
        status, headers, body = head_of(s)
        assert status == 200
        assert "transfer-encoding" not in headers and "content-length" not in headers, headers
        assert headers.get("connection", "").lower() == "close"
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    finally:
        s.close()
    assert len(vevents(body)) == EVENTS + 1


def test_a_client_asking_to_close_gets_the_stream_then_the_close(server, feed):
    s = rawhttp.connect(server.port, timeout=60)
    try:
        request(s, b"GET", f"{FEED}?token={feed['token']}&service={feed['service']}",
                extra=b"Connection: close\r\n")
        status, headers, rest = head_of(s)
        assert status == 200 and headers.get("connection", "").lower() == "close"
        stream = Stream(s, rest)
        body = b"".join(stream.chunks())
        assert stream.buf == b"" and s.recv(1) == b"", "closed after the last chunk"
    finally:
        s.close()
    assert len(vevents(body)) == EVENTS + 1


def test_errors_found_before_the_first_byte_are_problems(server, feed):
    """The service is looked up and the query run before anything is sent,
    so a bad request still gets its status and problem document."""
    problem(server.anon().get("/schedule.ics", params={"token": feed["token"],
                                                       "service": "no-such-service"}),
            422, field="service")
    problem(server.anon().get("/schedule.ics", params={"token": "nope"}), 401)
    r = server.anon().get("/schedule.ics", params={"token": feed["token"], "mine": "maybe"})
    problem(r, 422, field="mine")
    assert "Transfer-Encoding" not in r.headers


def test_many_feeds_one_after_another_on_one_connection(server, feed):
    s = rawhttp.connect(server.port, timeout=60)
    try:
        for _ in range(3):
            request(s, b"GET", f"{FEED}?token={feed['token']}&service={feed['service']}")
            status, headers, rest = head_of(s)
            assert status == 200
            stream = Stream(s, rest)
            assert len(vevents(b"".join(stream.chunks()))) == EVENTS + 1
            assert stream.buf == b"", "nothing after the last chunk"
    finally:
        s.close()


def test_a_failure_mid_stream_cuts_the_body_short(server, feed):
    """The database connection is lost while the feed is being sent (the
    client reads slowly, so the server is held between batches): the
    status has gone out, so the server ends the connection without the
    last chunk, and the client sees a body cut short, never a whole one.
    The feed read is one of a service of its own with 30,000 events (some
    12 MB), far more than the sockets' buffers hold, so that the server is
    still reading it, not past its last batch, when its connection goes."""
    big = unique("big")
    ok(server.as_("admin").post("/services", json={"name": big, "title": big, "tier": 4,
                                                   "depends_on": []}), 201)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    server.psql(f"""
        WITH c AS (
            INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                                 gate_token)
            SELECT 'a change of a large feed ' || g, 'standard', 'approved',
                   tstzrange(timestamptz '{ts(now)}' + g * interval '4 minutes',
                             timestamptz '{ts(now)}' + g * interval '4 minutes'
                             + interval '1 hour'),
                   (SELECT min(id) FROM users), 'api', repeat('0', 64), '{big}-' || g
            FROM generate_series(1, 30000) g RETURNING id)
        INSERT INTO change_services (change_id, service) SELECT id, '{big}' FROM c;
    """, timeout=120)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", server.port))
    try:
        request(s, b"GET", f"{FEED}?token={feed['token']}&service={big}")
        status, headers, rest = head_of(s)
        assert status == 200 and headers.get("transfer-encoding") == "chunked"
        # the server's connection, inside the feed's transaction
        held = ""
        for _ in range(100):
            held = server.psql("SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
                               " WHERE query LIKE 'FETCH % FROM schedule_feed'"
                               " AND state = 'idle in transaction'")
            if held:
                break
            time.sleep(0.05)
        assert held, "the feed is still being read from the database"
        server.psql(f"SELECT pg_terminate_backend(pid) FROM unnest('{{{held}}}'::int[]) pid")
        with pytest.raises(EOFError):
            Stream(s, rest).chunks()
    finally:
        s.close()
    # the server goes on serving, and the feed comes whole again
    r = server.anon().get("/schedule.ics", params={"token": feed["token"],
                                                   "service": feed["service"]})
    assert r.status_code == 200 and len(vevents(r.content)) == EVENTS + 1
