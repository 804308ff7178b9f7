"""Hostile and malformed HTTP: the server answers 4xx or closes the
connection, and never dies (each case runs against a live process; one
that kills it fails and the server is started again for the next)."""

import json
import re
import socket
import time

import pytest
import requests

from conftest import ok, page_items, problem, unique

# --- malformed HTTP ----------------------------------------------------------------


def raw_exchange(srv, data, timeout=15):
    """Send bytes as they are, close our side, return the status code of the
    answer (None when the server just closes the connection)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:  # the server may answer and close before reading it all
            pass
        got = b""
        try:
            while b"\r\n" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail(f"no answer and no close within {timeout} s: {data[:80]!r}")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return int(m.group(1)) if m else None


def authed_post(srv, extra_headers, body=b""):
    alice = srv.as_("alice")
    return (b"POST /api/v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Cookie: cabinet_session=" + alice.session_cookie.encode() + b"\r\n"
            b"X-CSRF-Token: " + alice.csrf.encode() + b"\r\n"
            b"Content-Type: application/json\r\n" + extra_headers + b"\r\n" + body)


MALFORMED = {
    "garbage": lambda s: b"GARBAGE\r\n\r\n",
    "no-version": lambda s: b"GET /api/v1/config\r\n\r\n",
    "bad-version": lambda s: b"GET /api/v1/config HTTP/9.9\r\nHost: x\r\n\r\n",
    "long-uri": lambda s: b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "long-header": lambda s: b"GET /api/v1/config HTTP/1.1\r\nX-Big: " + b"b" * 100000
                             + b"\r\n\r\n",
    "many-headers": lambda s: b"GET /api/v1/config HTTP/1.1\r\n"
                              + b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n",
    "bad-escape": lambda s: b"GET /api/v1/changes/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    "lone-percent": lambda s: b"GET /% HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-in-path": lambda s: b"GET /api/v1/con%00fig HTTP/1.1\r\nHost: x\r\n\r\n",
    "overlong-utf8": lambda s: b"GET /%c0%ae%c0%ae/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge-cookie": lambda s: b"GET /api/v1/me HTTP/1.1\r\nCookie: cabinet_session="
                             + b"c" * 60000 + b"\r\n\r\n",
    "empty-bearer": lambda s: b"GET /api/v1/me HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n",
    "huge-bearer": lambda s: b"GET /api/v1/me HTTP/1.1\r\nAuthorization: Bearer cab_"
                             + b"t" * 60000 + b"\r\n\r\n",
    "negative-length": lambda s: authed_post(s, b"Content-Length: -1\r\n", b"{}"),
    "text-length": lambda s: authed_post(s, b"Content-Length: abc\r\n", b"{}"),
    "huge-length": lambda s: authed_post(s, b"Content-Length: 99999999999999999999999\r\n",
                                         b"{}"),
    "two-lengths": lambda s: authed_post(s, b"Content-Length: 2\r\nContent-Length: 40\r\n",
                                         b"{}"),
    "short-body": lambda s: authed_post(s, b"Content-Length: 100\r\n", b'{"title":'),
    "bad-chunk": lambda s: authed_post(s, b"Transfer-Encoding: chunked\r\n",
                                       b"zz\r\n{}\r\n0\r\n\r\n"),
    "huge-chunk": lambda s: authed_post(s, b"Transfer-Encoding: chunked\r\n",
                                        b"fffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
    "deep-json": lambda s: authed_post(s, b"Content-Length: 200000\r\n",
                                       b"[" * 100000 + b"]" * 100000),
    "nested-1000": lambda s: authed_post(s, b"Content-Length: 2028\r\n",
                                         b'{"title":"x","description":' + b"[" * 1000
                                         + b"]" * 1000 + b"}"),
    "nested-login": lambda s: (b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\nContent-Length: 6000\r\n\r\n"
                               + b"[" * 3000 + b"]" * 3000),
    "deep-object": lambda s: authed_post(s, b"Content-Length: 150004\r\n",
                                         b'{"a":' * 30000 + b"1" + b"}" * 30000 + b"\x20" * 3),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_requests_are_refused_cleanly(server, name):
    data = MALFORMED[name](server)
    status = raw_exchange(server, data)
    try:
        alive = requests.get(server.url("/healthz"), timeout=10).status_code == 200
    except requests.RequestException:
        alive = False
    assert alive, f"the server stopped answering after the {name!r} request"
    assert status is None or 400 <= status < 500, (name, status)


HOSTILE_BODIES = {
    "lone-surrogate": b'{"title":"\\ud800"}',
    "huge-integer": b'{"title":"x","business_impact":123456789012345678901234567890}',
    "huge-exponent": b'{"title":"x","business_impact":1e999999}',
    "many-services": b'{"title":"x","services":[' + b",".join(b'"s%d"' % i
                                                              for i in range(20000)) + b"]}",
    "many-keys": b"{" + b",".join(b'"k%d":1' % i for i in range(20000)) + b"}",
    "long-key": b'{"' + b"k" * 200000 + b'":1}',
    "escaped-nul-key": b'{"ti\\u0000tle":"x"}',
    "trailing-garbage": b'{"title":"x"} {"title":"y"}',
    "bom": b'\xef\xbb\xbf{"title":"x"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_json_bodies(server, name):
    c = server.as_("alice")
    r = c.post("/changes", data=HOSTILE_BODIES[name], headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), (name, r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert server.anon().get("/healthz", api=False).status_code == 200


@pytest.mark.parametrize("params", [
    {"q": "x" * 8000}, {"limit": "99999999999999999999999"}, {"limit": "1e3"},
    {"cursor": "\u00e9" * 100}, {"from": "9999-12-31T23:59:59Z", "to": "0001-01-01T00:00:00Z"},
    {"state": "draft' OR '1'='1"}, {"q": "%_\\'\""}, {"service": "../../etc"},
])
def test_hostile_query_parameters(server, params):
    r = server.as_("alice").get("/changes", params=params)
    assert r.status_code in (200, 400, 414, 422), (params, r.status_code, r.text[:300])
    if r.status_code == 200:
        assert isinstance(r.json()["items"], list)
    assert server.anon().get("/healthz", api=False).status_code == 200


# --- message framing (RFC 9112 §6) -------------------------------------------------

# The server's body deadline (HTTP_BODY_DEADLINE_MS): a body must arrive
# within it; a stalled one is refused with 408 about this long after.
BODY_DEADLINE = 5


class Raw:
    """One connection spoken over by hand: requests written as bytes,
    responses read whole (by their Content-Length)."""

    def __init__(self, srv, timeout=BODY_DEADLINE + 10):
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def response(self):
        """(status, headers with lower-case names, body); None when the
        server closed the connection without answering."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed(self, wait=3):
        """Whether the server closes the connection within wait seconds
        (without sending anything more)."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b"" and not self.buf
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def post_head(srv, extra, path=b"/api/v1/changes", method=b"POST", who="alice"):
    c = srv.as_(who)
    return (method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Cookie: cabinet_session=" + c.session_cookie.encode() + b"\r\n"
            b"X-CSRF-Token: " + c.csrf.encode() + b"\r\n"
            b"Content-Type: application/json\r\n" + extra + b"\r\n")


def titled(srv, title):
    """The changes of this title, through the API."""
    body = ok(srv.as_("alice").get("/changes", params={"q": title, "limit": 200}))
    return [c for c in page_items(body) if c["title"] == title]


def change_body(title):
    return json.dumps({"title": title}).encode()


def test_a_stalled_body_is_408_and_nothing_is_stored(server):
    title = unique("stall")
    body = change_body(title)
    raw = Raw(server)
    try:
        started = time.monotonic()
        # 20 bytes more are declared than sent, then the client goes quiet
        raw.send(post_head(server, b"Content-Length: %d\r\n" % (len(body) + 20)) + body)
        got = raw.response()
        waited = time.monotonic() - started
        assert got is not None, "no answer to a stalled body"
        status, headers, text = got
        assert status == 408, (status, text)
        assert headers["content-type"].startswith("application/problem+json")
        assert json.loads(text)["status"] == 408
        assert headers.get("connection", "").lower() == "close"
        assert BODY_DEADLINE - 1 <= waited <= BODY_DEADLINE + 5, waited
        assert raw.closed(), "the connection stays open after 408"
    finally:
        raw.close()
    assert titled(server, title) == []


def test_a_stalled_chunked_body_is_408(server):
    title = unique("stall")
    body = change_body(title)
    raw = Raw(server)
    try:
        # one chunk of two, then nothing
        raw.send(post_head(server, b"Transfer-Encoding: chunked\r\n")
                 + b"%x\r\n%s\r\n" % (len(body), body))
        got = raw.response()
        assert got is not None and got[0] == 408, got
        assert raw.closed()
    finally:
        raw.close()
    assert titled(server, title) == []


def test_a_body_sent_slowly_but_whole_is_used(server):
    title = unique("slow")
    body = change_body(title)
    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Content-Length: %d\r\n" % len(body)) + body[:5])
        time.sleep(1)
        raw.send(body[5:])
        status, _, text = raw.response()
        assert status == 201, text
    finally:
        raw.close()
    assert len(titled(server, title)) == 1


@pytest.mark.parametrize("how", ["half-close", "close"])
def test_a_body_cut_short_by_the_client_stores_nothing(server, how):
    title = unique("cut")
    body = change_body(title)
    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Content-Length: %d\r\n" % (len(body) + 20)) + body)
        if how == "half-close":
            raw.sock.shutdown(socket.SHUT_WR)
            got = raw.response()
            assert got is not None and got[0] == 400, got
            assert raw.closed()
    finally:
        raw.close()
    time.sleep(0.5)
    assert titled(server, title) == []


def test_a_patch_cut_short_is_not_applied(server):
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("patch-stall")}), 201)
    patch = json.dumps({"title": "patched by half a body"}).encode()
    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Content-Length: %d\r\n" % (len(patch) + 10),
                           path=f"/api/v1/changes/{ch['id']}".encode(), method=b"PATCH") + patch)
        status, _, text = raw.response()
        assert status == 408, text
    finally:
        raw.close()
    after = ok(c.get(f"/changes/{ch['id']}"))
    assert after["title"] == ch["title"] and after["version"] == ch["version"]


SMUGGLING = {
    "te-then-cl": b"Transfer-Encoding: chunked\r\nContent-Length: %(n)d\r\n",
    "cl-then-te": b"Content-Length: %(n)d\r\nTransfer-Encoding: chunked\r\n",
    "te-and-zero-cl": b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
    "two-lengths": b"Content-Length: %(n)d\r\nContent-Length: %(m)d\r\n",
    "two-lengths-other-order": b"Content-Length: %(m)d\r\nContent-Length: %(n)d\r\n",
    "length-list": b"Content-Length: %(n)d, %(m)d\r\n",
    "length-list-in-two-lines": b"Content-Length: %(n)d, %(n)d\r\nContent-Length: %(m)d\r\n",
    "length-with-junk": b"Content-Length: %(n)dabc\r\n",
    "length-plus-sign": b"Content-Length: +%(n)d\r\n",
    "two-codings": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    "identity-coding": b"Transfer-Encoding: identity\r\nContent-Length: %(n)d\r\n",
}


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_ambiguous_framing_is_400_and_closes(server, name):
    title = unique("smuggle")
    body = change_body(title)
    n = len(body)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (n, body)
    extra = SMUGGLING[name] % {b"n": n, b"m": n + 7}
    # what follows the headers would be a whole body under either reading,
    # then a second request a smuggler hopes is read separately
    smuggled = (b"GET /api/v1/config HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = Raw(server)
    try:
        raw.send(post_head(server, extra) + (chunked if b"chunked" in extra else body) + smuggled)
        got = raw.response()
        assert got is not None
        status, headers, text = got
        assert status == 400, (status, text)
        assert headers["content-type"].startswith("application/problem+json"), headers
        assert headers.get("connection", "").lower() == "close"
        assert raw.closed(), "a second request would be read from this connection"
    finally:
        raw.close()
    assert titled(server, title) == []


def test_header_lines_past_what_the_server_keeps_are_refused(server):
    # CivetWeb keeps 64 header lines and drops the rest unseen, where a
    # second Content-Length could hide
    title = unique("hidden")
    body = change_body(title)
    def filler(n):
        return b"".join(b"X-Filler-%d: x\r\n" % i for i in range(n))

    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Content-Length: %d\r\n" % len(body) + filler(70)
                           + b"Content-Length: 1\r\n") + body)
        status, headers, _ = raw.response()
        assert status == 400 and headers.get("connection", "").lower() == "close"
        assert raw.closed()
    finally:
        raw.close()
    assert titled(server, title) == []
    # 50 lines are fine
    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Content-Length: %d\r\n" % len(body) + filler(50)) + body)
        assert raw.response()[0] == 201
    finally:
        raw.close()


@pytest.mark.parametrize("extra", [
    b"Content-Length: %(n)d\r\n",
    b"Content-Length: %(n)d, %(n)d\r\n",
    b"Content-Length: %(n)d\r\nContent-Length: %(n)d\r\n",
    b"content-length:  %(n)d \r\n",
])
def test_a_body_of_its_declared_length_works(server, extra):
    title = unique("framed")
    body = change_body(title)
    raw = Raw(server)
    try:
        raw.send(post_head(server, extra % {b"n": len(body)}) + body)
        status, _, text = raw.response()
        assert status == 201, text
        assert json.loads(text)["title"] == title
    finally:
        raw.close()
    assert len(titled(server, title)) == 1


def test_a_chunked_body_works(server):
    title = unique("chunked")
    body = change_body(title)
    raw = Raw(server)
    try:
        raw.send(post_head(server, b"Transfer-Encoding: chunked\r\n")
                 + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, body[:5], len(body) - 5, body[5:]))
        status, _, text = raw.response()
        assert status == 201, text
    finally:
        raw.close()
    assert len(titled(server, title)) == 1


def test_keep_alive_still_serves_request_after_request(server):
    titles = [unique("ka"), unique("ka")]
    raw = Raw(server)
    try:
        for t in titles:
            body = change_body(t)
            raw.send(post_head(server, b"Content-Length: %d\r\n" % len(body)) + body)
            status, headers, text = raw.response()
            assert status == 201, text
            assert headers.get("connection", "").lower() != "close"
        # two requests in one write (pipelined) are both answered, in order
        raw.send(b"GET /api/v1/config HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first, second = raw.response(), raw.response()
        assert first[0] == 200 and b"product" in first[2], first
        assert second[0] == 200 and b"ok" in second[2], second
        assert not raw.closed(wait=0.5)
    finally:
        raw.close()
    for t in titles:
        assert len(titled(server, t)) == 1


def test_a_get_with_a_bad_length_is_refused_too(server):
    raw = Raw(server)
    try:
        raw.send(b"GET /api/v1/config HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
        status, headers, _ = raw.response()
        assert status == 400 and headers.get("connection", "").lower() == "close"
        assert raw.closed()
    finally:
        raw.close()


# --- media types -------------------------------------------------------------------


@pytest.mark.parametrize("ctype", ["application/merge-patch+json",
                                   "application/merge-patch+json; charset=utf-8",
                                   "Application/Merge-Patch+JSON"])
def test_a_patch_may_be_a_merge_patch_document(server, ctype):
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("mp"), "description": "before"}), 201)
    r = c.patch(f"/changes/{ch['id']}", data=json.dumps({"description": None,
                                                        "test_plan": "run it"}),
                headers={"Content-Type": ctype})
    body = ok(r)
    assert body["description"] in (None, "") and body["test_plan"] == "run it"
    assert body["version"] == ch["version"] + 1


def test_merge_patch_is_for_patch_only(server):
    r = server.as_("alice").post("/changes", data=json.dumps({"title": unique("mp")}),
                                 headers={"Content-Type": "application/merge-patch+json"})
    problem(r, 415)


@pytest.mark.parametrize("ctype", ["application/merge-patch+jsonx", "application/json-patch+json",
                                   "text/plain"])
def test_other_patch_media_types_are_415(server, ctype):
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("mp")}), 201)
    problem(c.patch(f"/changes/{ch['id']}", data=json.dumps({"title": "x"}),
                    headers={"Content-Type": ctype}), 415)
    assert ok(c.get(f"/changes/{ch['id']}"))["title"] == ch["title"]


# --- query parameters --------------------------------------------------------------


@pytest.mark.parametrize("who,path,params,unknown", [
    ("alice", "/changes", {"stat": "draft"}, ["stat"]),
    ("alice", "/changes", {"state": "draft", "sevice": "x", "limt": "5"}, ["sevice", "limt"]),
    ("alice", "/changes/recent", {"service": "x", "hour": "5"}, ["hour"]),
    ("alice", "/services", {"page": "2"}, ["page"]),
    ("alice", "/services/nope", {"expand": "1"}, ["expand"]),
    ("alice", "/models", {"limit": "5"}, ["limit"]),
    ("alice", "/me", {"x": ""}, ["x"]),
    ("alice", "/tokens", {"cursor": "x"}, ["cursor"]),
    ("alice", "/freezes", {"form": "2030-01-01T00:00:00Z"}, ["form"]),
    ("alice", "/schedule", {"from": "2030-01-01T00:00:00Z", "until": "x"}, ["until"]),
    ("alice", "/conflicts", {"state": "open"}, ["state"]),
    ("manager", "/audit", {"before": "3"}, ["before"]),
    ("admin", "/users", {"role": "admin"}, ["role"]),
    ("alice", "/reports/summary", {"period": "week"}, ["period"]),
])
def test_unknown_query_parameters_are_400_naming_them(server, who, path, params, unknown):
    body = problem(server.as_(who).get(path, params=params), 400, fields=unknown)
    assert sorted(e["field"] for e in body["errors"]) == sorted(unknown)
    for e in body["errors"]:
        assert e["message"] == "is not a query parameter of this resource"


def test_an_unknown_parameter_of_a_write_is_refused_before_it_runs(server):
    title = unique("q")
    r = server.as_("alice").post("/changes?dry_run=1", json={"title": title})
    problem(r, 400, field="dry_run")
    assert titled(server, title) == []


def test_an_unknown_parameter_after_login_checks(server):
    # who may not call the route learns nothing more from a typo
    problem(server.anon().get("/changes", params={"stat": "draft"}), 401)
    problem(server.as_("alice").get("/users", params={"role": "admin"}), 403)


def test_a_parameter_without_a_value_or_with_odd_bytes_is_named(server):
    r = server.as_("alice").get("/changes?draft&q=x")
    problem(r, 400, field="draft")
    # names are matched as sent, as the handler reads them: an escaped
    # name is not the parameter it would decode to
    r = server.as_("alice").get("/changes?st%20ate=draft")
    problem(r, 400, field="st%20ate")
    r = server.as_("alice").get("/changes?%FF%00=1")
    problem(r, 400, field="%FF%00")


@pytest.mark.parametrize("who,path,params", [
    ("alice", "/changes", {"state": "draft", "model": "normal", "limit": "5", "q": "x",
                           "from": "2030-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"}),
    ("alice", "/changes", {"STATE": "draft"}),  # names ignore case, as the handler reads them
    ("alice", "/changes?q=x&&limit=2&", None),
    ("alice", "/services", {"limit": "2"}),
    ("alice", "/freezes", {"from": "2030-01-01T00:00:00Z", "limit": "3"}),
    ("alice", "/conflicts", {"open": "true"}),
    ("alice", "/schedule", {"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z"}),
    ("alice", "/cab/agenda", {"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z"}),
    ("alice", "/reports/summary", {"from": "2030-01-01T00:00:00Z",
                                   "to": "2030-02-01T00:00:00Z"}),
    ("alice", "/keys", {"limit": "1"}),
    ("alice", "/me/activity", {"limit": "1"}),
    ("manager", "/audit", {"after": "0", "limit": "1"}),
    ("admin", "/users", {"limit": "1"}),
])
def test_known_query_parameters_still_work(server, who, path, params):
    body = ok(server.as_(who).get(path, params=params))
    assert isinstance(body, dict)
