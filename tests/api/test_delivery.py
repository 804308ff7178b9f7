"""Delivery of events out (README "Events out"): the retry schedule, giving
up and the manual retry, unreachable and slow receivers, subscriptions
served side by side (at most CABINET_DELIVERY_WORKERS at once) while each
subscription's events go one at a time in order, at-least-once delivery
across kill -9 of the server, and two instances sharing one outbox.

The servers here are our own, with short settings:
CABINET_WEBHOOK_RETRY_BASE=1, CABINET_WEBHOOK_TIMEOUT=1 (and, for giving up,
CABINET_WEBHOOK_GIVE_UP=4; for receivers that take seconds to answer,
CABINET_WEBHOOK_TIMEOUT=10). Receivers are ThreadingHTTPServer instances on
127.0.0.1 in threads of this process; every wait is bounded."""

import concurrent.futures
import re
import socket
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Server, finish_server, free_port, ok, problem, start_server, tail, unique
from hooks import WAIT, Receiver, deliveries, wait_delivery

FAST = {"CABINET_WEBHOOK_RETRY_BASE": "1", "CABINET_WEBHOOK_TIMEOUT": "1"}
GIVE_UP = {"CABINET_WEBHOOK_RETRY_BASE": "1", "CABINET_WEBHOOK_GIVE_UP": "4"}
PATIENT = {"CABINET_WEBHOOK_RETRY_BASE": "1", "CABINET_WEBHOOK_TIMEOUT": "10",
           "CABINET_DELIVERY_WORKERS": "4"}
# A sender that dies lets its subscriptions' lanes go as soon as the
# database sees its connection close; this bounds the wait for what it was
# sending to be sent again after a restart.
AFTER_CRASH = 40


# --- receivers ------------------------------------------------------------------------------


def closed_port():
    """A loopback port nobody listens on (bound once, then released)."""
    return free_port()


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- our servers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast(cluster):
    srv = start_server(cluster, "d_delivery_fast", extra_env=dict(FAST), name="delivery-fast")
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def giveup(cluster):
    srv = start_server(cluster, "d_delivery_giveup", extra_env=dict(GIVE_UP),
                       name="delivery-giveup")
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def patient(cluster):
    """Four workers that wait up to 10 s for a receiver's answer."""
    srv = start_server(cluster, "d_delivery_patient", extra_env=dict(PATIENT),
                       name="delivery-patient")
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def two_workers(cluster):
    env = dict(PATIENT, CABINET_DELIVERY_WORKERS="2")
    srv = start_server(cluster, "d_delivery_two_workers", extra_env=env,
                       name="delivery-two-workers")
    yield srv
    finish_server(srv)


@pytest.fixture(autouse=True)
def _our_servers_stay_up(request):
    yield
    for name in ("fast", "giveup", "patient", "two_workers"):
        if name in request.fixturenames:
            srv = request.getfixturevalue(name)
            if srv.proc is not None and srv.proc.poll() is not None:
                status = srv.proc.returncode
                problems, kept = srv.restart_after_crash()
                pytest.fail(f"cabinet serve ({srv.name}) died during this test (status {status}; "
                            f"{'; '.join(problems)})\n{tail(kept.read_text(errors='replace'), 40)}",
                            pytrace=False)


@pytest.fixture
def made(request):
    """Receivers and subscriptions of one test, removed after it."""
    state = {"rx": [], "hooks": []}
    yield state
    for srv, wid in state["hooks"]:
        if srv.alive():
            srv.as_("admin").delete(f"/webhooks/{wid}")
    for rx in state["rx"]:
        rx.stop()


def receiver(made, name, answer=None, port=0, **kw):
    rx = Receiver(name, answer, port, **kw)
    made["rx"].append(rx)
    return rx


def subscribe(srv, made, target, events=("change.created",)):
    url = target.url if isinstance(target, Receiver) else target
    w = ok(srv.as_("manager").post("/webhooks", json={"url": url, "events": list(events)}), 201)
    made["hooks"].append((srv, w["id"]))
    if isinstance(target, Receiver):
        target.secret = w["secret"]
    return w


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    assert isinstance(s, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s), s
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def new_change(srv, who="alice", client=None):
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    c = client or srv.as_(who)
    return ok(c.post("/changes", json={
        "title": unique("delivery"),
        "window": {"start": ts(start), "end": ts(start + timedelta(hours=1))}}), 201)


