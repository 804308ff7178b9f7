"""Two `cabinet serve` instances on one database under concurrent load:
one change per Idempotency-Key sent to both at once, one change per
webhook-id sent to both at once, every event out delivered exactly once
(no two instances claim one delivery), a conflict between changes
submitted at the same moment on different instances seen by both, and
the audit chain intact (`cabinet verify` exits 0)."""

import concurrent.futures
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import pytest

from conftest import Server, finish_server, ok, start_server, unique
from faultlib import post_change, scale, verify_chain
from hooklinks import deliveries, make_integration, send_generic, service
from hooks import Receiver
from hooks import deliveries as webhook_deliveries

FAST = {"CABINET_WEBHOOK_RETRY_BASE": "1", "CABINET_WEBHOOK_TIMEOUT": "2"}
KEYS = scale(60, 300)       # idempotency keys, each sent to both instances at once
HOOKS = scale(40, 200)       # webhook-ids, each sent to both at once
PAIRS = scale(10, 40)        # conflicting pairs submitted at once
WORKERS = 8


@pytest.fixture(scope="module")
def pair(cluster):
    one = start_server(cluster, "f_two_instances", extra_env=dict(FAST), name="faults-two-a")
    two = Server(cluster, one.db, name="faults-two-b",
                 extra_env={**FAST, "CABINET_SERVER_KEY_FILE": str(one.key_path)})
    two.users = one.users
    two.start()
    yield one, two
    problems = two.stop()
    finish_server(one)
    assert not problems, (problems, two.stderr_tail())


@pytest.fixture(scope="module")
def rx(pair):
    """A receiver subscribed to every change event before any load."""
    one, _ = pair
    r = Receiver("two-instances")
    w = ok(one.as_("manager").post("/webhooks", json={
        "url": r.url, "events": ["change.created", "change.submitted",
                                 "change.state_changed"]}), 201)
    r.secret = w["secret"]
    r.webhook = w
    yield r
    r.stop()


