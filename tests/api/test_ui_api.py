"""What the web UI leans on (README "API"): checking a create or an edit
without storing it (`?validate=only`), the caller's queue of decisions
(`/me/queue`), conditional GETs for polling (ETag, If-None-Match, 304), a
user's own password (`/me/password`), and the `change=` and `kind=` filters
of `/conflicts`."""

import base64
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from conftest import API, PASSWORD, WEB_ROOT, ok, problem, unique, walk

# --- helpers ---------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(days=10, hours=2):
    s = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days)
    return {"start": ts(s), "end": ts(s + timedelta(hours=hours))}


_region = itertools.count()


def region():
    """The start of a stretch of time far out that no other test here uses."""
    return datetime(2090, 1, 1, tzinfo=timezone.utc) + timedelta(days=20 * next(_region))


def b64(raw):
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(tier=3):
        name = unique(f"ui{tier}")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": tier}), 201)
        return name

    return make


def body_for(svc, tier=2, **over):
    b = {"title": unique("ui change"), "services": [svc(tier)], "window": window(),
         "test_plan": "smoke tests", "backout_plan": "roll back", "business_impact": "low"}
    b.update(over)
    return b


def new_change(server, svc, who="alice", submit=True, tier=2, **over):
    c = server.as_(who)
    ch = ok(c.post("/changes", json=body_for(svc, tier, **over)), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
    return ch


class Signer:
    """One registered key per user, made on first use."""

    def __init__(self, server):
        self.server = server
        self.keys = {}

    def decide(self, name, cid, decision="approve"):
        c = self.server.as_(name)
        if name not in self.keys:
            sk = SigningKey.generate()
            k = ok(c.post("/me/keys", json={"public_key": b64(sk.verify_key.encode()),
                                             "label": "ui tests"}), 201)
            self.keys[name] = (sk, k["id"])
        sk, kid = self.keys[name]
        ch = ok(c.get(f"/changes/{cid}"))
        at = ts(datetime.now(timezone.utc))
        st = (f"cabinet-approval-v1\n{ch['ref']}\n{ch['version']}\n{ch['content_hash']}\n"
              f"{decision}\n{at}")
        return c.post(f"/changes/{cid}/approvals", json={
            "decision": decision, "comment": f"{name}: {decision}", "key_id": kid,
            "signed_at": at, "signature": b64(sk.sign(st.encode()).signature)})


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


def queue(server, who, **params):
    return ok(server.as_(who).get("/me/queue", params=params))


def queue_ids(server, who):
    items, _ = walk(server.as_(who), "/me/queue", limit=200)
    return [i["id"] for i in items]


def counts(server):
    return (int(server.psql("SELECT count(*) FROM changes")),
            int(server.psql("SELECT count(*) FROM audit_log")),
            int(server.psql("SELECT count(*) FROM outbox")),
            int(server.psql("SELECT count(*) FROM idempotency_keys")))


# --- conditional GET -------------------------------------------------------------------


def test_a_change_answers_304_until_it_changes(server, svc, signer):
    ch = new_change(server, svc)
    c = server.as_("cab1")
    r = c.get(f"/changes/{ch['id']}")
    ok(r)
    tag = r.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"'), tag
    r2 = c.get(f"/changes/{ch['id']}", headers={"If-None-Match": tag})
    assert r2.status_code == 304, r2.text
    assert r2.content == b""
    assert r2.headers["ETag"] == tag
    assert "Content-Security-Policy" in r2.headers and "X-Frame-Options" in r2.headers
    ok(signer.decide("cab1", ch["id"]), 201)
    r3 = c.get(f"/changes/{ch['id']}", headers={"If-None-Match": tag})
    ok(r3)
    assert r3.headers["ETag"] != tag
    # an edit by the owner moves it again
    tag3 = r3.headers["ETag"]
    ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"title": unique("edited")}))
    r4 = c.get(f"/changes/{ch['id']}", headers={"If-None-Match": tag3})
    ok(r4)
    assert r4.headers["ETag"] not in (tag, tag3)


