"""The iCalendar feed (`GET /schedule.ics`, README "Conflicts and the
schedule"): the calendar parsed with python3-icalendar, each change's event
and status, SEQUENCE, freezes, the raw RFC 5545 form (CRLF, folding at 75
octets without splitting a UTF-8 character, TEXT escaping), and who may read
it."""

import base64
import re
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
from nacl.signing import SigningKey

from conftest import ok, problem, unique

FEED = "/schedule.ics"

# --- helpers ---------------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def days(start_d, hours=2):
    s = now() + timedelta(days=start_d)
    return {"start": ts(s), "end": ts(s + timedelta(hours=hours))}


def b64(raw):
    return base64.b64encode(raw).decode()


def ical_escape(text):
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


@pytest.fixture(scope="module")
def svc(server):
    admin = server.as_("admin")

    def make(depends_on=()):
        name = unique("ics")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": 4,
                                         "depends_on": list(depends_on)}), 201)
        return name

    return make


@pytest.fixture(scope="module")
def feed_token(server):
    t = ok(server.as_("alice").post("/tokens", json={"name": "calendar", "scope": "feed"}), 201)
    assert t["scope"] == "feed"
    return t["token"]


@pytest.fixture(scope="module")
def cab_key(server):
    sk = SigningKey.generate()
    k = ok(server.as_("cab1").post("/me/keys", json={
        "public_key": b64(sk.verify_key.encode()), "label": "ics tests"}), 201)
    return sk, k["id"]


def new_change(server, services, window, who="alice", model="normal", submit=True, **extra):
    body = {"title": unique("ics change"), "services": list(services), "window": window,
            "model": model, "test_plan": "smoke tests", "backout_plan": "roll back"}
    body.update(extra)
    c = server.as_(who)
    ch = ok(c.post("/changes", json=body), 201)
    if submit:
        ch = ok(c.post(f"/changes/{ch['id']}/submit"))
    return ch


def act(server, cid, action, body=None, who="alice"):
    return ok(server.as_(who).post(f"/changes/{cid}/{action}", json=body or {}))


def reject(server, cab_key, cid):
    sk, kid = cab_key
    ch = ok(server.as_("bob").get(f"/changes/{cid}"))
    at = ts(now())
    st = (f"cabinet-approval-v1\n{ch['ref']}\n{ch['version']}\n{ch['content_hash']}\n"
          f"reject\n{at}")
    ok(server.as_("cab1").post(f"/changes/{cid}/approvals", json={
        "decision": "reject", "comment": "no", "key_id": kid, "signed_at": at,
        "signature": b64(sk.sign(st.encode()).signature)}), 201)


def freeze(server, window, services=(), hard=True, name=None, reason="quiet"):
    return ok(server.as_("manager").post("/freezes", json={
        "name": name or unique("fz"), "window": window, "services": list(services),
        "hard": hard, "reason": reason}), 201)


def fetch(server, token, **kw):
    r = server.anon().get(FEED, params={"token": token}, **kw)
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "text/calendar", ctype
    assert "charset=utf-8" in ctype.replace(" ", "").lower(), ctype
    return r


def calendar(server, token):
    r = fetch(server, token)
    cal = icalendar.Calendar.from_ical(r.content)
    return cal, r.content


def events(cal):
    return [c for c in cal.walk("VEVENT")]


def by_uid(cal):
    out = {}
    for ev in events(cal):
        uid = str(ev["UID"])
        assert uid not in out, f"UID {uid} appears twice"
        out[uid] = ev
    return out


def host(server):
    return server.base.split("://", 1)[1]


def change_uid(server, cid):
    return f"change-{cid}@{host(server)}"


def freeze_uid(server, fid):
    return f"freeze-{fid}@{host(server)}"


def etag_rev(server, cid):
    r = server.as_("bob").get(f"/changes/{cid}")
    ok(r)
    return int(r.headers["ETag"].strip('"'))


def utc(prop):
    dt = prop.dt
    assert isinstance(dt, datetime), dt
    assert dt.tzinfo is not None and dt.utcoffset() == timedelta(0), dt
    return dt


def raw_lines(content):
    assert content.endswith(b"\r\n"), content[-20:]
    body = content[:-2]
    assert b"\n" not in body.replace(b"\r\n", b""), "a line ends in a bare LF"
    assert b"\r" not in body.replace(b"\r\n", b""), "a bare CR"
    return body.split(b"\r\n")


