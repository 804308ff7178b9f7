"""`kill -9` of the server while clients write and while it delivers
events out: nothing acknowledged is lost (every create that got 201 is in
the database after the restart) and delivery resumes at least once (every
event in the outbox reaches the receiver after the restart, signed).

The server is our own, with short delivery settings; the receiver is a
ThreadingHTTPServer on 127.0.0.1 in this process (the server's outbound
address guard lets loopback through: CABINET_WEBHOOK_ALLOW_LOOPBACK)."""

import time

import pytest
import requests

from conftest import finish_server, ok, problem, sanitizer_findings, start_server, tail, unique
from faultlib import Load, post_change, scale, statuses, titles_in_db
from hooks import Receiver

FAST = {"CABINET_WEBHOOK_RETRY_BASE": "1", "CABINET_WEBHOOK_TIMEOUT": "2"}
THREADS = scale(4, 8)
KILLS = scale(2, 5)
PER_PHASE = scale(25, 150)   # 201s between kills
AFTER_CRASH = 60             # bound for the last event to arrive (plus 0.2 s per event left)


@pytest.fixture(scope="module")
def server(cluster):
    srv = start_server(cluster, "f_kill9", extra_env=dict(FAST), name="faults-kill9")
    yield srv
    finish_server(srv)


def created(results, since=0.0):
    return sum(1 for t, _, r in results if t > since and isinstance(r, tuple)
               and isinstance(r[1], requests.Response) and r[1].status_code == 201)


def test_kill_9_under_load_and_during_delivery_loses_nothing(server):
    # answers take a moment, so that deliveries are under way at each kill
    rx = Receiver("kill9", answer=lambda rec, seen: (200, 0.05))
    try:
        w = ok(server.as_("manager").post("/webhooks", json={
            "url": rx.url, "events": ["change.created"]}), 201)
        rx.secret = w["secret"]
        first_event = int(server.psql("SELECT coalesce(max(id), 0) FROM outbox"))
        prefix = unique("k9")
        tokens = [server.token_client(n).token for n in ("alice", "bob", "manager")]

        def write(wk, n):
            title = f"{prefix}-{wk}-{n}"
            base = server.base  # a new port after each restart
            try:
                r = post_change(base, tokens[wk % len(tokens)], title,
                                key=unique("k") if n % 2 else None, timeout=20)
            except requests.RequestException as e:
                time.sleep(0.05)  # the server is down: do not spin
                return (title, e)
            return (title, r)

        load = Load(write, THREADS).start()
        kills, kept = [], []
        try:
            since = 0.0
            for _ in range(KILLS):
                load.wait(lambda rs: created(rs, since) >= PER_PHASE, 120,
                          f"{PER_PHASE} creates before the kill")
                rx.wait(lambda rs: len(rs) > 0, "deliveries under way", timeout=30)
                in_flight = int(server.psql(
                    f"SELECT count(*) FROM deliveries WHERE webhook_id = {w['id']}"
                    " AND state = 'pending'"))
                server.proc.kill()
                server.proc.wait(timeout=30)
                assert server.proc.returncode == -9, server.proc.returncode
                t0 = time.monotonic()
                _, stderr = server.restart_after_crash()
                kept.append(stderr)
                kills.append((in_flight, round(time.monotonic() - t0, 2)))
                since = time.monotonic()
            load.wait(lambda rs: created(rs, since) >= PER_PHASE, 120,
                      f"{PER_PHASE} creates after the last restart")
        finally:
            results = load.stop()

        tally = statuses([(t, wk, r[1]) for t, wk, r in results])
        answered = {s for s in tally if isinstance(s, int)}
        # a dead server is silent (ConnectionError); one starting may say 503
        assert answered <= {201, 503}, tally
        for _, _, (_, r) in results:
            if isinstance(r, requests.Response) and r.status_code == 503:
                problem(r, 503)
        acked = {title: r.json()["id"] for _, _, (title, r) in results
                 if isinstance(r, requests.Response) and r.status_code == 201}
        stored = titles_in_db(server, prefix)
        missing = sorted(set(acked) - set(stored))
        assert not missing, f"{len(missing)} acknowledged creates lost: {missing[:10]}"
        assert all(stored[t] == [i] for t, i in acked.items()), "a create stored twice"

        # every event written (also for creates whose answer the kill cut
        # off) reaches the receiver after the restarts
        events = set(server.psql(
            f"SELECT event_id FROM outbox WHERE id > {first_event} AND type = 'change.created'"
        ).split())
        assert len(events) == len(stored), (len(events), len(stored))
        t0 = time.monotonic()
        # one subscription's events go one at a time: allow for the ones left
        left = len(events - rx.ids())
        rx.wait(lambda rs: events <= {r.id for r in rs}, f"all {len(events)} events",
                timeout=AFTER_CRASH + 0.2 * left)
        waited = time.monotonic() - t0
        got = {}
        for r in rx.snapshot():
            got.setdefault(r.id, []).append(r)
        refs = {got[e][0].ref for e in events}
        assert {f"CHG-{i}" for i in acked.values()} <= refs
        assert rx.verify_all()
        deadline = time.monotonic() + 30
        while server.psql(f"SELECT count(*) FROM deliveries WHERE webhook_id = {w['id']}"
                          " AND state <> 'delivered'") != "0":
            assert time.monotonic() < deadline, "deliveries left pending after receipt"
            time.sleep(0.2)
        dups = sum(len(v) - 1 for v in got.values() if len(v) > 1)
        for path in kept:
            text = path.read_text(errors="replace")
            assert not sanitizer_findings(text), tail(text, 40)
        print(f"\nfigure: kill -9 x{KILLS} under {THREADS} threads: {len(results)} requests {tally}; "
              f"{len(acked)} acknowledged creates all stored ({len(stored)} stored in all); "
              f"pending deliveries at each kill and restart seconds {kills}; "
              f"{len(events)} events all delivered, {dups} sent again (at-least-once), "
              f"the last {waited:.1f} s after the load ended")
    finally:
        rx.stop()
