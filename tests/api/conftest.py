"""Black-box API tests: the real `cabinet` binary (ASan+UBSan build) over
real HTTP, against a throwaway PostgreSQL cluster made for the run.

Fixtures:
  cluster   (session)  a cluster under /tmp with a migrated template database
  server    (module)   a database cloned from the template, the standard users,
                       and a running `cabinet serve` on a free loopback port

Every wait is bounded; only processes started here are ever signalled.
"""

import contextlib
import json as jsonlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CABINET_BIN", REPO / "build" / "san" / "cabinet"))
PGSH = REPO / "server" / "scripts" / "pg.sh"
SQL_DIR = REPO / "sql"
WEB_ROOT = REPO / "web"
# Published test vectors, committed in tests/fixtures (see SOURCES.md there);
# CABINET_FIXTURES points elsewhere.
FIXTURES = Path(os.environ.get("CABINET_FIXTURES") or REPO / "tests" / "fixtures")
LSAN_SUPP = REPO / "tests" / "lib" / "lsan.supp"

PASSWORD = "correct-horse-battery-staple"
DOMAIN = "cabinet.test"
API = "/api/v1"

# name -> roles; every account gets PASSWORD.
STANDARD_USERS = {
    "admin": "admin",
    "cab1": "cab",
    "cab2": "cab",
    "cab3": "cab",
    "cab4": "cab",
    "ecab": "ecab",
    "manager": "manager",
    "alice": "",
    "bob": "",
}

PROBLEM_TYPES = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-fields",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}

HTTP_TIMEOUT = 20


_BIN_COPY_DIR = None


def pytest_sessionstart(session):
    """Run one copy of the binary for the whole session, taken once it has
    stopped changing, so that a rebuild during the run does not mix
    versions or catch a half-written file."""
    global BIN, _BIN_COPY_DIR
    deadline = time.monotonic() + 120
    while True:
        if BIN.is_file() and os.access(BIN, os.X_OK):
            before = BIN.stat()
            time.sleep(1)
            after = BIN.stat()
            if (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size) \
                    and os.access(BIN, os.X_OK):
                break
        if time.monotonic() > deadline:
            pytest.exit(f"{BIN} is missing: run `make build/san/cabinet` first", returncode=3)
        time.sleep(1)
    _BIN_COPY_DIR = Path(run(["mktemp", "-d", "/tmp/cabinet-bin.XXXXXX"]).stdout.strip())
    copy = _BIN_COPY_DIR / "cabinet"
    shutil.copy2(BIN, copy)
    BIN = copy


def pytest_sessionfinish(session, exitstatus):
    if _BIN_COPY_DIR is not None:
        shutil.rmtree(_BIN_COPY_DIR, ignore_errors=True)


# --- processes ------------------------------------------------------------------


def run(cmd, env=None, timeout=120, check=True, input=None):
    """Run a command to completion (bounded); return the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        cp = subprocess.run(
            [str(c) for c in cmd], env=full_env, capture_output=True, text=True,
            timeout=timeout, input=input,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{cmd} did not finish within {timeout} s") from e
    if check and cp.returncode != 0:
        raise AssertionError(
            f"{cmd} exited {cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}"
        )
    return cp


def sanitizer_env():
    opts = "detect_leaks=1:abort_on_error=1"
    env = {
        "ASAN_OPTIONS": opts,
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    }
    if LSAN_SUPP.is_file():
        env["LSAN_OPTIONS"] = f"suppressions={LSAN_SUPP}:print_suppressions=0"
    return env


def sanitizer_findings(text):
    """The sanitizer reports in a process's stderr, if any."""
    found = []
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in text:
            found.append(marker)
    return found


def tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- database ---------------------------------------------------------------------


class PsqlError(AssertionError):
    def __init__(self, sql, cp):
        super().__init__(f"psql failed ({cp.returncode}) for {sql!r}: {cp.stderr.strip()}")
        self.stderr = cp.stderr
        self.returncode = cp.returncode


def psql(url, sql, timeout=30):
    """Run SQL with psql -X -At; return stdout without the final newline."""
    cp = run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
             timeout=timeout, check=False)
    if cp.returncode != 0:
        raise PsqlError(sql, cp)
    return cp.stdout.rstrip("\n")