def unfolded(content):
    """The logical lines as bytes (RFC 5545 §3.1 unfolding)."""
    return content.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").split(b"\r\n")


def parser_view(text):
    """What python3-icalendar 4.0.3 gives back for `text` written correctly.

    It unescapes a TEXT value twice (once per content line, once per
    value), so an escaped pair of backslashes (four octets on the wire)
    comes back as one backslash. The wire form is checked byte for byte
    separately; this models only that loss, for the texts used here, so
    the rest of the parser's reading is still compared.
    """
    return text.replace("\\\\", "\\")


def logical(content, name, containing=None):
    out = []
    for line in unfolded(content):
        if line.split(b":", 1)[0].split(b";", 1)[0] == name.encode():
            if containing is None or containing.encode() in line:
                out.append(line.decode("utf-8"))
    return out


# --- the calendar ----------------------------------------------------------------------------


def test_the_feed_is_an_rfc5545_calendar(server, svc, feed_token):
    new_change(server, [svc()], days(3))
    cal, content = calendar(server, feed_token)
    assert cal.name == "VCALENDAR"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]).strip(), "PRODID is required"
    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert content.endswith(b"END:VCALENDAR\r\n")
    assert events(cal), "the submitted change is in the feed"
    for ev in events(cal):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert prop in ev, (prop, ev.to_ical()[:400])
        utc(ev["DTSTAMP"])
        assert utc(ev["DTEND"]) > utc(ev["DTSTART"])


def test_each_change_event(server, svc, feed_token):
    s, t = svc(), svc()
    w = days(5, hours=3)
    ch = new_change(server, [t, s], w, title="Rotate the TLS certificates")
    cal, content = calendar(server, feed_token)
    ev = by_uid(cal)[change_uid(server, ch["id"])]
    assert utc(ev["DTSTART"]["DTSTART"] if False else ev["DTSTART"]) == parse(w["start"])
    assert utc(ev["DTEND"]) == parse(w["end"])
    assert str(ev["SUMMARY"]) == f"{ch['ref']} Rotate the TLS certificates"
    assert str(ev["STATUS"]) == "TENTATIVE"
    assert int(ev["SEQUENCE"]) == etag_rev(server, ch["id"])
    desc = str(ev["DESCRIPTION"])
    assert "awaiting_approval" in desc and s in desc and t in desc
    # times are written in UTC form, not with a TZID
    [start] = logical(content, "DTSTART", parse(w["start"]).strftime("%Y%m%dT%H%M%SZ"))
    assert start == "DTSTART:" + parse(w["start"]).strftime("%Y%m%dT%H%M%SZ")
    [end] = logical(content, "DTEND", parse(w["end"]).strftime("%Y%m%dT%H%M%SZ"))
    assert end == "DTEND:" + parse(w["end"]).strftime("%Y%m%dT%H%M%SZ")
    for line in logical(content, "DTSTAMP"):
        assert re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line), line


def test_status_follows_the_state(server, svc, feed_token, cab_key):
    made = {}
    made["awaiting_approval"] = new_change(server, [svc()], days(6))
    ch = new_change(server, [svc()], days(6), model="standard")
    assert ch["state"] == "approved"
    made["approved"] = ch
    ch = new_change(server, [svc()], days(6), model="standard")
    made["in_progress"] = act(server, ch["id"], "start")
    ch = new_change(server, [svc()], days(6), model="standard")
    act(server, ch["id"], "start")
    made["closed"] = act(server, ch["id"], "complete", {"outcome": "successful", "notes": "ok"})
    ch = new_change(server, [svc()], days(6), model="standard")
    act(server, ch["id"], "start")
    made["review"] = act(server, ch["id"], "complete", {"outcome": "failed", "notes": "broke"})
    ch = new_change(server, [svc()], days(6))
    made["cancelled"] = act(server, ch["id"], "cancel", {"reason": "not needed"})
    ch = new_change(server, [svc()], days(6), who="bob")
    reject(server, cab_key, ch["id"])
    made["rejected"] = ok(server.as_("bob").get(f"/changes/{ch['id']}"))
    draft = new_change(server, [svc()], days(6), submit=False)
    expected = {"awaiting_approval": "TENTATIVE", "approved": "CONFIRMED",
                "in_progress": "CONFIRMED", "review": "CONFIRMED", "closed": "CONFIRMED",
                "cancelled": "CANCELLED", "rejected": "CANCELLED"}
    cal, _ = calendar(server, feed_token)
    uids = by_uid(cal)
    for state, ch in made.items():
        assert ch["state"] == state, (state, ch["state"])
        ev = uids[change_uid(server, ch["id"])]
        assert str(ev["STATUS"]) == expected[state], (state, str(ev["STATUS"]))
        assert int(ev["SEQUENCE"]) == etag_rev(server, ch["id"]), state
    assert change_uid(server, draft["id"]) not in uids, "drafts are not scheduled"


