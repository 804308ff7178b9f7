"""Probes, metrics, security headers, static files and routing."""

import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import WEB_ROOT, finish_server, ok, problem, start_server

CGI_OUTPUT = "CGI-WAS-EXECUTED"
PHP_OUTPUT = "PHP-WAS-EXECUTED"
OUTSIDE_MARKER = "OUTSIDE-THE-WEB-ROOT-7d1c"


@pytest.fixture(scope="module")
def server(cluster):
    """A server whose web root is a copy of web/ plus traps: a
    subdirectory, a CGI script, a PHP page, a hidden file, symbolic links
    out of the root, and a secret file next to the root."""
    base = Path(tempfile.mkdtemp(prefix="site-", dir=cluster.files))
    root = base / "web"
    shutil.copytree(WEB_ROOT, root)
    (root / "sub").mkdir()
    (root / "sub" / "page.html").write_text("<p>sub page</p>\n")
    cgi = root / "run.cgi"
    cgi.write_text(f"#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho {CGI_OUTPUT}\n")
    cgi.chmod(0o755)
    (root / "info.php").write_text(f'<?php echo "{PHP_OUTPUT}"; ?>\n')
    (root / "page.shtml").write_text('<!--#exec cmd="id" -->\n')
    (root / ".hidden.txt").write_text(f"{OUTSIDE_MARKER} hidden\n")
    (base / "secret.txt").write_text(f"{OUTSIDE_MARKER}\n")
    (root / "leak.txt").symlink_to(base / "secret.txt")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "up").symlink_to(base)
    srv = start_server(cluster, "m_health", web_root=root)
    srv.site = base
    yield srv
    finish_server(srv)


