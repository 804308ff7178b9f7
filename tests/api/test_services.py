"""The service map: CRUD, validation, impact sets, paging."""

import pytest

from conftest import ok, page_items, problem, unique, walk

SERVICE_KEYS = {"name", "title", "tier", "owner", "description", "depends_on", "dependents",
                "created_at", "updated_at"}


def svc(admin, name=None, **over):
    body = {"name": name or unique("s"), "title": "A service", "tier": 3}
    body.update(over)
    return ok(admin.post("/services", json=body), 201)


def test_create_read_update_delete(server):
    admin = server.as_("admin")
    base = svc(admin, title="Base")
    body = {"name": unique("svc"), "title": "Payments API", "tier": 1, "owner": "team-pay",
            "description": "Takes the money.\nAll of it.", "depends_on": [base["name"]]}
    r = admin.post("/services", json=body)
    s = ok(r, 201)
    assert r.headers.get("Location") == f"/api/v1/services/{body['name']}", r.headers
    assert set(s) >= SERVICE_KEYS, s
    for k, v in body.items():
        assert s[k] == v, (k, s)
    assert s["dependents"] == []
    assert ok(admin.get(f"/services/{body['name']}")) == s
    assert body["name"] in ok(admin.get(f"/services/{base['name']}"))["dependents"]
    # Readable by anyone logged in.
    assert ok(server.as_("alice").get(f"/services/{body['name']}")) == s
    # Merge patch.
    p = ok(admin.patch(f"/services/{body['name']}", json={"title": "Payments", "tier": 2}))
    assert p["title"] == "Payments" and p["tier"] == 2
    assert p["owner"] == "team-pay" and p["depends_on"] == [base["name"]]
    p = ok(admin.patch(f"/services/{body['name']}", json={"depends_on": []}))
    assert p["depends_on"] == []
    assert ok(admin.get(f"/services/{base['name']}"))["dependents"] == []
    # Delete.
    assert admin.delete(f"/services/{body['name']}").status_code == 204
    problem(admin.get(f"/services/{body['name']}"), 404)
    problem(admin.delete(f"/services/{body['name']}"), 404)


def test_name_cannot_change(server):
    admin = server.as_("admin")
    s = svc(admin)
    problem(admin.patch(f"/services/{s['name']}", json={"name": unique("other")}), 422,
            field="name")
    assert ok(admin.get(f"/services/{s['name']}")) == s


def test_duplicate_name_is_409(server):
    admin = server.as_("admin")
    s = svc(admin)
    problem(admin.post("/services", json={"name": s["name"], "title": "again", "tier": 2}), 409)


@pytest.mark.parametrize("name", ["Upper", "-dash", "under_score", "", "a" * 64, "sp ace",
                                  "dot.ted", "é", 7])
def test_bad_slug_is_422(server, name):
    problem(server.as_("admin").post("/services", json={"name": name, "title": "t", "tier": 2}),
            422, field="name")


def test_longest_slug_is_fine(server):
    name = "a" + "-b" * 31  # 63 characters
    assert len(name) == 63
    assert svc(server.as_("admin"), name=name)["name"] == name


@pytest.mark.parametrize("tier", [0, 5, -1, "2", 1.5, None, True])
def test_tier_range(server, tier):
    problem(server.as_("admin").post("/services", json={"name": unique("t"), "title": "t",
                                                        "tier": tier}), 422, field="tier")


@pytest.mark.parametrize("tier", [1, 4])
def test_tier_bounds_accepted(server, tier):
    assert svc(server.as_("admin"), tier=tier)["tier"] == tier


@pytest.mark.parametrize("missing", ["name", "title", "tier"])
def test_required_fields(server, missing):
    body = {"name": unique("r"), "title": "t", "tier": 2}
    del body[missing]
    problem(server.as_("admin").post("/services", json=body), 422, field=missing)


def test_unknown_field_is_422(server):
    problem(server.as_("admin").post("/services", json={"name": unique("u"), "title": "t",
                                                        "tier": 2, "colour": "red"}),
            422, field="colour")


def test_depends_on_must_exist(server):
    admin = server.as_("admin")
    a = svc(admin)
    name = unique("d")
    problem(admin.post("/services", json={"name": name, "title": "t", "tier": 2,
                                          "depends_on": ["no-such-service"]}),
            422, field="depends_on[0]")
    problem(admin.post("/services", json={"name": name, "title": "t", "tier": 2,
                                          "depends_on": [a["name"], "no-such-service"]}),
            422, field="depends_on[1]")
    problem(admin.get(f"/services/{name}"), 404)
    problem(admin.patch(f"/services/{a['name']}", json={"depends_on": ["ghost-svc"]}),
            422, field="depends_on[0]")


