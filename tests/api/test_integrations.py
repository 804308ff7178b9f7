"""Webhook links as admins manage them (README "Webhook links"): made with
a link and secret shown once (the key stored as its hash), listed, read,
edited, rotated, deleted (disabled, its deliveries and changes kept), every
write audited, and refused with the field at fault."""

import base64
import hashlib
import time

import pytest

from conftest import ok, page_items, problem, unique, walk
from hooklinks import deliveries, make_integration, send_generic, service


def test_create_shows_link_and_secret_once_and_stores_the_key_hashed(server):
    s = service(server)
    integ = make_integration(server, services=[s], environments={"production": [s]},
                             default_duration_s=1800)
    assert integ["kind"] == "generic" and integ["model"] == "normal", integ
    assert integ["services"] == [s] and integ["environments"] == {"production": [s]}
    assert integ["default_duration_s"] == 1800 and integ["enabled"] is True
    assert integ["url"].startswith(server.base + "/hooks/hk_"), integ["url"]
    assert integ["secret"].startswith("whsec_")
    assert len(base64.b64decode(integ["secret"][6:], validate=True)) >= 24
    key = integ["url"].rsplit("/", 1)[1]
    stored = server.psql(f"SELECT encode(key_hash, 'hex') FROM integrations "
                         f"WHERE id = {integ['id']}")
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    assert key not in server.psql(f"SELECT row_to_json(i)::text FROM integrations i "
                                  f"WHERE id = {integ['id']}")
    got = ok(server.as_("admin").get(f"/integrations/{integ['id']}"))
    assert "secret" not in got and "url" not in got, got
    listed = walk(server.as_("admin"), "/integrations")[0]
    assert any(i["id"] == integ["id"] for i in listed)
    assert all("secret" not in i and "url" not in i for i in listed)


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_tool_links_get_a_random_token(server, kind):
    a, b = make_integration(server, kind), make_integration(server, kind)
    assert a["kind"] == kind
    assert not a["secret"].startswith("whsec_") and len(a["secret"]) >= 32
    assert a["secret"] != b["secret"] and a["url"] != b["url"]


def test_only_admins(server):
    for who in ("alice", "manager", "cab1"):
        problem(server.as_(who).post("/integrations", json={"name": "x", "kind": "generic"}), 403)
        problem(server.as_(who).get("/integrations"), 403)
    integ = make_integration(server)
    problem(server.as_("manager").get(f"/integrations/{integ['id']}"), 403)
    problem(server.as_("manager").get(f"/integrations/{integ['id']}/deliveries"), 403)
    problem(server.as_("manager").delete(f"/integrations/{integ['id']}"), 403)
    problem(server.as_("admin").get("/integrations/999999"), 404)
    problem(server.anon().get("/integrations"), 401)


@pytest.mark.parametrize("body,fields", [
    ({"kind": "generic"}, ["name"]),
    ({"name": "x"}, ["kind"]),
    ({"name": "x", "kind": "jenkins"}, ["kind"]),
    ({"name": "x", "kind": "generic", "model": "nosuchmodel"}, ["model"]),
    ({"name": "x", "kind": "generic", "services": ["no-such-svc"]}, ["services[0]"]),
    ({"name": "x", "kind": "generic", "environments": {"prod": ["no-such-svc"]}},
     ["environments.prod[0]"]),
    ({"name": "x", "kind": "generic", "environments": {"prod": "svc"}}, ["environments.prod"]),
    ({"name": "x", "kind": "generic", "environments": ["prod"]}, ["environments"]),
    ({"name": "x", "kind": "generic", "default_duration_s": 5}, ["default_duration_s"]),
    ({"name": "x", "kind": "generic", "key": "mine"}, ["key"]),
])
def test_bad_bodies_are_422_naming_the_field(server, body, fields):
    problem(server.as_("admin").post("/integrations", json=body), 422, fields=fields)


def test_patch_edits_settings_and_is_audited(server):
    s1, s2 = service(server), service(server)
    integ = make_integration(server, services=[s1])
    admin = server.as_("admin")
    got = ok(admin.patch(f"/integrations/{integ['id']}", json={
        "name": "renamed", "model": "standard", "services": [s2],
        "environments": {"staging": [s1, s2]}, "default_duration_s": 600}))
    assert got["name"] == "renamed" and got["model"] == "standard" and got["services"] == [s2]
    assert got["environments"] == {"staging": [s1, s2]} and got["default_duration_s"] == 600
    assert got["kind"] == "generic"
    problem(admin.patch(f"/integrations/{integ['id']}", json={"kind": "github"}), 422,
            field="kind")
    problem(admin.patch(f"/integrations/{integ['id']}", json={"services": ["nope-svc"]}), 422,
            field="services[0]")
    problem(admin.patch(f"/integrations/{integ['id']}", json={"model": "nope"}), 422,
            field="model")
    actions = server.psql(f"SELECT string_agg(action, ',' ORDER BY seq) FROM audit_log "
                          f"WHERE entity = 'integration' AND entity_id = '{integ['id']}'")
    assert actions == "integration.created,integration.updated", actions
    changed = server.psql_json(f"SELECT data->'changed' FROM audit_log WHERE entity = "
                               f"'integration' AND entity_id = '{integ['id']}' "
                               f"AND action = 'integration.updated'")
    assert sorted(changed) == sorted(["name", "model", "services", "environments",
                                      "default_duration_s"])