def raw_get(srv, target, timeout=10):
    """GET with the request target sent exactly as given (no client-side
    normalisation of dots or escapes); returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode("latin-1"))
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines and lines[0] else None
    assert m, f"no HTTP status line for {target!r}: {data[:200]!r}"
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(m.group(1)), headers, body


# --- probes --------------------------------------------------------------------


def test_healthz(server):
    r = server.anon().get("/healthz", api=False)
    assert r.status_code == 200


def test_readyz(server):
    r = server.anon().get("/readyz", api=False)
    assert r.status_code == 200


def test_config_needs_no_login(server):
    body = ok(server.anon().get("/config"))
    for k in ("product", "version", "support_contact", "base_url"):
        assert k in body, body
    assert body["base_url"].startswith("http"), body


# --- metrics -------------------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$")


def parse_metrics(text):
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples


def test_metrics_count_requests_by_route_and_status(server):
    c = server.anon()
    for _ in range(3):
        assert c.get("/config").status_code == 200
    assert c.get("/no-such-thing").status_code == 404
    alice = server.as_("alice")
    cid = ok(alice.post("/changes", json={"title": "for metrics"}), 201)["id"]
    assert alice.get(f"/changes/{cid}").status_code == 200
    r = c.get("/metrics", api=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    text = r.text
    assert "# TYPE cabinet_http_requests_total counter" in text
    assert "# TYPE cabinet_http_request_duration_seconds histogram" in text
    samples = parse_metrics(text)
    counters = [(l, v) for n, l, v in samples if n == "cabinet_http_requests_total"]
    assert counters
    config = [v for l, v in counters
              if l.get("route") == "/api/v1/config" and l.get("status") == "200"]
    assert config and config[0] >= 3, counters
    created = [v for l, v in counters if l.get("status") == "201"]
    assert created and sum(created) >= 1
    notfound = [v for l, v in counters if l.get("status") == "404"]
    assert notfound and sum(notfound) >= 1
    # Routes are labelled by their pattern, never by the raw path (ids would
    # make the label set grow without bound).
    for l, _ in counters:
        assert not re.search(r"/\d+$", l.get("route", "")), l
    assert any(l.get("route") == "/api/v1/changes/{id}" for l, _ in counters), counters


def test_metrics_latency_histogram(server):
    c = server.anon()
    for _ in range(2):
        c.get("/config")
    samples = parse_metrics(c.get("/metrics", api=False).text)
    buckets = [(l, v) for n, l, v in samples if n == "cabinet_http_request_duration_seconds_bucket"]
    assert buckets, "no latency histogram buckets"
    counts = {tuple(sorted((k, v) for k, v in l.items())): v for n, l, v in samples
              if n == "cabinet_http_request_duration_seconds_count"}
    assert counts
    # Per series: buckets cumulative, +Inf equal to _count.
    series = {}
    for l, v in buckets:
        key = tuple(sorted((k, x) for k, x in l.items() if k != "le"))
        series.setdefault(key, []).append((l["le"], v))
    assert any(dict(k).get("route") == "/api/v1/config" for k in series), list(series)
    for key, bs in series.items():
        def le(x):
            return float("inf") if x[0] == "+Inf" else float(x[0])
        bs.sort(key=le)
        assert bs[-1][0] == "+Inf", (key, bs)
        values = [v for _, v in bs]
        assert values == sorted(values), (key, bs)
        assert key in counts and counts[key] == bs[-1][1], (key, bs, counts.get(key))


def test_metrics_pool_gauges(server):
    samples = parse_metrics(server.anon().get("/metrics", api=False).text)
    size = [v for n, l, v in samples if n == "cabinet_db_pool_size"]
    in_use = [v for n, l, v in samples if n == "cabinet_db_pool_in_use"]
    assert size == [4.0], size  # CABINET_DB_POOL=4
    assert len(in_use) == 1 and 0 <= in_use[0] <= 4, in_use


# --- security headers ------------------------------------------------------------


def assert_security_headers(r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert csp, f"{r.url}: no Content-Security-Policy"
    assert "'unsafe-inline'" not in csp, csp
    assert "'unsafe-eval'" not in csp, csp
    assert re.search(r"frame-ancestors\s+'none'", csp), csp
    assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff", r.headers
    assert r.headers.get("Referrer-Policy", "").lower() == "no-referrer", r.headers


@pytest.mark.parametrize("path", ["/api/v1/config", "/api/v1/me", "/api/v1/nope", "/healthz"])
def test_security_headers_on_api(server, path):
    r = server.anon().get(path, api=False)
    assert_security_headers(r)
    if path.startswith("/api/"):
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/style.css", "/missing.html"])
def test_security_headers_on_static(server, path):
    assert_security_headers(server.anon().get(path, api=False))


# --- static files -----------------------------------------------------------------


def test_root_serves_index_html(server):
    r = server.anon().get("/", api=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "text/html"
    assert r.content == (WEB_ROOT / "index.html").read_bytes()


@pytest.mark.parametrize("name,ctype", [("app.js", "javascript"), ("style.css", "text/css")])
def test_static_types(server, name, ctype):
    r = server.anon().get("/" + name, api=False)
    assert r.status_code == 200
    assert ctype in r.headers["Content-Type"], r.headers
    assert r.content == (WEB_ROOT / name).read_bytes()


def test_static_is_read_only(server):
    r = server.anon().post("/index.html", data=b"x", headers={"Content-Type": "text/plain"},
                           api=False)
    assert r.status_code in (404, 405), r.status_code


TRAVERSALS = [
    "/../secret.txt",
    "/../../../../../../etc/passwd",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/sub/..%2f..%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..%5csecret.txt",
    "/%252e%252e/secret.txt",
    "/.%2e/secret.txt",
    "/sub/../../secret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/up/secret.txt",
    "/leak.txt",
    "/passwd.txt",
    "/.hidden.txt",
    "/index.html%00.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_no_file_outside_the_web_root(server, target):
    status, headers, body = raw_get(server, target)
    assert status in (400, 403, 404), (target, status, body[:200])
    assert OUTSIDE_MARKER.encode() not in body
    assert b"root:x:0:0" not in body


@pytest.mark.parametrize("target", ["/sub/", "/sub", "/up/", "/%2e/"])
def test_no_directory_listing(server, target):
    status, headers, body = raw_get(server, target)
    assert b"page.html" not in body, body[:300]
    assert b"Index of" not in body
    assert b"secret.txt" not in body
    if status == 200:
        # Only the UI itself may answer (e.g. "/%2e/" being "/").
        assert body == (WEB_ROOT / "index.html").read_bytes(), (target, body[:200])
    else:
        assert status in (301, 302, 400, 403, 404), (target, status)


@pytest.mark.parametrize("target,marker", [
    ("/run.cgi", CGI_OUTPUT), ("/run.cgi?x=1", CGI_OUTPUT),
    ("/info.php", PHP_OUTPUT), ("/page.shtml", "uid="),
])
def test_scripts_are_never_executed(server, target, marker):
    status, headers, body = raw_get(server, target)
    # Unknown types are not served at all.
    assert status in (403, 404), (target, status, body[:200])
    # And if anything came back, it is not the output of running it.
    assert not (body.strip() == marker.encode() or b"uid=0" in body)


# --- routing --------------------------------------------------------------------


def test_unknown_api_path_is_404_problem(server):
    problem(server.as_("alice").get("/no/such/resource"), 404)
    problem(server.anon().get("/nothing-here"), 404)


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/config"), ("PUT", "/changes"), ("DELETE", "/changes"),
    ("POST", "/models/normal"), ("PUT", "/session"),
])
def test_wrong_method_is_405(server, method, path):
    r = server.as_("alice").request(method, path, json={})
    problem(r, 405)
    assert r.headers.get("Allow"), r.headers


def test_allow_header_lists_the_methods(server):
    r = server.as_("alice").put("/changes", json={})
    problem(r, 405)
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "PUT" not in allowed, r.headers["Allow"]


# --- cross-origin ---------------------------------------------------------------------

EVIL = "https://evil.example"


@pytest.mark.parametrize("path", ["/api/v1/changes", "/api/v1/session", "/api/v1/me", "/"])
def test_no_cross_origin_preflight_is_granted(server, path):
    r = server.anon().request("OPTIONS", path, api=False, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrf-token"})
    acao = r.headers.get("Access-Control-Allow-Origin")
    assert acao not in ("*", EVIL), dict(r.headers)
    assert_security_headers(r)


@pytest.mark.parametrize("path", ["/api/v1/config", "/api/v1/me", "/"])
def test_no_cross_origin_reads_are_granted(server, path):
    c = server.as_("alice")
    r = c.get(path, api=False, headers={"Origin": EVIL})
    assert r.headers.get("Access-Control-Allow-Origin") not in ("*", EVIL), dict(r.headers)
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_keep_alive_serves_several_requests(server):
    """Two requests on one connection (a browser keeps its connections)."""
    with requests.Session() as s:
        for _ in range(3):
            assert s.get(server.url("/api/v1/config"), timeout=10).status_code == 200


def test_connection_close_is_acknowledged(server):
    """A client that asks for Connection: close is told the connection
    closes (RFC 9112 §9.6), so that it does not reuse it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /api/v1/config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert "\r\nconnection: close" in head, head
