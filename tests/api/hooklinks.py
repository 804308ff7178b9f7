"""Webhook links for the API tests: making integrations, and sending
deliveries as each tool signs them (Standard Webhooks with hooks.Verifier,
GitHub's X-Hub-Signature-256, GitLab's X-Gitlab-Token)."""

import hashlib
import hmac
import json
import time
import uuid

import requests

from conftest import FIXTURES, ok, unique, walk
from hooks import Verifier


def make_integration(server, kind="generic", **body):
    body.setdefault("name", unique(f"int-{kind}"))
    body["kind"] = kind
    return ok(server.as_("admin").post("/integrations", json=body), 201)


def service(server, tier=3):
    name = unique(f"hk{tier}")
    ok(server.as_("admin").post("/services", json={"name": name, "title": name, "tier": tier}),
       201)
    return name


def raw_post(url, body, headers, timeout=30):
    data = body if isinstance(body, bytes) else body.encode()
    h = {"Content-Type": "application/json", "Connection": "close"}
    h.update(headers)
    return requests.post(url, data=data, headers=h, timeout=timeout)


def send_generic(integ, body, msg_id=None, ts=None, secret=None, headers=None, url=None):
    """POSTs body (a dict or text) signed as Standard Webhooks."""
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    data = data.encode() if isinstance(data, str) else data
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = str(int(time.time())) if ts is None else str(ts)
    sig = Verifier(secret or integ["secret"]).sign(msg_id, ts, data)
    h = {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig}
    h.update(headers or {})
    return raw_post(url or integ["url"], data, h)


def github_sig(secret, data):
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def send_github(integ, event, body, delivery=None, secret=None, headers=None, url=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
         "X-Hub-Signature-256": github_sig(secret or integ["secret"], data)}
    h.update(headers or {})
    return raw_post(url or integ["url"], data, h)


def send_gitlab(integ, body, event="Deployment Hook", token=None, headers=None, url=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"X-Gitlab-Event": event, "X-Gitlab-Token": token or integ["secret"]}
    h.update(headers or {})
    return raw_post(url or integ["url"], data, h)


def fixture(path):
    return json.loads((FIXTURES / path).read_text())


def deliveries(server, iid):
    items, _ = walk(server.as_("admin"), f"/integrations/{iid}/deliveries", limit=200)
    return items


def metric(server, name, **labels):
    r = requests.get(server.url("/metrics"), timeout=10, headers={"Connection": "close"})
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in r.text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0
