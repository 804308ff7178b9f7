"""sqlmap (Debian's) against the running server on loopback, its own
throwaway database: it finds no injection point, no request it sends makes
the server answer 500, and the database logs no error (a payload that
reached SQL as SQL would break its syntax).

make test runs a bounded smoke: GET /api/v1/changes?q= (with state,
service and requester) and POST /hooks/<key> (a GitLab link, whose
X-Gitlab-Token stays valid whatever sqlmap does to the body): boolean,
error, UNION, stacked and time-based techniques at level 2, within 35 s
each. SECURITY_LONG=1 runs every route of the route table that reaches
the database — each query parameter it reads, each path parameter, and
the JSON bodies of the writes below — at level 3, risk 2."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import FIXTURES, ok, unique
from hooklinks import make_integration
from routetable import ROUTES, ROUTES_C

LONG = os.environ.get("SECURITY_LONG") == "1"

pytestmark = pytest.mark.skipif(shutil.which("sqlmap") is None,
                                reason="sqlmap is not installed (make deps-test)")


def sqlmap(url, seconds, data=None, method=None, headers=(), long=LONG):
    out = tempfile.mkdtemp(prefix="sqlmap-")
    cmd = ["sqlmap", "--batch", "-u", url, "--dbms=PostgreSQL", "--output-dir", out,
           "--disable-coloring", "--flush-session", "--timeout", "10", "--retries", "1",
           "--answers", "follow=N,process=Y,keep testing=Y"]
    # in the long run a target may answer 401 or 404 as its baseline (a
    # made-up gate token, a login that fails): sqlmap tests it all the same
    cmd += ["--technique", "BEUSTQ", "--level", "3", "--risk", "2", "--time-sec", "2",
            "--ignore-code", "401,404"] if long \
        else ["--technique", "BEUST", "--level", "2", "--risk", "1", "--time-sec", "1"]
    for h in headers:
        cmd += ["-H", h]
    if data is not None:
        cmd += ["--data", data]
    if method:
        cmd += ["--method", method]
    t0 = time.monotonic()
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds)
        text = cp.stdout + cp.stderr
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
        text += f"\n[bound] stopped after {seconds} s"
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return text, time.monotonic() - t0


SENT = []  # (target, requests) of each sqlmap run of this module


@pytest.fixture(scope="module", autouse=True)
def _tally():
    yield
    if SENT:
        print(f"\nfigure: sqlmap in all: {sum(n for _, n in SENT):,} requests over "
              f"{len(SENT)} targets, nothing injectable")


def served(server):
    """The requests the server has answered, by its own /metrics."""
    text = requests.get(server.url("/metrics"), timeout=10).text
    return int(sum(float(v) for v in re.findall(
        r"^cabinet_http_requests_total\{.*\} (\S+)$", text, re.M)))


def assert_clean(server, text, mark, what):
    assert "identified the following injection point" not in text, text[-3000:]
    assert not re.search(r"parameter '[^']+' (is|seems to be) '?[A-Za-z ]*'? ?injectable", text), \
        text[-3000:]
    assert "500 (Internal Server Error)" not in text, text[-3000:]
    log = server.stderr_text()[mark:]
    assert "database error" not in log, log[-3000:]
    # sqlmap ran requests, not just an error of its own
    assert re.search(r"testing '|do not appear to be injectable|not injectable", text), \
        f"{what}: sqlmap did not test anything:\n{text[-3000:]}"


@pytest.fixture(scope="module")
def env(server):
    name = unique("sq")
    ok(server.as_("admin").post("/services", json={"name": name, "title": name, "tier": 4}), 201)
    tok = ok(server.as_("manager").post("/tokens", json={"name": unique("sq")}), 201)["token"]
    ok(server.bearer(tok).post("/changes", json={
        "title": "sqlmap target", "services": [name], "model": "normal",
        "window": {"start": "2090-01-01T10:00:00Z", "end": "2090-01-01T12:00:00Z"}}), 201)
    gitlab = make_integration(server, "gitlab", services=[name])
    return {"service": name, "token": tok, "gitlab": gitlab,
            "auth": f"Authorization: Bearer {tok}"}


def test_the_changes_search_is_not_injectable(server, env):
    mark = len(server.stderr_text())
    url = server.url(f"/api/v1/changes?q=target&state=draft&service={env['service']}"
                     f"&requester=1")
    before = served(server)
    text, took = sqlmap(url, 300 if LONG else 35, headers=[env["auth"]])
    n = served(server) - before - 1
    print(f"figure: sqlmap GET /api/v1/changes: {n} requests in {took:.1f} s")
    assert_clean(server, text, mark, "GET /api/v1/changes")
    SENT.append(("GET /api/v1/changes", n))


def test_a_hook_body_is_not_injectable(server, env):
    mark = len(server.stderr_text())
    body = json.loads((FIXTURES / "gitlab" / "deployment_hook.payload.json").read_text())
    body["environment"] = "staging*"
    body["status"] = "running*"
    body["project"]["path_with_namespace"] = "root/sqlmap*"
    g = env["gitlab"]
    before = served(server)
    text, took = sqlmap(g["url"], 300 if LONG else 35, data=json.dumps(body),
                        headers=[f"X-Gitlab-Token: {g['secret']}",
                                 "X-Gitlab-Event: Deployment Hook",
                                 "Content-Type: application/json"])
    n = served(server) - before - 1
    print(f"figure: sqlmap POST /hooks/<key>: {n} requests in {took:.1f} s")
    assert_clean(server, text, mark, "POST /hooks/<key>")
    SENT.append(("POST /hooks/<key>", n))


# --- SECURITY_LONG=1: every route ---------------------------------------------------

def query_params():
    """Each route's query parameters, from routes.c's q_ lists."""
    text = ROUTES_C.read_text()
    lists = {m.group(1): re.findall(r'"(\w+)"', m.group(2))
             for m in re.finditer(r"static const char \*const (q_\w+)\[\] = \{([^}]*)\}", text)}
    table = text[text.index("api_routes[] = {"):]
    out = {}
    for m in re.finditer(r'\{\{"([A-Z]+)",\s*(V1\s*)?"([^"]+)"\},[^}]*?,\s*(\w+)\s*\}', table, re.S):
        out[(m.group(1), ("/api/v1" if m.group(2) else "") + m.group(3))] = \
            lists.get(m.group(4), [])
    return out


SAMPLE = {"limit": "5", "cursor": "x", "q": "a", "from": "2090-01-01T00:00:00Z",
          "to": "2090-02-01T00:00:00Z", "service": "svc", "state": "draft", "model": "normal",
          "requester": "1", "view": "rows", "hours": "24", "after": "1", "open": "true",
          "change": "1", "kind": "change", "token": "x", "mine": "true", "services": "svc",
          "duration": "3600", "group": "day", "tz": "UTC", "wait": "0", "validate": "true"}

BODIES = {
    "POST /api/v1/session": {"email": "a@cabinet.test", "password": "x"},
    "POST /api/v1/changes": {"title": "t", "services": ["svc"], "model": "normal",
                             "window": {"start": "2090-01-01T10:00:00Z",
                                        "end": "2090-01-01T11:00:00Z"}},
    "POST /api/v1/services": {"name": "svcx", "title": "t", "tier": 4},
    "POST /api/v1/freezes": {"name": "f", "reason": "r", "services": ["svc"],
                             "window": {"start": "2090-01-01T10:00:00Z",
                                        "end": "2090-01-01T11:00:00Z"}},
    "POST /api/v1/changes/{id}/comments": {"body": "c"},
    "POST /api/v1/tokens": {"name": "n"},
    "POST /api/v1/users": {"email": "x@cabinet.test", "name": "n", "password": "p" * 12},
    "POST /api/v1/models": {"name": "m", "kind": "normal", "title": "t"},
    "POST /api/v1/webhooks": {"url": "http://127.0.0.1:9/x", "events": ["*"]},
    "POST /api/v1/integrations": {"name": "i", "kind": "generic"},
}


def long_targets():
    params = query_params()
    for method, path, flags, _ in ROUTES:
        if path in ("/metrics",) or "HTTP_NO_DB" in flags and "{" not in path:
            continue
        if method == "GET":
            names = params.get((method, path), [])
            qs = "&".join(f"{n}={SAMPLE.get(n, '1')}" for n in names)
            yield f"{method} {path}", path, qs, None
        elif f"{method} {path}" in BODIES:
            yield f"{method} {path}", path, "", BODIES[f"{method} {path}"]


@pytest.mark.skipif(not LONG, reason="SECURITY_LONG=1 runs sqlmap over every route")
@pytest.mark.parametrize("name,path,qs,body", list(long_targets()),
                         ids=[t[0] for t in long_targets()])
def test_no_route_is_injectable(server, env, name, path, qs, body):
    mark = len(server.stderr_text())
    name_ = "normal" if path.startswith("/api/v1/models/") else env["service"]
    target = path.replace("{id}", "1*").replace("{name}", f"{name_}*") \
        .replace("{token}", "gt_x*").replace("{d}", "1").replace("{key}", "hk_x*")
    url = server.url(target + (f"?{qs}" if qs else ""))
    data = json.dumps(body).replace('"svc"', f'"{env["service"]}"') if body else None
    before = served(server)
    text, took = sqlmap(url, 600, data=data,
                        headers=[env["auth"], "Content-Type: application/json"])
    n = served(server) - before - 1
    print(f"figure: sqlmap {name}: {n} requests in {took:.1f} s")
    assert_clean(server, text, mark, name)
    SENT.append((name, n))
