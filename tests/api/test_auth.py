"""Sessions, CSRF, the login throttle, /me, /config and API tokens."""

import hashlib
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from conftest import (PASSWORD, finish_server, ok, page_items, problem, start_server, unique,
                      walk)


def set_cookie(r):
    return r.headers.get("Set-Cookie", "")


def cookie_attrs(header):
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name, value, attrs


def count_changes(server, title):
    return int(server.psql(f"SELECT count(*) FROM changes WHERE title = '{title}'"))


# --- log in, log out, /me ------------------------------------------------------------


def test_login_sets_a_strict_http_only_cookie(server):
    c = server.anon()
    r = c.post("/session", json={"email": server.users["alice"]["email"], "password": PASSWORD})
    body = ok(r)
    name, value, attrs = cookie_attrs(set_cookie(r))
    assert name == "cabinet_session" and len(value) >= 32, set_cookie(r)
    assert "httponly" in attrs, set_cookie(r)
    assert attrs.get("samesite", "").lower() == "strict", set_cookie(r)
    assert attrs.get("path") == "/", set_cookie(r)
    user = body["user"]
    assert user["email"] == server.users["alice"]["email"]
    assert user["id"] == server.users["alice"]["id"]
    assert "requester" in user["roles"]
    for k in ("id", "email", "name", "roles", "disabled", "created_at", "updated_at"):
        assert k in user, user
    assert "password" not in r.text and "password_hash" not in r.text
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 16


def test_login_roles_are_reported(server):
    c = server.login("cab1")
    assert sorted(c.user["roles"]) == ["cab", "requester"]
    c = server.login("admin")
    assert "admin" in c.user["roles"] and "requester" in c.user["roles"]


def test_login_email_is_case_insensitive(server):
    c = server.anon()
    r = c.post("/session", json={"email": server.users["bob"]["email"].upper(),
                                 "password": PASSWORD})
    assert ok(r)["user"]["id"] == server.users["bob"]["id"]


def test_wrong_password_is_401(server):
    server.add_user("wrongpw")
    c = server.anon()
    r = c.post("/session", json={"email": server.users["wrongpw"]["email"],
                                 "password": "not-the-password"})
    problem(r, 401)
    assert "cabinet_session=" not in set_cookie(r) or "max-age=0" in set_cookie(r).lower()
    assert problem(c.get("/me"), 401)


def test_unknown_email_is_401(server):
    problem(server.anon().post("/session", json={"email": "nobody@cabinet.test",
                                                 "password": PASSWORD}), 401)