def test_sequence_grows_when_a_change_is_cancelled(server, svc, feed_token):
    ch = new_change(server, [svc()], days(7))
    ev = by_uid(calendar(server, feed_token)[0])[change_uid(server, ch["id"])]
    seq = int(ev["SEQUENCE"])
    assert str(ev["STATUS"]) == "TENTATIVE"
    act(server, ch["id"], "cancel", {"reason": "superseded"})
    ev2 = by_uid(calendar(server, feed_token)[0])[change_uid(server, ch["id"])]
    assert str(ev2["STATUS"]) == "CANCELLED"
    assert int(ev2["SEQUENCE"]) > seq
    assert int(ev2["SEQUENCE"]) == etag_rev(server, ch["id"])
    assert str(ev2["UID"]) == str(ev["UID"]), "the same event, updated"


def test_sequence_grows_when_a_change_is_moved(server, svc, feed_token):
    ch = new_change(server, [svc()], days(8))
    seq = int(by_uid(calendar(server, feed_token)[0])[change_uid(server, ch["id"])]["SEQUENCE"])
    w = days(9)
    ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"window": w}))
    ev = by_uid(calendar(server, feed_token)[0])[change_uid(server, ch["id"])]
    assert int(ev["SEQUENCE"]) > seq
    assert utc(ev["DTSTART"]) == parse(w["start"])


def test_freezes_are_events(server, svc, feed_token):
    s, t = svc(), svc()
    hard_w, soft_w = days(10, 24), days(12, 48)
    hard = freeze(server, hard_w, name="Quarter end", reason="books close")
    soft = freeze(server, soft_w, services=[t, s], hard=False, name="Launch week",
                  reason="marketing push")
    cal, _ = calendar(server, feed_token)
    uids = by_uid(cal)
    h = uids[freeze_uid(server, hard["id"])]
    assert str(h["SUMMARY"]) == "Hard freeze: Quarter end"
    assert utc(h["DTSTART"]) == parse(hard_w["start"]) and utc(h["DTEND"]) == parse(hard_w["end"])
    assert "all" in str(h["DESCRIPTION"]) and "books close" in str(h["DESCRIPTION"])
    so = uids[freeze_uid(server, soft["id"])]
    assert str(so["SUMMARY"]) == "Soft freeze: Launch week"
    assert utc(so["DTSTART"]) == parse(soft_w["start"])
    desc = str(so["DESCRIPTION"])
    assert s in desc and t in desc and "marketing push" in desc
    # a moved freeze moves in the feed; a deleted one leaves it
    moved = days(14, 24)
    ok(server.as_("manager").patch(f"/freezes/{hard['id']}", json={"window": moved}))
    uids = by_uid(calendar(server, feed_token)[0])
    assert utc(uids[freeze_uid(server, hard["id"])]["DTSTART"]) == parse(moved["start"])
    ok(server.as_("manager").delete(f"/freezes/{soft['id']}"), 204)
    uids = by_uid(calendar(server, feed_token)[0])
    assert freeze_uid(server, soft["id"]) not in uids
    assert freeze_uid(server, hard["id"]) in uids


def test_the_feed_covers_thirty_days_back_to_ninety_ahead(server, svc, feed_token):
    s = svc()
    # past windows: recorded as emergencies (a normal change cannot be
    # submitted once its window has ended)
    old = new_change(server, [s], days(-40), model="emergency")
    recent = new_change(server, [s], days(-20), model="emergency")
    ahead = new_change(server, [s], days(80))
    too_far = new_change(server, [s], days(100))
    f_far = freeze(server, days(120, 24))
    f_near = freeze(server, days(60, 24))
    uids = by_uid(calendar(server, feed_token)[0])
    assert change_uid(server, recent["id"]) in uids
    assert change_uid(server, ahead["id"]) in uids
    assert change_uid(server, old["id"]) not in uids
    assert change_uid(server, too_far["id"]) not in uids
    assert freeze_uid(server, f_far["id"]) not in uids
    assert freeze_uid(server, f_near["id"]) in uids