def psql_json(url, sql, timeout=30):
    """Run a query returning one json value and decode it."""
    out = psql(url, sql, timeout=timeout)
    return jsonlib.loads(out) if out else None


class Cluster:
    """A PostgreSQL cluster of its own in a fresh /tmp directory: made for
    speed (PG_FAST: no fsync, asynchronous commit), or durable, with
    PostgreSQL's own settings, for a test that crashes it and counts what an
    acknowledged commit left."""

    def __init__(self, durable=False):
        self.durable = durable
        self.dir = Path(run(["mktemp", "-d", "/tmp/cabinet-test.XXXXXX"]).stdout.strip())
        # Files of the tests (logs, keys) live beside the cluster's data.
        self.files = Path(run(["mktemp", "-d", "/tmp/cabinet-files.XXXXXX"]).stdout.strip())
        self.start()

    def start(self):
        run([PGSH, "start", self.dir], env={"PG_FAST": "0" if self.durable else "1"},
            timeout=180)

    def stop(self, mode="fast"):
        """Stop the cluster: a fast shutdown, or "immediate" (as a crash)."""
        run([PGSH, "stop", self.dir, mode], timeout=120, check=False)

    def url(self, db):
        return run([PGSH, "url", self.dir, db], timeout=30).stdout.strip()

    def createdb(self, name, template=None):
        cmd = [PGSH, "createdb", self.dir, name] + ([template] if template else [])
        run(cmd, timeout=120)
        return self.url(name)

    def migrate(self, db, timeout=180):
        return run([BIN, "migrate"], env={
            "CABINET_DATABASE_URL": self.url(db),
            "CABINET_SQL_DIR": str(SQL_DIR),
            **sanitizer_env(),
        }, timeout=timeout, check=False)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.files, ignore_errors=True)


def db_name_for(module_name):
    base = re.sub(r"[^a-z0-9_]", "_", module_name.rsplit(".", 1)[-1].lower())
    return f"m_{base}"[:50]


# --- HTTP clients ---------------------------------------------------------------

_UNSET = object()


class Client:
    """A requests.Session bound to one server, optionally logged in.

    Paths are under /api/v1 unless api=False. Writes from a cookie session
    carry X-CSRF-Token automatically (csrf=False leaves it out, csrf="x"
    sends that value instead). Connections are not kept alive, so that idle
    clients never hold one of the server's worker threads.
    """

    def __init__(self, base, token=None, csrf=None, user=None):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"
        self.token = token
        self.csrf = csrf
        self.user = user
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def url(self, path, api=True):
        return self.base + (API if api else "") + path

    def request(self, method, path, json=_UNSET, data=None, headers=None, csrf=True,
                api=True, timeout=HTTP_TIMEOUT, **kw):
        h = dict(headers or {})
        if method in ("POST", "PATCH", "PUT", "DELETE") and self.csrf and csrf is not False:
            h.setdefault("X-CSRF-Token", csrf if isinstance(csrf, str) else self.csrf)
        if json is not _UNSET:
            data = jsonlib.dumps(json)
            h.setdefault("Content-Type", "application/json")
        # A session per request, sharing this client's headers and cookie
        # jar: a connection is never reused (the server may close it after
        # the response without saying so), and threads sharing a client
        # never close each other's connections.
        http = requests.Session()
        http.headers.update(self.http.headers)
        http.cookies = self.http.cookies
        try:
            return http.request(method, self.url(path, api), data=data, headers=h,
                                timeout=timeout, allow_redirects=False, **kw)
        finally:
            http.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=_UNSET, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=_UNSET, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=_UNSET, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.http.close()

    @property
    def session_cookie(self):
        return self.http.cookies.get("cabinet_session")


def problem(r, status, field=None, fields=None):
    """Assert r is an RFC 9457 problem of this status; return its body.

    field: one field the `errors` list must name (exactly); fields: several.
    """
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:2000]}"
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", ctype
    body = r.json()
    assert isinstance(body, dict), body
    assert body.get("status") == status, body
    if status in PROBLEM_TYPES:
        assert body.get("type") == f"urn:cabinet:problem:{PROBLEM_TYPES[status]}", body
    assert isinstance(body.get("title"), str) and body["title"], body
    wanted = ([field] if field else []) + list(fields or [])
    if wanted:
        names = [e.get("field") for e in body.get("errors") or []]
        for w in wanted:
            assert w in names, f"errors should name {w!r}: {body}"
        for e in body["errors"]:
            assert isinstance(e.get("message"), str) and e["message"], e
    return body


