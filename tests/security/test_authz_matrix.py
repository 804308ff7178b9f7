"""The authorisation matrix: every route of server/api/routes.c, called by
every kind of caller, on an object of its own and on someone else's, gets
the status DESIGN.md §4's "who" column gives it: 401 without a login, 403
for a role the route does not admit, 404 for an object the caller may not
see (another's key or token) or that does not exist, and otherwise an
answer past the authorisation checks (the handler ran: 2xx, 400, 409, 422).

The route table is parsed from routes.c, so a route added there without an
entry in WHO below fails test_every_route_has_a_rule. Every response of
the matrix also carries the security headers.

Callers: anon (no credentials), alice (a requester, the owner of the
objects), bob (another requester), cab1, ecab, manager, admin. Writes send
`{}` (a body every write refuses or accepts harmlessly), and every write
to an object gets a fresh object, so that no cell depends on another.
"""

import base64
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from nacl.signing import SigningKey

from conftest import ok, unique, walk
from routetable import ROUTES, ROUTES_C

ACTORS = ["anon", "alice", "bob", "cab1", "ecab", "manager", "admin"]
ROLES = {"alice": set(), "bob": set(), "cab1": {"cab"}, "ecab": {"ecab"},
         "manager": {"manager"}, "admin": {"admin"}}

# The "who" of DESIGN.md §4, per route:
#   public          anyone, no login needed
#   any             any signed-in user
#   {roles}         a signed-in user with one of these roles (else 403)
#   owner           the object's owner, or a manager (else 403)
#   own             the owner only; to anyone else it does not exist (404)
#   approver        a role the change's approval policy counts (§3): for the
#                   matrix's normal, low-risk change, cab; for an emergency,
#                   ecab (test_an_emergency_decision_is_for_ecab_only)
#   party           a manager or either conflicting change's owner
#   hook            the link's key and the delivery's signature (unsigned: 401)
ANY, PUBLIC = "any", "public"
ADMIN, MANAGER, MGR_ADMIN = {"admin"}, {"manager"}, {"manager", "admin"}
WHO = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /api/v1/config": PUBLIC,
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /gate/{token}": PUBLIC,
    "POST /hooks/{key}": "hook",
    "POST /api/v1/session": PUBLIC,
    "DELETE /api/v1/session": ANY,
    "GET /api/v1/me": ANY,
    "GET /api/v1/me/activity": ANY,
    "POST /api/v1/me/password": ANY,
    "GET /api/v1/me/queue": ANY,
    "GET /api/v1/me/notifications": ANY,
    "PATCH /api/v1/me/notifications": ANY,
    "POST /api/v1/me/keys": ANY,
    "DELETE /api/v1/me/keys/{id}": "own",
    "GET /api/v1/keys": ANY,
    "GET /api/v1/tokens": ANY,
    "POST /api/v1/tokens": ANY,
    "DELETE /api/v1/tokens/{id}": "own",
    "GET /api/v1/users": ADMIN,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/{id}": ADMIN,
    "PATCH /api/v1/users/{id}": ADMIN,
    "POST /api/v1/users/{id}/unlock": ADMIN,
    "GET /api/v1/services": ANY,
    "POST /api/v1/services": ADMIN,
    "GET /api/v1/services/{name}": ANY,
    "PATCH /api/v1/services/{name}": ADMIN,
    "DELETE /api/v1/services/{name}": ADMIN,
    "GET /api/v1/services/{name}/impact": ANY,
    "GET /api/v1/models": ANY,
    "POST /api/v1/models": ADMIN,
    "GET /api/v1/models/{name}": ANY,
    "PATCH /api/v1/models/{name}": ADMIN,
    "GET /api/v1/changes": ANY,
    "POST /api/v1/changes": ANY,
    "GET /api/v1/changes/recent": ANY,
    "GET /api/v1/changes/{id}": ANY,
    "PATCH /api/v1/changes/{id}": "owner",
    "POST /api/v1/changes/{id}/submit": "owner",
    "POST /api/v1/changes/{id}/start": "owner",
    "POST /api/v1/changes/{id}/complete": "owner",
    "POST /api/v1/changes/{id}/close": "owner",
    "POST /api/v1/changes/{id}/cancel": "owner",
    "GET /api/v1/changes/{id}/assessment": ANY,
    "GET /api/v1/changes/{id}/approvals": ANY,
    "POST /api/v1/changes/{id}/approvals": "approver",
    "GET /api/v1/changes/{id}/timeline": ANY,
    "GET /api/v1/changes/{id}/comments": ANY,
    "POST /api/v1/changes/{id}/comments": ANY,
    "GET /api/v1/changes/{id}/evidence": ANY,
    "GET /api/v1/changes/{id}/conflicts": ANY,
    "GET /api/v1/audit": MGR_ADMIN,
    "GET /api/v1/audit/checkpoint": MGR_ADMIN,
    "POST /api/v1/audit/checkpoint": MGR_ADMIN,
    "GET /api/v1/server-key": ANY,
    "GET /api/v1/reports/summary": ANY,
    "GET /api/v1/conflicts": ANY,
    "POST /api/v1/conflicts/{id}/acknowledge": "party",
    "GET /api/v1/schedule": ANY,
    "GET /api/v1/schedule.ics": PUBLIC,  # the feed token in the query is the credential
    "GET /api/v1/schedule/slots": ANY,
    "GET /api/v1/cab/agenda": ANY,
    "GET /api/v1/webhooks": MGR_ADMIN,
    "POST /api/v1/webhooks": MGR_ADMIN,
    "DELETE /api/v1/webhooks/{id}": MGR_ADMIN,
    "GET /api/v1/webhooks/{id}/deliveries": MGR_ADMIN,
    "POST /api/v1/webhooks/{id}/deliveries/{d}/retry": MGR_ADMIN,
    "GET /api/v1/integrations": ADMIN,
    "POST /api/v1/integrations": ADMIN,
    "GET /api/v1/integrations/{id}": ADMIN,
    "PATCH /api/v1/integrations/{id}": ADMIN,
    "DELETE /api/v1/integrations/{id}": ADMIN,
    "POST /api/v1/integrations/{id}/rotate": ADMIN,
    "GET /api/v1/integrations/{id}/deliveries": ADMIN,
    "GET /api/v1/freezes": ANY,
    "POST /api/v1/freezes": MANAGER,
    "GET /api/v1/freezes/{id}": ANY,
    "PATCH /api/v1/freezes/{id}": MANAGER,
    "DELETE /api/v1/freezes/{id}": MANAGER,
}