def wait_all_delivered(srv, wid, n, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(srv, wid)
        if len(items) == n and all(d["state"] == "delivered" for d in items):
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"webhook {wid}: not all {n} delivered within {timeout} s: "
                                 f"{[(d['id'], d['state'], d['attempts']) for d in items]}")
        time.sleep(0.2)


# --- the retry schedule ---------------------------------------------------------------------


def test_failures_are_retried_with_exponential_backoff(fast, made):
    # 500, 500, then 200 for each event
    rx = receiver(made, "flaky", answer=lambda rec, seen: 500 if seen < 2 else 200)
    w = subscribe(fast, made, rx)
    ch = new_change(fast)
    rx.wait(lambda rs: [r for r in rs if r.ref == ch["ref"] and r.status == 200],
            "the third attempt")
    d = wait_delivery(fast, w["id"], lambda d: d["state"] == "delivered", "delivered")
    assert d["attempts"] == 3, d
    assert d["last_status"] == 200 and d["last_error"] is None, d
    assert d["next_attempt_at"] is None and d["delivered_at"], d
    assert [h["status"] for h in d["history"]] == [500, 500, 200], d
    assert d["history"][0]["error"] and d["history"][1]["error"], d
    assert d["history"][2]["error"] is None, d
    at = [parse_ts(h["at"]) for h in d["history"]]
    gaps = [(at[1] - at[0]).total_seconds(), (at[2] - at[1]).total_seconds()]
    assert gaps[0] >= 1, (gaps, d)
    assert gaps[1] >= 2, (gaps, d)
    assert gaps[0] <= 8 and gaps[1] <= 12, (gaps, d)
    # seen from the receiver: the same spacing, the same event id
    recs = [r for r in rx.snapshot() if r.ref == ch["ref"]]
    assert [r.status for r in recs] == [500, 500, 200], recs
    rgaps = [recs[1].mono - recs[0].mono, recs[2].mono - recs[1].mono]
    assert rgaps[0] >= 0.95 and rgaps[1] >= 1.95, rgaps
    assert rgaps[1] > rgaps[0], rgaps  # it backs off
    assert len({r.id for r in recs}) == 1 and recs[0].id == d["event_id"], recs
    assert len({r.body for r in recs}) == 1
    assert rx.verify_all()


def test_an_event_that_never_gets_through_ends_dead_and_can_be_retried(giveup, made):
    fixed = threading.Event()
    rx = receiver(made, "broken", answer=lambda rec, seen: 200 if fixed.is_set() else 500)
    w = subscribe(giveup, made, rx)
    ch = new_change(giveup)
    d = wait_delivery(giveup, w["id"], lambda d: d["state"] == "dead", "dead", timeout=30)
    assert d["attempts"] >= 2 and d["last_status"] == 500, d
    assert d["next_attempt_at"] is None and d["delivered_at"] is None, d
    assert all(h["status"] == 500 for h in d["history"]) and len(d["history"]) == d["attempts"]
    # the event was older than the horizon of 4 s by the time it died
    last = parse_ts(d["history"][-1]["at"])
    assert (last - parse_ts(d["created_at"])).total_seconds() <= 10, d
    n = len(rx.snapshot())
    assert n == d["attempts"], (n, d)
    # dead is dead: nothing more is sent on its own, even once the receiver is fixed
    fixed.set()
    time.sleep(3)
    assert len(rx.snapshot()) == n
    assert [x for x in deliveries(giveup, w["id"]) if x["id"] == d["id"]][0]["state"] == "dead"

    r = giveup.as_("manager").post(f"/webhooks/{w['id']}/deliveries/{d['id']}/retry")
    again = ok(r, 202)
    assert again["id"] == d["id"] and again["state"] == "pending", again
    assert again["next_attempt_at"] is not None, again
    got = rx.wait(lambda rs: [x for x in rs if x.status == 200], "the manual retry")[0]
    assert got.ref == ch["ref"] and got.id == d["event_id"], got
    d2 = wait_delivery(giveup, w["id"], lambda x: x["id"] == d["id"] and x["state"] == "delivered",
                       "delivered after the retry")
    assert d2["attempts"] == d["attempts"] + 1 and d2["last_status"] == 200, d2
    assert d2["history"][-1]["status"] == 200 and d2["delivered_at"], d2
    assert rx.verify_all()