def both_at_once(calls):
    """calls: a list of pairs of thunks; each pair runs at the same moment
    (a barrier per pair), WORKERS threads in all. Returns the pairs' results."""
    def go(pair_):
        barrier = threading.Barrier(2, timeout=30)
        out = [None, None]

        def side(i):
            barrier.wait()
            try:
                out[i] = pair_[i]()
            except Exception as e:  # noqa: BLE001 - judged by the caller
                out[i] = e
        ts = [threading.Thread(target=side, args=(i,)) for i in (0, 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(90)
        return out

    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS // 2) as pool:
        return list(pool.map(go, calls))


def test_one_change_per_idempotency_key_across_instances(pair, rx):
    one, two = pair
    token = one.token_client("alice").token
    prefix = unique("idem")

    def make(i):
        key, title = unique("key"), f"{prefix}-{i}"
        return [lambda: post_change(one.base, token, title, key=key),
                lambda: post_change(two.base, token, title, key=key)]

    t0 = time.monotonic()
    results = both_at_once([make(i) for i in range(KEYS)])
    took = time.monotonic() - t0
    codes = [getattr(r, "status_code", repr(r)) for p in results for r in p]
    # each gets the first response, or at worst a retryable 409
    assert set(codes) <= {201, 409}, codes
    stored = {}
    for line in one.psql(f"SELECT title, count(*) FROM changes WHERE title LIKE '{prefix}-%'"
                         " GROUP BY title").splitlines():
        t, n = line.split("|")
        stored[t] = int(n)
    assert len(stored) == KEYS and set(stored.values()) == {1}, stored
    for a, b in results:
        ids = {r.json()["id"] for r in (a, b) if r.status_code == 201}
        assert len(ids) == 1, (a.text, b.text)
    print(f"\nfigure: {KEYS} keys x 2 instances at once: {codes.count(201)} x 201, "
          f"{codes.count(409)} x 409, one change each ({took:.1f} s)")


def test_one_change_per_webhook_id_across_instances(pair, rx):
    one, two = pair
    integ = make_integration(one, model="standard", services=[service(one)],
                             default_duration_s=3600)
    path = urlparse(integ["url"]).path
    n0 = int(one.psql("SELECT count(*) FROM changes"))

    def make(i):
        msg, body = f"msg_{unique('two')}", json.dumps({
            "title": unique("hooked"), "test_plan": "t", "backout_plan": "b",
            "business_impact": "low"})
        return [lambda: send_generic(integ, body, msg_id=msg, url=one.base + path),
                lambda: send_generic(integ, body, msg_id=msg, url=two.base + path)]

    results = both_at_once([make(i) for i in range(HOOKS)])
    for a, b in results:
        assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
        assert a.json()["change"]["id"] == b.json()["change"]["id"], (a.text, b.text)
    assert int(one.psql("SELECT count(*) FROM changes")) == n0 + HOOKS
    got = deliveries(one, integ["id"])
    per = {}
    for d in got:
        per.setdefault(d["delivery_id"], []).append(d["result"])
    assert len(per) == HOOKS, per
    assert all(sorted(v) == ["accepted", "replayed"] for v in per.values()), per
    print(f"\nfigure: {HOOKS} webhook-ids x 2 instances at once: {HOOKS} changes, "
          f"each accepted once and replayed once")


def win(base, start_h, end_h):
    f = "%Y-%m-%dT%H:%M:%SZ"
    return {"start": (base + timedelta(hours=start_h)).strftime(f),
            "end": (base + timedelta(hours=end_h)).strftime(f)}


def test_conflicts_submitted_at_once_on_two_instances_are_seen_by_both(pair, rx):
    one, two = pair
    a_c, b_c = one.login("alice"), two.login("bob")
    admin = one.as_("admin")
    base = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) + \
        timedelta(days=200)
    calls, made = [], []
    for i in range(PAIRS):
        s = unique("two-svc")
        ok(admin.post("/services", json={"name": s, "title": s, "tier": 3}), 201)
        at = base + timedelta(days=3 * i)
        a = ok(a_c.post("/changes", json={"title": unique("pair a"), "services": [s],
                                          "window": win(at, 0, 2), "test_plan": "t",
                                          "backout_plan": "b"}), 201)
        b = ok(b_c.post("/changes", json={"title": unique("pair b"), "services": [s],
                                          "window": win(at, 1, 3), "test_plan": "t",
                                          "backout_plan": "b"}), 201)
        made.append((a["id"], b["id"]))
        calls.append([lambda cid=a["id"]: a_c.post(f"/changes/{cid}/submit", timeout=60),
                      lambda cid=b["id"]: b_c.post(f"/changes/{cid}/submit", timeout=60)])
    results = both_at_once(calls)
    for pr in results:
        for r in pr:
            assert getattr(r, "status_code", None) == 200, getattr(r, "text", r)
    bad = []
    for a_id, b_id in made:
        seen = []
        for cid, reader in ((a_id, one.as_("cab1")), (b_id, two.login("cab2"))):
            ch = ok(reader.get(f"/changes/{cid}"))
            seen.append([k for k in ch["conflicts"] if k["kind"] == "change"])
        if not (len(seen[0]) == 1 and len(seen[1]) == 1 and seen[0][0]["id"] == seen[1][0]["id"]
                and seen[0][0]["state"] == "open"):
            bad.append((a_id, b_id, seen))
    assert not bad, f"{len(bad)} of {PAIRS} pairs lost or doubled a conflict: {bad}"
    print(f"\nfigure: {PAIRS} pairs submitted at once on two instances: each conflict seen by both")


def test_every_event_delivered_exactly_once_and_the_chain_verifies(pair, rx):
    one, _ = pair
    wid = rx.webhook["id"]
    deadline = time.monotonic() + 90
    while True:
        items = webhook_deliveries(one, wid)
        pending = [d for d in items if d["state"] != "delivered"]
        fanned = one.psql("SELECT count(*) FROM outbox WHERE NOT fanned_out") == "0"
        if fanned and not pending:
            break
        assert time.monotonic() < deadline, f"{len(pending)} deliveries left: {pending[:5]}"
        time.sleep(0.3)
    ids = {d["event_id"] for d in items}
    assert len(ids) == len(items) and len(items) >= KEYS + HOOKS + 2 * PAIRS, len(items)
    # nobody died: each claimed by one instance, sent once
    assert all(d["attempts"] == 1 for d in items), [d for d in items if d["attempts"] != 1]
    got = {}
    for r in rx.snapshot():
        got.setdefault(r.id, []).append(r)
    assert set(got) == ids, (len(got), len(ids))
    dups = {i: len(v) for i, v in got.items() if len(v) > 1}
    assert not dups, f"{len(dups)} events delivered more than once by two instances"
    assert rx.verify_all()
    entries = verify_chain(one)
    print(f"\nfigure: {len(items)} events delivered once each by two instances; "
          f"audit chain of {entries} entries verifies")
