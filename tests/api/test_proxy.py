"""Cabinet behind a real nginx (Debian's package) run with docker/nginx.conf:
TLS in front, the client's address reaching Cabinet in X-Forwarded-For,
and slow bodies held by nginx, never by Cabinet's workers.

nginx runs as a process of this module's own (daemon off), on free
loopback ports, with its pid file, logs and temporary files in a directory
of its own; it is stopped by its PID."""

import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import rawhttp
from conftest import REPO, finish_server, free_port, run, start_server
from rawhttp import get, read_reply

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = REPO / "docker" / "nginx.conf"
NAME = "cabinet.example.org"
THREADS = 4


def substitute(text, pattern, repl):
    """re.sub that must replace exactly once: docker/nginx.conf changing
    shape fails the test rather than testing something else."""
    out, n = re.subn(pattern, repl, text, flags=re.M)
    assert n == 1, f"{pattern!r} matched {n} times in {CONF}"
    return out


def site_conf(cabinet_port, http_port, https_port, cert, key):
    """docker/nginx.conf on this machine's free loopback ports, with a
    certificate made for the test; nothing else changed."""
    text = CONF.read_text()
    text = substitute(text, r"^(\s*server) 127\.0\.0\.1:8080;", rf"\1 127.0.0.1:{cabinet_port};")
    text = substitute(text, r"^(\s*listen) 80;", rf"\1 127.0.0.1:{http_port};")
    text = substitute(text, r"^\s*listen \[::\]:80;\n", "")
    text = substitute(text, r"^(\s*listen) 443 ssl http2;", rf"\1 127.0.0.1:{https_port} ssl http2;")
    text = substitute(text, r"^\s*listen \[::\]:443 ssl http2;\n", "")
    text = substitute(text, r"^(\s*ssl_certificate) \S+;", rf"\1 {cert};")
    text = substitute(text, r"^(\s*ssl_certificate_key) \S+;", rf"\1 {key};")
    return text


class Nginx:
    def __init__(self, cabinet_port):
        if not os.access(NGINX, os.X_OK):
            pytest.fail(f"{NGINX} is missing: `make deps-test` installs Debian's nginx")
        self.dir = Path(tempfile.mkdtemp(prefix="cabinet-nginx-"))
        # the workers (nobody, when this runs as root) make their temporary
        # files below it
        self.dir.chmod(0o755)
        self.cert, self.key = self.dir / "cert.pem", self.dir / "key.pem"
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", f"/CN={NAME}", "-addext",
             f"subjectAltName=DNS:{NAME}", "-keyout", self.key, "-out", self.cert], timeout=60)
        self.http_port, self.https_port = free_port(), free_port()
        (self.dir / "cabinet.conf").write_text(
            site_conf(cabinet_port, self.http_port, self.https_port, self.cert, self.key))
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        d = self.dir
        (d / "nginx.conf").write_text(f"""daemon off;
master_process on;
worker_processes 1;
{user}pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
    default_type application/octet-stream;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/cabinet.conf;
}}
""")
        run([NGINX, "-t", "-p", d, "-e", d / "error.log", "-c", d / "nginx.conf"], timeout=30)
        self.log = open(d / "stderr.log", "ab")
        self.proc = subprocess.Popen([NGINX, "-p", str(d), "-e", str(d / "error.log"),
                                      "-c", str(d / "nginx.conf")],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.tls = ssl.create_default_context(cafile=str(self.cert))
        deadline = time.monotonic() + 15
        while True:
            assert self.proc.poll() is None, f"nginx exited {self.proc.returncode}: {self.errors()}"
            try:
                with self.connect() as s:
                    if get(s, host=NAME.encode()).status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"nginx did not answer: {self.errors()}"
            time.sleep(0.1)
        assert (d / "nginx.pid").read_text().strip() == str(self.proc.pid)

    def connect(self, source="127.0.0.1", timeout=10):
        """A TLS connection to nginx from a loopback address of our choosing,
        the certificate checked for cabinet.example.org."""
        s = rawhttp.connect(self.https_port, source, timeout)
        return self.tls.wrap_socket(s, server_hostname=NAME)

    def errors(self):
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in (self.dir / "error.log", self.dir / "stderr.log") if p.exists())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server(cluster):
    srv = start_server(cluster, "m_proxy", extra_env={
        "CABINET_TRUSTED_PROXIES": "127.0.0.1",
        "CABINET_THREADS": str(THREADS),
        "CABINET_MAX_PER_CLIENT": "2",
    })
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def nginx(server):
    n = Nginx(server.port)
    yield n
    n.stop()


def via(nginx, path, source="127.0.0.1", extra=b""):
    with nginx.connect(source) as s:
        return get(s, path, extra=extra, host=NAME.encode())


def test_requests_reach_cabinet_over_tls(nginx):
    r = via(nginx, "/api/v1/config")
    assert r.status == 200, (r.status, r.body)
    assert r.json()["product"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]  # Cabinet's
    assert r.headers["strict-transport-security"].startswith("max-age=")   # nginx's
    assert "server" not in r.headers or "nginx/" not in r.headers["server"]
    with rawhttp.connect(nginx.http_port) as s:
        r = get(s, "/api/v1/config", host=NAME.encode())
    assert r.status == 301 and r.headers["location"] == f"https://{NAME}/api/v1/config"


