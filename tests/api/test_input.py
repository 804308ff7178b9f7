"""The characters text fields take. A single-line field (a title, a name, a
label) refuses C0 controls, DEL, C1 controls and the bidirectional
embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069); a
multi-line field (a description, a plan, a reason, a note) takes tab and
line breaks but no other control and no bidirectional control, and is
stored with LF line breaks (CRLF and a lone CR become LF). Every refusal is
422 naming the field, and stores nothing."""

from datetime import datetime, timedelta, timezone

import pytest

from conftest import ok, page_items, problem, unique

# Characters a single-line field refuses, each with the code point the
# message names.
BAD_IN_A_LINE = {
    "BEL": ("\x07", "U+0007"),
    "ESC": ("\x1b[31m", "U+001B"),
    "tab": ("\t", "U+0009"),
    "LF": ("\n", "U+000A"),
    "CR": ("\r", "U+000D"),
    "DEL": ("\x7f", "U+007F"),
    "NEL (C1)": ("\x85", "U+0085"),
    "CSI (C1)": ("\x9b", "U+009B"),
    "LRE": ("\u202a", "U+202A"),
    "RLO": ("\u202e", "U+202E"),
    "LRI": ("\u2066", "U+2066"),
    "PDI": ("\u2069", "U+2069"),
}
# The four the rules were written against, for the fields of every resource.
BAD_FOUR = ["BEL", "ESC", "RLO", "LRI"]

# What a multi-line field refuses (tab, LF and CR it takes).
BAD_IN_LINES = {
    "BEL": ("\x07", "U+0007"),
    "ESC": ("\x1b", "U+001B"),
    "form feed": ("\x0c", "U+000C"),
    "DEL": ("\x7f", "U+007F"),
    "NEL (C1)": ("\x85", "U+0085"),
    "C1 last": ("\x9f", "U+009F"),
    "RLE": ("\u202b", "U+202B"),
    "PDF": ("\u202c", "U+202C"),
    "FSI": ("\u2068", "U+2068"),
}


def text_with(bad):
    return f"before {bad} after"


def assert_named(r, field, code_point):
    body = problem(r, 422, field=field)
    message = [e["message"] for e in body["errors"] if e["field"] == field][0]
    assert code_point in message, message


def far_window(days):
    start = datetime(2090, 1, 1, tzinfo=timezone.utc) + timedelta(days=days)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {"start": start.strftime(fmt), "end": (start + timedelta(hours=2)).strftime(fmt)}


def change_titles(server, marker):
    body = ok(server.as_("alice").get("/changes", params={"q": marker, "limit": 200}))
    return [c["title"] for c in page_items(body)]


# --- single-line fields ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_IN_A_LINE))
def test_a_change_title_is_one_line_of_plain_text(server, name):
    bad, cp = BAD_IN_A_LINE[name]
    marker = unique("title")
    assert_named(server.as_("alice").post("/changes", json={"title": marker + text_with(bad)}),
                 "title", cp)
    assert change_titles(server, marker) == []


@pytest.mark.parametrize("name", BAD_FOUR)
def test_a_change_title_edit_is_checked_too(server, name):
    bad, cp = BAD_IN_A_LINE[name]
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("edit")}), 201)
    assert_named(c.patch(f"/changes/{ch['id']}", json={"title": text_with(bad)}), "title", cp)
    assert ok(c.get(f"/changes/{ch['id']}"))["title"] == ch["title"]


@pytest.mark.parametrize("text", ["café — 日本語 😀", "a\u00a0b", "right\u200fto\u200eleft",
                                  "a\u2028b"])
def test_printable_text_is_a_fine_title(server, text):
    ch = ok(server.as_("alice").post("/changes", json={"title": text}), 201)
    assert ch["title"] == text


@pytest.mark.parametrize("name", BAD_FOUR)
@pytest.mark.parametrize("field", ["title", "owner"])
def test_a_service_title_and_owner_are_one_line(server, name, field):
    bad, cp = BAD_IN_A_LINE[name]
    svc = unique("in")
    body = {"name": svc, "title": "Service", "tier": 3, field: text_with(bad)}
    assert_named(server.as_("admin").post("/services", json=body), field, cp)
    problem(server.as_("admin").get(f"/services/{svc}"), 404)


@pytest.mark.parametrize("name", BAD_FOUR)
def test_a_service_title_patch_is_one_line(server, name):
    bad, cp = BAD_IN_A_LINE[name]
    admin = server.as_("admin")
    s = ok(admin.post("/services", json={"name": unique("in"), "title": "Kept", "tier": 3}), 201)
    assert_named(admin.patch(f"/services/{s['name']}", json={"title": text_with(bad)}),
                 "title", cp)
    assert ok(admin.get(f"/services/{s['name']}"))["title"] == "Kept"