def test_disabled_and_deleted_links_are_404_and_keep_their_deliveries(server):
    s = service(server)
    integ = make_integration(server, model="standard", services=[s])
    admin = server.as_("admin")
    r = send_generic(integ, {"title": "before disabling"})
    assert r.status_code == 201, r.text
    cid = r.json()["change"]["id"]
    ok(admin.patch(f"/integrations/{integ['id']}", json={"enabled": False}))
    problem(send_generic(integ, {"title": "while disabled"}), 404)
    ok(admin.patch(f"/integrations/{integ['id']}", json={"enabled": True}))
    assert send_generic(integ, {"title": "enabled again"}).status_code == 201
    ok(admin.delete(f"/integrations/{integ['id']}"), 204)
    problem(send_generic(integ, {"title": "after deleting"}), 404)
    problem(admin.delete(f"/integrations/{integ['id']}"), 404)
    problem(admin.patch(f"/integrations/{integ['id']}", json={"enabled": True}), 404)
    got = ok(admin.get(f"/integrations/{integ['id']}"))
    assert got["enabled"] is False and got["deleted_at"], got
    assert not any(i["id"] == integ["id"] for i in walk(admin, "/integrations")[0])
    assert len([d for d in deliveries(server, integ["id"]) if d["status"] == 201]) == 2
    assert ok(admin.get(f"/changes/{cid}"))["source"] == "hook"
    actions = server.psql(f"SELECT string_agg(action, ',' ORDER BY seq) FROM audit_log "
                          f"WHERE entity = 'integration' AND entity_id = '{integ['id']}'")
    assert actions.endswith("integration.updated,integration.updated,integration.deleted")


def test_list_pages(server):
    admin = server.as_("admin")
    made = {make_integration(server)["id"] for _ in range(5)}
    items, pages = walk(admin, "/integrations", limit=2)
    assert made <= {i["id"] for i in items} and pages >= 3
    ids = [i["id"] for i in items]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    problem(admin.get("/integrations", params={"cursor": "garbage"}), 400)


def test_rotate_keeps_the_old_pair_for_the_grace_period(server):
    s = service(server)
    integ = make_integration(server, model="standard", services=[s])
    admin = server.as_("admin")
    problem(admin.post(f"/integrations/{integ['id']}/rotate", json={"grace_s": -1}), 422,
            field="grace_s")
    new = ok(admin.post(f"/integrations/{integ['id']}/rotate", json={"grace_s": 3}))
    assert new["url"] != integ["url"] and new["secret"] != integ["secret"]
    assert new["secret"].startswith("whsec_") and new["previous_link_until"]
    assert send_generic(new, {"title": "new pair"}).status_code == 201
    assert send_generic(integ, {"title": "old pair in grace"}).status_code == 201
    # the old link with the new secret is refused (and the other way round)
    assert send_generic(integ, {"title": "mixed"}, secret=new["secret"]).status_code == 401
    assert send_generic(new, {"title": "mixed"}, secret=integ["secret"]).status_code == 401
    time.sleep(4)
    problem(send_generic(integ, {"title": "old pair after grace"}), 404)
    assert send_generic(new, {"title": "new pair still"}).status_code == 201
    # no grace: the old pair stops at once
    newer = ok(admin.post(f"/integrations/{integ['id']}/rotate", json={}))
    problem(send_generic(new, {"title": "rotated out"}), 404)
    assert send_generic(newer, {"title": "newest"}).status_code == 201
    assert "secret" not in ok(admin.get(f"/integrations/{integ['id']}"))
    problem(server.as_("manager").post(f"/integrations/{integ['id']}/rotate", json={}), 403)


def test_deliveries_page_newest_first(server):
    s = service(server)
    integ = make_integration(server, model="standard", services=[s])
    for i in range(5):
        assert send_generic(integ, {"title": f"paged {i}"}).status_code == 201
    body = ok(server.as_("admin").get(f"/integrations/{integ['id']}/deliveries",
                                      params={"limit": 2}))
    assert len(page_items(body)) == 2 and body["next_cursor"]
    items = deliveries(server, integ["id"])
    ids = [d["id"] for d in items]
    assert ids == sorted(ids, reverse=True) and len(items) == 5
    d = items[0]
    # the integration names its last delivery, in the list and alone
    last = {k: d[k] for k in ("id", "event", "result", "status", "received_at", "change")}
    assert ok(server.as_("admin").get(f"/integrations/{integ['id']}"))["last_delivery"] == last
    listed = [i for i in walk(server.as_("admin"), "/integrations")[0] if i["id"] == integ["id"]]
    assert listed[0]["last_delivery"] == last
    assert d["result"] == "accepted" and d["status"] == 201 and d["event"] == "change"
    assert d["delivery_id"].startswith("msg_") and d["change"]["ref"].startswith("CHG-")
    assert d["received_at"].endswith("Z")
