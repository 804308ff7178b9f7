"""Secrets are shown once: passwords, session ids, CSRF tokens, API
tokens, webhook secrets, integration secrets and link keys never appear in
the server's log, nor in any response after the one that created them —
not in lists, single reads, deliveries, the audit trail or a change's
timeline — and not even when the request that carries one fails with a 500.

Already in tests/api (not repeated): the session secret stored hashed and
the login password, a failed login's password, a token and a session id
kept out of the log (test_auth.py)."""

import base64
import json

import pytest
import requests

from conftest import PASSWORD, ok, unique, walk
from hooklinks import fixture, make_integration, send_generic, send_github, send_gitlab


@pytest.fixture(scope="module")
def secrets(server):
    admin, manager = server.as_("admin"), server.as_("manager")
    name = unique("svc")
    ok(admin.post("/services", json={"name": name, "title": name, "tier": 4}), 201)
    s = {"passwords": [], "tokens": [], "webhook": [], "integration": [], "keys": []}

    pw = "Sekrit-" + unique("pw")
    ok(admin.post("/users", json={"email": f"{unique('u')}@cabinet.test", "name": "Sec",
                                  "password": pw, "roles": []}), 201)
    s["passwords"].append(pw)
    full = ok(server.as_("alice").post("/tokens", json={"name": unique("t")}), 201)
    feed = ok(server.as_("alice").post("/tokens", json={"name": unique("t"), "scope": "feed"}),
              201)
    s["tokens"] += [full["token"], feed["token"]]
    hook = ok(manager.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["*"]}),
              201)
    s["webhook"].append(hook["secret"])
    links = {}
    for kind in ("generic", "github", "gitlab"):
        integ = make_integration(server, kind, services=[name])
        links[kind] = integ
        s["integration"].append(integ["secret"])
        s["keys"].append(integ["url"].rsplit("/", 1)[-1])
    rotated = ok(admin.post(f"/integrations/{links['generic']['id']}/rotate", json={}))
    assert rotated.get("secret") and rotated["secret"] != links["generic"]["secret"], rotated
    s["integration"].append(rotated["secret"])
    links["generic"] = dict(links["generic"], secret=rotated["secret"],
                            url=rotated.get("url") or links["generic"]["url"])
    s["keys"].append(links["generic"]["url"].rsplit("/", 1)[-1])

    # use each of them, rightly and wrongly
    ok(server.bearer(full["token"]).get("/me"))
    r = requests.get(server.url("/api/v1/schedule.ics"), params={"token": feed["token"]},
                     timeout=20, headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    requests.get(server.url("/api/v1/me"), timeout=20,
                 headers={"Authorization": f"Bearer {full['token']}x", "Connection": "close"})
    g = links["generic"]
    ch = ok(send_generic(g, {"title": unique("sec hook"), "services": [name]}), 201)
    send_generic(g, {"title": "bad"}, secret="whsec_" + base64.b64encode(b"k" * 24).decode())
    send_github(links["github"], "ping", {"zen": "hi", "hook_id": 1})
    send_gitlab(links["gitlab"], fixture("gitlab/deployment_hook.payload.json"))
    send_gitlab(links["gitlab"], {"object_kind": "deployment"}, token="wrong-token")
    s["hook_change"] = ch["change"]["id"]
    s["links"] = links
    s["webhook_id"] = hook["id"]
    s["login"] = server.login("bob")
    return s


def every_secret(s):
    out = []
    for k in ("passwords", "tokens", "webhook", "integration", "keys"):
        out += s[k]
    out += [s["login"].session_cookie, s["login"].csrf]
    out += [t[4:] for t in s["tokens"]]  # without a prefix too
    return [x for x in out if x]


def assert_no_secret(text, s, where):
    found = [x for x in every_secret(s) if x in text]
    assert not found, f"{where} shows {len(found)} secret(s), e.g. {found[0][:8]}…"


def reads(server, s):
    """Every read that could show a secret after its creation."""
    admin, manager = server.as_("admin"), server.as_("manager")
    iid = s["links"]["generic"]["id"]
    got = {
        "GET /tokens": server.as_("alice").get("/tokens").text,
        "GET /webhooks": manager.get("/webhooks").text,
        "GET /webhooks/{id}/deliveries": manager.get(f"/webhooks/{s['webhook_id']}/deliveries")
        .text,
        "GET /integrations": admin.get("/integrations").text,
        "GET /users": admin.get("/users", params={"limit": 200}).text,
        "GET /me": s["login"].get("/me").text,
        "GET /changes/{hook}": admin.get(f"/changes/{s['hook_change']}").text,
        "GET /changes/{hook}/timeline": admin.get(f"/changes/{s['hook_change']}/timeline").text,
        "GET /changes/{hook}/evidence": admin.get(f"/changes/{s['hook_change']}/evidence").text,
        "GET /me/activity (admin)": admin.get("/me/activity", params={"limit": 200}).text,
    }
    for kind, integ in s["links"].items():
        got[f"GET /integrations/{kind}"] = admin.get(f"/integrations/{integ['id']}").text
        got[f"GET /integrations/{kind}/deliveries"] = admin.get(
            f"/integrations/{integ['id']}/deliveries", params={"limit": 200}).text
    items, _ = walk(admin, "/audit", limit=200)
    got["GET /audit"] = json.dumps(items)
    return got


def test_no_response_after_creation_shows_a_secret(server, secrets):
    texts = reads(server, secrets)
    # /me returns the session's own CSRF token, by design (§4): the UI reads
    # it there after a reload; nothing else of the session
    me = texts.pop("GET /me")
    assert secrets["login"].csrf in me and secrets["login"].session_cookie not in me
    for where, text in texts.items():
        assert_no_secret(text, secrets, where)


def test_the_integration_reads_say_a_secret_exists_without_showing_it(server, secrets):
    integ = ok(server.as_("admin").get(f"/integrations/{secrets['links']['github']['id']}"))
    assert "secret" not in integ or integ["secret"] in (None, ""), integ
    assert "url" not in integ or integ["url"] in (None, ""), integ


def test_the_log_shows_no_secret(server, secrets):
    assert_no_secret(server.stderr_text(), secrets, "the server's log")


def test_a_hook_failing_with_500_does_not_log_its_link_key(server, secrets):
    """A 5xx is logged with its request line: for /hooks/{key} (and
    /gate/{token}) the route's pattern stands in for the credential."""
    key = secrets["keys"][0]
    gate = ok(server.as_("admin").get(f"/changes/{secrets['hook_change']}"))["gate_url"]
    before = len(server.stderr_text())
    server.psql("ALTER TABLE integrations RENAME TO integrations_gone")
    server.psql("ALTER TABLE changes RENAME TO changes_gone")
    try:
        r = send_generic(secrets["links"]["generic"], {"title": "x"})
        assert r.status_code == 500, r.text
        g = requests.get(gate, timeout=20, headers={"Connection": "close"})
        assert g.status_code == 500, g.text
        for text in (r.text, g.text):  # the client learns nothing of the cause
            assert "relation" not in text and "42P01" not in text and "SELECT" not in text, text
    finally:
        server.psql("ALTER TABLE changes_gone RENAME TO changes")
        server.psql("ALTER TABLE integrations_gone RENAME TO integrations")
    log = server.stderr_text()[before:]
    assert "/hooks/{key}" in log and "/gate/{token}" in log, log[-2000:]
    assert key not in log, log[-2000:]
    assert gate.rsplit("/", 1)[-1] not in log, log[-2000:]
    ok(server.as_("alice").get("/me"))


def test_a_password_is_never_echoed_in_a_refusal(server, secrets):
    pw = "Echo-" + unique("pw")
    r = server.as_("admin").post("/users", json={"email": "not-an-email", "name": "x",
                                                 "password": pw, "roles": ["nope"]})
    assert r.status_code == 422 and pw not in r.text, r.text
    r = server.anon().post("/session", json={"email": "x@cabinet.test", "password": pw})
    assert r.status_code == 401 and pw not in r.text
    r = server.as_("bob").post("/me/password", json={"current_password": pw,
                                                     "password": PASSWORD + "-new"})
    assert r.status_code in (401, 403, 422) and pw not in r.text, r.text