def test_an_unreachable_receiver_is_recorded(fast, made):
    port = closed_port()
    assert not listening(port)
    w = subscribe(fast, made, f"http://127.0.0.1:{port}/nobody")
    ch = new_change(fast)
    d = wait_delivery(fast, w["id"], lambda d: d["attempts"] >= 2, "two failed attempts")
    assert d["state"] == "pending" and d["next_attempt_at"], d
    assert d["last_status"] is None, d
    assert isinstance(d["last_error"], str) and d["last_error"], d
    assert re.search(r"connect|refused", d["last_error"], re.I), d["last_error"]
    for h in d["history"]:
        assert h["status"] is None and h["error"], h
        assert 0 <= h["duration_ms"] < 1500, h
    assert d["delivered_at"] is None, (d, ch["ref"])


def test_a_slow_receiver_times_out(fast, made):
    rx = receiver(made, "slow", answer=lambda rec, seen: (200, 3))
    w = subscribe(fast, made, rx)
    ch = new_change(fast)
    d = wait_delivery(fast, w["id"], lambda d: d["attempts"] >= 1, "a timed-out attempt")
    # delete it now, so that the worker stops waiting on this receiver
    ok(fast.as_("manager").delete(f"/webhooks/{w['id']}"), 204)
    made["hooks"].remove((fast, w["id"]))
    assert rx.wait(lambda rs: [r for r in rs if r.ref == ch["ref"]], "the request")
    h = d["history"][0]
    assert h["status"] is None and d["last_status"] is None, d
    assert re.search(r"time[sd]? ?out", h["error"] or "", re.I), h
    assert re.search(r"time[sd]? ?out", d["last_error"] or "", re.I), d
    assert 800 <= h["duration_ms"] < 2900, h  # the 1 s limit, not the receiver's 3 s
    assert d["state"] in ("pending", "dead") and d["delivered_at"] is None, d


# --- subscriptions side by side, each one in order ------------------------------------------


def max_at_once(records, busy):
    """The most requests in progress at one moment, each taken as busy
    seconds from its arrival (a little less than the receiver's delay, so
    that one worker's next request never overlaps its last)."""
    starts = sorted(r.mono for r in records)
    return max(sum(1 for t in starts if t <= s < t + busy) for s in starts)


def test_a_slow_receiver_does_not_hold_the_others_back(patient, made):
    slow_s = 3
    slow = receiver(made, "slow-one", answer=lambda rec, seen: (200, slow_s))
    quick = [receiver(made, f"quick-{i}") for i in range(19)]
    # the slow one is subscribed first: one event after another, its
    # delivery of the first event would come before the others' of the second
    slow_hook = subscribe(patient, made, slow)
    quick_hooks = [subscribe(patient, made, rx) for rx in quick]
    refs = [new_change(patient)["ref"] for _ in range(2)]
    first = slow.wait(lambda rs: rs[:1], "the slow receiver's first request")[0]
    for rx in quick:
        rx.wait(lambda rs: {r.ref for r in rs} >= set(refs), f"both events at {rx.name}")
    last = max(r.mono for rx in quick for r in rx.snapshot())
    print(f"19 receivers got both events {last - first.mono:+.2f} s after the slow "
          f"receiver's first request, which it answered after {slow_s} s")
    assert last < first.mono + slow_s, "the others waited for the slow receiver"
    for rx, w in zip(quick, quick_hooks):
        assert [r.ref for r in rx.snapshot()] == refs, rx.snapshot()
        assert all(d["attempts"] == 1 for d in wait_all_delivered(patient, w["id"], 2))
    # the slow subscription itself gets its events one at a time, in order
    got = slow.wait(lambda rs: rs if len(rs) >= 2 else None, "the slow receiver's second event",
                    timeout=WAIT)
    assert [r.ref for r in got] == refs, got
    assert got[1].mono >= got[0].mono + slow_s, "two requests at once to one subscription"
    wait_all_delivered(patient, slow_hook["id"], 2)
    assert slow.verify_all() and all(rx.verify_all() for rx in quick)


