"""web/openapi.json against the server (README "HTTP API"): it describes
exactly the routes of server/api/routes.c, it is a valid OpenAPI 3.1 document
to an independent validator (tests/openapi/validate.mjs), and every operation
it documents is called on a live server with real data, each answer's status
being one the operation documents and its body valid against the documented
schema (JSON Schema 2020-12, its $refs resolved in the document)."""

import copy
import json
import re
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from jsonschema import Draft202012Validator, RefResolver
from jsonschema.exceptions import ValidationError
from nacl.signing import SigningKey

from conftest import PASSWORD, REPO, ok, problem, unique
from hooklinks import send_generic
from hooks import Receiver

SPEC_PATH = REPO / "web" / "openapi.json"
ROUTES_C = REPO / "server" / "api" / "routes.c"
METHODS = ("get", "post", "put", "patch", "delete")
# the operations the live run must reach at the least (every one, today)
MIN_EXERCISED = 79


def load_spec():
    return json.loads(SPEC_PATH.read_text())


def routes_of_c():
    """{(METHOD, path)} from routes.c, V1 expanded, as OpenAPI writes paths."""
    text = ROUTES_C.read_text()
    v1 = re.search(r'#define V1 "([^"]+)"', text).group(1)
    found = set()
    for m in re.finditer(r'\{\{"([A-Z]+)",\s*(V1\s*)?"([^"]*)"\}', text):
        found.add((m.group(1), (v1 if m.group(2) else "") + m.group(3)))
    return found


def operations(spec):
    return {(method.upper(), path): op
            for path, item in spec["paths"].items()
            for method, op in item.items() if method in METHODS}