def filtered(server, token, **params):
    r = server.anon().get(FEED, params={"token": token, **params})
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    return by_uid(icalendar.Calendar.from_ical(r.content))


def test_the_feed_filters_by_service_and_by_owner(server, svc, feed_token):
    a, b = svc(), svc()
    on_a = new_change(server, [a], days(5))
    on_b = new_change(server, [b], days(6), who="bob")
    bobs_on_a = new_change(server, [a], days(7), who="bob")
    f_a = freeze(server, days(8, 24), services=[a])
    f_b = freeze(server, days(9, 24), services=[b])
    f_all = freeze(server, days(10, 24))
    uids = filtered(server, feed_token, service=a)
    assert change_uid(server, on_a["id"]) in uids and change_uid(server, bobs_on_a["id"]) in uids
    assert change_uid(server, on_b["id"]) not in uids
    assert freeze_uid(server, f_a["id"]) in uids and freeze_uid(server, f_all["id"]) in uids
    assert freeze_uid(server, f_b["id"]) not in uids
    # feed_token is alice's: mine=true keeps her changes only
    uids = filtered(server, feed_token, mine="true")
    assert change_uid(server, on_a["id"]) in uids
    assert change_uid(server, on_b["id"]) not in uids
    assert change_uid(server, bobs_on_a["id"]) not in uids
    uids = filtered(server, feed_token, mine="true", service=b)
    assert change_uid(server, on_b["id"]) not in uids and change_uid(server, on_a["id"]) not in uids
    assert change_uid(server, on_a["id"]) in filtered(server, feed_token, mine="false")


@pytest.mark.parametrize("params,field", [({"mine": "yes"}, "mine"),
                                          ({"service": "Not A Slug"}, "service"),
                                          ({"service": "no-such-service-zz"}, "service")])
def test_bad_feed_filters_are_named(server, feed_token, params, field):
    r = server.anon().get(FEED, params={"token": feed_token, **params})
    problem(r, 422, field=field)


# --- the raw form ----------------------------------------------------------------------------

LONG_TITLES = [
    "Déploiement de la passerelle de paiement — Überprüfung, Ωμέγα; 日本語のテスト "
    "\\ barre oblique, 🚀 fusée; ещё раз, à bientôt — ✓ fertig",
    "Ärger mit Umlauten: äöüß ÄÖÜ, «guillemets»; 中文字符测试 \\\\ double, ☃☃☃☃☃ "
    "and 🎉🎉🎉 party; κόσμε, naïve café, résumé; ‰ ‱ — end",
]


def test_lines_end_in_crlf_and_fold_at_75_octets_on_character_boundaries(server, svc,
                                                                         feed_token):
    s = svc()
    made = []
    # shift the text by 0..3 octets so that folds fall at every position
    # inside 2-, 3- and 4-octet characters
    for shift in range(4):
        for title in LONG_TITLES:
            made.append(new_change(server, [s], days(15), title="x" * shift + title))
    freeze(server, days(16, 12), name="Ünïcödé " * 8 + "🚀" * 10,
           reason=("ligne une, avec virgule; point-virgule \\ barre\n" * 3) + "日本語" * 20)
    r = fetch(server, feed_token)
    lines = raw_lines(r.content)
    assert len(lines) > 10
    long_seen = 0
    for i, line in enumerate(lines):
        assert len(line) <= 75, f"line {i} has {len(line)} octets: {line[:80]!r}"
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AssertionError(f"line {i} splits a UTF-8 character: {line!r}") from e
        if line.startswith(b" "):
            long_seen += 1
    assert long_seen >= len(made), "the long titles must have been folded"
    # what was folded comes back whole: byte for byte once unfolded, and
    # through the parser
    cal = icalendar.Calendar.from_ical(r.content)
    uids = by_uid(cal)
    for ch in made:
        text = f"{ch['ref']} {ch['title']}"
        assert logical(r.content, "SUMMARY", ch["ref"] + " ") == ["SUMMARY:" + ical_escape(text)]
        ev = uids[change_uid(server, ch["id"])]
        assert str(ev["SUMMARY"]) == parser_view(text)


