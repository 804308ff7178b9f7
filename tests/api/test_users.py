"""Accounts: admins only."""

import pytest

from conftest import PASSWORD, ok, page_items, problem, unique, walk

USER_KEYS = {"id", "email", "name", "roles", "disabled", "created_at", "updated_at"}


def new_user(admin, **over):
    body = {"email": f"{unique('u')}@cabinet.test", "name": "New Person",
            "password": "long-enough-password", "roles": []}
    body.update(over)
    return body


def test_admin_lists_users(server):
    admin = server.as_("admin")
    items, _ = walk(admin, "/users")
    emails = {u["email"] for u in items}
    for u in server.users.values():
        assert u["email"] in emails
    for u in items:
        assert set(u) >= USER_KEYS, u
        assert "password_hash" not in u and "password" not in u
        assert "requester" in u["roles"]


def test_admin_creates_reads_and_updates_a_user(server):
    admin = server.as_("admin")
    body = new_user(admin, roles=["cab", "manager"])
    r = admin.post("/users", json=body)
    u = ok(r, 201)
    assert set(u) >= USER_KEYS, u
    assert u["email"] == body["email"] and u["name"] == body["name"]
    assert sorted(u["roles"]) == ["cab", "manager", "requester"]
    assert u["disabled"] is False
    assert "long-enough-password" not in r.text and "password" not in u
    assert ok(admin.get(f"/users/{u['id']}")) == u
    # The new account can log in with its password.
    c = server.login(body["email"], body["password"])
    assert c.user["id"] == u["id"]
    # Update name and roles.
    v = ok(admin.patch(f"/users/{u['id']}", json={"name": "Renamed", "roles": ["ecab"]}))
    assert v["name"] == "Renamed" and sorted(v["roles"]) == ["ecab", "requester"]
    assert v["email"] == u["email"] and v["created_at"] == u["created_at"]
    assert v["updated_at"] >= u["updated_at"]
    assert ok(admin.get(f"/users/{u['id']}")) == v
    # A new password replaces the old one.
    ok(admin.patch(f"/users/{u['id']}", json={"password": "another-long-password"}))
    problem(server.anon().post("/session", json={"email": body["email"],
                                                 "password": body["password"]}), 401)
    server.login(body["email"], "another-long-password")


def test_created_user_appears_in_the_list(server):
    admin = server.as_("admin")
    u = ok(admin.post("/users", json=new_user(admin)), 201)
    items, _ = walk(admin, "/users", limit=2)
    ids = [i["id"] for i in items]
    assert u["id"] in ids and len(ids) == len(set(ids))


@pytest.mark.parametrize("who", ["alice", "cab1", "manager", "ecab"])
def test_non_admins_get_403(server, who):
    c = server.as_(who)
    admin_id = server.users["admin"]["id"]
    problem(c.get("/users"), 403)
    problem(c.post("/users", json=new_user(c)), 403)
    problem(c.get(f"/users/{admin_id}"), 403)
    problem(c.patch(f"/users/{server.users[who]['id']}", json={"roles": ["admin"]}), 403)
    assert "admin" not in ok(c.get("/me"))["user"]["roles"]


def test_anonymous_gets_401(server):
    problem(server.anon().get("/users"), 401)
    problem(server.anon().post("/users", json={}), 401)


def test_duplicate_email_is_409_case_insensitive(server):
    admin = server.as_("admin")
    body = new_user(admin, email=f"{unique('dup')}@cabinet.test")
    ok(admin.post("/users", json=body), 201)
    problem(admin.post("/users", json=dict(body, email=body["email"].upper())), 409)
    problem(admin.post("/users", json=body), 409)
    n = server.psql(f"SELECT count(*) FROM users WHERE lower(email) = lower('{body['email']}')")
    assert n == "1"