def test_login_body_must_be_json(server):
    c = server.anon()
    problem(c.post("/session", data=b"email=a&password=b",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    problem(c.post("/session", data=b"{not json", headers={"Content-Type": "application/json"}),
            400)


def test_me_without_session_is_401(server):
    r = server.anon().get("/me")
    problem(r, 401)
    # RFC 9110 §15.5.2: a 401 names the scheme to use.
    assert "bearer" in r.headers.get("WWW-Authenticate", "").lower(), r.headers


def test_wrong_email_and_wrong_password_look_the_same(server):
    unknown = problem(server.anon().post("/session", json={"email": "ghost@cabinet.test",
                                                           "password": PASSWORD}), 401)
    server.add_user("samey")
    wrong = problem(server.anon().post("/session", json={"email": server.users["samey"]["email"],
                                                         "password": "not-it-at-all"}), 401)
    assert unknown == wrong


def test_session_secret_is_not_stored_in_clear(server):
    c = server.login("alice")
    value = c.session_cookie
    uid = server.users["alice"]["id"]
    n = server.psql(f"SELECT count(*) FROM sessions s WHERE s.user_id = {uid} "
                    f"AND (s::text LIKE '%{value}%' OR encode(s.token_hash, 'escape') "
                    f"LIKE '%{value}%')")
    assert n == "0"


def test_secrets_never_reach_the_log(server):
    c = server.login("alice")
    t = ok(c.post("/tokens", json={"name": "log check"}), 201)
    server.anon().post("/session", json={"email": server.users["bob"]["email"],
                                         "password": "typo-in-the-password"})
    ok(server.bearer(t["token"]).get("/me"))
    log = server.stderr_text()
    assert PASSWORD not in log
    assert "typo-in-the-password" not in log
    assert t["token"] not in log and t["token"][4:] not in log
    assert c.session_cookie not in log and c.csrf not in log


def test_me_with_session(server):
    c = server.login("alice")
    body = ok(c.get("/me"))
    assert body["user"]["id"] == server.users["alice"]["id"]
    assert body["csrf_token"] == c.csrf


def test_garbage_cookie_is_401(server):
    c = server.anon()
    c.http.cookies.set("cabinet_session", "x" * 43, domain="127.0.0.1", path="/")
    problem(c.get("/me"), 401)


def test_logout_ends_the_session_on_the_server(server):
    c = server.login("alice")
    value = c.session_cookie
    assert value
    r = c.delete("/session")
    assert r.status_code == 204, r.text
    cleared = set_cookie(r).lower()
    assert "cabinet_session=" in cleared and ("max-age=0" in cleared or "expires=" in cleared)
    # The old cookie value, replayed, no longer works.
    replay = server.anon()
    r = replay.get("/me", headers={"Cookie": f"cabinet_session={value}"})
    problem(r, 401)


def test_expired_session_is_401(server):
    c = server.login("bob")
    assert ok(c.get("/me"))
    uid = server.users["bob"]["id"]
    server.psql(f"UPDATE sessions SET created_at = now() - interval '2 days', "
                f"expires_at = now() - interval '1 day' WHERE user_id = {uid}")
    problem(c.get("/me"), 401)


# --- CSRF --------------------------------------------------------------------------


def test_cookie_write_without_csrf_is_403(server):
    c = server.login("alice")
    title = unique("csrf-none")
    problem(c.post("/changes", json={"title": title}, csrf=False), 403)
    assert count_changes(server, title) == 0


def test_cookie_write_with_wrong_csrf_is_403(server):
    c = server.login("alice")
    title = unique("csrf-wrong")
    problem(c.post("/changes", json={"title": title}, csrf="0" * len(c.csrf)), 403)
    problem(c.post("/changes", json={"title": title}, csrf=c.csrf + "x"), 403)
    assert count_changes(server, title) == 0


def test_csrf_token_is_bound_to_its_session(server):
    one = server.login("alice")
    two = server.login("alice")
    assert one.csrf != two.csrf
    title = unique("csrf-other")
    problem(one.post("/changes", json={"title": title}, csrf=two.csrf), 403)
    assert count_changes(server, title) == 0


def test_cookie_write_with_csrf_is_accepted(server):
    c = server.login("alice")
    title = unique("csrf-ok")
    ok(c.post("/changes", json={"title": title}), 201)
    assert count_changes(server, title) == 1


def test_csrf_on_patch_and_delete(server):
    c = server.login("alice")
    ch = ok(c.post("/changes", json={"title": unique("csrf-patch")}), 201)
    problem(c.patch(f"/changes/{ch['id']}", json={"title": "changed"}, csrf=False), 403)
    assert ok(c.get(f"/changes/{ch['id']}"))["title"] == ch["title"]
    problem(c.delete("/session", csrf=False), 403)
    assert ok(c.get("/me"))  # still logged in


def test_reads_need_no_csrf(server):
    c = server.login("alice")
    c.csrf = None
    assert ok(c.get("/me"))


# --- login throttle ----------------------------------------------------------------------
# Failures are counted per account and client address: after five in 15 minutes
# the next attempt from that address waits 1 s, doubling with each further
# failure up to 15 minutes; another address is not held back.


class SourceAdapter(HTTPAdapter):
    """Connects from a given loopback address (127.0.0.2 is another client)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def attempt(server, email, password, source=None):
    if source is None:
        return server.anon().post("/session", json={"email": email, "password": password})
    http = requests.Session()
    http.mount("http://", SourceAdapter(source))
    try:
        return http.post(server.url("/api/v1/session"), json={"email": email, "password": password},
                         headers={"Connection": "close"}, timeout=20)
    finally:
        http.close()


def failures(server, email, addr="127.0.0.1"):
    return int(server.psql("SELECT count(*) FROM login_failures "
                           f"WHERE email = lower('{email}') AND addr = '{addr}'"))


def add_failures(server, email, n, addr="127.0.0.1"):
    server.psql("INSERT INTO login_failures (email, addr) "
                f"SELECT lower('{email}'), '{addr}' FROM generate_series(1, {n})")


def retry_after(r):
    problem(r, 429)
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit(), r.headers
    return int(ra)


def test_five_failures_then_a_short_wait(server):
    u = server.add_user("locked1")
    for _ in range(5):
        problem(attempt(server, u["email"], "wrong-password-!"), 401)
    assert failures(server, u["email"]) == 5
    # the latest failure as if just now: the sixth attempt waits 1 s
    server.psql(f"UPDATE login_failures SET at = now() WHERE email = lower('{u['email']}')")
    assert retry_after(attempt(server, u["email"], PASSWORD)) == 1
    # a refused attempt is not a failure: the count stays
    assert failures(server, u["email"]) == 5
    body = problem(attempt(server, u["email"].upper(), PASSWORD), 429)
    assert "address" in body["detail"], body


@pytest.mark.parametrize("n, wait", [(6, 2), (9, 16), (14, 512), (15, 900), (30, 900)])
def test_the_wait_doubles_up_to_fifteen_minutes(server, n, wait):
    u = server.add_user(unique("grow"))
    add_failures(server, u["email"], n)
    ra = retry_after(attempt(server, u["email"], PASSWORD))
    assert wait - 5 <= ra <= wait, (n, ra)


def test_once_the_wait_is_over_one_more_try(server):
    u = server.add_user("locked5")
    add_failures(server, u["email"], 6)
    problem(attempt(server, u["email"], PASSWORD), 429)
    # the latest failure 3 s ago: its 2 s are over
    server.psql("UPDATE login_failures SET at = now() - interval '3 seconds' "
                f"WHERE email = lower('{u['email']}')")
    problem(attempt(server, u["email"], "still-wrong-!!"), 401)
    # and that failure made the wait 4 s
    assert 3 <= retry_after(attempt(server, u["email"], PASSWORD)) <= 4


def test_another_address_is_not_held_back(server):
    u = server.add_user("locked2")
    add_failures(server, u["email"], 12)
    problem(attempt(server, u["email"], PASSWORD), 429)
    r = attempt(server, u["email"], PASSWORD, source="127.0.0.2")
    assert ok(r)["user"]["email"] == u["email"]
    # the other address's failures are counted under it
    problem(attempt(server, u["email"], "nope-nope-nope", source="127.0.0.2"), 401)
    assert failures(server, u["email"], "127.0.0.2") == 1
    # and its success left 127.0.0.1's count alone
    assert failures(server, u["email"]) == 12


def test_throttle_is_per_account(server):
    u = server.add_user("locked6")
    other = server.add_user("notlocked")
    add_failures(server, u["email"], 8)
    problem(attempt(server, u["email"], PASSWORD), 429)
    assert ok(attempt(server, other["email"], PASSWORD))


def test_failures_older_than_fifteen_minutes_are_forgotten(server):
    u = server.add_user("locked3")
    add_failures(server, u["email"], 20)
    problem(attempt(server, u["email"], PASSWORD), 429)
    server.psql("UPDATE login_failures SET at = at - interval '16 minutes' "
                f"WHERE lower(email) = lower('{u['email']}')")
    assert ok(attempt(server, u["email"], PASSWORD))


def test_four_failures_do_not_throttle(server):
    u = server.add_user("locked4")
    for _ in range(4):
        problem(attempt(server, u["email"], "nope-nope-nope"), 401)
    assert ok(attempt(server, u["email"], PASSWORD))


def test_a_success_resets_the_count(server):
    u = server.add_user("locked7")
    for _ in range(4):
        problem(attempt(server, u["email"], "nope-nope-nope"), 401)
    assert ok(attempt(server, u["email"], PASSWORD))
    assert failures(server, u["email"]) == 0
    for _ in range(4):
        problem(attempt(server, u["email"], "nope-nope-nope"), 401)
    assert ok(attempt(server, u["email"], PASSWORD))


def test_failures_and_throttles_are_logged_and_audited(server):
    u = server.add_user("logged1")
    problem(attempt(server, u["email"], "a-secret-guess-1"), 401)
    add_failures(server, u["email"], 6)
    problem(attempt(server, u["email"], "a-secret-guess-2"), 429)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = server.stderr_text()
        if f"auth.throttled email={u['email']} addr=127.0.0.1" in log:
            break
        time.sleep(0.2)
    assert f"auth.login_failed email={u['email']} addr=127.0.0.1" in log, server.stderr_tail()
    assert f"auth.throttled email={u['email']} addr=127.0.0.1" in log, server.stderr_tail()
    assert "a-secret-guess" not in log
    rows = server.psql_json(
        "SELECT json_agg(json_build_object('action', action, 'data', data) ORDER BY id)"
        f" FROM audit_log WHERE entity = 'session' AND entity_id = lower('{u['email']}')")
    actions = [r["action"] for r in rows]
    assert actions == ["session.login_failed", "session.login_throttled"], rows
    assert rows[0]["data"] == {"address": "127.0.0.1"}, rows
    assert rows[1]["data"]["address"] == "127.0.0.1" and rows[1]["data"]["retry_after"] >= 1


@pytest.fixture(scope="module")
def proxied(cluster):
    """A second server that trusts 127.0.0.1 as its reverse proxy."""
    srv = start_server(cluster, "m_auth_proxied", users={"behind": ""},
                       extra_env={"CABINET_TRUSTED_PROXIES": "127.0.0.1"})
    yield srv
    finish_server(srv)


def test_through_a_trusted_proxy_the_forwarded_client_is_counted(proxied):
    email = proxied.users["behind"]["email"]

    def via(addr, password):
        return proxied.anon().post("/session", json={"email": email, "password": password},
                                   headers={"X-Forwarded-For": addr})

    problem(via("198.51.100.7", "wrong-password-!"), 401)
    assert failures(proxied, email, "198.51.100.7") == 1
    assert failures(proxied, email) == 0
    add_failures(proxied, email, 11, addr="198.51.100.7")
    problem(via("198.51.100.7", PASSWORD), 429)
    # another client behind the same proxy, and the proxy itself, may log in
    assert ok(via("198.51.100.8", PASSWORD))
    assert ok(proxied.anon().post("/session", json={"email": email, "password": PASSWORD}))


def test_a_control_character_in_the_email_does_not_forge_a_log_line(server):
    problem(attempt(server, "x@y.z\nFAKE line", "whatever-12345"), 401)
    assert "\nFAKE line" not in server.stderr_text()


# --- /config, /me/activity --------------------------------------------------------------


def test_config_without_login(server):
    body = ok(server.anon().get("/config"))
    assert set(body) >= {"product", "version", "support_contact", "base_url"}
    assert body["base_url"] == server.base, body


def test_me_activity_lists_own_entries_newest_first(server):
    me = server.add_user("active")
    c = server.login("active")
    first = ok(c.post("/changes", json={"title": unique("act-1")}), 201)
    second = ok(c.post("/changes", json={"title": unique("act-2")}), 201)
    ok(c.patch(f"/changes/{first['id']}", json={"description": "edited"}))
    # Someone else's write must not appear.
    other = ok(server.as_("bob").post("/changes", json={"title": unique("bob")}), 201)
    body = ok(c.get("/me/activity"))
    items = page_items(body)
    assert len(items) >= 3, items
    actor = f"user:{me['id']}"
    assert all(e["actor"] == actor for e in items), items
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True), ids
    ats = [e["at"] for e in items]
    assert ats == sorted(ats, reverse=True), ats
    change_ids = [str(e["entity_id"]) for e in items]
    assert str(first["id"]) in change_ids and str(second["id"]) in change_ids
    assert str(other["id"]) not in change_ids
    # The newest entry is the edit.
    assert str(items[0]["entity_id"]) == str(first["id"]), items[0]
    # Paging gives the same entries.
    paged, pages = walk(c, "/me/activity", limit=1)
    assert [e["id"] for e in paged] == ids
    assert pages >= len(ids)


def test_me_activity_needs_login(server):
    problem(server.anon().get("/me/activity"), 401)


def test_me_activity_bad_cursor_is_400(server):
    problem(server.as_("alice").get("/me/activity", params={"cursor": "not a cursor!"}), 400)


# --- API tokens ------------------------------------------------------------------------------


def test_token_create_list_use_revoke(server):
    u = server.add_user("tokenuser")
    c = server.login("tokenuser")
    r = c.post("/tokens", json={"name": "ci pipeline"})
    t = ok(r, 201)
    assert set(t) >= {"id", "name", "scope", "token", "created_at"}, t
    assert t["name"] == "ci pipeline" and t["scope"] == "full"
    token = t["token"]
    assert token.startswith("cab_") and len(token) >= 36, token
    # Stored as its SHA-256, never in clear.
    stored = server.psql(f"SELECT encode(token_hash, 'hex') FROM api_tokens WHERE id = {t['id']}")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    # Listed without the token.
    r = c.get("/tokens")
    items = page_items(ok(r))
    mine = [i for i in items if i["id"] == t["id"]]
    assert len(mine) == 1 and "token" not in mine[0], items
    assert token not in r.text and token[4:] not in r.text
    # Used as a bearer token: no CSRF needed, source "api".
    b = server.bearer(token)
    me = ok(b.get("/me"))
    assert me["user"]["id"] == u["id"] and me["csrf_token"] is None
    ch = ok(b.post("/changes", json={"title": unique("by-token")}), 201)
    assert ch["source"] == "api" and ch["requester"]["id"] == u["id"]
    # Revoked: 401 from then on.
    assert c.delete(f"/tokens/{t['id']}").status_code == 204
    problem(b.get("/me"), 401)
    problem(b.post("/changes", json={"title": "after revoke"}), 401)


def test_web_session_changes_have_source_web(server):
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("web")}), 201)
    assert ch["source"] == "web"


def test_tokens_are_listed_only_to_their_owner(server):
    alice, bob = server.as_("alice"), server.as_("bob")
    t = ok(alice.post("/tokens", json={"name": unique("mine")}), 201)
    assert all(i["id"] != t["id"] for i in page_items(ok(bob.get("/tokens"))))
    r = bob.delete(f"/tokens/{t['id']}")
    assert r.status_code in (403, 404), r.text
    assert ok(server.bearer(t["token"]).get("/me"))["user"]["id"] == server.users["alice"]["id"]


def test_unknown_bearer_token_is_401(server):
    problem(server.bearer("cab_" + "A" * 43).get("/me"), 401)
    problem(server.bearer("not-even-a-token").get("/me"), 401)
    c = server.anon()
    problem(c.get("/me", headers={"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}), 401)


def test_feed_token_is_refused_by_the_api(server):
    t = ok(server.as_("alice").post("/tokens", json={"name": "calendar", "scope": "feed"}), 201)
    assert t["scope"] == "feed" and t["token"].startswith("cab_")
    b = server.bearer(t["token"])
    problem(b.get("/me"), 403)
    problem(b.get("/changes"), 403)
    problem(b.get("/services"), 403)
    title = unique("feed-write")
    problem(b.post("/changes", json={"title": title}), 403)
    assert count_changes(server, title) == 0


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "ok", "scope": "root"}, "scope"),
    ({"name": "ok", "expires": 3}, "expires"),
])
def test_token_validation(server, body, field):
    problem(server.as_("alice").post("/tokens", json=body), 422, field=field)


def test_every_fault_of_a_token_is_named_at_once(server):
    alice = server.as_("alice")
    before = ok(alice.get("/tokens"))
    problem(alice.post("/tokens", json={"scope": "root", "expires": 3}), 422,
            fields=["name", "scope", "expires"])
    assert ok(alice.get("/tokens")) == before


def test_every_fault_of_a_login_is_named_at_once(server):
    r = server.anon().post("/session", json={"password": 5, "remember": True})
    problem(r, 422, fields=["email", "password", "remember"])


def test_tokens_need_login(server):
    problem(server.anon().get("/tokens"), 401)
    problem(server.anon().post("/tokens", json={"name": "x"}), 401)


# --- disabled accounts ------------------------------------------------------------------------


def test_disabled_user_cannot_log_in_and_loses_access(server):
    u = server.add_user("tobedisabled")
    c = server.login("tobedisabled")
    t = ok(c.post("/tokens", json={"name": "t"}), 201)
    admin = server.as_("admin")
    body = ok(admin.patch(f"/users/{u['id']}", json={"disabled": True}))
    assert body["disabled"] is True
    r = attempt(server, u["email"], PASSWORD)
    assert r.status_code in (401, 403), r.text
    problem(r, r.status_code)
    problem(c.get("/me"), 401)
    problem(server.bearer(t["token"]).get("/me"), 401)
    ok(admin.patch(f"/users/{u['id']}", json={"disabled": False}))
    assert ok(attempt(server, u["email"], PASSWORD))


# --- token use is recorded off the request path ---------------------------------------------

def test_bearer_requests_do_not_write_and_use_is_recorded_once(server):
    import time
    t = ok(server.as_("alice").post("/tokens", json={"name": unique("use")}), 201)
    client, tid = server.bearer(t["token"]), t["id"]

    def versions():
        """Every token row's version: xmin moves with each write of a row."""
        return server.psql("SELECT string_agg(id || ':' || xmin, ',' ORDER BY id)"
                           " FROM api_tokens")

    ok(client.get("/me"))
    deadline = time.time() + 10
    used = None
    while time.time() < deadline:
        used = server.psql_json(f"SELECT to_json(last_used_at) FROM api_tokens WHERE id = {tid}")
        if used:
            break
        time.sleep(0.2)
    assert used, "the first use is recorded within seconds"
    time.sleep(2.5)  # past the recorder's next write
    before = versions()
    for _ in range(40):
        ok(client.get("/me"))
    time.sleep(3)  # past another write of the recorder
    assert versions() == before, "forty authenticated requests wrote no token row"
    assert server.psql_json(
        f"SELECT to_json(last_used_at) FROM api_tokens WHERE id = {tid}") == used


def test_an_admin_clears_the_failed_logins_of_an_account(server):
    u = server.add_user(unique("unlockme"))
    add_failures(server, u["email"], 9)
    add_failures(server, u["email"], 3, addr="127.0.0.2")
    problem(attempt(server, u["email"], PASSWORD), 429)
    # only admins, only accounts that exist
    problem(server.as_("manager").post(f"/users/{u['id']}/unlock"), 403)
    problem(server.as_("alice").post(f"/users/{u['id']}/unlock"), 403)
    problem(server.as_("admin").post("/users/987654321/unlock"), 404)
    problem(server.as_("admin").post("/users/nobody/unlock"), 404)
    assert failures(server, u["email"]) == 9
    body = ok(server.as_("admin").post(f"/users/{u['id']}/unlock"))
    assert body == {"user": u["id"], "cleared": 12}
    assert failures(server, u["email"]) == 0 and failures(server, u["email"], "127.0.0.2") == 0
    assert ok(attempt(server, u["email"], PASSWORD))["user"]["email"] == u["email"]
    entry = server.psql_json(
        "SELECT json_build_object('actor', actor, 'data', data) FROM audit_log "
        f"WHERE action = 'user.unlocked' AND entity = 'user' AND entity_id = '{u['id']}' "
        "ORDER BY id DESC LIMIT 1")
    assert entry["actor"] == f"user:{server.users['admin']['id']}", entry
    assert entry["data"] == {"failures_cleared": 12}
    # nothing left to clear: 0, and still an answer
    assert ok(server.as_("admin").post(f"/users/{u['id']}/unlock"))["cleared"] == 0