def test_no_more_subscriptions_at_once_than_workers(two_workers, made):
    busy_s = 1.5
    rxs = [receiver(made, f"busy-{i}", answer=lambda rec, seen: (200, busy_s)) for i in range(4)]
    hooks = [subscribe(two_workers, made, rx) for rx in rxs]
    ref = new_change(two_workers)["ref"]
    for rx, w in zip(rxs, hooks):
        rx.wait(lambda rs: [r for r in rs if r.ref == ref], f"the event at {rx.name}")
        wait_all_delivered(two_workers, w["id"], 1)
    records = [r for rx in rxs for r in rx.snapshot()]
    assert len(records) == 4, records
    # CABINET_DELIVERY_WORKERS=2: two at a time, never more, never fewer
    assert max_at_once(records, busy_s - 0.3) == 2, sorted(r.mono for r in records)


def test_one_subscriptions_events_arrive_in_order_when_first_attempts_fail(fast, made):
    rx = receiver(made, "in-order", answer=lambda rec, seen: 500 if seen == 0 else 200)
    w = subscribe(fast, made, rx)
    refs = [new_change(fast)["ref"] for _ in range(4)]
    rx.wait(lambda rs: len([r for r in rs if r.status == 200]) >= 4, "all four delivered")
    got = rx.snapshot()
    # each event's retry (after CABINET_WEBHOOK_RETRY_BASE) comes before the
    # next event is sent at all
    assert [(r.ref, r.status) for r in got] == [(ref, st) for ref in refs for st in (500, 200)], got
    for failed, retried in zip(got[0::2], got[1::2]):
        assert retried.id == failed.id and retried.mono - failed.mono >= 0.95, (failed, retried)
    items = sorted(wait_all_delivered(fast, w["id"], 4), key=lambda d: d["id"])
    assert [d["event_id"] for d in items] == [r.id for r in got[1::2]], items
    assert all(d["attempts"] == 2 for d in items), items
    assert rx.verify_all()


def test_a_dead_event_lets_the_next_one_through(giveup, made):
    first = {}

    def answer(rec, seen):
        first.setdefault("ref", rec.ref)
        return 500 if rec.ref == first["ref"] else 200

    rx = receiver(made, "dead-first", answer=answer)
    w = subscribe(giveup, made, rx)
    refs = [new_change(giveup)["ref"] for _ in range(2)]
    got = rx.wait(lambda rs: [r for r in rs if r.ref == refs[1]], "the second event", timeout=30)
    items = {d["event_id"]: d for d in deliveries(giveup, w["id"])}
    recs = rx.snapshot()
    assert first["ref"] == refs[0], (first, refs)
    before = [r for r in recs if r.ref == refs[0]]
    assert len(before) >= 2 and all(r.status == 500 for r in before), recs
    # not one request of the second event before the first was given up
    assert recs[:len(before)] == before and recs[len(before)].ref == refs[1], recs
    assert items[before[0].id]["state"] == "dead", items
    assert items[before[0].id]["attempts"] == len(before), items
    d = wait_delivery(giveup, w["id"], lambda d: d["event_id"] == got[0].id
                      and d["state"] == "delivered", "the second delivered")
    assert d["attempts"] == 1, d
    assert rx.verify_all()


# --- at-least-once across kill -9 ------------------------------------------------------------


def kill9(srv):
    """SIGKILL our server process (its PID only) and start it again."""
    srv.proc.kill()
    srv.proc.wait(timeout=30)
    assert srv.proc.returncode == -9, srv.proc.returncode
    srv.restart_after_crash()


def event_ids(srv, wid):
    return {d["event_id"]: d for d in deliveries(srv, wid)}


