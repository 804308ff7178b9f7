"""Sessions and CSRF: a login always makes a new session id, whatever the
client brings (no fixation); the cookie's flags, Secure included behind
HTTPS; every cookie-authenticated write of the route table needs the
session's X-CSRF-Token (the route list is parsed from routes.c, so a new
write route is covered as soon as it exists).

Already in tests/api (not repeated here): HttpOnly, SameSite=Strict and
Path=/ on the login cookie, logout ending the session on the server, an
expired session, a wrong or another session's CSRF token, a bearer token
needing none (test_auth.py); a password change ending the other sessions
(test_ui_api.py)."""

import re

import pytest
import requests

from conftest import PASSWORD, finish_server, ok, problem, start_server
from routetable import ROUTES

COOKIE = "cabinet_session"


def login_raw(srv, name, cookie=None):
    h = {"Connection": "close", "Content-Type": "application/json"}
    if cookie:
        h["Cookie"] = f"{COOKIE}={cookie}"
    return requests.post(srv.url("/api/v1/session"), headers=h, timeout=20,
                         data='{"email":"%s","password":"%s"}' % (srv.users[name]["email"],
                                                                 PASSWORD))


def cookie_of(r):
    sc = r.headers.get("Set-Cookie", "")
    m = re.match(rf"{COOKIE}=([^;]*)", sc)
    assert m, sc
    return m.group(1), {a.split("=")[0].strip().lower(): (a.split("=", 1) + [""])[1].strip()
                        for a in sc.split(";")[1:]}


def me_with(srv, cookie):
    return requests.get(srv.url("/api/v1/me"), headers={"Cookie": f"{COOKIE}={cookie}",
                                                        "Connection": "close"}, timeout=20)


def test_a_cookie_chosen_before_login_is_never_adopted(server):
    chosen = "cs_" + "A" * 43
    r = login_raw(server, "alice", cookie=chosen)
    value, _ = cookie_of(ok(r) and r)
    assert value != chosen
    problem(me_with(server, chosen), 401)
    assert me_with(server, value).status_code == 200


def test_a_login_over_a_live_session_gets_a_new_id(server):
    first = server.login("alice")
    old = first.session_cookie
    r = login_raw(server, "alice", cookie=old)
    new, _ = cookie_of(ok(r) and r)
    assert new != old
    assert me_with(server, new).status_code == 200


def test_session_ids_are_long_random_and_distinct(server):
    ids = [cookie_of(login_raw(server, "bob"))[0] for _ in range(8)]
    assert len(set(ids)) == len(ids), ids
    for v in ids:
        # at least 128 bits: 32+ characters of a base64url or hex alphabet
        assert re.fullmatch(r"cs_[A-Za-z0-9_-]{32,}", v), v


def test_the_session_lasts_at_most_twelve_hours(server):
    _, attrs = cookie_of(login_raw(server, "bob"))
    assert 0 < int(attrs["max-age"]) <= 12 * 3600, attrs


@pytest.fixture(scope="module")
def https_server(cluster):
    srv = start_server(cluster, "m_sec_cookie_secure", users={"alice": ""},
                       extra_env={"CABINET_COOKIE_SECURE": "true"}, name="cookie-secure")
    yield srv
    finish_server(srv)


def test_behind_https_the_cookie_is_secure_on_login_and_logout(https_server):
    r = login_raw(https_server, "alice")
    value, attrs = cookie_of(ok(r) and r)
    assert "secure" in attrs and "httponly" in attrs and attrs["samesite"].lower() == "strict"
    csrf = r.json()["csrf_token"]
    out = requests.delete(https_server.url("/api/v1/session"), timeout=20, headers={
        "Cookie": f"{COOKIE}={value}", "X-CSRF-Token": csrf, "Connection": "close"})
    assert out.status_code in (200, 204), out.text
    gone, attrs = cookie_of(out)
    assert gone == "" and attrs.get("max-age") == "0", out.headers
    assert "secure" in attrs and "httponly" in attrs, out.headers


def test_the_logout_cookie_is_cleared_with_the_same_flags(server):
    c = server.login("bob")
    r = c.delete("/session")
    gone, attrs = cookie_of(r)
    assert gone == "" and attrs.get("max-age") == "0"
    assert "httponly" in attrs and attrs["samesite"].lower() == "strict", r.headers


# --- CSRF on every cookie-authenticated write ----------------------------------------

WRITES = [(m, p) for m, p, flags, _ in ROUTES
          if m != "GET" and "HTTP_PUBLIC" not in flags]


def fill(path):
    return re.sub(r"\{[a-z]+\}", "1", path)


@pytest.mark.parametrize("method,path", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_every_cookie_write_needs_the_csrf_token(server, method, path):
    """Without the header, and with a wrong one, the write is 403 before
    anything else is looked at (even for an admin, on any object)."""
    admin = server.as_("admin")
    for csrf in (False, "x" * len(admin.csrf)):
        r = admin.request(method, fill(path), api=False, csrf=csrf,
                          **({"json": {}} if method != "DELETE" else {}))
        body = problem(r, 403)
        assert "csrf" in (body.get("detail", "") + body.get("title", "")).lower(), body


def test_the_public_writes_are_the_login_and_the_hooks():
    public = sorted(f"{m} {p}" for m, p, flags, _ in ROUTES
                    if m != "GET" and "HTTP_PUBLIC" in flags)
    assert public == ["POST /api/v1/session", "POST /hooks/{key}"], public


def test_the_csrf_token_is_not_the_session_id(server):
    c = server.login("bob")
    assert c.csrf not in c.session_cookie and c.session_cookie not in c.csrf
