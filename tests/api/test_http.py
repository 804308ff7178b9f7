"""Hostile and malformed HTTP: the server answers 4xx or closes the
connection, and never dies (each case runs against a live process; one
that kills it fails and the server is started again for the next)."""

import re
import socket

import pytest
import requests

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
