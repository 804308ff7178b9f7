"""HTTPS with CivetWeb's own TLS (README "Running in production" > "TLS"):
CABINET_TLS_CERT and CABINET_TLS_KEY make `serve` speak HTTPS only, with a
certificate made here by `openssl req`, and the session cookie Secure."""

import socket
import ssl
import subprocess

import pytest
import requests

from conftest import API, DOMAIN, PASSWORD, Server, finish_server, unique


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve-tls")
    cp = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    return d


class TlsServer(Server):
    """A Server whose readiness probe and base URL speak HTTPS."""

    def start(self, timeout=30):
        real_get = requests.get
        cert = self.extra_env["CABINET_TLS_CERT"]

        def get(url, **kw):
            return real_get(url.replace("http://", "https://", 1), verify=cert, **kw)

        requests.get = get
        try:
            super().start(timeout)
        finally:
            requests.get = real_get
        self.base = self.base.replace("http://", "https://", 1)


@pytest.fixture(scope="module")
def tls_server(cluster, certs):
    db = unique("tls").replace("-", "_")
    cluster.createdb(db, "cabinet_template")
    srv = TlsServer(cluster, db, extra_env={"CABINET_TLS_CERT": str(certs / "cert.pem"),
                                            "CABINET_TLS_KEY": str(certs / "key.pem")})
    srv.add_user("alice")
    srv.start()
    yield srv
    finish_server(srv)


def test_healthz_over_https(tls_server, certs):
    r = requests.get(tls_server.base + "/healthz", verify=str(certs / "cert.pem"), timeout=20)
    assert r.status_code == 200, r.text
    assert "with HTTPS" in tls_server.stderr_text()


def test_plain_http_gets_no_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
    assert not data.startswith(b"HTTP/1.1 200"), data


def test_the_certificate_served_is_the_one_given(tls_server, certs):
    ctx = ssl.create_default_context(cafile=str(certs / "cert.pem"))
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            served = s.getpeercert(binary_form=True)
            assert s.version() in ("TLSv1.2", "TLSv1.3"), s.version()
    given = ssl.PEM_cert_to_DER_cert((certs / "cert.pem").read_text())
    assert served == given


def test_the_session_cookie_is_secure(tls_server, certs):
    r = requests.post(tls_server.base + API + "/session", verify=str(certs / "cert.pem"),
                      json={"email": f"alice@{DOMAIN}", "password": PASSWORD}, timeout=20)
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"]
    assert "cabinet_session=" in cookie and "; Secure" in cookie, cookie