@pytest.mark.parametrize("name", BAD_FOUR)
def test_a_user_name_is_one_line(server, name):
    bad, cp = BAD_IN_A_LINE[name]
    admin = server.as_("admin")
    email = f"{unique('u')}@cabinet.test"
    r = admin.post("/users", json={"email": email, "name": text_with(bad),
                                   "password": "a long enough password"})
    assert_named(r, "name", cp)
    users = page_items(ok(admin.get("/users", params={"limit": 200})))
    assert email not in [u["email"] for u in users]
    bob = server.users["bob"]["id"]
    before = ok(admin.get(f"/users/{bob}"))["name"]
    assert_named(admin.patch(f"/users/{bob}", json={"name": text_with(bad)}), "name", cp)
    assert ok(admin.get(f"/users/{bob}"))["name"] == before


@pytest.mark.parametrize("name", BAD_FOUR)
def test_a_freeze_name_is_one_line(server, name):
    bad, cp = BAD_IN_A_LINE[name]
    mgr = server.as_("manager")
    window = far_window(1)
    r = mgr.post("/freezes", json={"name": text_with(bad), "window": window})
    assert_named(r, "name", cp)
    listed = page_items(ok(mgr.get("/freezes", params={"from": window["start"],
                                                      "to": window["end"]})))
    assert listed == []
    f = ok(mgr.post("/freezes", json={"name": "kept", "window": far_window(3)}), 201)
    assert_named(mgr.patch(f"/freezes/{f['id']}", json={"name": text_with(bad)}), "name", cp)
    assert ok(mgr.get(f"/freezes/{f['id']}"))["name"] == "kept"


@pytest.mark.parametrize("path,body,field", [
    ("/models", {"name": "m-x", "kind": "normal", "title": "T"}, "title"),
    ("/tokens", {"name": "N"}, "name"),
    ("/me/keys", {"public_key": "", "label": "L"}, "label"),
])
@pytest.mark.parametrize("name", ["BEL", "RLO"])
def test_other_single_line_fields(server, path, body, field, name):
    bad, cp = BAD_IN_A_LINE[name]
    body = dict(body)
    body[field] = text_with(bad)
    if "name" in body and field != "name":
        body["name"] = unique("m")
    who = "admin" if path == "/models" else "alice"
    assert_named(server.as_(who).post(path, json=body), field, cp)


# --- multi-line fields -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_IN_LINES))
@pytest.mark.parametrize("field", ["description", "implementation_plan", "backout_plan",
                                   "test_plan"])
def test_change_texts_refuse_controls_but_tab_and_line_breaks(server, field, name):
    bad, cp = BAD_IN_LINES[name]
    marker = unique("lines")
    r = server.as_("alice").post("/changes", json={"title": marker, field: text_with(bad)})
    assert_named(r, field, cp)
    assert change_titles(server, marker) == []


def test_tab_and_newline_are_fine_in_a_change_description(server):
    text = "Steps:\n\t1. drain\n\t2. upgrade\n\nDone."
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("tab"),
                                                       "description": text}), 201)
    assert ch["description"] == text


def test_a_bidi_control_in_a_description_edit_is_refused(server):
    c = server.as_("alice")
    ch = ok(c.post("/changes", json={"title": unique("bidi"), "description": "plain"}), 201)
    assert_named(c.patch(f"/changes/{ch['id']}", json={"description": "x\u2067y"}),
                 "description", "U+2067")
    assert ok(c.get(f"/changes/{ch['id']}"))["description"] == "plain"


@pytest.mark.parametrize("given,stored", [
    ("one\r\ntwo\r\n", "one\ntwo\n"),
    ("lone\rcr", "lone\ncr"),
    ("mixed\r\n\rand\n", "mixed\n\nand\n"),
    ("tab\tand\nLF stay", "tab\tand\nLF stay"),
])
def test_a_service_description_is_stored_with_lf(server, given, stored):
    admin = server.as_("admin")
    s = ok(admin.post("/services", json={"name": unique("nl"), "title": "NL", "tier": 4,
                                         "description": given}), 201)
    assert s["description"] == stored
    assert ok(admin.get(f"/services/{s['name']}"))["description"] == stored
    p = ok(admin.patch(f"/services/{s['name']}", json={"description": "p\r\n" + given}))
    assert p["description"] == "p\n" + stored


def test_a_service_description_refuses_a_c1_control(server):
    svc = unique("c1")
    r = server.as_("admin").post("/services", json={"name": svc, "title": "C1", "tier": 4,
                                                    "description": "esc \x9b[2J"})
    assert_named(r, "description", "U+009B")
    problem(server.as_("admin").get(f"/services/{svc}"), 404)


