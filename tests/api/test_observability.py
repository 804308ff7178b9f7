"""Observability (README "Monitoring"): /metrics before and after real
actions, X-Request-Id taken or made, the access log (JSON and text) and the
auth log, and the gauges of the data kept by tallies rather than counted.

Two servers of our own on one database each: one logging JSON, one text,
so that no other module's requests move the numbers."""

import concurrent.futures
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import PASSWORD, finish_server, ok, start_server, unique
from hooklinks import make_integration, send_generic
from hooks import Receiver, deliveries, wait_delivery

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def js(cluster):
    srv = start_server(cluster, "d_obs_json", extra_env={"CABINET_LOG_FORMAT": "json"},
                       name="obs-json")
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def txt(cluster):
    srv = start_server(cluster, "d_obs_text", name="obs-text")
    yield srv
    finish_server(srv)


def scrape(server):
    """Every sample of /metrics as {'name{labels}': value}; checks that each
    metric has HELP and TYPE lines and that counters end _total."""
    r = requests.get(server.url("/metrics"), timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    out, types = {}, {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
            assert name.startswith("cabinet_"), line
            assert kind != "counter" or name.endswith("_total"), line
        elif line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            base = key.split("{")[0]
            assert any(base == t or base.startswith(t + "_") for t in types), line
            out[key] = float(value)
    assert "# HELP cabinet_changes " in r.text
    return out


def delta(before, after, key):
    return after.get(key, 0.0) - before.get(key, 0.0)


def service(server):
    name = unique("obs")
    ok(server.as_("admin").post("/services", json={"name": name, "title": name, "tier": 4}), 201)
    return name


_day = iter(range(1, 10000))


def window():
    start = datetime(2090, 1, 1, tzinfo=timezone.utc) + timedelta(days=3 * next(_day))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {"start": start.strftime(fmt), "end": (start + timedelta(hours=2)).strftime(fmt)}


def new_change(server, svc, win, model="normal", submit=True):
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("obs change"), "services": [svc],
                                     "window": win, "model": model, "test_plan": "smoke",
                                     "backout_plan": "roll back", "business_impact": "low"}),
            201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
    return ch


def logged(server, since, *marks, timeout=5):
    """Waits (bounded) until the log from since holds every mark: a request's
    access line is written after its response is sent."""
    deadline = time.monotonic() + timeout
    while not all(m in server.stderr_text()[since:] for m in marks):
        assert time.monotonic() < deadline, f"not logged within {timeout} s: {marks}"
        time.sleep(0.05)


def log_lines(server, since=0):
    out = []
    for line in server.stderr_text()[since:].splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


# --- request ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me", "/", "/api/v1/nothing-here"])
def test_a_sound_request_id_is_echoed_and_a_missing_one_made(js, path):
    r = requests.get(js.url(path), timeout=10, headers={"X-Request-Id": "abc.DEF_1:2-3"})
    assert r.headers.get("X-Request-Id") == "abc.DEF_1:2-3", r.headers
    r = requests.get(js.url(path), timeout=10)
    assert HEX32.match(r.headers.get("X-Request-Id", "")), r.headers
    r2 = requests.get(js.url(path), timeout=10)
    assert r2.headers["X-Request-Id"] != r.headers["X-Request-Id"]


@pytest.mark.parametrize("bad", ["x" * 65, "a b", "a/b", "a\"b", "é", "a;b"])
def test_a_bad_request_id_is_replaced(js, bad):
    r = requests.get(js.url("/healthz"), timeout=10, headers={"X-Request-Id": bad.encode()})
    got = r.headers.get("X-Request-Id", "")
    assert HEX32.match(got), (bad, got)
    assert bad not in js.stderr_text()


def test_the_longest_request_id_is_taken(js):
    rid = "R" * 64
    r = requests.get(js.url("/healthz"), timeout=10, headers={"X-Request-Id": rid})
    assert r.headers["X-Request-Id"] == rid


# --- metrics --------------------------------------------------------------------------------