# Query parameters a route needs to be more than a 400 (all else: none).
QUERY = {
    "GET /api/v1/schedule.ics": lambda o: {"token": o.feed},
    "GET /api/v1/schedule/slots": lambda o: {"services": o.service, "duration": "3600"},
    "GET /api/v1/changes/recent": lambda o: {"service": o.service},
}

DENIED = (401, 403, 404, 405)




def key_of(method, path):
    return f"{method} {path}"


def test_the_route_table_parses():
    # as many entries as routes.c has handlers named in it
    text = ROUTES_C.read_text()
    table = text[text.index("api_routes[] = {"):]
    assert len(ROUTES) == len(re.findall(r"\bapi_\w+,", table)) and len(ROUTES) > 60, ROUTES


def test_every_route_has_a_rule():
    missing = [key_of(m, p) for m, p, _, _ in ROUTES if key_of(m, p) not in WHO]
    assert not missing, f"routes without an authorisation rule in WHO: {missing}"
    stale = set(WHO) - {key_of(m, p) for m, p, _, _ in ROUTES}
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_the_rules_agree_with_the_route_table():
    # a route the table opens to anyone is public here, and a role list
    # there is the role set here
    names = {"ROLE_ADMIN": "admin", "ROLE_MANAGER": "manager", "ROLE_CAB": "cab",
             "ROLE_ECAB": "ecab"}
    for method, path, flags, roles in ROUTES:
        rule = WHO[key_of(method, path)]
        if "HTTP_PUBLIC" in flags:
            assert rule in (PUBLIC, "hook"), (method, path, rule)
        else:
            assert rule != PUBLIC, (method, path)
        if roles != "0":
            assert rule == {names[r.strip()] for r in roles.split("|")}, (method, path, rule)


# --- the objects --------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_slot = [0]


def window(days=30):
    _slot[0] += 1
    s = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days, hours=3 * _slot[0])
    return {"start": ts(s), "end": ts(s + timedelta(hours=2))}