def test_a_model_description_is_stored_with_lf(server):
    m = ok(server.as_("admin").post("/models", json={
        "name": unique("nl"), "kind": "normal", "title": "NL", "description": "a\r\nb\rc"}), 201)
    assert m["description"] == "a\nb\nc"
    problem(server.as_("admin").post("/models", json={
        "name": unique("nl"), "kind": "normal", "title": "NL", "description": "a\x07"}), 422,
        field="description")


def test_a_freeze_reason_is_stored_with_lf(server):
    mgr = server.as_("manager")
    f = ok(mgr.post("/freezes", json={"name": unique("nl"), "window": far_window(5),
                                      "reason": "end of year\r\nno changes"}), 201)
    assert f["reason"] == "end of year\nno changes"
    p = ok(mgr.patch(f"/freezes/{f['id']}", json={"reason": "moved\r\r\n"}))
    assert p["reason"] == "moved\n\n"
    assert_named(mgr.patch(f"/freezes/{f['id']}", json={"reason": "x\u202ey"}), "reason",
                 "U+202E")
    assert ok(mgr.get(f"/freezes/{f['id']}"))["reason"] == "moved\n\n"


def test_a_conflict_note_is_stored_with_lf_and_checked(server):
    admin = server.as_("admin")
    svc = unique("nl")
    ok(admin.post("/services", json={"name": svc, "title": "NL", "tier": 4}), 201)
    ids = []
    for who, hours in (("alice", 0), ("bob", 1)):
        c = server.as_(who)
        window = far_window(7)
        start = datetime.strptime(window["start"], "%Y-%m-%dT%H:%M:%SZ")
        window["start"] = (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ch = ok(c.post("/changes", json={"title": unique("nl"), "services": [svc],
                                         "window": window, "test_plan": "t",
                                         "backout_plan": "b"}), 201)
        ok(c.post(f"/changes/{ch['id']}/submit"))
        ids.append(ch["id"])
    conflicts = ok(server.as_("alice").get(f"/changes/{ids[0]}"))["conflicts"]
    kid = [k["id"] for k in conflicts if k["other"]["ref"] == f"CHG-{ids[1]}"][0]
    alice = server.as_("alice")
    assert_named(alice.post(f"/conflicts/{kid}/acknowledge", json={"note": "ok\x1b"}), "note",
                 "U+001B")
    k = ok(alice.post(f"/conflicts/{kid}/acknowledge", json={"note": "fine:\r\nlow traffic"}))
    assert k["note"] == "fine:\nlow traffic"


# --- change texts are stored and hashed with LF -----------------------------------------------

@pytest.mark.parametrize("given,stored", [
    ("one\r\ntwo", "one\ntwo"), ("one\rtwo", "one\ntwo"), ("a\r\n\r\nb\n", "a\n\nb\n")])
@pytest.mark.parametrize("field", ["description", "implementation_plan", "backout_plan",
                                   "test_plan"])
def test_a_change_text_is_stored_with_lf(server, field, given, stored):
    from canonjson import content_hash
    alice = server.as_("alice")
    ch = ok(alice.post("/changes", json={"title": unique("lf"), field: given}), 201)
    assert ch[field] == stored
    assert ch["content_hash"] == content_hash(ch), "the hash is of the stored form"
    same = ok(alice.patch(f"/changes/{ch['id']}", json={field: stored}))
    assert same["version"] == ch["version"], "CRLF and LF are the same text"


@pytest.mark.parametrize("action,body,field", [
    ("cancel", {"reason": "no\x07"}, "reason"),
    ("complete", {"outcome": "failed", "notes": "x\u202e"}, "notes"),
])
def test_workflow_texts_are_checked(server, action, body, field):
    alice = server.as_("alice")
    ch = ok(alice.post("/changes", json={"title": unique("wt")}), 201)
    problem(alice.post(f"/changes/{ch['id']}/{action}", json=body), 422, field=field)
    assert ok(alice.get(f"/changes/{ch['id']}"))["state"] == "draft"


def test_a_cancel_reason_is_stored_with_lf(server):
    alice = server.as_("alice")
    ch = ok(alice.post("/changes", json={"title": unique("cr")}), 201)
    ok(alice.post(f"/changes/{ch['id']}/cancel", json={"reason": "a\r\nb"}))
    row = server.psql_json(f"SELECT to_json(cancel_reason) FROM changes WHERE id = {ch['id']}")
    assert row == "a\nb", row


def test_a_comment_is_multi_line_text(server):
    alice = server.as_("alice")
    ch = ok(alice.post("/changes", json={"title": unique("cm")}), 201)
    c = ok(alice.post(f"/changes/{ch['id']}/comments", json={"body": "one\r\ntwo\tthree"}), 201)
    assert c["body"] == "one\ntwo\tthree"
    problem(alice.post(f"/changes/{ch['id']}/comments", json={"body": "ring\x07"}), 422,
            field="body")