def test_if_none_match_lists_and_star(server, svc):
    ch = new_change(server, svc, submit=False)
    c = server.as_("bob")
    tag = c.get(f"/changes/{ch['id']}").headers["ETag"]
    weak = "W/" + tag
    for value, want in [(f'"nope", {tag}', 304), (f'{tag} , "x"', 304), ("*", 304),
                        (weak, 304), ('"nope", "other"', 200), ('W/"nope"', 200),
                        ("garbage", 200)]:
        r = c.get(f"/changes/{ch['id']}", headers={"If-None-Match": value})
        assert r.status_code == want, (value, r.status_code, r.text[:200])
        assert r.headers["ETag"] == tag


def test_lists_get_a_weak_etag_of_their_body(server, svc, signer):
    c = server.as_("cab2")
    r = ok_r = c.get("/cab/agenda")
    ok(ok_r)
    tag = r.headers["ETag"]
    assert tag.startswith('W/"') and len(tag) == len('W/""') + 32, tag
    assert c.get("/cab/agenda", headers={"If-None-Match": tag}).status_code == 304
    q = c.get("/me/queue")
    qtag = q.headers["ETag"]
    assert c.get("/me/queue", headers={"If-None-Match": qtag}).status_code == 304
    ch = new_change(server, svc)  # a new change awaiting approval
    r2 = c.get("/cab/agenda", headers={"If-None-Match": tag})
    ok(r2)
    assert r2.headers["ETag"] != tag
    q2 = c.get("/me/queue", headers={"If-None-Match": qtag})
    assert ok(q2)["count"] == ok(q)["count"] + 1
    qtag2 = q2.headers["ETag"]
    assert c.get("/me/queue", headers={"If-None-Match": qtag2}).status_code == 304
    ok(signer.decide("cab2", ch["id"]), 201)
    assert c.get("/me/queue", headers={"If-None-Match": qtag2}).status_code == 200


def test_errors_and_writes_have_no_conditional_answer(server):
    c = server.as_("bob")
    r = c.get("/changes/999999999", headers={"If-None-Match": "*"})
    problem(r, 404)
    assert "ETag" not in r.headers
    r = c.post("/tokens", json={"name": unique("t")}, headers={"If-None-Match": "*"})
    ok(r, 201)
    assert "ETag" not in r.headers


def test_static_files_answer_304(server):
    anon = server.anon()
    r = anon.get("/", api=False)
    assert r.status_code == 200 and r.content
    tag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "no-cache"
    r2 = anon.get("/", api=False, headers={"If-None-Match": tag})
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers["ETag"] == tag and r2.headers["Cache-Control"] == "no-cache"
    assert "Content-Security-Policy" in r2.headers
    assert anon.get("/", api=False, headers={"If-None-Match": '"other"'}).status_code == 200
    assert anon.get("/app.js", api=False).headers["ETag"] != tag
    assert (WEB_ROOT / "index.html").exists()


# --- /me/queue -------------------------------------------------------------------------


def test_queue_follows_the_decisions(server, svc, signer):
    ch = new_change(server, svc, tier=2)  # medium: two cab approvals
    assert ch["state"] == "awaiting_approval" and ch["required_approvals"]["needed"] == 2, ch
    cid = ch["id"]
    assert "approve" in ok(server.as_("cab1").get(f"/changes/{cid}"))["actions"]
    for who in ("cab1", "cab2", "cab3"):
        assert cid in queue_ids(server, who), who
    for who in ("alice", "bob", "ecab"):
        assert cid not in queue_ids(server, who), who
    before = queue(server, "cab2")["count"]
    ok(signer.decide("cab1", cid), 201)
    assert cid not in queue_ids(server, "cab1")
    assert cid in queue_ids(server, "cab2")
    ok(signer.decide("cab2", cid), 201)
    assert ok(server.as_("alice").get(f"/changes/{cid}"))["state"] == "approved"
    for who in ("cab1", "cab2", "cab3", "cab4"):
        assert cid not in queue_ids(server, who), who
    assert queue(server, "cab2")["count"] == before - 1