class Objects:
    """Makes the objects the routes act on, each owned as the matrix needs."""

    def __init__(self, srv):
        self.srv = srv
        self.admin = srv.as_("admin")
        self.manager = srv.as_("manager")
        self.alice = srv.as_("alice")
        self.service = self.new_service()

    def new_service(self):
        name = unique("az")
        ok(self.admin.post("/services", json={"name": name, "title": name, "tier": 4}), 201)
        return name

    def new_change(self, submit=False, win=None):
        ch = ok(self.alice.post("/changes", json={
            "title": unique("authz"), "services": [self.service], "window": win or window(),
            "model": "normal", "test_plan": "t", "backout_plan": "b",
            "business_impact": "low"}), 201)
        if submit:
            ch = ok(self.alice.post(f"/changes/{ch['id']}/submit", json={}))
        return ch

    def new_key(self):
        pk = base64.b64encode(SigningKey.generate().verify_key.encode()).decode()
        return ok(self.alice.post("/me/keys", json={"public_key": pk, "label": "m"}), 201)["id"]

    def new_token(self, scope=None):
        body = {"name": unique("tok")}
        if scope:
            body["scope"] = scope
        return ok(self.alice.post("/tokens", json=body), 201)

    def new_model(self):
        name = unique("azm")
        ok(self.admin.post("/models", json={"name": name, "kind": "normal", "title": name}), 201)
        return name

    def new_webhook(self):
        return ok(self.manager.post("/webhooks", json={"url": "http://127.0.0.1:9/authz",
                                                       "events": ["*"]}), 201)["id"]

    def new_integration(self):
        return ok(self.admin.post("/integrations", json={
            "name": unique("azi"), "kind": "generic", "services": [self.service]}), 201)

    def new_freeze(self):
        return ok(self.manager.post("/freezes", json={
            "name": unique("azf"), "window": window(days=400), "services": [self.service],
            "hard": False, "reason": "matrix"}), 201)["id"]

    def new_conflict(self):
        w = window()
        a = self.new_change(submit=True, win=w)
        self.new_change(submit=True, win=w)
        items, _ = walk(self.alice, f"/changes/{a['id']}/conflicts", limit=50)
        assert items, f"two submitted changes of one service and window should conflict"
        return items[0]["id"]

    def delivery(self, wid):
        """A delivery of webhook wid (made by creating a change)."""
        self.new_change()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items, _ = walk(self.manager, f"/webhooks/{wid}/deliveries", limit=200)
            if items:
                return items[0]["id"]
            time.sleep(0.2)
        raise AssertionError(f"webhook {wid} got no delivery within 30 s")


@pytest.fixture(scope="module")
def objs(server):
    o = Objects(server)
    shared = o.new_change(submit=True)
    o.shared = {
        "change": shared["id"],
        "gate": shared["gate_url"].rsplit("/", 1)[-1],
        "key": o.new_key(),
        "token": o.new_token()["id"],
        "user": server.users["alice"]["id"],
        "model": o.new_model(),
        "integration": o.new_integration(),
        "freeze": o.new_freeze(),
        "conflict": o.new_conflict(),
    }
    wid = o.new_webhook()
    o.shared["webhook"] = wid
    o.shared["delivery"] = o.delivery(wid)
    o.feed = o.new_token("feed")["token"]
    return o


def resolve(objs, method, path, fresh):
    """The path with its parameters filled in: fresh objects for a write,
    shared ones for a read."""
    o = objs
    sh = o.shared

    def pick(kind, make):
        return make() if fresh else sh[kind]

    if "{token}" in path:
        return path.replace("{token}", sh["gate"])
    if "{key}" in path:
        return path.replace("{key}", sh["integration"]["url"].rsplit("/", 1)[-1])
    if path.startswith("/api/v1/changes/{id}"):
        return path.replace("{id}", str(pick("change", lambda: o.new_change()["id"])))
    if path.startswith("/api/v1/me/keys/"):
        return path.replace("{id}", str(pick("key", o.new_key)))
    if path.startswith("/api/v1/tokens/"):
        return path.replace("{id}", str(pick("token", lambda: o.new_token()["id"])))
    if path.startswith("/api/v1/users/"):
        return path.replace("{id}", str(sh["user"]))
    if path.startswith("/api/v1/services/"):
        return path.replace("{name}", pick("service", o.new_service) if fresh else o.service)
    if path.startswith("/api/v1/models/"):
        return path.replace("{name}", pick("model", o.new_model))
    if path.startswith("/api/v1/webhooks/"):
        if "{d}" in path:  # a retry: the shared delivery may be retried again
            return path.replace("{id}", str(sh["webhook"])).replace("{d}", str(sh["delivery"]))
        return path.replace("{id}", str(pick("webhook", o.new_webhook)))
    if path.startswith("/api/v1/integrations/"):
        return path.replace("{id}", str(pick("integration", o.new_integration)["id"]))
    if path.startswith("/api/v1/freezes/"):
        return path.replace("{id}", str(pick("freeze", o.new_freeze)))
    if path.startswith("/api/v1/conflicts/"):
        return path.replace("{id}", str(sh["conflict"]))
    assert "{" not in path, f"no object for {path}"
    return path


def expected(rule, actor):
    """'ok' (past the checks), or the refusal's status."""
    if rule == PUBLIC:
        return "ok"
    if rule == "hook":
        return 401  # no signature, whoever calls
    if actor == "anon":
        return 401
    roles = ROLES[actor]
    if rule == ANY:
        return "ok"
    if isinstance(rule, set):
        return "ok" if roles & rule else 403
    if rule == "owner" or rule == "party":
        return "ok" if actor == "alice" or "manager" in roles else 403
    if rule == "own":
        return "ok" if actor == "alice" else 404
    if rule == "approver":
        return "ok" if "cab" in roles else 403
    raise AssertionError(rule)