def test_self_dependency_is_422(server):
    admin = server.as_("admin")
    name = unique("self")
    problem(admin.post("/services", json={"name": name, "title": "t", "tier": 2,
                                          "depends_on": [name]}), 422, field="depends_on[0]")
    s = svc(admin)
    problem(admin.patch(f"/services/{s['name']}", json={"depends_on": [s["name"]]}),
            422, field="depends_on[0]")
    assert ok(admin.get(f"/services/{s['name']}"))["depends_on"] == []


def test_every_fault_of_a_service_is_named_at_once(server):
    admin = server.as_("admin")
    name = unique("all")
    r = admin.post("/services", json={"name": name, "title": "", "tier": 9,
                                      "depends_on": ["no-such-service"], "colour": "red"})
    problem(r, 422, fields=["title", "tier", "depends_on[0]", "colour"])
    problem(admin.get(f"/services/{name}"), 404)
    s = svc(admin)
    r = admin.patch(f"/services/{s['name']}", json={"name": "other", "title": None, "tier": None,
                                                  "depends_on": [s["name"], "ghost-svc"],
                                                  "colour": "red"})
    problem(r, 422, fields=["name", "title", "tier", "depends_on[0]", "depends_on[1]", "colour"])
    assert ok(admin.get(f"/services/{s['name']}")) == s


def test_non_admin_writes_are_403(server):
    admin = server.as_("admin")
    s = svc(admin)
    for who in ("alice", "cab1", "manager"):
        c = server.as_(who)
        name = unique("na")
        problem(c.post("/services", json={"name": name, "title": "t", "tier": 2}), 403)
        problem(c.patch(f"/services/{s['name']}", json={"title": "mine"}), 403)
        problem(c.delete(f"/services/{s['name']}"), 403)
        problem(admin.get(f"/services/{name}"), 404)
    assert ok(admin.get(f"/services/{s['name']}")) == s
    problem(server.anon().get("/services"), 401)


def test_unknown_service_is_404(server):
    c = server.as_("alice")
    problem(c.get("/services/no-such-service"), 404)
    problem(c.get("/services/no-such-service/impact"), 404)
    problem(server.as_("admin").patch("/services/no-such-service", json={"title": "x"}), 404)


# --- impact sets ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph(server):
    """root <- d1 <- d2 <- ca; cycle ca <- cb <- cc <- ca; diamond d3 on
    root and d2; an unrelated lone service. (x <- y: y depends on x.)"""
    admin = server.as_("admin")
    p = unique("g")
    n = {k: f"{p}-{k}" for k in ("root", "d1", "d2", "d3", "ca", "cb", "cc", "lone")}
    svc(admin, n["root"], tier=3)
    svc(admin, n["d1"], tier=4, depends_on=[n["root"]])
    svc(admin, n["d2"], tier=2, depends_on=[n["d1"]])
    svc(admin, n["d3"], tier=4, depends_on=[n["root"], n["d2"]])
    svc(admin, n["ca"], tier=3, depends_on=[n["d2"]])
    svc(admin, n["cb"], tier=1, depends_on=[n["ca"]])
    svc(admin, n["cc"], tier=4, depends_on=[n["cb"]])
    ok(admin.patch(f"/services/{n['ca']}", json={"depends_on": [n["d2"], n["cc"]]}))
    svc(admin, n["lone"], tier=2)
    return n


def impact(server, name):
    return ok(server.as_("alice").get(f"/services/{name}/impact"))


def test_impact_is_transitive_with_depths(server, graph):
    n = graph
    body = impact(server, n["root"])
    assert body["service"] == n["root"]
    depths = {i["name"]: i["depth"] for i in body["impact_set"]}
    assert depths == {n["root"]: 0, n["d1"]: 1, n["d3"]: 1, n["d2"]: 2, n["ca"]: 3,
                      n["cb"]: 4, n["cc"]: 5}, depths
    assert n["lone"] not in depths
    assert body["blast_radius"] == 7
    assert body["max_tier"] == 1  # the most critical tier in the set (cb)
    # Nearest first.
    ds = [i["depth"] for i in body["impact_set"]]
    assert ds == sorted(ds), body["impact_set"]
    for i in body["impact_set"]:
        assert set(i) >= {"name", "title", "tier", "depth"}, i