def test_queue_rows_are_compact_and_counted(server, svc):
    body = queue(server, "cab3", limit=1)
    assert set(body) == {"count", "items", "next_cursor"}, body
    assert body["count"] >= len(body["items"])
    if body["items"]:
        assert set(body["items"][0]) == {"id", "ref", "title", "state", "kind", "window",
                                         "services", "level", "conflict_count"}


def test_queue_pages_in_window_order(server, svc):
    base = region()
    made = []
    for h in (5, 1, 3):
        w = {"start": ts(base + timedelta(hours=h)), "end": ts(base + timedelta(hours=h + 1))}
        made.append(new_change(server, svc, who="bob", window=w)["id"])
    items, pages = walk(server.as_("cab4"), "/me/queue", limit=2)
    assert pages >= 2
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == queue(server, "cab4")["count"]
    starts = [i["window"]["start"] for i in items]
    assert starts == sorted(starts)
    mine = [i for i in ids if i in made]
    assert mine == [made[1], made[2], made[0]]


def test_queue_of_emergencies(server, svc, signer):
    ch = new_change(server, svc, model="emergency")
    assert ch["state"] == "awaiting_approval" and ch["kind"] == "emergency", ch
    assert ch["id"] in queue_ids(server, "ecab")
    assert ch["id"] not in queue_ids(server, "cab1")
    # started before approval: flagged, still awaiting the ECAB's decision
    ch2 = new_change(server, svc, model="emergency")
    out = ok(server.as_("manager").post(f"/changes/{ch2['id']}/start", json={
        "retrospective": True, "reason": "the site is down"}))
    assert out["state"] == "in_progress" and "unauthorized" in out["flags"], out
    assert "approve" in ok(server.as_("ecab").get(f"/changes/{ch2['id']}"))["actions"]
    assert ch2["id"] in queue_ids(server, "ecab")
    ok(signer.decide("ecab", ch2["id"]), 201)
    assert ch2["id"] not in queue_ids(server, "ecab")


def test_queue_of_a_requester_is_empty(server, svc):
    new_change(server, svc, who="alice")
    body = queue(server, "bob")
    assert body == {"count": 0, "items": [], "next_cursor": None}


@pytest.mark.parametrize("params,field", [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                          ({"cursor": "nope"}, "cursor")])
def test_queue_bad_paging(server, params, field):
    problem(server.as_("cab1").get("/me/queue", params=params), 422, field)


def test_queue_refuses_other_parameters(server):
    problem(server.as_("cab1").get("/me/queue", params={"from": "x"}), 400)


def test_queue_needs_login(server):
    problem(server.anon().get("/me/queue"), 401)


# --- /me/password ----------------------------------------------------------------------


def change_password(c, current, new, **kw):
    return c.post("/me/password", json={"current_password": current, "password": new}, **kw)


def test_own_password_change_ends_other_sessions(server):
    u = server.add_user(unique("pw"))
    name = u["email"]
    mine, other = server.login(name), server.login(name)
    ok(other.get("/me"))
    new = "a-new-password-" + unique("x")
    assert change_password(mine, PASSWORD, new).status_code == 204
    ok(mine.get("/me"))
    problem(other.get("/me"), 401)
    problem(server.anon().post("/session", json={"email": name, "password": PASSWORD}), 401)
    ok(server.anon().post("/session", json={"email": name, "password": new}))
    entry = server.psql_json(
        "SELECT row_to_json(a) FROM audit_log a WHERE action = 'user.password_changed'"
        f" AND entity_id = '{u['id']}'")
    assert entry["actor"] == f"user:{u['id']}" and entry["data"]["sessions_ended"] >= 1, entry