def test_password_length(server):
    admin = server.as_("admin")
    problem(admin.post("/users", json=new_user(admin, password="x" * 9)), 422, field="password")
    ok(admin.post("/users", json=new_user(admin, password="x" * 10)), 201)
    u = ok(admin.post("/users", json=new_user(admin)), 201)
    problem(admin.patch(f"/users/{u['id']}", json={"password": "short"}), 422, field="password")


@pytest.mark.parametrize("roles", [["superuser"], ["cab", "wizard"], "cab", [1]])
def test_bad_roles_are_422(server, roles):
    admin = server.as_("admin")
    r = admin.post("/users", json=new_user(admin, roles=roles))
    body = problem(r, 422)
    assert any(e["field"].startswith("roles") for e in body["errors"]), body


@pytest.mark.parametrize("over,field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"is_admin": True}, "is_admin"),
    ({"password": 1234567890123}, "password"),
])
def test_invalid_user_fields_are_422(server, over, field):
    admin = server.as_("admin")
    problem(admin.post("/users", json=new_user(admin, **over)), 422, field=field)


@pytest.mark.parametrize("missing", ["email", "name", "password"])
def test_required_user_fields(server, missing):
    admin = server.as_("admin")
    body = new_user(admin)
    del body[missing]
    problem(admin.post("/users", json=body), 422, field=missing)


def test_patch_unknown_field_is_422(server):
    admin = server.as_("admin")
    u = ok(admin.post("/users", json=new_user(admin)), 201)
    problem(admin.patch(f"/users/{u['id']}", json={"nickname": "x"}), 422, field="nickname")
    problem(admin.patch(f"/users/{u['id']}", json={"roles": ["nope"]}), 422)
    assert ok(admin.get(f"/users/{u['id']}")) == u


def test_every_fault_of_a_user_is_named_at_once(server):
    admin = server.as_("admin")
    email = f"{unique('all')}@cabinet.test"
    r = admin.post("/users", json={"email": "not-an-email", "name": "", "password": "short",
                                   "roles": ["cab", "wizard"], "is_admin": True})
    problem(r, 422, fields=["email", "name", "password", "roles[1]", "is_admin"])
    r = admin.post("/users", json={"email": email, "roles": None, "nickname": "x"})
    problem(r, 422, fields=["name", "password", "roles", "nickname"])
    users = page_items(ok(admin.get("/users", params={"limit": 200})))
    assert email not in [u["email"] for u in users]
    u = ok(admin.post("/users", json=new_user(admin)), 201)
    r = admin.patch(f"/users/{u['id']}", json={"name": None, "password": None, "disabled": None,
                                               "roles": ["wizard"], "nickname": "x"})
    problem(r, 422, fields=["name", "password", "disabled", "roles[0]", "nickname"])
    assert ok(admin.get(f"/users/{u['id']}")) == u


def test_an_admin_cannot_lock_themselves_out(server):
    admin = server.as_("admin")
    me = server.users["admin"]["id"]
    before = ok(admin.get(f"/users/{me}"))
    r = admin.patch(f"/users/{me}", json={"disabled": True, "roles": ["cab"]})
    problem(r, 422, fields=["disabled", "roles"])
    assert ok(admin.get(f"/users/{me}")) == before


def test_unknown_user_is_404(server):
    admin = server.as_("admin")
    problem(admin.get("/users/987654321"), 404)
    problem(admin.patch("/users/987654321", json={"name": "x"}), 404)


def test_users_list_pages(server):
    admin = server.as_("admin")
    for _ in range(3):
        ok(admin.post("/users", json=new_user(admin)), 201)
    everything = page_items(ok(admin.get("/users", params={"limit": 200})))
    paged, pages = walk(admin, "/users", limit=3)
    assert [u["id"] for u in paged] == [u["id"] for u in everything]
    assert pages >= 2
    problem(admin.get("/users", params={"cursor": "!!bogus!!"}), 400)


def test_login_password_is_what_was_set(server):
    # The fixture's accounts were made by `cabinet user add` with PASSWORD.
    assert server.login("cab2").user["email"] == server.users["cab2"]["email"]
    assert PASSWORD
