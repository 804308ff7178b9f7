"""Benchmark: conflict detection as the schedule grows.

On a throwaway cluster: a service map of 300 services (a tree, shortcuts
and a cycle) and ACTIVE changes already scheduled over two years, with
their impact rows. Then, in the same run:

  1. pgbench of the conflict refresh a submit runs (conflicts_lock_change() and
     conflicts_refresh() of a random active change, one transaction), with
     the planner free to use the GiST indexes;
  2. the same pgbench with index and bitmap scans turned off: what the
     lookups would cost without the indexes;
  3. end to end over HTTP: drafts submitted by CLIENTS keep-alive clients
     against the release binary (authentication, the assessment with its
     impact walk, the conflict refresh, events, audit, the reply);

and prints throughputs and their ratios. Numbers depend on the machine; the
ratios are what compare. Run with `make bench` (release build).
"""

import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("CABINET_BIN", str(REPO / "build" / "cabinet"))
sys.path.insert(0, str(REPO / "tests" / "api"))

import conftest as c  # noqa: E402  (after CABINET_BIN is set)

ACTIVE = int(os.environ.get("BENCH_ACTIVE", "20000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SUBMITS = int(os.environ.get("BENCH_SUBMITS", "400"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "2"))
PGBENCH = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))[-1]

SERVICE_MAP = """
INSERT INTO services (name, title, tier)
SELECT 's' || i, 'Service ' || i, 1 + i % 4 FROM generate_series(0, 299) i;
-- a tree: s<i> depends on s<i/2>; shortcuts; and a cycle back to the root
INSERT INTO service_deps SELECT 's' || i, 's' || (i / 2) FROM generate_series(1, 299) i;
INSERT INTO service_deps SELECT 's' || i, 's' || (i + 1) FROM generate_series(3, 297, 7) i
    ON CONFLICT DO NOTHING;
INSERT INTO service_deps VALUES ('s0', 's299');
"""

SCHEDULE = """
WITH c AS (
    INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,
                         gate_token)
    SELECT 'scheduled ' || i, 'normal', 'approved',
           tstzrange(t, t + (1 + i % 4) * interval '1 hour'), {uid}, 'api', repeat('0', 64),
           'bench-' || i
    FROM generate_series(1, {n}) i,
         LATERAL (SELECT '2030-01-01'::timestamptz
                         + (i * 7919 % (730 * 24)) * interval '1 hour' AS t) w
    RETURNING id, win)
INSERT INTO change_services (change_id, service)
SELECT c.id, 's' || (100 + (c.id * 31 + k * 17) % 200) FROM c, generate_series(0, c.id % 2) k
ON CONFLICT DO NOTHING;
SELECT count(impact_store(c.id)) FROM changes c WHERE c.state = 'approved';
SELECT count(*) FROM changes c, LATERAL conflicts_refresh(c.id) r;
ANALYZE;
"""

REFRESH = """\\set id random({lo}, {hi})
BEGIN;
SELECT conflicts_lock_change(:id);
SELECT count(*) FROM conflicts_refresh(:id);
COMMIT;
"""


def pgbench(url, script, options=""):
    env = dict(os.environ)
    if options:
        env["PGOPTIONS"] = options
    cp = subprocess.run([str(PGBENCH), "-n", "-c", "1", "-T", str(SECONDS), "-f", script, url],
                        env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    m = re.search(r"tps = ([0-9.]+)", cp.stdout)
    if cp.returncode != 0 or not m:
        raise SystemExit(f"pgbench failed:\n{cp.stdout}\n{cp.stderr}")
    return float(m.group(1))


def submit_all(port, token, ids):
    """Submits the drafts from CLIENTS threads; returns (seconds, failures)."""
    failures = []
    chunks = [ids[i::CLIENTS] for i in range(CLIENTS)]

    def worker(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for cid in chunk:
            conn.request("POST", f"/api/v1/changes/{cid}/submit", body=b"{}",
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                failures.append((cid, r.status, body[:200]))
        conn.close()

    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, failures


def main():
    if not Path(os.environ["CABINET_BIN"]).exists():
        raise SystemExit(f"{os.environ['CABINET_BIN']} is missing: make build/cabinet")
    cluster = c.Cluster()
    srv = None
    try:
        cluster.createdb("cabinet_template")
        cp = cluster.migrate("cabinet_template")
        if cp.returncode != 0:
            raise SystemExit(cp.stderr)
        srv = c.start_server(cluster, "bench", users={"alice": "", "admin": "admin"},
                             extra_env={"CABINET_DB_POOL": "8"})
        uid = srv.users["alice"]["id"]
        t0 = time.monotonic()
        srv.psql(SERVICE_MAP)
        srv.psql(SCHEDULE.format(uid=uid, n=ACTIVE), timeout=1800)
        counts = srv.psql("SELECT (SELECT count(*) FROM change_impact_sets) || ' impact sets, '"
                          " || (SELECT count(*) FROM conflicts) || ' conflict records'")
        print(f"bench conflicts: {ACTIVE} active changes on 300 services ({counts};"
              f" set up in {time.monotonic() - t0:.0f} s)")

        lo, hi = srv.psql("SELECT min(id) || ' ' || max(id) FROM changes").split()
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(REFRESH.format(lo=lo, hi=hi))
            script = f.name
        os.chmod(script, 0o644)
        try:
            gist = pgbench(srv.db_url, script)
            seq = pgbench(srv.db_url, script,
                          "-c enable_indexscan=off -c enable_bitmapscan=off")
        finally:
            os.unlink(script)

        token = srv.token_client("alice").token
        client = srv.bearer(token)
        ids = []
        for i in range(SUBMITS):
            start = 1893456000 + (i * 104729 % (730 * 24)) * 3600  # within the schedule
            body = {"title": f"bench {i}", "services": [f"s{100 + i * 37 % 200}"],
                    "window": {"start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                               "end": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                    time.gmtime(start + 7200))},
                    "test_plan": "smoke", "backout_plan": "roll back",
                    "business_impact": "low"}
            ids.append(c.ok(client.post("/changes", json=body), 201)["id"])
        took, failures = submit_all(srv.port, token, ids)
        if failures:
            raise SystemExit(f"{len(failures)} submits failed, first: {failures[0]}")
        http_rate = len(ids) / took

        print(f"  pgbench conflict refresh, GiST indexes    {gist:10.1f} tx/s")
        print(f"  pgbench conflict refresh, no index scans  {seq:10.1f} tx/s")
        print(f"  HTTP submit, {CLIENTS} clients, {len(ids)} drafts      {http_rate:10.1f} /s")
        print(f"  ratio indexed / no index scans            {gist / seq:10.2f}")
        print(f"  ratio HTTP submit / pgbench refresh       {http_rate / gist:10.2f}")
    finally:
        if srv is not None:
            problems = srv.stop()
            if problems:
                print("server: " + "; ".join(problems), file=sys.stderr)
        cluster.destroy()


if __name__ == "__main__":
    main()