def test_text_is_escaped(server, svc, feed_token):
    s = svc()
    # a title is one line; the freeze's reason carries the line break
    title = "Fix a, b; and c\\d — then restart"
    ch = new_change(server, [s], days(17), title=title)
    assert ch["title"] == title
    reason = "Line one, with a comma; a semicolon\\a backslash\nLine two"
    f = freeze(server, days(18, 3), name="Mid, year; freeze\\x", reason=reason, hard=False)
    r = fetch(server, feed_token)
    [summary] = logical(r.content, "SUMMARY", ch["ref"] + " ")
    assert summary == "SUMMARY:" + ical_escape(f"{ch['ref']} {title}")
    assert "\\," in summary and "\\;" in summary and "\\\\" in summary
    [fsum] = logical(r.content, "SUMMARY", "Mid\\, year")
    assert fsum == "SUMMARY:" + ical_escape("Soft freeze: Mid, year; freeze\\x")
    descs = [d for d in logical(r.content, "DESCRIPTION") if "Line one" in d]
    assert len(descs) == 1
    assert ical_escape(reason) in descs[0], descs[0]
    assert "backslash\\nLine two" in descs[0], descs[0]  # the line break, escaped
    # and a parser gets the original text back
    uids = by_uid(icalendar.Calendar.from_ical(r.content))
    assert str(uids[change_uid(server, ch["id"])]["SUMMARY"]) == f"{ch['ref']} {title}"
    fev = uids[freeze_uid(server, f["id"])]
    assert str(fev["SUMMARY"]) == "Soft freeze: Mid, year; freeze\\x"
    assert str(fev["DESCRIPTION"]).endswith(reason)


# --- who may read it -------------------------------------------------------------------------


def test_without_a_token_is_401(server):
    problem(server.anon().get(FEED), 401)
    problem(server.anon().get(FEED, params={"token": ""}), 401)
    # a browser session is not a token
    problem(server.as_("alice").get(FEED), 401)


@pytest.mark.parametrize("token", ["garbage", "cab_" + "0" * 40, "x" * 300, "cab_ü"])
def test_a_bad_token_is_401(server, token):
    problem(server.anon().get(FEED, params={"token": token}), 401)
    problem(server.anon().get(FEED, headers={"Authorization": f"Bearer {token}"}), 401)


def test_a_revoked_token_is_401(server):
    c = server.as_("bob")
    t = ok(c.post("/tokens", json={"name": "my calendar", "scope": "feed"}), 201)
    fetch(server, t["token"])
    ok(c.delete(f"/tokens/{t['id']}"), 204)
    problem(server.anon().get(FEED, params={"token": t["token"]}), 401)
    problem(server.anon().get(FEED, headers={"Authorization": f"Bearer {t['token']}"}), 401)


def test_a_disabled_users_token_is_401(server):
    email = f"{unique('cal')}@cabinet.test"
    u = ok(server.as_("admin").post("/users", json={
        "email": email, "name": "Calendar User", "password": "long enough password",
        "roles": []}), 201)
    c = server.login(email, password="long enough password")
    t = ok(c.post("/tokens", json={"name": "cal", "scope": "feed"}), 201)
    fetch(server, t["token"])
    ok(server.as_("admin").patch(f"/users/{u['id']}", json={"disabled": True}))
    problem(server.anon().get(FEED, params={"token": t["token"]}), 401)


def test_a_feed_token_reads_the_feed_and_nothing_else(server, svc, feed_token):
    ch = new_change(server, [svc()], days(19))
    uids = by_uid(calendar(server, feed_token)[0])
    assert change_uid(server, ch["id"]) in uids
    r = server.anon().get(FEED, headers={"Authorization": f"Bearer {feed_token}"})
    assert r.status_code == 200 and r.content.startswith(b"BEGIN:VCALENDAR")
    feed_client = server.bearer(feed_token)
    problem(feed_client.get("/changes"), 403)
    problem(feed_client.get(f"/changes/{ch['id']}"), 403)
    problem(feed_client.get("/schedule"), 403)
    problem(feed_client.post("/changes", json={"title": "sneaky"}), 403)


def test_a_full_token_reads_the_feed_too(server, svc):
    ch = new_change(server, [svc()], days(20))
    t = ok(server.as_("cab2").post("/tokens", json={"name": "everything"}), 201)
    assert t["scope"] == "full"
    for r in (fetch(server, t["token"]),
              server.anon().get(FEED, headers={"Authorization": f"Bearer {t['token']}"})):
        assert r.status_code == 200
        uids = by_uid(icalendar.Calendar.from_ical(r.content))
        assert change_uid(server, ch["id"]) in uids
    ok(server.bearer(t["token"]).get("/changes"))
