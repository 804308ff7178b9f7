"""HTTP/1.1 spoken by hand over one connection, for tests that need to
choose the source address, hold a connection open or stall part of a
request: a request is written as bytes, a response read whole by its
Content-Length."""

import json
import socket
import ssl


def connect(port, source="127.0.0.1", timeout=10, host="127.0.0.1"):
    """A TCP connection to host:port from a loopback address of our choosing
    (any of 127.0.0.0/8 will do on Linux)."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((host, port))
    return s


class Reply:
    def __init__(self, status, headers, body, closed):
        self.status, self.headers, self.body, self.closed = status, headers, body, closed

    def json(self):
        return json.loads(self.body)


def read_reply(s):
    """One response read whole (by its Content-Length), and whether the
    server then closed the connection (looked for only after Connection:
    close). Header names are lower-cased."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before a whole response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    closed = False
    if headers.get("connection", "").lower() == "close":
        try:
            closed = s.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            closed = True
    return Reply(status, headers, body, closed)


def get(s, path="/healthz", extra=b"", host=b"127.0.0.1"):
    """Sends a GET with extra header lines (bytes, each ending in CRLF) and
    reads its response."""
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"\r\n")
    return read_reply(s)