def test_own_password_refusals(server):
    u = server.add_user(unique("pw"))
    c = server.login(u["email"])
    problem(change_password(c, "not-my-password", "a-long-enough-one"), 422, "current_password")
    problem(change_password(c, PASSWORD, "short"), 422, "password")
    body = problem(change_password(c, "wrong-one-here", "short"), 422)
    assert {e["field"] for e in body["errors"]} == {"current_password", "password"}
    problem(c.post("/me/password", json={"password": "a-long-enough-one"}), 422,
            "current_password")
    problem(c.post("/me/password", json={"current_password": PASSWORD}), 422, "password")
    problem(c.post("/me/password", data="{", headers={"Content-Type": "application/json"}), 400)
    problem(c.post("/me/password", data="x", headers={"Content-Type": "text/plain"}), 415)
    problem(change_password(c, PASSWORD, "a-long-enough-one", csrf=False), 403)
    problem(change_password(server.anon(), PASSWORD, "a-long-enough-one"), 401)
    ok(c.get("/me"))  # nothing changed
    ok(server.anon().post("/session", json={"email": u["email"], "password": PASSWORD}))


def test_a_token_cannot_change_the_password(server):
    u = server.add_user(unique("pw"))
    server.login(u["email"])
    t = ok(server.login(u["email"]).post("/tokens", json={"name": "t"}), 201)["token"]
    problem(change_password(server.bearer(t), PASSWORD, "a-long-enough-one"), 403)


def test_wrong_current_passwords_count_as_failed_logins(server):
    u = server.add_user(unique("pw"))
    c = server.login(u["email"])
    for _ in range(5):
        problem(change_password(c, "wrong-password-!", "a-long-enough-one"), 422,
                "current_password")
    r = change_password(c, PASSWORD, "a-long-enough-one")
    problem(r, 429)
    assert r.headers.get("Retry-After", "").isdigit()
    problem(server.anon().post("/session", json={"email": u["email"], "password": PASSWORD}),
            429)


# --- /conflicts?change=&kind= ----------------------------------------------------------


def test_conflicts_of_one_change_and_of_a_kind(server, svc):
    base = region()
    s = svc(4)
    w = {"start": ts(base), "end": ts(base + timedelta(hours=2))}
    a = new_change(server, svc, who="alice", services=[s], window=w)
    b = new_change(server, svc, who="bob", services=[s], window=w)
    lone = new_change(server, svc, who="bob",
                      window={"start": ts(base + timedelta(days=3)),
                              "end": ts(base + timedelta(days=3, hours=1))})
    fz = ok(server.as_("manager").post("/freezes", json={
        "name": unique("fz"), "window": w, "services": [s], "hard": False,
        "reason": "ui tests"}), 201)
    c = server.as_("cab1")
    for ref in (a["id"], a["ref"], str(a["id"])):
        items, _ = walk(c, "/conflicts", params={"change": ref}, limit=1)
        kinds = sorted(k["kind"] for k in items)
        assert kinds == ["change", "freeze"], items
        assert all(a["ref"] in k["changes"] for k in items), items
    only, _ = walk(c, "/conflicts", params={"change": b["ref"], "kind": "change"})
    assert len(only) == 1 and set(only[0]["changes"]) == {a["ref"], b["ref"]}, only
    fr, _ = walk(c, "/conflicts", params={"change": b["id"], "kind": "freeze"})
    assert len(fr) == 1 and fr[0]["with"]["freeze"] == fz["id"], fr
    assert walk(c, "/conflicts", params={"change": lone["id"]})[0] == []
    every, _ = walk(c, "/conflicts", params={"kind": "freeze"}, limit=200)
    assert every and all(k["kind"] == "freeze" for k in every)
    opened, _ = walk(c, "/conflicts", params={"change": a["id"], "open": "true"})
    assert len(opened) == 2


@pytest.mark.parametrize("params,field", [
    ({"change": "CHG-x"}, "change"), ({"change": "-1"}, "change"), ({"change": ""}, "change"),
    ({"change": "999999999"}, "change"), ({"kind": "pair"}, "kind"), ({"kind": ""}, "kind"),
])
def test_conflicts_bad_filters(server, params, field):
    problem(server.as_("cab1").get("/conflicts", params=params), 422, field)