def error_fields(r):
    try:
        return [e.get("field") for e in (r.json().get("errors") or [])]
    except ValueError:
        return []


def ok(r, status=200):
    """Assert a successful JSON response; return its body (None for 204)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:2000]}"
    if status == 204:
        return None
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", ctype
    return r.json()


def page_items(body):
    assert isinstance(body, dict) and isinstance(body.get("items"), list), body
    assert "next_cursor" in body, body
    return body["items"]


def walk(client, path, params=None, limit=None, max_pages=200):
    """Follow next_cursor to the end; return every item and the page count."""
    params = dict(params or {})
    if limit is not None:
        params["limit"] = limit
    items, pages = [], 0
    while True:
        body = ok(client.get(path, params=params))
        items.extend(page_items(body))
        pages += 1
        assert pages <= max_pages, "the cursor never ends"
        if body["next_cursor"] is None:
            return items, pages
        assert isinstance(body["next_cursor"], str) and body["next_cursor"], body
        params["cursor"] = body["next_cursor"]


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- the server -----------------------------------------------------------------


class Server:
    """One `cabinet serve` process on its own database."""

    def __init__(self, cluster, db, web_root=WEB_ROOT, extra_env=None, name=None):
        self.cluster = cluster
        self.db = db
        self.db_url = cluster.url(db)
        self.web_root = Path(web_root)
        self.extra_env = extra_env or {}
        self.name = name or db
        self.port = None
        self.base = None
        self.proc = None
        self.stderr_path = cluster.files / f"{self.name}.stderr"
        self.key_path = cluster.files / f"{self.name}.server.key"
        self.users = {}  # name -> {"id", "email", "roles"}
        self._clients = {}

    # accounts
    def add_user(self, name, roles="", password=PASSWORD, email=None):
        email = email or f"{name}@{DOMAIN}"
        cmd = [BIN, "user", "add", email, "--name", name.capitalize()]
        if roles:
            cmd += ["--roles", roles]
        cp = run(cmd, env={
            "CABINET_DATABASE_URL": self.db_url,
            "CABINET_SQL_DIR": str(SQL_DIR),
            "CABINET_PASSWORD": password,
            **sanitizer_env(),
        }, timeout=120, check=False)
        assert cp.returncode == 0, f"user add {email}: {cp.returncode}\n{cp.stderr}"
        assert not sanitizer_findings(cp.stderr), cp.stderr
        uid = int(self.psql(f"SELECT id FROM users WHERE lower(email) = lower('{email}')"))
        self.users[name] = {"id": uid, "email": email, "roles": roles}
        return self.users[name]

    # process
    def start(self, timeout=30):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "CABINET_LISTEN": f"127.0.0.1:{self.port}",
            "CABINET_DATABASE_URL": self.db_url,
            "CABINET_WEB_ROOT": str(self.web_root),
            "CABINET_SQL_DIR": str(SQL_DIR),
            "CABINET_SERVER_KEY_FILE": str(self.key_path),
            "CABINET_THREADS": "16",
            "CABINET_DB_POOL": "4",
            # the test receivers listen on 127.0.0.1
            "CABINET_WEBHOOK_ALLOW_LOOPBACK": "true",
        })
        env.update(sanitizer_env())
        env.update(self.extra_env)
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([str(BIN), "serve"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr,
                                     cwd=str(self.cluster.files))
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"cabinet serve exited {self.proc.returncode} at start:\n{self.stderr_tail()}")
            try:
                r = requests.get(self.base + "/healthz", timeout=2,
                                 headers={"Connection": "close"})
                if r.status_code == 200:
                    return
                last = r.status_code
            except requests.RequestException as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(
            f"/healthz not ready within {timeout} s ({last}):\n{self.stderr_tail()}")

    def stop(self, timeout=30):
        """SIGTERM our process, wait (bounded); return a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                problems.append(f"did not exit within {timeout} s of SIGTERM")
                self.proc.kill()
                self.proc.wait(timeout=30)
        rc = self.proc.returncode
        self._stderr.close()
        if rc != 0:
            problems.append(f"exited with status {rc}")
        problems += [f"stderr contains {m!r}" for m in sanitizer_findings(self.stderr_text())]
        self.proc = None
        return problems

    def restart_after_crash(self):
        """Start a fresh process after this one died; its stderr is kept
        aside (the test that killed it reports it) so that the module's
        final check judges the new process only."""
        problems = self.stop()
        self._crashes = getattr(self, "_crashes", 0) + 1
        kept = self.stderr_path.with_name(f"{self.stderr_path.name}.crash{self._crashes}")
        self.stderr_path.rename(kept)
        self._clients = {}
        self.start()
        return problems, kept

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, lines=60):
        return tail(self.stderr_text(), lines)

    # helpers
    def url(self, path):
        return self.base + path

    def psql(self, sql, timeout=30):
        return psql(self.db_url, sql, timeout=timeout)

    def psql_json(self, sql, timeout=30):
        return psql_json(self.db_url, sql, timeout=timeout)

    def anon(self):
        return Client(self.base)

    def bearer(self, token):
        return Client(self.base, token=token)

    def login(self, name_or_email, password=PASSWORD):
        """A fresh session; fails the test if the login is refused."""
        email = self.users[name_or_email]["email"] if name_or_email in self.users else name_or_email
        c = Client(self.base)
        r = c.post("/session", json={"email": email, "password": password})
        body = ok(r)
        assert isinstance(body.get("csrf_token"), str) and body["csrf_token"], body
        c.csrf = body["csrf_token"]
        c.user = body["user"]
        return c

    def as_(self, name):
        """A logged-in client for a standard user, made once per module."""
        if name not in self._clients:
            self._clients[name] = self.login(name)
        return self._clients[name]

    def token_client(self, name, scope=None):
        """A bearer-token client for a user (a new full token by default)."""
        body = {"name": unique("tok")}
        if scope:
            body["scope"] = scope
        t = ok(self.as_(name).post("/tokens", json=body), 201)
        return self.bearer(t["token"])