def test_requests_and_hooks_move_their_counters_exactly(js):
    alice = js.as_("alice")
    svc = service(js)
    integ = make_integration(js, "generic", services=[svc])
    before = scrape(js)
    for _ in range(3):
        ok(alice.get("/me"))
    r = send_generic(integ, {"title": "bad"}, secret="whsec_" + "A" * 32)
    assert r.status_code == 401, r.text
    ok(send_generic(integ, {"title": unique("obs hook"), "services": [svc]}), 201)
    after = scrape(js)
    key = 'cabinet_http_requests_total{method="GET",route="/api/v1/me",status="200"}'
    assert delta(before, after, key) == 3
    assert delta(before, after, 'cabinet_http_request_duration_seconds_count{method="GET",'
                                'route="/api/v1/me"}') == 3
    assert delta(before, after, 'cabinet_hook_refusals_total{reason="signature"}') == 1
    assert delta(before, after, 'cabinet_hook_accepted_total{tool="generic"}') == 1
    assert delta(before, after, 'cabinet_hook_accepted_total{tool="github"}') == 0
    assert delta(before, after, 'cabinet_http_requests_total{method="POST",route="/hooks/{key}",'
                                'status="401"}') == 1
    assert after["cabinet_db_pool_size"] == 4
    assert 0 <= after["cabinet_db_pool_in_use"] <= 4
    for kind in ("connection", "unique", "invalid", "retry", "timeout", "read_only", "other"):
        assert f'cabinet_db_errors_total{{kind="{kind}"}}' in after
    assert "cabinet_db_pool_waits_total" in after
    assert "cabinet_db_pool_wait_seconds_total" in after
    assert "cabinet_db_connect_failures_total" in after


def test_a_unique_key_refusal_counts_as_a_database_error(js):
    admin = js.as_("admin")
    name = unique("dup")
    ok(admin.post("/services", json={"name": name, "title": name, "tier": 4}), 201)
    before = scrape(js)
    r = admin.post("/services", json={"name": name, "title": name, "tier": 4})
    assert r.status_code == 409, r.text
    after = scrape(js)
    assert delta(before, after, 'cabinet_db_errors_total{kind="unique"}') == 1


def test_a_delivery_moves_attempts_latency_and_the_delivery_gauges(js):
    rx = Receiver("obs")
    try:
        hook = ok(js.as_("manager").post("/webhooks", json={"url": rx.url,
                                                            "events": ["change.created"]}), 201)
        before = scrape(js)
        new_change(js, service(js), window(), submit=False)
        wait_delivery(js, hook["id"], lambda d: d["state"] == "delivered", "the delivery")
        after = scrape(js)
    finally:
        rx.stop()
    got = deliveries(js, hook["id"])
    assert len(got) == 1 and got[0]["state"] == "delivered", got
    assert delta(before, after, 'cabinet_webhook_attempts_total{result="delivered"}') == 1
    assert delta(before, after, 'cabinet_webhook_attempts_total{result="failed"}') == 0
    assert delta(before, after, "cabinet_webhook_delivery_seconds_count") == 1
    assert delta(before, after, 'cabinet_webhook_delivery_seconds_bucket{le="+Inf"}') == 1
    assert delta(before, after, 'cabinet_webhook_deliveries{state="delivered"}') == 1
    assert after['cabinet_webhook_deliveries{state="pending"}'] == 0


def gauges_match_the_tables(server, m):
    counts = dict(line.split("|") for line in server.psql(
        "SELECT state, count(*) FROM changes GROUP BY 1").splitlines() if line)
    for state in ("draft", "awaiting_approval", "approved", "rejected", "in_progress", "review",
                  "closed", "cancelled"):
        assert m[f'cabinet_changes{{state="{state}"}}'] == int(counts.get(state, 0)), state
    for state in ("open", "acknowledged"):
        n = int(server.psql(f"SELECT count(*) FROM conflicts WHERE state = '{state}'"))
        assert m[f'cabinet_conflicts_open{{state="{state}"}}'] == n, state
    for state in ("pending", "dead", "delivered"):
        n = int(server.psql(f"SELECT count(*) FROM deliveries WHERE state = '{state}'"))
        assert m[f'cabinet_webhook_deliveries{{state="{state}"}}'] == n, state
    created, emergency = server.psql(
        "SELECT count(*), count(*) FILTER (WHERE m.kind = 'emergency') FROM changes c"
        " JOIN models m ON m.name = c.model WHERE (c.created_at AT TIME ZONE 'UTC')::date"
        " > (now() AT TIME ZONE 'UTC')::date - 30").split("|")
    assert m["cabinet_changes_created_30d"] == int(created)
    assert m["cabinet_changes_emergency_30d"] == int(emergency)
    share = int(emergency) / int(created) if int(created) else 0
    assert abs(m["cabinet_changes_emergency_share_30d"] - share) < 1e-6


