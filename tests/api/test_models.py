"""Change models and their approval policies."""

import pytest

from conftest import ok, page_items, problem, unique

POLICY = {"critical": [{"role": "cab", "count": 3}, {"role": "manager", "count": 1}],
          "low": [{"role": "cab", "count": 1}]}


def test_seeded_models(server):
    items = page_items(ok(server.as_("alice").get("/models")))
    by_name = {m["name"]: m for m in items}
    for name in ("standard", "normal", "emergency"):
        assert name in by_name, by_name
        m = by_name[name]
        assert m["kind"] == name
        assert m["policy"] is None
        assert m["title"] and isinstance(m["description"], str)
        assert set(m) >= {"name", "kind", "title", "description", "policy"}
    assert ok(server.as_("alice").get("/models/emergency")) == by_name["emergency"]


def test_models_need_login(server):
    problem(server.anon().get("/models"), 401)


def test_unknown_model_is_404(server):
    problem(server.as_("alice").get("/models/no-such-model"), 404)
    problem(server.as_("admin").patch("/models/no-such-model", json={"title": "x"}), 404)


def test_admin_creates_a_model_with_a_policy(server):
    admin = server.as_("admin")
    body = {"name": unique("m"), "kind": "normal", "title": "Database change",
            "description": "Anything touching a schema.", "policy": POLICY}
    m = ok(admin.post("/models", json=body), 201)
    for k, v in body.items():
        assert m[k] == v, (k, m)
    assert ok(server.as_("alice").get(f"/models/{body['name']}")) == m
    assert body["name"] in [x["name"] for x in page_items(ok(admin.get("/models")))]
    # A change may use it.
    ch = ok(server.as_("alice").post("/changes", json={"title": "schema", "model": body["name"]}),
            201)
    assert ch["model"] == body["name"] and ch["kind"] == "normal"


def test_admin_updates_a_model(server):
    admin = server.as_("admin")
    name = unique("m")
    ok(admin.post("/models", json={"name": name, "kind": "emergency", "title": "Hotfix"}), 201)
    m = ok(admin.patch(f"/models/{name}", json={"title": "Hot fix", "policy": POLICY}))
    assert m["title"] == "Hot fix" and m["policy"] == POLICY and m["kind"] == "emergency"
    m = ok(admin.patch(f"/models/{name}", json={"policy": None}))
    assert m["policy"] is None and m["title"] == "Hot fix"
    assert ok(admin.get(f"/models/{name}")) == m


def test_model_without_policy_defaults_to_null(server):
    m = ok(server.as_("admin").post("/models", json={"name": unique("m"), "kind": "standard",
                                                     "title": "Routine"}), 201)
    assert m["policy"] is None and m["description"] == ""


@pytest.mark.parametrize("policy", [
    [],
    "cab",
    {"extreme": [{"role": "cab", "count": 1}]},
    {"low": [{"role": "wizard", "count": 1}]},
    {"low": [{"role": "cab", "count": 0}]},
    {"low": [{"role": "cab", "count": -2}]},
    {"low": [{"role": "cab", "count": "2"}]},
    {"low": [{"role": "cab", "count": 1.5}]},
    {"low": [{"role": "cab"}]},
    {"low": [{"count": 1}]},
    {"low": [{"role": "cab", "count": 1, "extra": True}]},
    {"low": {"role": "cab", "count": 1}},
    {"low": ["cab"]},
])
def test_policy_validation(server, policy):
    admin = server.as_("admin")
    name = unique("bad")
    r = admin.post("/models", json={"name": name, "kind": "normal", "title": "t",
                                    "policy": policy})
    body = problem(r, 422)
    assert any(e["field"].startswith("policy") for e in body["errors"]), body
    problem(admin.get(f"/models/{name}"), 404)


@pytest.mark.parametrize("body,field", [
    ({"kind": "weird", "title": "t"}, "kind"),
    ({"title": "t"}, "kind"),
    ({"kind": "normal"}, "title"),
    ({"kind": "normal", "title": ""}, "title"),
    ({"kind": "normal", "title": "t", "name": "Bad Name"}, "name"),
    ({"kind": "normal", "title": "t", "colour": "red"}, "colour"),
])
def test_model_fields(server, body, field):
    body = dict(body)
    body.setdefault("name", unique("m"))
    problem(server.as_("admin").post("/models", json=body), 422, field=field)


def test_every_fault_of_a_model_is_named_at_once(server):
    admin = server.as_("admin")
    r = admin.post("/models", json={"name": "Bad Name", "kind": "weird", "title": "",
                                    "policy": {"extreme": [], "low": ["cab"]}, "colour": "red"})
    problem(r, 422, fields=["name", "kind", "title", "policy.extreme", "policy.low[0]", "colour"])
    name = unique("m")
    m = ok(admin.post("/models", json={"name": name, "kind": "normal", "title": "Kept"}), 201)
    r = admin.patch(f"/models/{name}", json={"name": "other", "kind": None, "title": None,
                                             "policy": "cab", "colour": "red"})
    problem(r, 422, fields=["name", "kind", "title", "policy", "colour"])
    assert ok(admin.get(f"/models/{name}")) == m


def test_duplicate_model_is_409(server):
    problem(server.as_("admin").post("/models", json={"name": "normal", "kind": "normal",
                                                      "title": "again"}), 409)


def test_non_admin_writes_are_403(server):
    for who in ("alice", "cab1", "manager"):
        c = server.as_(who)
        name = unique("m")
        problem(c.post("/models", json={"name": name, "kind": "normal", "title": "t"}), 403)
        problem(c.patch("/models/normal", json={"title": "Mine now"}), 403)
        problem(server.as_("admin").get(f"/models/{name}"), 404)
    assert ok(server.as_("alice").get("/models/normal"))["title"] != "Mine now"