def test_impact_of_a_cycle_terminates(server, graph):
    n = graph
    body = impact(server, n["cb"])
    depths = {i["name"]: i["depth"] for i in body["impact_set"]}
    assert depths == {n["cb"]: 0, n["cc"]: 1, n["ca"]: 2}, depths
    assert body["blast_radius"] == 3 and body["max_tier"] == 1
    body = impact(server, n["cc"])
    assert {i["name"]: i["depth"] for i in body["impact_set"]} == {n["cc"]: 0, n["ca"]: 1,
                                                                    n["cb"]: 2}


def test_impact_of_a_leaf(server, graph):
    body = impact(server, graph["lone"])
    assert [(i["name"], i["depth"]) for i in body["impact_set"]] == [(graph["lone"], 0)]
    assert body["blast_radius"] == 1 and body["max_tier"] == 2


def test_dependents_listed(server, graph):
    n = graph
    s = ok(server.as_("alice").get(f"/services/{n['root']}"))
    assert sorted(s["dependents"]) == sorted([n["d1"], n["d3"]])
    s = ok(server.as_("alice").get(f"/services/{n['ca']}"))
    assert sorted(s["depends_on"]) == sorted([n["d2"], n["cc"]])


# --- delete refused while in use ----------------------------------------------------------


def test_delete_refused_while_others_depend_on_it(server):
    admin = server.as_("admin")
    base = svc(admin)
    dep = svc(admin, depends_on=[base["name"]])
    r = admin.delete(f"/services/{base['name']}")
    body = problem(r, 409)
    assert dep["name"] in r.text, body
    assert ok(admin.get(f"/services/{base['name']}"))["name"] == base["name"]
    # Once the dependent is gone, it can go.
    assert admin.delete(f"/services/{dep['name']}").status_code == 204
    assert admin.delete(f"/services/{base['name']}").status_code == 204


def test_delete_of_a_dependent_service_is_allowed(server):
    admin = server.as_("admin")
    base = svc(admin)
    dep = svc(admin, depends_on=[base["name"]])
    assert admin.delete(f"/services/{dep['name']}").status_code == 204
    assert ok(admin.get(f"/services/{base['name']}"))["dependents"] == []
    assert [i["name"] for i in ok(admin.get(f"/services/{base['name']}/impact"))["impact_set"]] \
        == [base["name"]]


def test_delete_refused_while_a_change_uses_it(server):
    admin = server.as_("admin")
    s = svc(admin)
    ch = ok(server.as_("alice").post("/changes", json={"title": "uses it",
                                                       "services": [s["name"]]}), 201)
    r = admin.delete(f"/services/{s['name']}")
    problem(r, 409)
    assert ch["ref"] in r.text or "change" in r.text.lower(), r.text
    assert ok(admin.get(f"/services/{s['name']}"))["name"] == s["name"]
    assert ok(server.as_("alice").get(f"/changes/{ch['id']}"))["services"] == [s["name"]]


# --- paging ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many(server):
    admin = server.as_("admin")
    names = [f"pg-{i:02d}" for i in range(23)]
    for name in names:
        svc(admin, name)
    return names


def test_list_sorted_by_name(server, many):
    items = page_items(ok(server.as_("alice").get("/services", params={"limit": 200})))
    names = [s["name"] for s in items]
    assert names == sorted(names)
    assert set(many) <= set(names)


def test_paging_has_no_duplicates_and_no_gaps(server, many):
    c = server.as_("alice")
    everything = [s["name"] for s in page_items(ok(c.get("/services", params={"limit": 200})))]
    for limit in (1, 5, 7):
        items, pages = walk(c, "/services", limit=limit)
        names = [s["name"] for s in items]
        assert names == everything, limit
        assert pages >= len(everything) // limit


def test_default_limit_is_50(server, many):
    admin = server.as_("admin")
    for i in range(60 - len(page_items(ok(admin.get("/services", params={"limit": 200}))))):
        svc(admin, f"zz-fill-{i:02d}")
    body = ok(admin.get("/services"))
    assert len(body["items"]) == 50 and body["next_cursor"], len(body["items"])


def test_last_full_page_has_null_cursor(server, many):
    """A last page that happens to be full still says it is the last."""
    c = server.as_("alice")
    total = len(page_items(ok(c.get("/services", params={"limit": 200}))))
    body = ok(c.get("/services", params={"limit": total}))
    assert len(body["items"]) == total
    assert body["next_cursor"] is None, body["next_cursor"]


@pytest.mark.parametrize("cursor", ["!!!", "not-a-cursor", "%00", "A" * 300])
def test_bad_cursor_is_400(server, many, cursor):
    problem(server.as_("alice").get("/services", params={"cursor": cursor}), 400)


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_bad_limit_is_refused(server, limit):
    r = server.as_("alice").get("/services", params={"limit": limit})
    assert r.status_code in (400, 422), r.text
    problem(r, r.status_code)
