"""Bounded load for the faults suite: a fixed number of threads sending
requests until told to stop (or a request budget is spent), every answer
recorded; and the checks the tests share.

FAULTS_LONG=1 makes the load larger (more threads, longer phases)."""

import os
import threading
import time

import requests

from conftest import API, SQL_DIR, binary, run, sanitizer_env

LONG = os.environ.get("FAULTS_LONG") == "1"


def scale(short, long):
    return long if LONG else short


class Load:
    """`threads` threads call fn(worker, n) over and over (n counts that
    worker's calls) until stop() or until `budget` calls in all; each
    result fn returns (or the exception it raised) is recorded with the
    time it ended. fn must bound its own requests (a timeout)."""

    def __init__(self, fn, threads, budget=None, pause=0.0):
        self.fn = fn
        self.results = []  # (monotonic end, worker, result or exception)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.budget = budget
        self.pause = pause
        self.calls = 0
        self.threads = [threading.Thread(target=self._work, args=(w,), daemon=True)
                        for w in range(threads)]

    def _take(self):
        with self.lock:
            if self.budget is not None and self.calls >= self.budget:
                return False
            self.calls += 1
            return True

    def _work(self, w):
        n = 0
        while not self.stopping.is_set() and self._take():
            try:
                out = self.fn(w, n)
            except Exception as e:  # noqa: BLE001 - recorded, judged by the test
                out = e
            with self.lock:
                self.results.append((time.monotonic(), w, out))
            n += 1
            if self.pause:
                time.sleep(self.pause)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def wait(self, pred, timeout, what):
        """Wait (bounded) until pred(results) holds while the load runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.snapshot()):
                return
            if not any(t.is_alive() for t in self.threads):
                break
            time.sleep(0.1)
        if not pred(self.snapshot()):
            raise AssertionError(f"{what} within {timeout} s ({len(self.snapshot())} results)")

    def stop(self, timeout=90):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "a load thread never returned"
        return self.snapshot()


def statuses(results):
    """A tally: status code (or exception class name) -> count."""
    out = {}
    for _, _, r in results:
        k = r.status_code if isinstance(r, requests.Response) else \
            r[0] if isinstance(r, tuple) else type(r).__name__
        out[k] = out.get(k, 0) + 1
    return out


def post_change(base, token, title, key=None, timeout=30):
    h = {"Authorization": f"Bearer {token}", "Connection": "close",
         "Content-Type": "application/json"}
    if key:
        h["Idempotency-Key"] = key
    import json
    return requests.post(base + API + "/changes", data=json.dumps({"title": title}),
                         headers=h, timeout=timeout)


def verify_chain(srv, timeout=60):
    """Every audit entry chained (bounded wait), the chain gapless, and
    `cabinet verify` exits 0."""
    deadline = time.monotonic() + timeout
    while srv.psql("SELECT count(*) FROM audit_log WHERE seq IS NULL") != "0":
        assert time.monotonic() < deadline, "audit entries left unchained"
        time.sleep(0.2)
    count, lo, hi, distinct = (int(x or 0) for x in srv.psql(
        "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM audit_log").split("|"))
    assert (lo, hi, distinct) == (1, count, count), (count, lo, hi, distinct)
    cp = run([binary(), "verify"], env={"CABINET_DATABASE_URL": srv.db_url,
                                        "CABINET_SQL_DIR": str(SQL_DIR), **sanitizer_env()},
             timeout=180, check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert cp.stdout.startswith("ok:"), cp.stdout
    return count


def titles_in_db(srv, prefix):
    """title -> list of ids for the changes whose title starts with prefix."""
    out = {}
    rows = srv.psql(f"SELECT title, id FROM changes WHERE title LIKE '{prefix}%'")
    for line in rows.splitlines():
        t, i = line.rsplit("|", 1)
        out.setdefault(t, []).append(int(i))
    return out