def test_a_state_change_and_a_conflict_move_the_gauges(js):
    svc, win = service(js), window()
    before = scrape(js)
    a = new_change(js, svc, win, submit=False)
    mid = scrape(js)
    assert delta(before, mid, 'cabinet_changes{state="draft"}') == 1
    assert delta(before, mid, "cabinet_changes_created_30d") == 1
    a = ok(js.as_("alice").post(f"/changes/{a['id']}/submit"))
    new_change(js, svc, win)
    after = scrape(js)
    # a left draft; the second change was a draft only on its way to submitted
    assert delta(mid, after, 'cabinet_changes{state="draft"}') == -1
    assert delta(mid, after, f'cabinet_changes{{state="{a["state"]}"}}') >= 1
    assert delta(mid, after, 'cabinet_conflicts_open{state="open"}') == 1
    e = new_change(js, service(js), window(), model="emergency", submit=False)
    last = scrape(js)
    assert delta(after, last, "cabinet_changes_emergency_30d") == 1
    assert e["id"]
    gauges_match_the_tables(js, last)


def test_the_tallies_equal_the_counts_after_concurrent_transitions(js):
    """Many clients creating, submitting and cancelling at once: every
    tally ends equal to count(*) of its table."""
    svc = service(js)
    wins = [window() for _ in range(4)]

    def work(i):
        c = js.login("alice")
        ch = ok(c.post("/changes", json={"title": unique("obs conc"), "services": [svc],
                                         "window": wins[i % 4], "model": "normal",
                                         "test_plan": "t", "backout_plan": "b",
                                         "business_impact": "low"}), 201)
        if i % 3:
            ch = ok(c.post(f"/changes/{ch['id']}/submit"))
        if i % 3 == 2:
            ok(c.post(f"/changes/{ch['id']}/cancel", json={"reason": "not needed"}))
        return ch["id"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(24)))
    gauges_match_the_tables(js, scrape(js))


def test_the_scrape_reads_tallies_and_no_table_of_rows(js):
    """The statement /metrics runs for the data's gauges touches only the
    tallies: its plan names neither changes nor conflicts nor deliveries."""
    sql = open("server/db/db_tally.c").read()
    body = re.search(r'SQL_TALLY\[\] =\s*((?:"[^"]*"\s*)+);', sql).group(1)
    query = "".join(re.findall(r'"([^"]*)"', body))
    plan = js.psql("EXPLAIN " + query)
    assert "tallies" in plan, plan
    for table in ("changes", "conflicts", "deliveries"):
        assert not re.search(rf"\bon {table}\b", plan), plan


# --- the access log -------------------------------------------------------------------------


def test_access_lines_in_json_name_the_route_and_never_a_secret(js):
    svc = service(js)
    integ = make_integration(js, "generic", services=[svc])
    key = integ["url"].rsplit("/", 1)[-1]
    token = ok(js.as_("alice").post("/tokens", json={"name": unique("t")}), 201)
    since = len(js.stderr_text())
    ch = new_change(js, svc, window(), submit=False)
    gate = ok(js.as_("alice").get(f"/changes/{ch['id']}"))["gate_url"]
    requests.get(gate, timeout=10, headers={"X-Request-Id": "rid-gate"})
    send_generic(integ, {"title": "bad"}, secret="whsec_" + "A" * 32,
                 headers={"X-Request-Id": "rid-hook"})
    js.as_("alice").get(f"/changes/{ch['id']}?x=secretquery", headers={"X-Request-Id": "rid-s"})
    js.bearer(token["token"]).get("/me", headers={"X-Request-Id": "rid-token"})
    requests.get(js.url("/nowhere/" + key), timeout=10, headers={"X-Request-Id": "rid-none"})
    logged(js, since, *(f'"request_id":"rid-{n}"' for n in ("gate", "hook", "s", "token", "none")))
    lines = [o for o in log_lines(js, since) if o.get("event") == "access"]
    by_id = {o["request_id"]: o for o in lines}
    assert by_id["rid-hook"]["route"] == "/hooks/{key}"
    assert by_id["rid-hook"]["status"] == "401" and by_id["rid-hook"]["principal"] == "none"
    assert by_id["rid-hook"]["method"] == "POST"
    assert by_id["rid-gate"]["route"] == "/gate/{token}"
    assert by_id["rid-s"]["route"] == "/api/v1/changes/{id}"
    assert by_id["rid-s"]["principal"] == f"user:{js.users['alice']['id']}"
    assert by_id["rid-s"]["status"] == "400"  # an unknown query parameter
    assert by_id["rid-token"]["principal"] == f"token:{token['id']}"
    assert by_id["rid-token"]["status"] == "200"
    assert by_id["rid-none"]["route"] in ("static", "unmatched")
    for o in by_id.values():
        assert o["addr"] == "127.0.0.1" and float(o["ms"]) >= 0 and o["at"], o
    text = js.stderr_text()[since:]
    for secret in (key, gate.rsplit("/", 1)[-1], token["token"], "secretquery", PASSWORD):
        assert secret not in text