def test_pending_deliveries_survive_kill_9(fast, made):
    port = closed_port()
    url = f"http://127.0.0.1:{port}/hook/after-crash"
    w = ok(fast.as_("manager").post("/webhooks", json={"url": url,
                                                       "events": ["change.created"]}), 201)
    made["hooks"].append((fast, w["id"]))
    refs = [new_change(fast)["ref"] for _ in range(8)]
    before = event_ids(fast, w["id"])
    assert len(before) == 8, before
    assert all(d["state"] == "pending" for d in before.values()), before
    assert all(d["delivered_at"] is None for d in before.values())

    kill9(fast)
    rx = receiver(made, "after-crash", port=port)
    rx.secret = w["secret"]
    rx.wait(lambda rs: set(before) <= {r.id for r in rs},
            f"all {len(before)} events after the restart", timeout=AFTER_CRASH)
    got = {r.id: r for r in rx.snapshot()}
    assert {got[i].ref for i in before} == set(refs)
    assert rx.verify_all()
    wait_all_delivered(fast, w["id"], len(before))


def test_no_loss_when_killed_right_after_the_writes_commit(fast, made):
    rx = receiver(made, "kill-now")
    w = subscribe(fast, made, rx)
    created = []
    for round_ in range(3):
        c = fast.as_("alice")
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            refs = list(pool.map(lambda _: new_change(fast, client=c)["ref"], range(4)))
        created += refs
        fast.proc.kill()  # at once: the worker may be mid-send or not yet started
        fast.proc.wait(timeout=30)
        fast.restart_after_crash()
    ids = event_ids(fast, w["id"])
    assert len(ids) == len(created), (len(ids), created)
    rx.wait(lambda rs: set(ids) <= {r.id for r in rs},
            f"all {len(ids)} events written before the kills", timeout=AFTER_CRASH)
    got = {}
    for r in rx.snapshot():
        got.setdefault(r.id, []).append(r)
    assert {got[i][0].ref for i in ids} == set(created)
    dups = {i: len(v) for i, v in got.items() if len(v) > 1}
    if dups:
        print(f"delivered more than once across kill -9 (allowed: at-least-once): {dups}")
    assert rx.verify_all()


def test_killed_during_a_slow_delivery_it_is_sent_again_after_the_restart(patient, made):
    # the first request is answered after 5 s, long after the kill; the
    # sender's lane goes with its connection, so the restarted server need
    # not wait for any lease to end
    rx = receiver(made, "killed-mid-send", answer=lambda rec, seen: (200, 5) if seen == 0 else 200)
    w = subscribe(patient, made, rx)
    refs = [new_change(patient)["ref"] for _ in range(2)]
    sent = rx.wait(lambda rs: rs[:1], "the first request")[0]
    killed = time.monotonic()
    kill9(patient)
    rx.wait(lambda rs: len(rs) >= 3, "the first event again, then the second", timeout=20)
    got = rx.snapshot()
    print(f"sent again {got[1].mono - killed:.2f} s after kill -9, the restart included")
    assert [r.ref for r in got] == [refs[0], refs[0], refs[1]], got
    assert sent.id == got[1].id and sent.body == got[1].body, got  # the same webhook-id
    assert got[2].id != sent.id
    items = sorted(wait_all_delivered(patient, w["id"], 2), key=lambda d: d["id"])
    assert [d["event_id"] for d in items] == [sent.id, got[2].id], items
    # the killed attempt was never recorded: it was under way
    assert [h["status"] for h in items[0]["history"]] == [200], items[0]
    assert rx.verify_all()


# --- two instances ----------------------------------------------------------------------------


