"""Webhook receivers for the API tests: our own Standard Webhooks v1
verifier (test_webhooks.py proves it on the published vectors) and an HTTP
or HTTPS receiver on 127.0.0.1 that records what it gets, answers as a test
tells it to and waits for what a test expects, always within a bound."""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import walk

WAIT = 40  # seconds: the longest wait for one delivery


class Verifier:
    """Standard Webhooks v1 (HMAC-SHA256) signing and verification."""

    PREFIX = "whsec_"

    def __init__(self, secret):
        if not isinstance(secret, str) or not secret:
            raise ValueError("empty secret")
        raw = secret[len(self.PREFIX):] if secret.startswith(self.PREFIX) else secret
        if not raw:
            raise ValueError("empty secret")
        self.key = base64.b64decode(raw, validate=True)
        if not self.key:
            raise ValueError("empty secret")

    def signature(self, msg_id, timestamp, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        mac = hmac.new(self.key, f"{msg_id}.{timestamp}.".encode() + payload, hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()

    def sign(self, msg_id, timestamp, payload):
        return "v1," + self.signature(msg_id, timestamp, payload)

    def verify(self, msg_id, timestamp, payload, header, now=None, tolerance=300):
        timestamp = str(timestamp)
        if not re.fullmatch(r"[0-9]+", timestamp):
            return False
        now = time.time() if now is None else now
        if int(timestamp) < now - tolerance or int(timestamp) > now + tolerance:
            return False
        expected = self.signature(msg_id, timestamp, payload).encode()
        for part in (header or "").split(" "):
            version, _, sig = part.partition(",")
            if version == "v1" and sig and hmac.compare_digest(sig.encode(), expected):
                return True
        return False


class Received:
    """One request as the receiver saw it (header names in lower case)."""

    def __init__(self, path, headers, body, at, mono):
        self.path, self.headers, self.body, self.at, self.mono = path, headers, body, at, mono
        self.status = None

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def id(self):
        return self.headers.get("webhook-id")

    @property
    def type(self):
        try:
            return self.json.get("type")
        except ValueError:
            return None

    @property
    def ref(self):
        """The ref of the change the event is about, if any."""
        try:
            return ((self.json.get("data") or {}).get("change") or {}).get("ref")
        except (ValueError, AttributeError):
            return None

    def __repr__(self):
        return f"<{self.type} {self.id} {self.status} {self.body[:120]!r}>"


class Receiver:
    """A webhook receiver on 127.0.0.1. answer(rec, seen) gives the status
    (or (status, delay_s)) for a request; `seen` is how many earlier
    requests carried the same webhook-id. With tls (an ssl.SSLContext) it
    speaks HTTPS and its URL names `host`."""

    def __init__(self, name="rx", answer=None, port=0, bind_timeout=10, tls=None,
                 host="127.0.0.1"):
        self.name = name
        self.answer = answer or (lambda rec, seen: 200)
        self.records = []
        self.cond = threading.Condition()
        self.secret = None
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                               time.time(), time.monotonic())
                with rx.cond:
                    seen = sum(1 for r in rx.records if rec.id and r.id == rec.id)
                    out = rx.answer(rec, seen)
                    status, delay = out if isinstance(out, tuple) else (out, 0)
                    rec.status = status
                    rx.records.append(rec)
                    rx.cond.notify_all()
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        deadline = time.monotonic() + bind_timeout
        while True:  # a fixed port may still be in TIME_WAIT or briefly taken
            try:
                self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                if port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if tls is not None:  # the handshake runs on accept
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://{host}:{self.port}/hook/{name}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def snapshot(self):
        with self.cond:
            return list(self.records)

    def ids(self):
        return {r.id for r in self.snapshot()}

    def wait(self, pred, what, timeout=WAIT):
        """Wait (bounded) until pred(records) is truthy; return its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred(list(self.records))
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver {self.name}: {what} did not arrive within "
                                         f"{timeout} s; received {len(self.records)}: "
                                         f"{self.records[-20:]!r}")
                self.cond.wait(min(left, 0.5))

    def wait_event(self, type_, ref=None, what=None, timeout=WAIT):
        def pred(records):
            for r in records:
                if r.type == type_ and (ref is None or r.ref == ref):
                    return r
            return None
        return self.wait(pred, what or f"{type_} {ref or ''}", timeout)

    def of(self, type_=None, ref=None):
        return [r for r in self.snapshot()
                if (type_ is None or r.type == type_) and (ref is None or r.ref == ref)]

    def verify_all(self):
        """Every request received carries a valid Standard Webhooks signature."""
        assert self.secret, "the receiver has no secret"
        v = Verifier(self.secret)
        for r in self.snapshot():
            h = r.headers
            assert h.get("content-type", "").split(";")[0] == "application/json", h
            assert h.get("webhook-id") and h.get("webhook-timestamp") and \
                h.get("webhook-signature"), h
            assert v.verify(h["webhook-id"], h["webhook-timestamp"], r.body,
                            h["webhook-signature"], now=r.at), (r, h)
            assert not v.verify(h["webhook-id"], h["webhook-timestamp"], r.body + b" ",
                                h["webhook-signature"], now=r.at)
        return True


# --- deliveries as the API lists them ----------------------------------------------------------


def deliveries(server, wid, who="manager"):
    items, _ = walk(server.as_(who), f"/webhooks/{wid}/deliveries", limit=200)
    return items


def wait_delivery(server, wid, pred, what, timeout=WAIT):
    """The first delivery of webhook wid for which pred holds (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(server, wid)
        got = [d for d in items if pred(d)]
        if got:
            return got[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"webhook {wid}: {what} not seen within {timeout} s: {items}")
        time.sleep(0.2)
