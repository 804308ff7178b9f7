"""Changes: create, read, edit (merge patch, If-Match), idempotency, search,
the order of checks, and content_hash recomputed independently."""

import json
import re
import socket
import threading

import pytest

from canonjson import canon, change_content, content_hash
from conftest import ok, page_items, problem, unique, walk

CHANGE_KEYS = {"id", "ref", "title", "description", "model", "kind", "state", "version",
               "content_hash", "services", "window", "business_impact", "implementation_plan",
               "backout_plan", "test_plan", "requester", "source", "external_ref", "assessment",
               "approvals", "required_approvals", "conflicts", "conflict_summary", "outcome",
               "flags", "gate_url", "created_at", "updated_at"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def svcs(server):
    admin = server.as_("admin")
    p = unique("cs")
    names = [f"{p}-a", f"{p}-b", f"{p}-c"]
    for i, n in enumerate(names):
        ok(admin.post("/services", json={"name": n, "title": n.upper(), "tier": i + 1}), 201)
    return names


def create(c, **body):
    body.setdefault("title", unique("change"))
    r = c.post("/changes", json=body)
    return ok(r, 201)


def etag(c, cid):
    r = c.get(f"/changes/{cid}")
    ok(r)
    return r.headers["ETag"]


def count_titled(server, title):
    t = title.replace("'", "''")
    return int(server.psql(f"SELECT count(*) FROM changes WHERE title = '{t}'"))


def full_body(svcs):
    return {
        "title": "Upgrade the payments database",
        "description": "Minor version upgrade.\nRolling.",
        "model": "standard",
        "services": [svcs[1], svcs[0]],
        "window": {"start": "2031-06-01T22:00:00Z", "end": "2031-06-02T01:30:00Z"},
        "business_impact": "medium",
        "implementation_plan": "1. drain\n2. upgrade\n3. undrain",
        "backout_plan": "restore the snapshot",
        "test_plan": "smoke tests",
        "external_ref": unique("JIRA"),
    }


# --- create and read ------------------------------------------------------------------


def test_create_returns_201_location_and_etag(server):
    alice = server.as_("alice")
    r = alice.post("/changes", json={"title": "Rotate the TLS certificates"})
    ch = ok(r, 201)
    assert set(ch) >= CHANGE_KEYS, CHANGE_KEYS - set(ch)
    assert r.headers.get("Location") == f"/api/v1/changes/{ch['id']}", r.headers
    assert r.headers.get("ETag") == '"1"', r.headers
    assert isinstance(ch["id"], int) and ch["ref"] == f"CHG-{ch['id']}"
    assert ch["title"] == "Rotate the TLS certificates"
    assert ch["state"] == "draft" and ch["version"] == 1
    assert ch["model"] == "normal" and ch["kind"] == "normal"
    assert ch["services"] == [] and ch["window"] is None
    assert ch["description"] == "" and ch["business_impact"] is None
    assert ch["requester"]["id"] == server.users["alice"]["id"]
    assert ch["source"] == "web" and ch["flags"] == []
    assert ch["conflicts"] == []
    assert ch["conflict_summary"] == {"total": 0, "open": 0, "acknowledged": 0, "direct": 0}
    assert re.fullmatch(r"[0-9a-f]{64}", ch["content_hash"])
    assert TS.match(ch["created_at"]) and TS.match(ch["updated_at"])
    assert count_titled(server, ch["title"]) >= 1


def test_every_field_round_trips(server, svcs):
    alice = server.as_("alice")
    body = full_body(svcs)
    ch = create(alice, **body)
    for k, v in body.items():
        if k == "services":
            assert sorted(ch[k]) == sorted(v)
        else:
            assert ch[k] == v, (k, ch[k])
    assert ch["kind"] == "standard"
    r = alice.get(f"/changes/{ch['id']}")
    assert ok(r) == ch
    assert r.headers["ETag"] == '"1"'
    assert ok(alice.get(f"/changes/{ch['ref']}")) == ch
    # Anyone logged in may read it; what each may do differs.
    seen = ok(server.as_("bob").get(f"/changes/{ch['id']}"))
    assert ch["actions"] == ["submit", "edit", "cancel"], ch["actions"]
    assert seen.pop("actions") == [] and seen == {k: v for k, v in ch.items() if k != "actions"}


@pytest.mark.parametrize("given,stored", [
    ("2031-03-04T05:06:07+02:00", "2031-03-04T03:06:07Z"),
    ("2031-03-04T05:06:07.999Z", "2031-03-04T05:06:07Z"),
    ("2031-03-04T05:06:07.5-05:30", "2031-03-04T10:36:07Z"),
    ("2031-12-31T23:30:00-01:00", "2032-01-01T00:30:00Z"),
    ("2031-03-04T00:00:00.999999+01:00", "2031-03-03T23:00:00Z"),
    ("2031-03-04T05:06:07+00:00", "2031-03-04T05:06:07Z"),
])
def test_times_are_normalised_to_utc(server, given, stored):
    alice = server.as_("alice")
    ch = create(alice, window={"start": given, "end": "2040-01-01T00:00:00.75+01:00"})
    assert ch["window"] == {"start": stored, "end": "2039-12-31T23:00:00Z"}
    assert ch["content_hash"] == content_hash(ch)
    assert ok(alice.get(f"/changes/{ch['id']}"))["window"]["start"] == stored


@pytest.mark.parametrize("start", [
    "2031-02-30T00:00:00Z", "2031-03-04T05:06:07", "tomorrow", "2031-03-04T25:00:00Z",
    "2031-03-04T05:06:07+24:00", "", 1893456000, None, "2031-13-01T00:00:00Z",
])
def test_bad_times_are_422(server, start):
    problem(server.as_("alice").post("/changes", json={
        "title": "bad time", "window": {"start": start, "end": "2040-01-01T00:00:00Z"}}),
        422, field="window.start")


@pytest.mark.parametrize("end", ["2031-06-01T10:00:00Z", "2031-06-01T09:00:00Z",
                                 "2031-06-01T12:00:00+02:00", "2031-06-01T10:00:00.9Z"])
def test_window_end_must_follow_start(server, end):
    title = unique("win")
    problem(server.as_("alice").post("/changes", json={
        "title": title, "window": {"start": "2031-06-01T10:00:00Z", "end": end}}),
        422, field="window.end")
    assert count_titled(server, title) == 0


@pytest.mark.parametrize("window,field", [
    ({"start": "2031-06-01T10:00:00Z"}, "window.end"),
    ({"end": "2031-06-01T10:00:00Z"}, "window.start"),
    ("2031-06-01T10:00:00Z/2031-06-01T11:00:00Z", "window"),
    ([1, 2], "window"),
    ({"start": "2031-06-01T10:00:00Z", "end": "2031-06-01T11:00:00Z", "tz": "UTC"},
     "window.tz"),
])
def test_window_shape(server, window, field):
    problem(server.as_("alice").post("/changes", json={"title": "w", "window": window}),
            422, field=field)


def test_window_may_lie_in_the_past(server):
    ch = create(server.as_("alice"),
                window={"start": "2001-01-01T00:00:00Z", "end": "2001-01-01T01:00:00Z"})
    assert ch["window"]["start"] == "2001-01-01T00:00:00Z"


@pytest.mark.parametrize("services,field", [
    ("ok", "services[1]"),
    ("missing", "services[0]"),
    ("dup", "services[1]"),
    ("notstr", "services[0]"),
    ("notlist", "services"),
])
def test_services_validation(server, svcs, services, field):
    value = {"ok": [svcs[0], "no-such-service"], "missing": ["no-such-service"],
             "dup": [svcs[0], svcs[0]], "notstr": [17], "notlist": svcs[0]}[services]
    problem(server.as_("alice").post("/changes", json={"title": "s", "services": value}),
            422, field=field)


def test_at_most_100_services(server):
    r = server.as_("alice").post("/changes", json={
        "title": "too many", "services": [f"svc-{i:03d}" for i in range(101)]})
    body = problem(r, 422)
    assert any(e["field"].startswith("services") for e in body["errors"]), body


@pytest.mark.parametrize("title", ["", "   ", "\t\n", "x" * 201, "é" * 201, None, 5, ["t"]])
def test_bad_title_is_422(server, title):
    problem(server.as_("alice").post("/changes", json={"title": title}), 422, field="title")


def test_title_is_required(server):
    problem(server.as_("alice").post("/changes", json={"description": "no title"}), 422,
            field="title")


@pytest.mark.parametrize("title", ["x" * 200, "é" * 200, "日" * 200, "a"])
def test_title_limits_count_characters(server, title):
    assert create(server.as_("alice"), title=title)["title"] == title


@pytest.mark.parametrize("field", ["description", "implementation_plan", "backout_plan",
                                   "test_plan"])
def test_text_fields_up_to_100000_characters(server, field):
    alice = server.as_("alice")
    assert len(create(alice, **{field: "y" * 100000})[field]) == 100000
    problem(alice.post("/changes", json={"title": "long", field: "y" * 100001}), 422,
            field=field)


@pytest.mark.parametrize("body,field", [
    ({"business_impact": "huge"}, "business_impact"),
    ({"business_impact": 3}, "business_impact"),
    ({"model": "no-such-model"}, "model"),
    ({"external_ref": "r" * 501}, "external_ref"),
    ({"priority": "high"}, "priority"),
    ({"state": "approved"}, "state"),
    ({"description": 12}, "description"),
])
def test_invalid_fields_are_422(server, body, field):
    title = unique("inv")
    problem(server.as_("alice").post("/changes", json=dict(body, title=title)), 422,
            field=field)
    assert count_titled(server, title) == 0


def test_external_ref_is_unique_among_active_changes(server):
    ref = unique("github:o/r:prod")
    create(server.as_("alice"), external_ref=ref)
    title = unique("dup-ref")
    problem(server.as_("bob").post("/changes", json={"title": title, "external_ref": ref}), 409)
    assert count_titled(server, title) == 0


def test_several_errors_are_reported_together(server, svcs):
    r = server.as_("alice").post("/changes", json={
        "title": "", "services": [svcs[0], "nope-nope"], "business_impact": "x",
        "window": {"start": "2031-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}})
    problem(r, 422, fields=["title", "business_impact", "window.end"])


@pytest.mark.parametrize("impact", ["low", "medium", "high"])
def test_business_impact_levels(server, impact):
    assert create(server.as_("alice"), business_impact=impact)["business_impact"] == impact


def test_nul_character_is_refused_cleanly(server):
    r = server.as_("alice").post("/changes", json={"title": "nul", "description": "a\u0000b"})
    assert r.status_code in (400, 422), r.text
    problem(r, r.status_code)


@pytest.mark.parametrize("raw", [b'{"title":', b"", b"{'title': 'x'}", b'{"title":"x"}}',
                                 b'\xff\xfe{"title":"x"}', b'{"title":"\xc3\x28"}'])
def test_bad_json_is_400(server, raw):
    problem(server.as_("alice").post("/changes", data=raw,
                                     headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("raw", [b"[1]", b'"title"', b"1", b"null", b"true", b'[{"title":"x"}]'])
def test_non_object_body_is_400(server, raw):
    problem(server.as_("alice").post("/changes", data=raw,
                                     headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonx", "multipart/form-data; boundary=x", None])
def test_wrong_content_type_is_415(server, ctype):
    title = unique("ct")
    headers = {"Content-Type": ctype} if ctype else {}
    problem(server.as_("alice").post("/changes", data=json.dumps({"title": title}).encode(),
                                     headers=headers), 415)
    assert count_titled(server, title) == 0


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_variants(server, ctype):
    r = server.as_("alice").post("/changes", data=json.dumps({"title": "ct ok"}).encode(),
                                 headers={"Content-Type": ctype})
    ok(r, 201)


def raw_post(server, client, body_len, chunked=False, send=None, timeout=20):
    """POST /changes over a raw socket with a body of body_len bytes;
    returns the status code of the response (None if the server closed the
    connection without answering)."""
    cookie = f"cabinet_session={client.session_cookie}"
    head = (f"POST /api/v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            f"X-CSRF-Token: {client.csrf}\r\nContent-Type: application/json\r\n")
    prefix = b'{"title":"big","description":"'
    suffix = b'"}'
    body = prefix + b"z" * (body_len - len(prefix) - len(suffix)) + suffix
    assert len(body) == body_len
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += f"Content-Length: {body_len}\r\n\r\n"
    data = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(head.encode())
        try:
            step = 65536
            for i in range(0, len(body) if send is None else send, step):
                piece = body[i:i + step]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked and send is None:
                s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def test_body_over_1_mib_is_413(server):
    alice = server.as_("alice")
    assert raw_post(server, alice, MIB + 1) == 413
    # Refused from the declared length alone, before the body arrives.
    assert raw_post(server, alice, 8 * MIB, send=0) == 413
    assert server.psql("SELECT count(*) FROM changes WHERE title = 'big'") == "0"


def test_chunked_body_over_1_mib_is_413(server):
    assert raw_post(server, server.as_("alice"), MIB + 4096, chunked=True) == 413
    assert server.psql("SELECT count(*) FROM changes WHERE title = 'big'") == "0"


def test_body_of_exactly_1_mib_is_read(server):
    # 1 MiB is within the limit: the body is read and judged on its fields.
    r = server.as_("alice").post("/changes", data=b'{"title":"big","description":"' +
                                 b"z" * (MIB - 32) + b'"}',
                                 headers={"Content-Type": "application/json"})
    assert len(r.request.body) == MIB
    problem(r, 422, field="description")


def test_get_by_id_and_ref(server):
    alice = server.as_("alice")
    ch = create(alice)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ok(alice.get(f"/changes/CHG-{ch['id']}"))


@pytest.mark.parametrize("ref", ["987654321", "CHG-987654321", "0", "CHG-0"])
def test_unknown_change_is_404(server, ref):
    problem(server.as_("alice").get(f"/changes/{ref}"), 404)


@pytest.mark.parametrize("ref", ["abc", "CHG-", "CHG-x", "-1", "1.5", "99999999999999999999999"])
def test_malformed_change_ref(server, ref):
    r = server.as_("alice").get(f"/changes/{ref}")
    assert r.status_code in (400, 404), r.text
    problem(r, r.status_code)


def test_changes_need_login(server):
    problem(server.anon().get("/changes"), 401)
    problem(server.anon().post("/changes", json={"title": "x"}), 401)
    problem(server.anon().get("/changes/1"), 401)


# --- edit -----------------------------------------------------------------------------


def test_patch_bumps_version_and_hash(server, svcs):
    alice = server.as_("alice")
    ch = create(alice, **full_body(svcs))
    r = alice.patch(f"/changes/{ch['id']}", json={"title": "Upgrade it, carefully"},
                    headers={"If-Match": '"1"'})
    p = ok(r)
    assert r.headers.get("ETag") == '"2"', r.headers
    assert p["version"] == 2 and p["title"] == "Upgrade it, carefully"
    assert p["content_hash"] != ch["content_hash"]
    assert p["content_hash"] == content_hash(p)
    for k in ("description", "services", "window", "business_impact", "backout_plan",
              "external_ref", "model", "requester", "created_at", "ref"):
        assert p[k] == ch[k], k
    assert p["updated_at"] >= ch["updated_at"]
    r = alice.get(f"/changes/{ch['id']}")
    assert ok(r) == p and r.headers["ETag"] == '"2"'
    ok(alice.patch(f"/changes/{ch['id']}", json={"test_plan": "more tests"}))
    assert ok(alice.get(f"/changes/{ch['id']}"))["version"] == 3


def test_patch_null_clears_optional_fields(server, svcs):
    alice = server.as_("alice")
    ch = create(alice, **full_body(svcs))
    p = ok(alice.patch(f"/changes/{ch['id']}", json={
        "description": None, "window": None, "business_impact": None, "external_ref": None,
        "backout_plan": None, "services": None}))
    assert p["description"] == "" and p["window"] is None
    assert p["business_impact"] is None and p["external_ref"] is None
    assert p["backout_plan"] == "" and p["services"] == []
    assert p["title"] == ch["title"] and p["test_plan"] == ch["test_plan"]
    assert p["content_hash"] == content_hash(p)
    assert ok(alice.get(f"/changes/{ch['id']}")) == p


@pytest.mark.parametrize("field", ["title", "model"])
def test_title_and_model_cannot_be_cleared(server, field):
    alice = server.as_("alice")
    ch = create(alice)
    problem(alice.patch(f"/changes/{ch['id']}", json={field: None}), 422, field=field)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ch


def test_patch_merges_into_the_window(server):
    """RFC 7396: a nested object is merged, not replaced."""
    alice = server.as_("alice")
    ch = create(alice, window={"start": "2031-07-01T10:00:00Z", "end": "2031-07-01T11:00:00Z"})
    p = ok(alice.patch(f"/changes/{ch['id']}", json={"window": {"end": "2031-07-01T12:00:00Z"}}))
    assert p["window"] == {"start": "2031-07-01T10:00:00Z", "end": "2031-07-01T12:00:00Z"}
    problem(alice.patch(f"/changes/{ch['id']}", json={"window": {"end": "2031-07-01T09:00:00Z"}}),
            422, field="window.end")


def test_patch_validates_like_create(server, svcs):
    alice = server.as_("alice")
    ch = create(alice)
    problem(alice.patch(f"/changes/{ch['id']}", json={"services": [svcs[0], "nope-x"]}), 422,
            field="services[1]")
    problem(alice.patch(f"/changes/{ch['id']}", json={"title": "  "}), 422, field="title")
    problem(alice.patch(f"/changes/{ch['id']}", json={"colour": "red"}), 422, field="colour")
    problem(alice.patch(f"/changes/{ch['id']}", json={"id": 5}), 422, field="id")
    problem(alice.patch(f"/changes/{ch['id']}", data=b"[]",
                        headers={"Content-Type": "application/json"}), 400)
    problem(alice.patch(f"/changes/{ch['id']}", data=b"{}", headers={"Content-Type": "text/plain"}),
            415)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ch


def test_patch_services_replaces_the_list(server, svcs):
    alice = server.as_("alice")
    ch = create(alice, services=[svcs[0], svcs[1]])
    p = ok(alice.patch(f"/changes/{ch['id']}", json={"services": [svcs[2]]}))
    assert p["services"] == [svcs[2]]
    assert p["content_hash"] == content_hash(p)


def test_patch_by_another_requester_is_403(server):
    alice, bob = server.as_("alice"), server.as_("bob")
    ch = create(alice)
    problem(bob.patch(f"/changes/{ch['id']}", json={"title": "mine now"}), 403)
    problem(server.as_("cab1").patch(f"/changes/{ch['id']}", json={"title": "cab's"}), 403)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ch


def test_patch_by_a_manager_is_allowed(server):
    alice = server.as_("alice")
    ch = create(alice)
    p = ok(server.as_("manager").patch(f"/changes/{ch['id']}", json={"title": "managed"}))
    assert p["title"] == "managed" and p["version"] == 2
    assert p["requester"]["id"] == server.users["alice"]["id"]


def test_stale_if_match_is_412_and_changes_nothing(server):
    alice = server.as_("alice")
    ch = create(alice)
    ok(alice.patch(f"/changes/{ch['id']}", json={"title": "second"}))
    current = ok(alice.get(f"/changes/{ch['id']}"))
    r = alice.patch(f"/changes/{ch['id']}", json={"title": "lost update"},
                    headers={"If-Match": '"1"'})
    problem(r, 412)
    assert ok(alice.get(f"/changes/{ch['id']}")) == current


@pytest.mark.parametrize("header", ['"{v}"', "*", '"99", "{v}"', '"{v}","100"'])
def test_matching_if_match_is_accepted(server, header):
    alice = server.as_("alice")
    ch = create(alice)
    ok(alice.patch(f"/changes/{ch['id']}", json={"title": "v2"}))
    tag = etag(alice, ch["id"])
    v = tag.strip('"')
    r = alice.patch(f"/changes/{ch['id']}", json={"title": "v3"},
                    headers={"If-Match": header.format(v=v)})
    assert ok(r)["version"] == 3
    assert r.headers["ETag"] == '"3"'


@pytest.mark.parametrize("header", ['W/"{v}"', "{v}", '"{v}x"', "garbage", '"0"'])
def test_non_matching_if_match_is_412(server, header):
    alice = server.as_("alice")
    ch = create(alice)
    v = etag(alice, ch["id"]).strip('"')
    problem(alice.patch(f"/changes/{ch['id']}", json={"title": "nope"},
                        headers={"If-Match": header.format(v=v)}), 412)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ch


# --- the order of checks --------------------------------------------------------------


def test_check_order(server):
    alice, bob = server.as_("alice"), server.as_("bob")
    ch = create(alice)
    bad = {"title": ""}
    # 401 before 404.
    problem(server.anon().patch("/changes/987654321", json={"title": "x"}), 401)
    # 404 before the body.
    problem(alice.patch("/changes/987654321", json=bad), 404)
    problem(alice.patch("/changes/987654321", data=b"{", headers={"Content-Type": "text/plain"}),
            404)
    # 403 before If-Match and the body.
    problem(bob.patch(f"/changes/{ch['id']}", json=bad), 403)
    problem(bob.patch(f"/changes/{ch['id']}", data=b"{oops",
                      headers={"Content-Type": "application/json"}), 403)
    problem(bob.patch(f"/changes/{ch['id']}", json=bad, headers={"If-Match": '"77"'}), 403)
    # 412 before the body.
    problem(alice.patch(f"/changes/{ch['id']}", json=bad, headers={"If-Match": '"77"'}), 412)
    problem(alice.patch(f"/changes/{ch['id']}", data=b"{oops",
                        headers={"Content-Type": "application/json", "If-Match": '"77"'}), 412)
    # Then the body.
    problem(alice.patch(f"/changes/{ch['id']}", json=bad), 422, field="title")
    problem(alice.patch(f"/changes/{ch['id']}", data=b"{oops",
                        headers={"Content-Type": "application/json"}), 400)
    assert ok(alice.get(f"/changes/{ch['id']}")) == ch


def test_check_order_on_create(server):
    problem(server.anon().post("/changes", data=b"{oops",
                               headers={"Content-Type": "text/plain"}), 401)


# --- idempotency ----------------------------------------------------------------------


def test_idempotency_key_replays_the_first_response(server):
    alice = server.as_("alice")
    key = unique("idem")
    body = {"title": unique("idem-title"), "description": "once"}
    r1 = alice.post("/changes", json=body, headers={"Idempotency-Key": key})
    first = ok(r1, 201)
    r2 = alice.post("/changes", json=body, headers={"Idempotency-Key": key})
    assert ok(r2, 201) == first
    assert r2.headers.get("Location") == r1.headers.get("Location")
    assert count_titled(server, body["title"]) == 1
    # Even after the change moved on, the replay is the first response.
    ok(alice.patch(f"/changes/{first['id']}", json={"description": "edited"}))
    assert ok(alice.post("/changes", json=body, headers={"Idempotency-Key": key}), 201) == first
    assert count_titled(server, body["title"]) == 1


def test_idempotency_key_with_another_body_is_422(server):
    alice = server.as_("alice")
    key = unique("idem")
    title = unique("idem-a")
    ok(alice.post("/changes", json={"title": title}, headers={"Idempotency-Key": key}), 201)
    other = unique("idem-b")
    problem(alice.post("/changes", json={"title": other}, headers={"Idempotency-Key": key}), 422)
    assert count_titled(server, other) == 0 and count_titled(server, title) == 1


def test_idempotency_keys_belong_to_their_user(server):
    key = unique("idem")
    body = {"title": unique("idem-shared")}
    a = ok(server.as_("alice").post("/changes", json=body, headers={"Idempotency-Key": key}), 201)
    b = ok(server.as_("bob").post("/changes", json=body, headers={"Idempotency-Key": key}), 201)
    assert a["id"] != b["id"] and b["requester"]["id"] == server.users["bob"]["id"]


def test_without_idempotency_key_each_post_creates(server):
    alice = server.as_("alice")
    body = {"title": unique("twice")}
    ok(alice.post("/changes", json=body), 201)
    ok(alice.post("/changes", json=body), 201)
    assert count_titled(server, body["title"]) == 2


def test_idempotency_key_length(server):
    alice = server.as_("alice")
    ok(alice.post("/changes", json={"title": "k255"}, headers={"Idempotency-Key": "k" * 255}),
       201)
    title = unique("k256")
    r = alice.post("/changes", json={"title": title}, headers={"Idempotency-Key": "k" * 256})
    assert r.status_code in (400, 422), r.text
    problem(r, r.status_code)
    assert count_titled(server, title) == 0


def test_concurrent_requests_with_one_key_create_one_change(server):
    token = server.token_client("alice").token
    key = unique("race")
    body = {"title": unique("race-title")}
    results = []

    def go():
        c = server.bearer(token)
        try:
            r = c.post("/changes", json=body, headers={"Idempotency-Key": key})
            results.append((r.status_code, r.json().get("id")))
        except Exception as e:  # noqa: BLE001 - reported below
            results.append(("error", repr(e)))

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 6, results
    assert count_titled(server, body["title"]) == 1, results
    ids = {i for s, i in results if s == 201}
    assert len(ids) == 1, results
    # Each request gets the first response, or at worst a retryable conflict.
    assert all(s in (201, 409) for s, _ in results), results


# --- search ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(server, svcs):
    alice, bob = server.as_("alice"), server.as_("bob")
    a, b, c = svcs
    m = unique("flt")
    d = {"marker": m}
    d["c1"] = create(alice, title=f"{m} one", model="normal", services=[a],
                     window={"start": "2031-05-01T10:00:00Z", "end": "2031-05-01T12:00:00Z"})
    d["c2"] = create(alice, title=f"{m} two", model="emergency", services=[b],
                     window={"start": "2031-05-01T12:00:00Z", "end": "2031-05-01T14:00:00Z"})
    d["c3"] = create(alice, title=f"{m} three", model="standard", services=[a, b],
                     description=f"find the needle-{m} here")
    d["c4"] = create(bob, title=f"{m} four", services=[c],
                     window={"start": "2031-05-01T00:00:00Z", "end": "2031-05-02T00:00:00Z"})
    return d


def search(server, **params):
    items, _ = walk(server.as_("alice"), "/changes", params=params)
    return items


def names(d, items):
    by_id = {d[k]["id"]: k for k in ("c1", "c2", "c3", "c4")}
    return [by_id.get(i["id"], i["id"]) for i in items]


def test_list_newest_first(server, dataset):
    items = search(server, q=dataset["marker"])
    assert names(dataset, items) == ["c4", "c3", "c2", "c1"]
    body = ok(server.as_("alice").get("/changes", params={"q": dataset["marker"]}))
    assert body["next_cursor"] is None
    assert body["items"][0] == ok(server.as_("alice").get(f"/changes/{dataset['c4']['id']}"))


@pytest.mark.parametrize("params,expected", [
    ({"state": "draft"}, ["c4", "c3", "c2", "c1"]),
    ({"state": "approved"}, []),
    ({"model": "emergency"}, ["c2"]),
    ({"model": "standard"}, ["c3"]),
    ({"service": "A"}, ["c3", "c1"]),
    ({"service": "B"}, ["c3", "c2"]),
    ({"service": "C"}, ["c4"]),
    ({"model": "normal", "service": "A"}, ["c1"]),
    ({"from": "2031-05-01T11:00:00Z", "to": "2031-05-01T12:00:00Z"}, ["c4", "c1"]),
    ({"from": "2031-05-01T12:00:00Z", "to": "2031-05-01T13:00:00Z"}, ["c4", "c2"]),
    ({"from": "2031-05-01T14:00:00Z", "to": "2031-05-01T15:00:00Z"}, ["c4"]),
    ({"from": "2031-05-02T00:00:00Z", "to": "2031-05-03T00:00:00Z"}, []),
    ({"from": "2031-05-01T13:00:00Z"}, ["c4", "c2"]),
    ({"to": "2031-05-01T10:00:00Z"}, ["c4"]),
    ({"from": "2031-05-01T13:00:00+02:00", "to": "2031-05-01T11:30:00Z"}, ["c4", "c1"]),
    ({"requester": "bob"}, ["c4"]),
    ({"requester": "bob-email"}, ["c4"]),
    ({"requester": "alice-email"}, ["c3", "c2", "c1"]),
])
def test_list_filters(server, svcs, dataset, params, expected):
    params = dict(params)
    if "service" in params:
        params["service"] = svcs["ABC".index(params["service"])]
    if params.get("requester") == "bob":
        params["requester"] = str(server.users["bob"]["id"])
    elif params.get("requester", "").endswith("-email"):
        params["requester"] = server.users[params["requester"][:-6]]["email"]
    params["q"] = dataset["marker"]
    assert names(dataset, search(server, **params)) == expected


def test_search_text(server, dataset):
    m = dataset["marker"]
    assert names(dataset, search(server, q=f"needle-{m}")) == ["c3"]
    assert names(dataset, search(server, q=m.upper())) == ["c4", "c3", "c2", "c1"]
    assert names(dataset, search(server, q=f"{m} tw")) == ["c2"]
    found = names(dataset, search(server, q=dataset["c2"]["ref"]))
    assert "c2" in found and "c1" not in found and "c3" not in found


def test_search_is_not_a_pattern(server, dataset):
    assert names(dataset, search(server, q=f"{dataset['marker'][:4]}%one")) == []
    assert names(dataset, search(server, q="_" * 40)) == []


def test_list_pages(server, dataset):
    c = server.as_("alice")
    items, pages = walk(c, "/changes", params={"q": dataset["marker"]}, limit=1)
    assert names(dataset, items) == ["c4", "c3", "c2", "c1"] and pages >= 4
    everything = page_items(ok(c.get("/changes", params={"limit": 200})))
    paged, _ = walk(c, "/changes", limit=7)
    assert [i["id"] for i in paged[:len(everything)]] == [i["id"] for i in everything]
    ids = [i["id"] for i in paged]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("params", [{"cursor": "garbage!"}, {"cursor": "A" * 500},
                                    {"state": "bogus"}, {"from": "yesterday"},
                                    {"to": "2031-13-01T00:00:00Z"}, {"limit": "0"},
                                    {"limit": "201"}])
def test_bad_list_parameters(server, params):
    r = server.as_("alice").get("/changes", params=params)
    if "cursor" in params:
        problem(r, 400)
    else:
        assert r.status_code in (400, 422), (params, r.status_code, r.text[:300])
        problem(r, r.status_code)


# --- content_hash ---------------------------------------------------------------------

WEIRD_TITLE = 'Quote " back\\slash / café — 日本語 😀 é'
# Text fields refuse control characters but tab and line breaks (how the
# other control bytes are escaped is tests/unit/test_canon.c's to check).
WEIRD_TEXT = ("tab:\t|lf:\n|"
              "u2028:\u2028|nbsp:\u00a0|bom:\ufeff|quote:\"|bs:\\|slash:/|<script>&amp;")


def test_content_hash_of_a_minimal_change(server):
    ch = create(server.as_("alice"), title="Minimal")
    expected = canon({"backout_plan": "", "business_impact": "", "description": "",
                      "implementation_plan": "", "model": "normal", "services": [],
                      "test_plan": "", "title": "Minimal", "window": {"end": "", "start": ""}})
    assert expected == ('{"backout_plan":"","business_impact":"","description":"",'
                        '"implementation_plan":"","model":"normal","services":[],"test_plan":"",'
                        '"title":"Minimal","window":{"end":"","start":""}}')
    assert ch["content_hash"] == content_hash(ch)


def test_content_hash_of_a_full_change(server, svcs):
    body = full_body(svcs)
    body["window"] = {"start": "2031-06-01T23:00:00.9+01:00", "end": "2031-06-02T01:30:00Z"}
    ch = create(server.as_("alice"), **body)
    assert ch["window"]["start"] == "2031-06-01T22:00:00Z"
    assert ch["content_hash"] == content_hash(ch)


def test_content_hash_escapes_like_the_design_says(server, svcs):
    ch = create(server.as_("alice"), title=WEIRD_TITLE, description=WEIRD_TEXT,
                test_plan="tab\there", backout_plan="two\nlines", services=[svcs[2]])
    assert ch["title"] == WEIRD_TITLE and ch["description"] == WEIRD_TEXT
    text = canon(change_content(ch))
    assert "\\t" in text and "\\n" in text and '\\"' in text and "\\\\" in text
    assert "日本語" in text and "\u2028" in text and "\ufeff" in text
    assert ch["content_hash"] == content_hash(ch)
    stored = server.psql(f"SELECT content_hash FROM change_versions "
                         f"WHERE change_id = {ch['id']} AND version = 1")
    assert stored == ch["content_hash"]


def test_content_hash_follows_edits(server, svcs):
    alice = server.as_("alice")
    ch = create(alice, title="before")
    p = ok(alice.patch(f"/changes/{ch['id']}", json={"title": WEIRD_TITLE,
                                                     "description": WEIRD_TEXT,
                                                     "services": [svcs[1], svcs[0]]}))
    assert p["content_hash"] == content_hash(p) != ch["content_hash"]
    rows = server.psql(f"SELECT version || ' ' || content_hash FROM change_versions "
                       f"WHERE change_id = {ch['id']} ORDER BY version").splitlines()
    assert rows == [f"1 {ch['content_hash']}", f"2 {p['content_hash']}"]


def test_content_hash_ignores_what_is_not_signed(server, svcs):
    alice = server.as_("alice")
    a = create(alice, title="same", services=[svcs[0], svcs[1]], external_ref=unique("X"))
    b = create(alice, title="same", services=[svcs[1], svcs[0]], external_ref=unique("X"),
               description="")
    assert a["content_hash"] == b["content_hash"]
    d = create(alice, title="same", services=[svcs[0], svcs[1]], model="emergency")
    assert d["content_hash"] != a["content_hash"]
    assert d["content_hash"] == content_hash(d)


# --- many at once ---------------------------------------------------------------------


def test_concurrent_creates(server):
    token = server.token_client("alice").token
    marker = unique("conc")
    results = []

    def go(i):
        c = server.bearer(token)
        try:
            for j in range(3):
                r = c.post("/changes", json={"title": f"{marker} {i}-{j}"})
                results.append((r.status_code, r.json().get("id")))
        except Exception as e:  # noqa: BLE001 - reported below
            results.append(("error", repr(e)))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 72, results
    assert all(s == 201 for s, _ in results), [x for x in results if x[0] != 201][:5]
    assert len({i for _, i in results}) == 72
    assert server.psql(f"SELECT count(*) FROM changes WHERE title LIKE '{marker} %'") == "72"