def test_conflicts_of_a_change_use_its_indexes(server):
    # with sequential scans priced out, a plan with none exists only when
    # indexes answer every part of the question
    plan = server.psql("SET enable_seqscan = off;"
                       " EXPLAIN SELECT * FROM change_conflict_records(42)")
    assert "Seq Scan" not in plan and "Index" in plan, plan


# --- ?validate=only --------------------------------------------------------------------


def stored(server):
    """What any write would move: the sequences of changes and events (moved
    even by an insert rolled back), and the audit and idempotency rows."""
    return server.psql(
        "SELECT (SELECT last_value || ':' || is_called FROM changes_id_seq)"
        " || '/' || (SELECT last_value || ':' || is_called FROM outbox_id_seq)"
        " || '/' || (SELECT count(*) FROM audit_log)"
        " || '/' || (SELECT count(*) FROM idempotency_keys)")


def raw_post(c, path, data, ctype="application/json", **kw):
    return c.post(path, data=data, headers={"Content-Type": ctype, **kw.pop("headers", {})},
                  **kw)


def test_validate_only_gives_the_problem_a_create_gives(server, svc):
    import json as jsonlib
    c = server.as_("alice")
    s1 = svc()
    good = body_for(svc)
    w = good["window"]
    bad = {
        "empty title": dict(good, title=""),
        "no title": {k: v for k, v in good.items() if k != "title"},
        "end before start": dict(good, window={"start": w["end"], "end": w["start"]}),
        "unknown model": dict(good, model=unique("nomodel")),
        "unknown service at 1": dict(good, services=[s1, unique("nosvc")]),
        "model and title": dict(good, model=unique("nomodel"), title=""),
        "services not a list": dict(good, services="x"),
        "bad impact": dict(good, business_impact="huge"),
    }
    raw = [(jsonlib.dumps(b), "application/json") for b in bad.values()]
    raw += [("{", "application/json"), ("[1]", "application/json"), ("{}", "text/plain"),
            ("{" + " " * (1 << 20) + "}", "application/json")]
    before = stored(server)
    checked = [raw_post(c, "/changes?validate=only", data, ctype) for data, ctype in raw]
    assert stored(server) == before
    for (data, ctype), v in zip(raw, checked):
        r = raw_post(c, "/changes", data, ctype)
        assert r.status_code in (400, 413, 415, 422), (data[:40], r.status_code, r.text)
        assert v.headers["Content-Type"].startswith("application/problem+json")
        assert (v.status_code, v.json()) == (r.status_code, r.json()), (data[:40], ctype)
    fields = {e["field"] for e in problem(
        raw_post(c, "/changes?validate=only", jsonlib.dumps(bad["unknown service at 1"])),
        422)["errors"]}
    assert fields == {"services[1]"}, fields
    assert {e["field"] for e in checked[list(bad).index("end before start")].json()["errors"]} \
        == {"window.end"}


def test_validate_only_of_a_good_body_stores_nothing(server, svc):
    c = server.as_("alice")
    body = body_for(svc, external_ref=unique("ext"))
    before = stored(server)
    r = c.post("/changes?validate=only", json=body, headers={"Idempotency-Key": unique("k")})
    assert ok(r) == {"valid": True}
    assert "Location" not in r.headers
    assert stored(server) == before
    ok(c.post("/changes", json=body), 201)


def test_validate_only_sees_what_a_store_would_refuse(server, svc):
    c = server.as_("alice")
    body = body_for(svc, external_ref=unique("ext"))
    ok(c.post("/changes", json=body), 201)
    again = dict(body, title=unique("again"))
    v = c.post("/changes?validate=only", json=again)
    r = c.post("/changes", json=again)
    problem(r, 409, "external_ref")
    assert (v.status_code, v.json()) == (409, r.json())
    key = unique("k")
    ok(c.post("/changes", json=body_for(svc), headers={"Idempotency-Key": key}), 201)
    other = body_for(svc)
    v = c.post("/changes?validate=only", json=other, headers={"Idempotency-Key": key})
    r = c.post("/changes", json=other, headers={"Idempotency-Key": key})
    problem(r, 422, "Idempotency-Key")
    assert v.json() == r.json()
    v = c.post("/changes?validate=only", json=body_for(svc), headers={"Idempotency-Key": ""})
    problem(v, 422, "Idempotency-Key")