def test_two_instances_deliver_every_event(fast, made):
    second = Server(fast.cluster, fast.db, name=fast.name + "-second",
                    extra_env={**FAST, "CABINET_SERVER_KEY_FILE": str(fast.key_path)})
    second.users = fast.users
    second.start()
    try:
        rx = receiver(made, "two")
        w = subscribe(fast, made, rx)
        clients = [fast.login("alice"), second.login("bob"), fast.login("manager"),
                   second.login("alice")]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            refs = list(pool.map(lambda i: new_change(fast, client=clients[i % 4])["ref"],
                                 range(40)))
        ids = event_ids(fast, w["id"])
        assert len(ids) == 40, len(ids)
        rx.wait(lambda rs: set(ids) <= {r.id for r in rs}, "all 40 events", timeout=60)
        got = {}
        for r in rx.snapshot():
            got.setdefault(r.id, []).append(r)
        assert {got[i][0].ref for i in ids} == set(refs)
        # nobody died: no event went out twice
        dups = {i: len(v) for i, v in got.items() if len(v) > 1}
        assert not dups, f"two instances delivered {len(dups)} of 40 events more than once"
        wait_all_delivered(fast, w["id"], 40)
        assert rx.verify_all()
    finally:
        problems = second.stop()
    assert not problems, (problems, second.stderr_tail())


def test_two_instances_deliver_once_and_in_order(fast, made):
    second = Server(fast.cluster, fast.db, name=fast.name + "-second-order",
                    extra_env={**FAST, "CABINET_SERVER_KEY_FILE": str(fast.key_path)})
    second.users = fast.users
    second.start()
    try:
        # answers that take a moment, so that both instances are at work at once
        rxs = [receiver(made, f"ordered-{i}", answer=lambda rec, seen: (200, 0.1))
               for i in range(3)]
        hooks = [subscribe(fast, made, rx) for rx in rxs]
        clients = [fast.login("alice"), second.login("bob")]
        refs = [new_change(fast, client=clients[i % 2])["ref"] for i in range(12)]
        for rx in rxs:
            rx.wait(lambda rs: {r.ref for r in rs} >= set(refs), f"all 12 at {rx.name}")
        for rx, w in zip(rxs, hooks):
            items = wait_all_delivered(fast, w["id"], 12)
            assert all(d["attempts"] == 1 for d in items), items
            # once each, and in the order the changes were made
            assert [r.ref for r in rx.snapshot()] == refs, rx.snapshot()
            assert rx.verify_all()
    finally:
        problems = second.stop()
    assert not problems, (problems, second.stderr_tail())


# --- https receivers: certificate and host-name verification ----------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A self-signed certificate for the name localhost only (no IP address
    in it), and its key. Trusting it as a CA makes https://localhost valid and
    https://127.0.0.1 a host-name mismatch."""
    d = tmp_path_factory.mktemp("tls")
    cp = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    return d


def tls_context(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs / "cert.pem", certs / "key.pem")
    return ctx


@pytest.fixture(scope="module")
def trusting(cluster, certs):
    """A server that trusts only the test certificate for its receivers."""
    env = dict(FAST, CABINET_WEBHOOK_CA_FILE=str(certs / "cert.pem"))
    srv = start_server(cluster, "d_delivery_tls", extra_env=env, name="delivery-tls")
    yield srv
    finish_server(srv)


def test_an_https_receiver_with_a_trusted_certificate_gets_the_event(trusting, made, certs):
    rx = receiver(made, "tls-ok", tls=tls_context(certs), host="localhost")
    w = subscribe(trusting, made, rx)
    ch = new_change(trusting)
    got = rx.wait(lambda rs: [r for r in rs if r.ref == ch["ref"]], "the event over TLS")[0]
    d = wait_delivery(trusting, w["id"], lambda d: d["state"] == "delivered", "delivered")
    assert d["attempts"] == 1 and d["last_status"] == 200, d
    assert got.id == d["event_id"]
    assert rx.verify_all()


def test_a_certificate_for_another_name_is_refused(trusting, made, certs):
    # the certificate names localhost; the URL names 127.0.0.1
    rx = receiver(made, "tls-name", tls=tls_context(certs), host="127.0.0.1")
    w = subscribe(trusting, made, rx)
    new_change(trusting)
    d = wait_delivery(trusting, w["id"], lambda d: d["attempts"] >= 1 and d["last_error"],
                      "a failed attempt")
    assert d["state"] == "pending" and d["last_status"] is None, d
    assert re.search(r"(?i)subject|name|match", d["last_error"]), d["last_error"]
    assert rx.snapshot() == [], "nothing may be sent to a receiver with the wrong name"