def timestamp(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(raw):
    import base64
    return base64.b64encode(raw).decode()


class Spec:
    """The document, and checks of an answer against one of its operations."""

    def __init__(self, spec):
        self.spec = spec
        self.ops = operations(spec)
        self.resolver = RefResolver("", spec)
        self.exercised = {}  # (METHOD, path) -> statuses seen
        self.failures = []  # every answer that does not match, to name them all
        self.bodies = {}  # (METHOD, path, status) -> the first body seen

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            obj = self.resolver.resolve(obj["$ref"])[1]
        return obj

    def validate(self, schema, instance):
        Draft202012Validator(schema, resolver=self.resolver).validate(instance)

    def schema(self, method, path, status, ctype):
        op = self.ops[(method, path)]
        resp = self.deref(op["responses"][str(status)])
        return self.deref(resp.get("content", {}).get(ctype, {})).get("schema")

    def check(self, method, path, r):
        """Asserts r is an answer the operation documents; returns r."""
        key = (method, path)
        assert key in self.ops, f"{method} {path} is not documented"
        op = self.ops[key]
        status = str(r.status_code)
        assert status in op["responses"], \
            f"{method} {path}: {status} is not documented ({sorted(op['responses'])}): {r.text[:500]}"
        resp = self.deref(op["responses"][status])
        content = resp.get("content")
        if not content:
            assert r.content == b"", f"{method} {path} {status}: a body where none is documented"
        else:
            ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
            assert ctype in content, f"{method} {path} {status}: {ctype} not in {list(content)}"
            schema = self.deref(content[ctype]).get("schema")
            if ctype.endswith("json"):
                self.bodies.setdefault((method, path, status), r.json())
            if schema is not None and ctype.endswith("json"):
                for e in Draft202012Validator(schema, resolver=self.resolver).iter_errors(
                        r.json()):
                    self.failures.append(
                        f"{method} {path} {status}: {e.message[:300]} at "
                        f"{list(e.absolute_path)} (schema {list(e.absolute_schema_path)})")
        for name, header in resp.get("headers", {}).items():
            if self.deref(header).get("required") and not r.headers.get(name):
                self.failures.append(f"{method} {path} {status}: no {name} header")
        self.exercised.setdefault(key, set()).add(r.status_code)
        return r


@pytest.fixture(scope="module")
def spec():
    return Spec(load_spec())


# --- the document itself -----------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1():
    node = shutil.which("node")
    assert node, "node is needed (make node-deps)"
    script = REPO / "tests" / "openapi" / "validate.mjs"
    assert (REPO / "node_modules" / "@seriousme" / "openapi-schema-validator").is_dir(), \
        "make node-deps installs the validator"
    cp = subprocess.run([node, str(script), str(SPEC_PATH)], cwd=REPO, capture_output=True,
                        text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert load_spec()["openapi"] == "3.1.0"


def test_the_validator_refuses_a_broken_document(tmp_path):
    broken = load_spec()
    broken["paths"]["/healthz"]["get"]["responses"]["200"] = {"content": "not an object"}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    cp = subprocess.run([shutil.which("node"), str(REPO / "tests" / "openapi" / "validate.mjs"),
                         str(path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert cp.returncode == 1, cp.stdout + cp.stderr


def test_every_route_is_documented_and_every_operation_is_a_route():
    routes, documented = routes_of_c(), set(operations(load_spec()))
    assert len(routes) >= MIN_EXERCISED
    assert routes - documented == set(), "routes without a description"
    assert documented - routes == set(), "operations routes.c does not have"


def test_every_operation_is_complete():
    spec = load_spec()
    ids = set()
    for (method, path), op in operations(spec).items():
        where = f"{method} {path}"
        assert op.get("summary") and op.get("tags") and op.get("operationId"), where
        assert op["operationId"] not in ids, where
        ids.add(op["operationId"])
        assert "security" in op or "security" in spec, where
        params = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        params |= {p["name"] for p in spec["paths"][path].get("parameters", [])
                   if p.get("in") == "path"}
        assert params == set(re.findall(r"\{([a-z_]+)\}", path)), where
        assert "400" in op["responses"], f"{where}: every route refuses unknown parameters"


def test_the_schemas_refuse_what_the_server_never_writes(spec):
    """Closed documents are closed: an extra field, a missing one or a bad
    enum value fails, so that the live checks below can fail."""
    change = spec.deref({"$ref": "#/components/schemas/Problem"})
    good = {"type": "urn:cabinet:problem:not-found", "title": "Not Found", "status": 404,
            "detail": "no such change"}
    spec.validate(change, good)
    with pytest.raises(ValidationError):
        spec.validate(change, {**good, "extra": 1})
    with pytest.raises(ValidationError):
        spec.validate(change, {**good, "status": "404"})
    svc = spec.deref({"$ref": "#/components/schemas/Service"})
    doc = {"name": "db", "title": "DB", "tier": 1, "owner": "", "description": "",
           "depends_on": [], "dependents": [], "created_at": "2026-01-01T00:00:00Z",
           "updated_at": "2026-01-01T00:00:00Z"}
    spec.validate(svc, doc)
    for bad in ({**doc, "undocumented": True}, {**doc, "tier": 5},
                {k: v for k, v in doc.items() if k != "title"},
                {**doc, "created_at": "2026-01-01 00:00:00"}):
        with pytest.raises(ValidationError):
            spec.validate(svc, bad)


# --- every operation, live ----------------------------------------------------------------


class Run:
    """Calls operations by their documented path, checking each answer."""

    def __init__(self, server, spec):
        self.server, self.spec = server, spec

    def call(self, client, method, path, expect, params=None, json=None, headers=None,
             data=None, query=None, csrf=True):
        url = path
        for k, v in (params or {}).items():
            url = url.replace("{" + k + "}", str(v))
        kw = {"headers": headers, "params": query, "csrf": csrf, "api": False}
        if json is not None:
            kw["json"] = json
        if data is not None:
            kw["data"] = data
        r = client.request(method, url, **kw)
        self.spec.check(method, path, r)
        assert r.status_code == expect, f"{method} {url}: {r.status_code} {r.text[:800]}"
        return r.json() if r.content and "json" in r.headers.get("Content-Type", "") else r

    def get(self, client, path, expect=200, **kw):
        return self.call(client, "GET", path, expect, **kw)

    def post(self, client, path, expect=201, **kw):
        return self.call(client, "POST", path, expect, **kw)

    def patch(self, client, path, expect=200, **kw):
        return self.call(client, "PATCH", path, expect, **kw)

    def delete(self, client, path, expect=204, **kw):
        return self.call(client, "DELETE", path, expect, **kw)


V = "/api/v1"


def sign_body(sk, key_id, ch, decision="approve"):
    at = timestamp(datetime.now(timezone.utc))
    st = "\n".join(["cabinet-approval-v1", ch["ref"], str(ch["version"]), ch["content_hash"],
                    decision, at])
    return {"decision": decision, "comment": "checked", "key_id": key_id, "signed_at": at,
            "signature": b64(sk.sign(st.encode()).signature)}


def test_every_operation_answers_as_documented(server, spec):
    run = Run(server, spec)
    anon, admin, mgr = server.anon(), server.as_("admin"), server.as_("manager")
    alice, cab1 = server.as_("alice"), server.as_("cab1")
    now = datetime.now(timezone.utc).replace(microsecond=0)

    # operations, no login
    for path in ("/healthz", "/readyz", "/metrics", V + "/config", V + "/openapi.json"):
        run.get(anon, path)
    r = anon.request("GET", V + "/openapi.json", api=False)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == spec.spec, "the server serves web/openapi.json as it is"
    run.get(anon, V + "/openapi.json", 304, headers={"If-None-Match": r.headers["ETag"]})
    run.get(anon, V + "/me", 401)
    run.get(anon, V + "/config", 400, query={"bogus": "1"})

    # accounts and sessions
    run.post(anon, V + "/session", 200,
             json={"email": server.users["bob"]["email"], "password": PASSWORD})
    run.post(anon, V + "/session", 401,
             json={"email": server.users["bob"]["email"], "password": "wrong" * 3})
    run.get(alice, V + "/me")
    run.get(alice, V + "/me/activity", query={"limit": 5})
    run.get(cab1, V + "/me/queue")
    run.get(alice, V + "/me/notifications")
    run.patch(alice, V + "/me/notifications", json={"kinds": {"conflict": False}})
    run.patch(alice, V + "/me/notifications", 422, json={"kinds": {"nope": True}})
    run.patch(alice, V + "/me/notifications", json={"kinds": {"conflict": True}},
              headers={"Content-Type": "application/merge-patch+json"})
    email = f"{unique('u')}@example.test"
    user = run.post(admin, V + "/users", json={"email": email, "name": "Una", "password": PASSWORD,
                                               "roles": ["cab"]})
    run.post(admin, V + "/users", 409, json={"email": email, "name": "Una", "password": PASSWORD})
    run.get(admin, V + "/users", query={"limit": 2})
    run.get(admin, V + "/users/{id}", params={"id": user["id"]})
    run.get(alice, V + "/users/{id}", 403, params={"id": user["id"]})
    run.patch(admin, V + "/users/{id}", params={"id": user["id"]}, json={"name": "Una B"})
    run.post(admin, V + "/users/{id}/unlock", 200, params={"id": user["id"]})
    run.post(alice, V + "/users/{id}/unlock", 403, params={"id": user["id"]})
    una = server.login(email)
    run.post(una, V + "/me/password", 204,
             json={"current_password": PASSWORD, "password": PASSWORD + "!"})
    run.post(una, V + "/me/password", 422,
             json={"current_password": "not it at all", "password": PASSWORD})
    run.delete(una, V + "/session")

    tok = run.post(alice, V + "/tokens", json={"name": unique("tok")})
    feed = run.post(alice, V + "/tokens", json={"name": unique("feed"), "scope": "feed"})
    run.get(alice, V + "/tokens")
    run.get(server.bearer(feed["token"]), V + "/me", 403)
    bearer = server.bearer(tok["token"])
    run.get(bearer, V + "/me")

    # keys
    sk = SigningKey.generate()
    key = run.post(cab1, V + "/me/keys", json={"public_key": b64(sk.verify_key.encode()),
                                               "label": "laptop"})
    run.post(cab1, V + "/me/keys", 409, json={"public_key": b64(sk.verify_key.encode())})
    spare = run.post(cab1, V + "/me/keys",
                     json={"public_key": b64(SigningKey.generate().verify_key.encode())})
    run.delete(cab1, V + "/me/keys/{id}", params={"id": spare["id"]})
    run.get(alice, V + "/keys")

    # services and models
    base, web, extra = unique("db"), unique("web"), unique("x")
    run.post(admin, V + "/services", json={"name": base, "title": "Database", "tier": 3})
    run.post(admin, V + "/services", json={"name": web, "title": "Web", "tier": 3,
                                           "owner": "web team", "depends_on": [base]})
    run.post(admin, V + "/services", json={"name": extra, "title": "Spare", "tier": 4})
    run.post(admin, V + "/services", 422, json={"name": "Not A Slug", "title": "x", "tier": 9})
    run.post(alice, V + "/services", 403, json={"name": unique("n"), "title": "x", "tier": 1})
    run.get(alice, V + "/services", query={"q": base[:4], "limit": 10})
    run.get(alice, V + "/services/{name}", params={"name": web})
    run.get(alice, V + "/services/{name}", 404, params={"name": unique("none")})
    run.patch(admin, V + "/services/{name}", params={"name": web},
              json={"description": "the site"},
              headers={"Content-Type": "application/merge-patch+json"})
    run.get(alice, V + "/services/{name}/impact", params={"name": base})
    run.delete(admin, V + "/services/{name}", params={"name": extra})
    run.delete(admin, V + "/services/{name}", 409, params={"name": base})

    run.get(alice, V + "/models")
    run.get(alice, V + "/models/{name}", params={"name": "normal"})
    mname = unique("m")
    run.post(admin, V + "/models", json={"name": mname, "kind": "normal", "title": "Custom",
                                         "policy": {"low": [{"role": "cab", "count": 1}]}})
    run.patch(admin, V + "/models/{name}", params={"name": mname}, json={"description": "ours"})

    # changes: one through its whole life, one cancelled, one in conflict
    win = {"start": timestamp(now - timedelta(minutes=30)),
           "end": timestamp(now + timedelta(hours=3))}
    body = {"title": "Upgrade the database", "services": [base], "window": win,
            "business_impact": "low", "test_plan": "t", "backout_plan": "b",
            "implementation_plan": "i", "description": "why"}
    run.post(alice, V + "/changes", 200, json=body, query={"validate": "only"})
    run.post(alice, V + "/changes", 422, json={"title": 42, "business_impact": "huge"})
    run.post(alice, V + "/changes", 400, json={"title": "x"}, query={"validate": "maybe"})
    r = alice.request("POST", V + "/changes", api=False, data=b"title=x",
                      headers={"Content-Type": "text/plain"})
    spec.check("POST", V + "/changes", r)
    problem(r, 415)
    r = alice.request("POST", V + "/changes", api=False, data=b'{"title":"' + b"x" * 1100000 + b'"}',
                      headers={"Content-Type": "application/json"})
    spec.check("POST", V + "/changes", r)
    problem(r, 413)
    ch = run.post(alice, V + "/changes", json=body,
                  headers={"Idempotency-Key": uuid.uuid4().hex})
    cid = {"id": ch["id"]}
    run.get(alice, V + "/changes", query={"state": "draft", "service": base, "limit": 5})
    run.get(alice, V + "/changes", 422, query={"state": "bogus"})
    run.get(alice, V + "/changes/{id}", params={"id": ch["ref"]})
    run.get(alice, V + "/changes/{id}", 404, params={"id": 999999999})
    r = alice.request("GET", f"{V}/changes/{ch['id']}", api=False)
    run.get(alice, V + "/changes/{id}", 304, params=cid, headers={"If-None-Match": r.headers["ETag"]})
    ch = run.patch(alice, V + "/changes/{id}", params=cid, json={"description": "why, again"},
                   headers={"If-Match": r.headers["ETag"]})
    run.patch(alice, V + "/changes/{id}", 412, params=cid, json={"description": "stale"},
              headers={"If-Match": r.headers["ETag"]})
    run.patch(alice, V + "/changes/{id}", 200, params=cid, json={"title": "Upgrade"},
              query={"validate": "only"})
    run.patch(server.as_("bob"), V + "/changes/{id}", 403, params=cid, json={"title": "mine"})
    ch = run.post(alice, V + "/changes/{id}/submit", 200, params=cid)
    run.post(alice, V + "/changes/{id}/submit", 409, params=cid)
    run.get(alice, V + "/changes/{id}/assessment", params=cid)
    run.get(cab1, V + "/me/queue")
    run.get(cab1, V + "/cab/agenda")
    run.post(cab1, V + "/changes/{id}/approvals", 422, params=cid,
             json={**sign_body(sk, key["id"], ch), "signature": b64(b"\0" * 64)})
    run.post(alice, V + "/changes/{id}/approvals", 403, params=cid,
             json=sign_body(sk, key["id"], ch))
    run.post(cab1, V + "/changes/{id}/approvals", params=cid, json=sign_body(sk, key["id"], ch))
    run.get(alice, V + "/changes/{id}/approvals", params=cid)
    run.get(anon, "/gate/{token}", 200, params={"token": ch["gate_url"].rsplit("/", 1)[1]})
    run.get(anon, "/gate/{token}", 404, params={"token": "nope"})
    run.get(anon, "/gate/{token}", 422, params={"token": ch["gate_url"].rsplit("/", 1)[1]},
            query={"wait": "forever"})
    run.post(alice, V + "/changes/{id}/start", 200, params=cid, json={})
    run.post(alice, V + "/changes/{id}/complete", 200, params=cid,
             json={"outcome": "failed", "notes": "it broke"})
    run.post(alice, V + "/changes/{id}/close", 200, params=cid, json={"review": "learnt"})
    run.post(alice, V + "/changes/{id}/comments", params=cid, json={"body": "done"})
    run.get(alice, V + "/changes/{id}/comments", params=cid)
    run.get(alice, V + "/changes/{id}/timeline", params=cid)
    run.get(alice, V + "/changes/{id}/evidence", params=cid)
    run.get(alice, V + "/changes/recent", query={"service": base, "hours": 72})

    other = run.post(alice, V + "/changes", json={"title": "Drop it"})
    run.post(alice, V + "/changes/{id}/cancel", 200, params={"id": other["id"]},
             json={"reason": "not needed"})
    run.get(anon, "/gate/{token}", 409, params={"token": other["gate_url"].rsplit("/", 1)[1]})

    later = {"start": timestamp(now + timedelta(days=5)),
             "end": timestamp(now + timedelta(days=5, hours=2))}
    one = run.post(alice, V + "/changes", json={**body, "window": later})
    two = run.post(server.as_("bob"), V + "/changes", json={**body, "window": later,
                                                            "services": [web]})
    run.post(alice, V + "/changes/{id}/submit", 200, params={"id": one["id"]})
    run.post(server.as_("bob"), V + "/changes/{id}/submit", 200, params={"id": two["id"]})
    run.get(alice, V + "/changes/{id}/conflicts", params={"id": one["id"]},
            query={"open": "true"})
    conflicts = run.get(mgr, V + "/conflicts", query={"change": one["ref"], "kind": "change"})
    assert conflicts["items"], conflicts
    run.post(mgr, V + "/conflicts/{id}/acknowledge", 200,
             params={"id": conflicts["items"][0]["id"]}, json={"note": "they agree"})
    run.post(mgr, V + "/conflicts/{id}/acknowledge", 409,
             params={"id": conflicts["items"][0]["id"]}, json={"note": "again"})

    # freezes
    fz = run.post(mgr, V + "/freezes", json={"name": "Quarter end", "window": later,
                                             "services": [base], "hard": False})
    run.get(alice, V + "/freezes", query={"from": later["start"]})
    run.get(alice, V + "/freezes/{id}", params={"id": fz["id"]})
    frozen = run.get(alice, V + "/conflicts", query={"change": one["ref"], "kind": "freeze"})
    assert frozen["items"], "the freeze covers the change's service in its window"
    run.patch(mgr, V + "/freezes/{id}", params={"id": fz["id"]}, json={"reason": "audit"})
    run.post(alice, V + "/freezes", 403, json={"name": "x", "window": later})

    # the schedule, the feed, reports and the audit
    run.get(alice, V + "/schedule", query={"service": base})
    run.get(alice, V + "/schedule", query={"group": "day", "tz": "Europe/London"})
    run.get(alice, V + "/schedule", 422, query={"tz": "Europe/London"})
    run.get(alice, V + "/schedule/slots", query={"services": base, "duration": "PT1H"})
    r = anon.request("GET", V + "/schedule.ics", api=False, params={"token": feed["token"]})
    spec.check("GET", V + "/schedule.ics", r)
    assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR"), r.text[:200]
    run.get(anon, V + "/schedule.ics", 401)
    run.get(alice, V + "/reports/summary")
    run.get(alice, V + "/server-key")
    r = mgr.request("POST", V + "/audit/checkpoint", api=False)
    spec.check("POST", V + "/audit/checkpoint", r)
    assert r.status_code in (200, 201), r.text
    run.get(mgr, V + "/audit/checkpoint")
    run.get(mgr, V + "/audit", query={"limit": 20})
    run.get(alice, V + "/audit", 403)

    # events out
    rx = Receiver("openapi")
    try:
        hook = run.post(mgr, V + "/webhooks", json={"url": rx.url, "events": ["freeze.created"]})
        run.post(mgr, V + "/webhooks", 422, json={"url": "ftp://x", "events": ["nope"]})
        run.get(mgr, V + "/webhooks")
        run.post(mgr, V + "/freezes", json={"name": "Weekend", "window": later})
        deadline = time.monotonic() + 30
        while True:
            page = run.get(mgr, V + "/webhooks/{id}/deliveries", params={"id": hook["id"]})
            if page["items"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert page["items"], "no delivery was made"
        run.post(mgr, V + "/webhooks/{id}/deliveries/{d}/retry", 202,
                 params={"id": hook["id"], "d": page["items"][0]["id"]})
        deadline = time.monotonic() + 30
        while not page["items"][0]["history"] and time.monotonic() < deadline:
            time.sleep(0.2)
            page = run.get(mgr, V + "/webhooks/{id}/deliveries", params={"id": hook["id"]})
        assert page["items"][0]["history"], "no attempt was recorded"
        run.delete(mgr, V + "/webhooks/{id}", params={"id": hook["id"]})
    finally:
        rx.stop()
    run.delete(mgr, V + "/freezes/{id}", params={"id": fz["id"]})

    # webhook links
    integ = run.post(admin, V + "/integrations", json={"name": unique("ci"), "kind": "generic",
                                                       "services": [base]})
    run.get(admin, V + "/integrations")
    run.get(admin, V + "/integrations/{id}", params={"id": integ["id"]})
    run.patch(admin, V + "/integrations/{id}", params={"id": integ["id"]},
              json={"default_duration_s": 7200})
    r = send_generic(integ, {"title": "From CI", "business_impact": "low"})
    spec.check("POST", "/hooks/{key}", r)
    assert r.status_code == 201, r.text
    r = send_generic(integ, {"title": "Unsigned"}, secret="whsec_" + b64(b"k" * 24))
    spec.check("POST", "/hooks/{key}", r)
    assert r.status_code == 401, r.text
    r = send_generic(integ, {"title": "x"}, url=server.base + "/hooks/" + "A" * 43)
    spec.check("POST", "/hooks/{key}", r)
    assert r.status_code == 404, r.text
    run.get(admin, V + "/integrations/{id}/deliveries", params={"id": integ["id"]})
    run.post(admin, V + "/integrations/{id}/rotate", 200, params={"id": integ["id"]},
             json={"grace_s": 60})
    run.delete(admin, V + "/integrations/{id}", params={"id": integ["id"]})

    run.delete(alice, V + "/tokens/{id}", params={"id": tok["id"]})
    run.delete(alice, V + "/tokens/{id}", 404, params={"id": tok["id"]})
    run.delete(server.login("bob"), V + "/session")

    assert not spec.failures, "answers that do not match the document:\n" + "\n".join(
        spec.failures)
    missing = set(spec.ops) - set(spec.exercised)
    assert not missing, f"operations never called: {sorted(missing)}"
    assert len(spec.exercised) >= MIN_EXERCISED, len(spec.exercised)
    answers = sum(len(s) for s in spec.exercised.values())
    print(f"{len(spec.exercised)} operations exercised, {answers} distinct answers")


def test_a_body_the_schema_does_not_allow_fails_the_check(server, spec):
    """The check is not vacuous: the server's own answer, with one field
    added or one taken away, no longer passes."""
    r = server.as_("alice").request("GET", V + "/me", api=False)
    spec.check("GET", V + "/me", r)
    assert not spec.failures, spec.failures
    schema = spec.schema("GET", V + "/me", 200, "application/json")
    body = r.json()
    with pytest.raises(ValidationError):
        spec.validate(schema, {**body, "undocumented": 1})
    broken = copy.deepcopy(body)
    del broken["user"]["email"]
    with pytest.raises(ValidationError):
        spec.validate(schema, broken)