def test_access_lines_in_text(txt):
    ch = new_change(txt, service(txt), window(), submit=False)
    since = len(txt.stderr_text())
    ok(txt.as_("bob").get(f"/changes/{ch['id']}", headers={"X-Request-Id": "text-rid-1"}))
    logged(txt, since, "[text-rid-1] access")
    line = [ln for ln in txt.stderr_text()[since:].splitlines() if "[text-rid-1]" in ln]
    assert len(line) == 1, line
    assert re.search(r" info \[text-rid-1\] access method=GET route=/api/v1/changes/\{id\} "
                     rf"status=200 ms=[0-9.]+ principal=user:{txt.users['bob']['id']} "
                     r"addr=127\.0\.0\.1$", line[0]), line[0]


def test_the_access_log_can_be_turned_off(cluster):
    srv = start_server(cluster, "d_obs_quiet", users={"alice": ""}, name="obs-quiet",
                       extra_env={"CABINET_ACCESS_LOG": "false"})
    try:
        requests.get(srv.url("/healthz"), timeout=10, headers={"X-Request-Id": "quiet-1"})
        assert "quiet-1" not in srv.stderr_text() and " access " not in srv.stderr_text()
    finally:
        finish_server(srv)


# --- the auth log ---------------------------------------------------------------------------


def test_auth_lines_for_login_failure_throttle_logout_and_password(js):
    user = js.add_user(unique("au"))
    wrong = "Wrong-" + unique("pw")
    since = len(js.stderr_text())
    c = js.login(user["email"])
    new_pw = "New-" + unique("pw")
    ok(c.post("/me/password", json={"current_password": PASSWORD, "password": new_pw}), 204)
    c2 = js.login(user["email"], new_pw)
    ok(c2.delete("/session"), 204)
    for _ in range(5):
        r = requests.post(js.url("/api/v1/session"), timeout=10,
                          json={"email": user["email"].upper(), "password": wrong})
        assert r.status_code == 401, r.text
    r = requests.post(js.url("/api/v1/session"), timeout=10,
                      json={"email": user["email"].upper(), "password": wrong})
    assert r.status_code == 429, r.text
    lines = [o for o in log_lines(js, since) if o.get("event", "").startswith("auth.")]
    events = [o["event"] for o in lines]
    assert events.count("auth.login") == 2, events
    assert events.count("auth.login_failed") == 5, events
    assert events.count("auth.throttled") == 1, events
    assert events.count("auth.password_changed") == 1, events
    assert events.count("auth.logout") == 1, events
    for o in lines:
        assert o["addr"] == "127.0.0.1" and o.get("request_id"), o
        if o["event"] in ("auth.login_failed", "auth.throttled"):
            assert o["email"] == user["email"].upper(), o
        else:
            assert o.get("user_id") == str(user["id"]), o
    text = js.stderr_text()[since:]
    for secret in (wrong, new_pw, PASSWORD, c.session_cookie):
        assert secret not in text


def test_a_token_used_from_a_new_address_is_logged_once(js):
    token = ok(js.as_("alice").post("/tokens", json={"name": unique("t")}), 201)
    since = len(js.stderr_text())
    for _ in range(3):
        ok(js.bearer(token["token"]).get("/me"))
    lines = [o for o in log_lines(js, since) if o.get("event") == "auth.token_new_address"]
    assert len(lines) == 1, lines
    assert lines[0]["token_id"] == str(token["id"]) and lines[0]["addr"] == "127.0.0.1"
    assert lines[0]["user_id"] == str(js.users["alice"]["id"])
    js.psql(f"UPDATE api_token_addrs SET addr = '192.0.2.1' WHERE token_id = {token['id']}")
    ok(js.bearer(token["token"]).get("/me"))
    lines = [o for o in log_lines(js, since) if o.get("event") == "auth.token_new_address"]
    assert len(lines) == 2, lines
    assert token["token"] not in js.stderr_text()