class Locked:
    """A psql session holding the sessions table: every request that looks
    up a login session waits inside Cabinet until release()."""

    def __init__(self, srv):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-At", "-d", srv.db_url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write("BEGIN;\nLOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;\n"
                           "SELECT 'locked';\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "locked"

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("COMMIT;\n")
            self.p.stdin.close()
            self.p.wait(timeout=30)


def test_cabinet_counts_the_client_nginx_names(server, nginx):
    """Two requests of client 127.0.0.2 wait inside Cabinet (the limit is
    2); a third is refused naming 127.0.0.2 — not nginx's 127.0.0.1, not
    what the client wrote in X-Forwarded-For itself — while 127.0.0.3 is
    served."""
    alice = server.login("alice")
    cookie = b"Cookie: cabinet_session=" + alice.session_cookie.encode() + b"\r\n"
    lock = Locked(server)
    waiting, replies = [], []
    try:
        for spoof in (b"", b"X-Forwarded-For: 203.0.113.9\r\n"):
            s = nginx.connect("127.0.0.2", timeout=30)
            s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: " + NAME.encode() + b"\r\n" + cookie
                      + spoof + b"\r\n")
            waiting.append(s)
        deadline = time.monotonic() + 10
        while True:
            r = via(nginx, "/api/v1/config", "127.0.0.2",
                    extra=b"X-Forwarded-For: 198.51.100.1\r\n")
            if r.status == 503:
                break
            assert r.status == 200, (r.status, r.body)
            assert time.monotonic() < deadline, "the waiting requests never reached Cabinet"
            time.sleep(0.05)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers.get("retry-after") == "1", r.headers
        assert r.json()["detail"].startswith("127.0.0.2 has 2 requests open"), r.json()
        other = via(nginx, "/api/v1/config", "127.0.0.3")
        assert other.status == 200, (other.status, other.body)
    finally:
        lock.release()
        for s in waiting:
            try:
                replies.append(read_reply(s).status)
            finally:
                s.close()
    assert replies == [200, 200]


def test_a_slow_body_through_nginx_holds_no_cabinet_worker(server, nginx):
    """Straight to Cabinet, four stalled bodies take its four workers and a
    fifth client waits; through nginx, eight bodies trickling for six
    seconds (longer than Cabinet would wait for them) take none, and each
    reaches Cabinet whole in the end."""
    def body(i):
        return b'{"email":"slow%d@cabinet.test","password":"not-the-password"}' % i

    direct = []
    try:
        for i in range(THREADS):
            s = rawhttp.connect(server.port, f"127.0.0.{4 + i // 2}", timeout=30)
            b = body(i)
            s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: %d\r\n\r\n" % len(b) + b[:10])
            direct.append(s)
        time.sleep(0.5)
        with pytest.raises(OSError):  # a timeout: no worker is free
            with rawhttp.connect(server.port, "127.0.0.9", timeout=1.5) as s:
                get(s)
    finally:
        for s in direct:
            s.close()

    slow, results = [], [None] * 8
    for i in range(8):
        # one client each: they all reach Cabinet at once at the end
        s = nginx.connect(f"127.0.0.{20 + i}", timeout=30)
        b = body(i)
        s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: " + NAME.encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(b)
                  + b[:-6])
        slow.append(s)

    def trickle(i):
        s, b = slow[i], body(i)
        try:
            for c in b[-6:]:
                time.sleep(1)
                s.sendall(bytes([c]))
            results[i] = read_reply(s)
        except OSError as e:
            results[i] = e

    threads = [threading.Thread(target=trickle, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        t0 = time.monotonic()
        assert via(nginx, "/api/v1/config", "127.0.0.11").status == 200
        with rawhttp.connect(server.port, "127.0.0.12", timeout=5) as s:
            assert get(s).status == 200
        assert time.monotonic() - t0 < 3, "requests waited while bodies were trickling"
        for t in threads:
            t.join(30)
    finally:
        for s in slow:
            s.close()
    # Cabinet had each body whole: an unknown account, not 408 or 400
    for r in results:
        assert not isinstance(r, Exception), results
        assert r.status == 401 and r.json()["type"] == "urn:cabinet:problem:unauthenticated", \
            (r.status, r.body)


def test_a_gate_long_polls_through_nginx(server, nginx):
    """/gate/ has a read timeout of its own, longer than the longest wait
    (900 s), and a wait is answered by Cabinet through nginx."""
    text = CONF.read_text()
    block = re.search(r"location /gate/ \{(.*?)\}", text, flags=re.S)
    assert block, "docker/nginx.conf has no location /gate/"
    timeout = re.search(r"proxy_read_timeout (\d+)s;", block.group(1))
    assert timeout and int(timeout.group(1)) > 900, block.group(1)
    alice = server.login("alice")
    r = alice.post("/changes", json={"title": "gated through nginx"})
    assert r.status_code == 201, r.text
    path = "/gate/" + r.json()["gate_url"].rsplit("/gate/", 1)[1]
    started = time.monotonic()
    reply = via(nginx, path + "?wait=2")
    assert reply.status == 409, (reply.status, reply.body)
    assert reply.json()["reason"] == "draft"
    assert time.monotonic() - started >= 1.5