@pytest.mark.parametrize("value", ["", "yes", "ONLY", "only,only"])
def test_validate_takes_only_only(server, svc, value):
    c = server.as_("alice")
    problem(c.post("/changes", json=body_for(svc), params={"validate": value}), 400, "validate")
    ch = new_change(server, svc, submit=False)
    problem(c.patch(f"/changes/{ch['id']}", json={"title": "x"}, params={"validate": value}),
            400, "validate")


def test_validate_only_of_an_edit(server, svc):
    owner = server.as_("alice")
    ch = new_change(server, svc, submit=False)
    path = f"/changes/{ch['id']}"
    r0 = owner.get(path)
    tag = r0.headers["ETag"]
    cases = [
        (owner, {"title": ""}, {}),                                   # 422 title
        (owner, {"model": None}, {}),                                 # 422 model
        (owner, {"services": [unique("nosvc")]}, {}),                 # 422 services[0]
        (owner, {"window": {"start": "2090-01-02T00:00:00Z",
                            "end": "2090-01-01T00:00:00Z"}}, {}),     # 422 window
        (owner, {"title": "fine"}, {"If-Match": '"0"'}),              # 412
        (server.as_("bob"), {"title": "fine"}, {}),                   # 403
    ]
    before = stored(server)
    checked = [cl.patch(path + "?validate=only", json=patch, headers=headers)
               for cl, patch, headers in cases]
    v = owner.patch(path + "?validate=only", data="{",
                    headers={"Content-Type": "application/merge-patch+json"})
    problem(v, 400)
    assert stored(server) == before
    for (cl, patch, headers), v in zip(cases, checked):
        r = cl.patch(path, json=patch, headers=headers)
        assert r.status_code in (403, 412, 422), (patch, r.status_code, r.text)
        assert (v.status_code, v.json()) == (r.status_code, r.json()), patch
    before = stored(server)
    good = owner.patch(path + "?validate=only", json={"title": unique("new")},
                       headers={"If-Match": tag})
    assert ok(good) == {"valid": True}
    assert "ETag" not in good.headers
    after = owner.get(path)
    assert after.headers["ETag"] == tag and ok(after)["version"] == ch["version"]
    assert stored(server) == before
    problem(server.as_("bob").patch("/changes/999999999?validate=only", json={}), 404)


def test_validate_only_of_an_edit_in_a_later_state(server, svc):
    owner = server.as_("alice")
    ch = new_change(server, svc, model="emergency", submit=True)
    out = ok(server.as_("manager").post(f"/changes/{ch['id']}/start", json={
        "retrospective": True, "reason": "validate test"}))
    assert out["state"] == "in_progress"
    v = owner.patch(f"/changes/{ch['id']}?validate=only", json={"title": "late"})
    r = owner.patch(f"/changes/{ch['id']}", json={"title": "late"})
    problem(r, 409)
    assert v.json() == r.json()


def test_an_edit_to_a_taken_external_ref_names_it(server, svc):
    c = server.as_("alice")
    ref = unique("ext")
    ok(c.post("/changes", json=body_for(svc, external_ref=ref)), 201)
    own = ok(c.post("/changes", json=body_for(svc, external_ref=unique("ext"))), 201)
    path = f"/changes/{own['id']}"
    v = c.patch(path + "?validate=only", json={"external_ref": ref})
    r = c.patch(path, json={"external_ref": ref})
    problem(r, 409, "external_ref")
    assert v.json() == r.json()
    # its own reference is not taken by itself
    assert ok(c.patch(path + "?validate=only", json={"title": "same ref"})) == {"valid": True}


# --- compact list rows, the service search ---------------------------------------------