def start_server(cluster, db, template="cabinet_template", users=STANDARD_USERS, **kw):
    if template is not None:
        cluster.createdb(db, template)
    srv = Server(cluster, db, **kw)
    for name, roles in users.items():
        srv.add_user(name, roles)
    srv.start()
    return srv


def finish_server(srv):
    problems = srv.stop()
    if problems:
        pytest.fail(f"cabinet serve ({srv.name}): " + "; ".join(problems)
                    + f"\n--- stderr tail ({srv.stderr_path}) ---\n{srv.stderr_tail(80)}",
                    pytrace=False)


@contextlib.contextmanager
def migrated_cluster(durable=False):
    """A new cluster with the migrated template database, destroyed after:
    the session's, and that of a test module that stops its own."""
    c = Cluster(durable)
    try:
        c.createdb("cabinet_template")
        cp = c.migrate("cabinet_template")
        assert cp.returncode == 0, f"migrate exited {cp.returncode}:\n{cp.stderr}"
        assert not sanitizer_findings(cp.stderr), cp.stderr
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="session")
def cluster():
    with migrated_cluster() as c:
        yield c


@pytest.fixture(scope="module")
def server(request, cluster):
    srv = start_server(cluster, db_name_for(request.module.__name__))
    yield srv
    finish_server(srv)


@pytest.fixture(autouse=True)
def _server_still_running(request):
    """After each test that used a server, it must still be running."""
    yield
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        if srv.proc is not None and srv.proc.poll() is not None:
            status = srv.proc.returncode
            problems, kept = srv.restart_after_crash()
            message = (f"cabinet serve died during this test (status {status}; "
                       f"{'; '.join(problems)}); restarted for the next tests.\n"
                       f"--- stderr tail ({kept}) ---\n"
                       f"{tail(kept.read_text(errors='replace'), 40)}")
            call = getattr(request.node, "rep_call", None)
            if call is None or call.passed:
                pytest.fail(message, pytrace=False)
            # The test failed already: one failure, with the reason shown
            # in its report.
            print(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