def caller(server, actor, method, path):
    if actor == "anon":
        return server.anon()
    if method == "DELETE" and path == "/api/v1/session":
        return server.login(actor)  # a session of its own to end
    return server.as_(actor)


def assert_security_headers(r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (r.url, r.headers)
    assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff", (r.url, r.headers)
    assert r.headers.get("Referrer-Policy", "").lower() == "no-referrer", (r.url, r.headers)
    if "/api/v1/" in r.url:
        assert "no-store" in r.headers.get("Cache-Control", ""), (r.url, r.headers)


def call(server, objs, actor, method, path, fresh):
    target = resolve(objs, method, path, fresh)
    params = QUERY.get(key_of(method, path), lambda o: {})(objs)
    c = caller(server, actor, method, path)
    kw = {"api": False, "params": params}
    if method in ("POST", "PATCH", "PUT"):
        kw["json"] = {}
    r = c.request(method, target, **kw)
    assert_security_headers(r)
    return target, r


@pytest.mark.parametrize("route", [key_of(m, p) for m, p, _, _ in ROUTES])
def test_the_matrix(server, objs, route):
    method, path = route.split(" ", 1)
    rule = WHO[route]
    wrong = []
    for actor in ACTORS:
        want = expected(rule, actor)
        target, r = call(server, objs, actor, method, path, fresh=method != "GET")
        got = r.status_code
        if got >= 500 or (want == "ok" and got in DENIED) or (want != "ok" and got != want):
            wrong.append(f"{actor}: {method} {target} -> {got} (want {want}) {r.text[:160]}")
    assert not wrong, "\n".join(wrong)


MISSING = {"{id}": "987654321", "{name}": "no-such-object-x", "{d}": "987654321",
           "{token}": "no-such-gate-token", "{key}": "no-such-link-key"}


@pytest.mark.parametrize("route", [key_of(m, p) for m, p, _, _ in ROUTES if "{" in p])
def test_a_missing_object_is_404_to_whoever_may_look(server, objs, route):
    """401 first without a login; 403 where the route's role is checked
    before the handler runs; otherwise 404 (the object exists, or not,
    before permission is checked)."""
    method, path = route.split(" ", 1)
    flags = next(f for m, p, f, _ in ROUTES if key_of(m, p) == route)
    rule = WHO[route]
    target = path
    for k, v in MISSING.items():
        target = target.replace(k, v)
    if "{d}" in path:  # a real webhook, a missing delivery
        target = path.replace("{id}", str(objs.shared["webhook"])).replace("{d}", MISSING["{d}"])
    wrong = []
    for actor in ACTORS:
        if rule in (PUBLIC, "hook"):
            want = 404
        elif actor == "anon":
            want = 401
        elif isinstance(rule, set) and ("HTTP_DEFER_ROLE" not in flags or "{d}" in path):
            # a role checked before the handler, or on the (existing) webhook
            # before its (missing) delivery is looked for
            want = 404 if ROLES[actor] & rule else 403
        else:
            want = 404
        c = server.anon() if actor == "anon" else server.as_(actor)
        r = c.request(method, target, api=False,
                      **({"json": {}} if method in ("POST", "PATCH") else {}))
        assert_security_headers(r)
        if r.status_code != want:
            wrong.append(f"{actor}: {method} {target} -> {r.status_code} (want {want})"
                         f" {r.text[:160]}")
    assert not wrong, "\n".join(wrong)


def test_another_users_objects_stay_untouched(server, objs):
    """The shared objects survive the matrix: refused calls changed nothing."""
    sh = objs.shared
    keys, _ = walk(server.as_("bob"), "/keys", limit=200)
    assert any(k["id"] == sh["key"] and not k.get("revoked_at") for k in keys)
    toks = ok(server.as_("alice").get("/tokens"))
    toks = toks["items"] if isinstance(toks, dict) else toks
    assert any(t["id"] == sh["token"] for t in toks), toks
    assert ok(server.as_("bob").get(f"/changes/{sh['change']}"))["state"] == "awaiting_approval"


def test_an_emergency_decision_is_for_ecab_only(server, objs):
    ch = ok(objs.alice.post("/changes", json={
        "title": unique("authz em"), "services": [objs.service], "window": window(),
        "model": "emergency", "business_impact": "low"}), 201)
    ok(objs.alice.post(f"/changes/{ch['id']}/submit", json={}))
    got = {}
    for actor in ACTORS:
        c = server.anon() if actor == "anon" else server.as_(actor)
        got[actor] = c.post(f"/changes/{ch['id']}/approvals", json={}).status_code
    assert got == {"anon": 401, "alice": 403, "bob": 403, "cab1": 403, "ecab": 422,
                   "manager": 403, "admin": 403}, got