ROW_KEYS = {"id", "ref", "title", "state", "kind", "window", "services", "level",
            "conflict_count", "model", "flags", "requester", "mine", "updated_at"}


def test_changes_as_rows_are_the_same_page_compactly(server, svc):
    made = [new_change(server, svc, who="bob", submit=i % 2 == 0) for i in range(3)]
    bob = server.as_("bob")
    whole = ok(bob.get("/changes", params={"requester": "bob@cabinet.test", "limit": 2}))
    rows = ok(bob.get("/changes", params={"requester": "bob@cabinet.test", "limit": 2,
                                          "view": "rows"}))
    assert [r["id"] for r in rows["items"]] == [d["id"] for d in whole["items"]]
    assert rows["next_cursor"] == whole["next_cursor"] is not None
    for r, d in zip(rows["items"], whole["items"]):
        assert set(r) == ROW_KEYS, set(r) ^ ROW_KEYS
        assert (r["ref"], r["title"], r["state"], r["model"], r["window"], r["services"],
                r["flags"]) == (d["ref"], d["title"], d["state"], d["model"], d["window"],
                                sorted(d["services"]), d["flags"])
        assert r["level"] == (d["assessment"] or {}).get("level")
        assert r["conflict_count"] == d["conflict_summary"]["open"] + \
            d["conflict_summary"]["acknowledged"]
        assert r["requester"]["email"] == "bob@cabinet.test" and r["mine"] is True
        assert r["updated_at"] == d["updated_at"]
    # the next page follows the same cursor
    more = ok(bob.get("/changes", params={"requester": "bob@cabinet.test", "limit": 2,
                                          "view": "rows", "cursor": rows["next_cursor"]}))
    assert more["items"] and more["items"][0]["id"] < rows["items"][-1]["id"]
    # another viewer sees the same rows, not as theirs
    alice = ok(server.as_("alice").get("/changes", params={"requester": "bob@cabinet.test",
                                                           "limit": 2, "view": "rows"}))
    assert [r["mine"] for r in alice["items"]] == [False, False]
    assert made[-1]["id"] == rows["items"][0]["id"]


def test_rows_are_smaller_than_documents(server, svc):
    c = server.as_("alice")
    whole = c.get("/changes", params={"limit": 20})
    rows = c.get("/changes", params={"limit": 20, "view": "rows"})
    assert len(rows.content) * 2 < len(whole.content), (len(rows.content), len(whole.content))


@pytest.mark.parametrize("value", ["", "row", "docs", "ROWS"])
def test_changes_view_takes_only_rows(server, value):
    problem(server.as_("alice").get("/changes", params={"view": value}), 422, field="view")


def test_services_search_by_name_or_title(server):
    admin = server.as_("admin")
    tag = unique("srch")
    names = [f"{tag}-alpha", f"{tag}-beta", f"{tag}-gamma"]
    for n, title in zip(names, ["Ledger", "Card Payments", "Payment Gateway"]):
        ok(admin.post("/services", json={"name": n, "title": title, "tier": 3}), 201)
    alice = server.as_("alice")
    got, _ = walk(alice, "/services", params={"q": tag.upper()}, limit=2)
    assert [s["name"] for s in got] == names, "case-insensitive, by name, paged"
    got, _ = walk(alice, "/services", params={"q": "PAYMENT"}, limit=200)
    assert {s["name"] for s in got} >= {names[1], names[2]}
    assert names[0] not in {s["name"] for s in got}, "by title"
    assert all("payment" in (s["name"] + s["title"]).lower() for s in got)
    got, _ = walk(alice, "/services", params={"q": "%"}, limit=200)
    assert all("%" in s["name"] + s["title"] for s in got), "no LIKE patterns"
    assert ok(alice.get("/services", params={"q": tag + "-zzz"}))["items"] == []


def test_services_search_refusals(server):
    problem(server.as_("alice").get("/services", params={"q": "x" * 300}), 422, field="q")
    problem(server.as_("alice").get("/services", params={"qq": "x"}), 400)