def test_an_untrusted_certificate_is_refused(fast, made, certs):
    # fast trusts the system's CAs only, which never signed the test certificate
    rx = receiver(made, "tls-untrusted", tls=tls_context(certs), host="localhost")
    w = subscribe(fast, made, rx)
    new_change(fast)
    d = wait_delivery(fast, w["id"], lambda d: d["attempts"] >= 1 and d["last_error"],
                      "a failed attempt")
    assert d["state"] == "pending" and d["last_status"] is None, d
    assert re.search(r"(?i)certificate|issuer|verify", d["last_error"]), d["last_error"]
    assert rx.snapshot() == [], "nothing may be sent to an unverified receiver"


def test_an_unreadable_ca_file_stops_the_server_at_start(cluster, tmp_path):
    missing = tmp_path / "no-such-ca.pem"
    cluster.createdb("d_delivery_noca", "cabinet_template")
    srv = Server(cluster, "d_delivery_noca", name="delivery-noca",
                 extra_env={"CABINET_WEBHOOK_CA_FILE": str(missing)})
    error = None
    try:
        srv.start(timeout=20)
    except AssertionError as e:
        error = str(e)
    finally:
        srv.stop()
    assert error is not None, "a server with an unreadable CA file must not start"
    assert "CABINET_WEBHOOK_CA_FILE" in error, error


def test_a_worker_count_out_of_range_stops_the_server_at_start(cluster):
    cluster.createdb("d_delivery_noworkers", "cabinet_template")
    srv = Server(cluster, "d_delivery_noworkers", name="delivery-noworkers",
                 extra_env={"CABINET_DELIVERY_WORKERS": "0"})
    error = None
    try:
        srv.start(timeout=20)
    except AssertionError as e:
        error = str(e)
    finally:
        srv.stop()
    assert error is not None, "a server with no delivery workers must not start"
    assert "CABINET_DELIVERY_WORKERS" in error, error


# --- where receivers may not be ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(cluster):
    """A server with the production default: no receivers on loopback."""
    env = dict(FAST, CABINET_WEBHOOK_ALLOW_LOOPBACK="false")
    srv = start_server(cluster, "d_delivery_guarded", extra_env=env, name="delivery-guarded")
    yield srv
    finish_server(srv)


@pytest.mark.parametrize("url,what", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[::ffff:169.254.169.254]/hook", "link-local"),
    ("http://0.0.0.0:8080/hook", "unspecified"),
    ("http://[::]/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://255.255.255.255/hook", "broadcast"),
    ("http://127.0.0.1:9/hook", "loopback"),
    ("http://[::1]:9/hook", "loopback"),
    ("http://[zz::1]/hook", "host"),
    ("http://:8080/hook", "host"),
])
def test_a_url_naming_a_forbidden_address_is_422(guarded, url, what):
    r = guarded.as_("manager").post("/webhooks", json={"url": url, "events": ["*"]})
    body = problem(r, 422, field="url")
    [err] = [e for e in body["errors"] if e["field"] == "url"]
    assert what in err["message"], err


def test_private_addresses_and_host_names_may_be_subscribed(guarded, made):
    for url in ("http://10.20.30.40/hook", "https://192.168.1.5/hook", "http://[fd00::5]/hook",
                "https://chat.internal.example/hooks/abc"):
        subscribe(guarded, made, url)


def test_a_host_name_that_resolves_to_loopback_is_refused_at_delivery(guarded, made):
    # the name passes at subscription (names are judged once resolved);
    # the worker refuses the address and sends nothing
    rx = receiver(made, "behind-a-name", host="localhost")
    w = subscribe(guarded, made, rx)
    new_change(guarded)
    d = wait_delivery(guarded, w["id"], lambda d: d["attempts"] >= 1 and d["last_error"],
                      "a refused attempt")
    assert d["state"] == "pending" and d["last_status"] is None, d
    assert "refused" in d["last_error"] and "loopback" in d["last_error"], d["last_error"]
    assert rx.snapshot() == [], "nothing may reach a receiver on loopback"
