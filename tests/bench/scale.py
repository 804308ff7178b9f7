"""Benchmark: Cabinet at scale against a bare baseline, in one run.

On a throwaway PostgreSQL cluster with fsync and synchronous_commit on:

  1. the data set of tests/bench/dataset.sql, made by SQL: BENCH_SCALE
     changes (default 100000; the real run is 1000000) over three years
     ending two weeks ahead, 14,000 x BENCH_SCALE/1,000,000 of them active in
     the coming two weeks, 2,000 services in 10 levels of 200; then the
     impact sets of the active changes and their conflicts;
  2. the release server (build/cabinet) and build/bench/bare (tests/bench/
     bare.c: the same two hot paths with CivetWeb and libpq and nothing
     else, and the statement that reads the tallies of a /metrics scrape)
     on that database;
  3. load from build/bench/load (tests/bench/load.c: C threads, keep-alive
     loopback connections, a latency per request) for the rates and the
     submits, and from Python http.client for the single-client latencies
     of the heavier reads and of a /metrics scrape (its own overhead
     measured against bare);

prints a summary table and writes tests/bench/RESULTS.md from the run.

Environment: BENCH_SCALE (changes, default 100000), BENCH_SECONDS (each rate
measurement, default 5), BENCH_SUBMITS (submits per client count, default
100), BENCH_SAMPLES (latency samples of the heavier reads, default 40),
BENCH_CONFLICTS (refresh: conflicts_refresh() of every active change at load
time, the default up to 2,000 active changes; submits: leave them to be found
by the submits, the default above),
BENCH_KEEP=1 (leave the cluster running afterwards, for EXPLAIN; its
directory is printed, `server/scripts/pg.sh stop DIR` stops it),
BENCH_REUSE="CLUSTER_DIR FILES_DIR" (measure again on a kept cluster, migrated
by this build, without loading anything; the submits of earlier runs stay).
Run with `make bench` (release build).
"""

import base64
import http.client
import json
import os
import platform
import random
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("CABINET_BIN", str(REPO / "build" / "cabinet"))
sys.path.insert(0, str(REPO / "tests" / "api"))

import conftest as c  # noqa: E402  (after CABINET_BIN is set)

from nacl.signing import SigningKey  # noqa: E402

HERE = Path(__file__).resolve().parent
BUILD = REPO / "build" / "bench"
SCALE = int(os.environ.get("BENCH_SCALE", "100000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
SUBMITS = int(os.environ.get("BENCH_SUBMITS", "100"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "40"))
ACTIVE = max(1, round(14000 * SCALE / 1_000_000))
# conflicts_refresh() of every active change costs ~0.1-0.5 s each once the
# schedule is dense: at the default scale it is done, at 1,000,000 the
# submits find them (BENCH_CONFLICTS=refresh|submits chooses).
CONFLICTS = os.environ.get("BENCH_CONFLICTS", "refresh" if ACTIVE <= 2000 else "submits")
DRAFTS = ACTIVE // 5
FUTURE_CANCELLED = ACTIVE // 20
HISTORY = SCALE - ACTIVE - DRAFTS - FUTURE_CANCELLED
THREADS = 32   # CivetWeb workers of Cabinet
POOL = 8       # Cabinet's database connections
BARE_THREADS = 16
BUDGET = 60.0  # seconds at most per latency series of the heavier reads

PG_SETTINGS = {
    "shared_buffers": "1GB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "shared_preload_libraries": "pg_stat_statements",
}
SHOWN = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level",
         "shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size",
         "checkpoint_timeout", "effective_cache_size", "random_page_cost", "jit",
         "max_connections"]

TARGETS = {
    # key: (description, test)
    "create_ratio": ("create >= 50 % of bare (1 and 8 clients)", lambda v: v >= 0.50),
    "get_ratio": ("GET >= 60 % of bare (1 and 8 clients)", lambda v: v >= 0.60),
    "submit_p99_1": ("submit p99 <= 10 ms at 1 client", lambda v: v <= 10.0),
    "weeks_ratio": ("8 clients in different weeks >= 1.6x one", lambda v: v >= 1.6),
    "conflict_p99": ("conflict query p99 <= 2 ms", lambda v: v <= 2.0),
    "schedule_p99": ("month schedule first page p99 <= 20 ms", lambda v: v <= 20.0),
    "group_day_p99": ("month schedule group=day p99 <= 20 ms", lambda v: v <= 20.0),
    "agenda_p99": ("agenda p99 <= 20 ms", lambda v: v <= 20.0),
    "rss_mib": ("server peak RSS <= 64 MiB", lambda v: v <= 64.0),
}


def log(msg):
    print(msg, flush=True)


# --- the cluster, with durable commits ------------------------------------------


class DurableCluster(c.Cluster):
    """conftest's cluster, but made without PG_FAST: fsync, synchronous
    commits and full-page writes stay on, as in production."""

    @classmethod
    def reuse(cls, data_dir, files_dir):
        """The cluster an earlier run kept (BENCH_KEEP=1), started again."""
        self = cls.__new__(cls)
        self.dir, self.files = Path(data_dir), Path(files_dir)
        self.start()
        return self

    def start(self):
        c.run([c.PGSH, "start", self.dir], env={"PG_FAST": "0"}, timeout=180)

    def configure(self):
        url = self.url("postgres")
        for k, v in PG_SETTINGS.items():
            c.psql(url, f"ALTER SYSTEM SET {k} = '{v}'")
        self.stop()
        self.start()


def show_settings(url):
    rows = {}
    for k in SHOWN:
        rows[k] = c.psql(url, f"SHOW {k}")
    rows["version"] = c.psql(url, "SELECT version()")
    return rows


# --- processes and sampling -----------------------------------------------------


def proc_status(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def proc_cpu(pid):
    """utime + stime of a process in seconds."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def postgres_cpu(cluster_dir):
    """CPU seconds of every process of our cluster (its postmaster's tree)."""
    pidfile = Path(cluster_dir) / "data" / "postmaster.pid"
    try:
        master = int(pidfile.read_text().split()[0])
    except (FileNotFoundError, PermissionError, ValueError, IndexError):
        return 0.0
    total = proc_cpu(master)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if int(f[1]) == master:
                total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Sampler(threading.Thread):
    """Every second: the servers' RSS and the machine's load average."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.rss = {k: 0 for k in pids}
        self.load = []
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.wait(1.0):
            for k, pid in self.pids.items():
                self.rss[k] = max(self.rss[k], proc_status(pid, "VmRSS"))
            self.load.append(float(Path("/proc/loadavg").read_text().split()[0]))


def cpu_busy():
    """(busy, total) jiffies of the whole machine."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


# --- builds -----------------------------------------------------------------------


def build_tools():
    """build/bench/bare and build/bench/load, by the Makefile's rules."""
    cp = subprocess.run(["make", "--no-print-directory", "build/bench/bare", "build/bench/load"],
                        cwd=REPO, capture_output=True, text=True, timeout=300)
    if cp.returncode != 0:
        raise SystemExit(f"building the benchmark tools failed:\n{cp.stdout}{cp.stderr}")


# --- the data set -----------------------------------------------------------------


def dataset_steps():
    text = (HERE / "dataset.sql").read_text()
    for k, v in {"@N@": SCALE, "@H@": HISTORY, "@A@": ACTIVE, "@D@": DRAFTS,
                 "@X@": FUTURE_CANCELLED}.items():
        text = text.replace(k, str(v))
    steps = []
    for part in re.split(r"^-- step: ", text, flags=re.M)[1:]:
        name, _, sql = part.partition("\n")
        steps.append((name.strip(), sql))
    return steps


# ==== the impact sets of the active changes: ONE block ====================
# One row per active change in change_impact_sets (sql/0012): its window,
# its impact set and the services it lists as sorted service ids. The rows
# are what impact_store(id) writes, made in one statement from each
# service's impact_set() computed once by dataset.sql (bench_impact) and
# united over the change's services (the impact set of several services is
# the union of theirs), since a walk per change would take 14,000 walks.
# Ten changes of several services are then checked against impact_store():
# a second store of the same set writes nothing, so the stamp stays.
IMPACT_ROWS = """
INSERT INTO change_impact_sets (change_id, win, sids, listed)
SELECT c.id, c.win,
       (SELECT COALESCE(array_agg(DISTINCT s.sid ORDER BY s.sid), '{}')
        FROM change_services cs JOIN bench_impact bi ON bi.service = cs.service
        CROSS JOIN LATERAL unnest(bi.names) n(name) JOIN services s ON s.name = n.name
        WHERE cs.change_id = c.id),
       impact_listed(c.id)
FROM changes c WHERE change_is_active(c.state) AND c.win IS NOT NULL;
"""

IMPACT_CHECK = """
WITH x AS (SELECT c.id, (SELECT stamp FROM change_impact_sets WHERE change_id = c.id) AS stamp
           FROM changes c WHERE change_is_active(c.state) AND c.win IS NOT NULL
           AND (SELECT count(*) FROM change_services cs WHERE cs.change_id = c.id) > 1
           ORDER BY c.id LIMIT 10),
     s AS (SELECT x.id, x.stamp, impact_store(x.id) AS n FROM x)
SELECT count(*) FROM s JOIN change_impact_sets i ON i.change_id = s.id
WHERE i.stamp <> s.stamp OR cardinality(i.sids) <> s.n
"""


def store_impact(url):
    c.psql(url, IMPACT_ROWS, timeout=7200)
    wrong = c.psql(url, IMPACT_CHECK, timeout=600)
    if wrong != "0":
        raise SystemExit(f"{wrong} of 10 changes' impact sets differ from impact_store()")
    return "change_impact_sets rows from impact_set() of each service, checked by impact_store()"
# ==== end of the impact block ==================================================


CONFLICTS_REFRESH = """
DO $$
DECLARE r bigint;
BEGIN
    FOR r IN SELECT id FROM changes WHERE change_is_active(state) ORDER BY id LOOP
        PERFORM count(*) FROM conflicts_refresh(r);
    END LOOP;
END $$;
"""


# Indexes that no constraint owns on the tables the data set fills in bulk:
# dropped before the load and made again after it from the catalog's own
# definitions (pg_get_indexdef), so the schema ends as the migrations left it.
BULK_TABLES = ("changes", "change_services", "change_versions", "assessments", "approvals",
               "comments", "audit_log", "outbox", "conflicts")
SECONDARY_INDEXES = """
SELECT json_agg(json_build_object('name', i.indexrelid::regclass::text,
                                  'def', pg_get_indexdef(i.indexrelid)) ORDER BY i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY (ARRAY[%s]::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""


def drop_secondary_indexes(url, tables):
    """Drops them; returns their definitions, for make_indexes()."""
    tables = [t for t in tables if c.psql(url, f"SELECT to_regclass('{t}') IS NOT NULL") == "t"]
    if not tables:
        return []
    indexes = c.psql_json(url, SECONDARY_INDEXES % ", ".join(f"'{t}'" for t in tables)) or []
    if indexes:
        c.psql(url, "; ".join(f"DROP INDEX {ix['name']}" for ix in indexes))
    return indexes


def make_indexes(url, indexes):
    if indexes:
        c.psql(url, "SET maintenance_work_mem = '512MB'; "
               + "; ".join(ix["def"] for ix in indexes), timeout=7200)


# The triggers of sql/0026_observability.sql that keep the tallies of
# /metrics. A bulk INSERT of a million changes in one statement would fire
# them a million times in one transaction, each an update of one of a few
# dozen tally rows whose dead versions no one can prune until it commits:
# the load would take hours. They are off during the load, and the tallies
# are then counted by 0026's own statements; the measurements run with the
# triggers on (the creates pay for them), and measure_tallies() checks the
# tallies against the tables.
TALLY_TRIGGERS = (("changes", "changes_tally"), ("conflicts", "conflicts_tally"),
                  ("deliveries", "deliveries_tally"))


def set_tally_triggers(url, how):
    c.psql(url, "; ".join(f"ALTER TABLE {t} {how} TRIGGER {g}" for t, g in TALLY_TRIGGERS))


def count_tallies(url):
    """0026's first count of the tallies, taken from the migration; then the
    triggers on again, in the same transaction."""
    text = (REPO / "sql" / "0026_observability.sql").read_text()
    stmts = re.findall(r"^INSERT INTO tallies(?:_created)? \(.*?;$", text, re.S | re.M)
    if len(stmts) != 2:
        raise SystemExit("sql/0026_observability.sql: not the two INSERTs of the first count")
    c.psql(url, "BEGIN; TRUNCATE tallies, tallies_created; " + " ".join(stmts) + " "
           + "; ".join(f"ALTER TABLE {t} ENABLE TRIGGER {g}" for t, g in TALLY_TRIGGERS)
           + "; COMMIT", timeout=7200)


def load_dataset(cluster, url):
    timings = []
    t_all = time.monotonic()
    set_tally_triggers(url, "DISABLE")
    indexes = drop_secondary_indexes(url, BULK_TABLES)
    for name, sql in dataset_steps():
        t0 = time.monotonic()
        c.psql(url, sql, timeout=7200)
        timings.append((name, time.monotonic() - t0))
        log(f"  load {name:<18} {timings[-1][1]:8.1f} s")
    t0 = time.monotonic()
    make_indexes(url, indexes)
    timings.append((f"{len(indexes)} indexes", time.monotonic() - t0))
    log(f"  load {timings[-1][0]:<18} {timings[-1][1]:8.1f} s  (secondary indexes made again)")
    t0 = time.monotonic()
    # the impact sets' GiST index too is made after their rows
    impact_indexes = drop_secondary_indexes(url, ["change_impact_sets"])
    how = store_impact(url)
    make_indexes(url, impact_indexes)
    timings.append(("impact sets", time.monotonic() - t0))
    log(f"  load {'impact sets':<18} {timings[-1][1]:8.1f} s  ({how})")
    t0 = time.monotonic()
    if CONFLICTS == "refresh":
        c.psql(url, CONFLICTS_REFRESH, timeout=7200)
        conflicts_how = "conflicts_refresh(id) of every active change at load time"
    else:
        conflicts_how = "left to be found by the submits (BENCH_CONFLICTS=submits)"
    timings.append(("conflicts", time.monotonic() - t0))
    log(f"  load {'conflicts':<18} {timings[-1][1]:8.1f} s  ({conflicts_how})")
    t0 = time.monotonic()
    count_tallies(url)
    timings.append(("tallies", time.monotonic() - t0))
    log(f"  load {'tallies':<18} {timings[-1][1]:8.1f} s  (counted as 0026 does, triggers on)")
    impact = c.psql_json(url, IMPACT_STATS)
    t0 = time.monotonic()
    c.psql(url, "DROP TABLE bench_plan, bench_approver, bench_impact")
    c.psql(url, "VACUUM (ANALYZE)", timeout=7200)
    c.psql(url, "CHECKPOINT", timeout=3600)
    timings.append(("vacuum analyze", time.monotonic() - t0))
    log(f"  load {'vacuum analyze':<18} {timings[-1][1]:8.1f} s")
    total = time.monotonic() - t_all
    log(f"  load total {total:.0f} s")
    return timings, total, how, conflicts_how, impact


IMPACT_STATS = """
SELECT json_build_object('impact_min', min(cardinality(names)),
                         'impact_avg', round(avg(cardinality(names))),
                         'impact_max', max(cardinality(names)))
FROM bench_impact
"""

DATASET_STATS = """
SELECT json_build_object(
  'changes', (SELECT count(*) FROM changes),
  'by_state', (SELECT json_object_agg(state, n) FROM (SELECT state, count(*) n FROM changes
               GROUP BY state ORDER BY state) s),
  'active_next_2_weeks', (SELECT count(*) FROM changes WHERE change_is_active(state)
                          AND lower(win) < now() + interval '14 days'),
  'change_services', (SELECT count(*) FROM change_services),
  'change_versions', (SELECT count(*) FROM change_versions),
  'assessments', (SELECT count(*) FROM assessments),
  'approvals', (SELECT count(*) FROM approvals),
  'comments', (SELECT count(*) FROM comments),
  'audit_log', (SELECT count(*) FROM audit_log),
  'outbox', (SELECT count(*) FROM outbox),
  'conflicts', (SELECT count(*) FROM conflicts),
  'open_conflicts', (SELECT count(*) FROM conflicts WHERE state <> 'resolved'),
  'change_impact_sets', (SELECT count(*) FROM change_impact_sets),
  'services', (SELECT count(*) FROM services),
  'service_deps', (SELECT count(*) FROM service_deps),
  'database_size', pg_size_pretty(pg_database_size(current_database())))
"""


# --- load and latency -------------------------------------------------------------


def run_load(port, clients, token, mode, *args, seconds=None, max_req=1_000_000,
             server_pids=()):
    """build/bench/load; returns its figures, with the CPU the load
    generator and the servers used per request."""
    seconds = seconds or SECONDS
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    srv_before = [proc_cpu(p) for p in server_pids]
    cp = c.run([BUILD / "load", port, clients, seconds, max_req, token, mode, *args],
               timeout=seconds + 600, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    srv_after = [proc_cpu(p) for p in server_pids]
    m = dict(re.findall(r"(\w+)=([0-9.]+)", cp.stdout))
    if "n" not in m:
        raise SystemExit(f"load failed ({cp.returncode}):\n{cp.stdout}\n{cp.stderr}")
    r = {k: float(v) for k, v in m.items()}
    if r["errors"]:
        raise SystemExit(f"load {mode} on port {port}: {int(r['errors'])} failures\n{cp.stderr}")
    n = max(1.0, r["n"])
    r["client_cpu_us"] = ((after.ru_utime + after.ru_stime)
                          - (before.ru_utime + before.ru_stime)) / n * 1e6
    r["server_cpu_us"] = sum(a - b for a, b in zip(srv_after, srv_before)) / n * 1e6
    return r


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


class Http:
    """One keep-alive Python http.client connection with a bearer token."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                ms = (time.perf_counter() - t0) * 1000
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return r.status, raw, ms
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.conn.close()


def series(http, paths, want=200, budget=BUDGET, count=None):
    """Latencies (ms) of GETs of the paths in turn: count of them, or fewer
    if the budget runs out (at least 3)."""
    count = count or SAMPLES
    lat, sizes = [], []
    t_end = time.monotonic() + budget
    for i in range(count):
        status, raw, ms = http.request("GET", paths[i % len(paths)])
        if status != want:
            raise SystemExit(f"GET {paths[i % len(paths)]}: {status} {raw[:300]!r}")
        lat.append(ms)
        sizes.append(len(raw))
        if time.monotonic() > t_end and len(lat) >= 3:
            break
    return lat, sizes


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def draft_body(rng, days=14):
    svc = rng.randrange(2000)
    start = (datetime.now(timezone.utc).replace(second=0, microsecond=0)
             + timedelta(hours=1) + timedelta(minutes=5 * rng.randrange(days * 288 - 72)))
    return {"title": f"bench approval {rng.randrange(10**9)}",
            "services": [f"s{svc // 200}-{svc % 200:03d}"],
            "window": {"start": ts(start), "end": ts(start + timedelta(hours=rng.randint(1, 4)))},
            "test_plan": "smoke tests", "backout_plan": "roll back the release",
            "business_impact": "low"}


def wait_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bare exited {proc.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bare did not listen on {port} within {timeout} s")


# --- the tallies of /metrics ---------------------------------------------------------


def c_string(path, name):
    """The text of a C string constant `static const char NAME[] = "..." "...";`."""
    m = re.search(r"\b%s\[\] =\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+);" % name, path.read_text())
    if not m:
        raise SystemExit(f"{path}: no string constant {name}")
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))


def tally_sql():
    """The statement a scrape runs for the data's gauges (server/db/db_tally.c),
    which bare.c's /tallies must run word for word."""
    server = c_string(REPO / "server" / "db" / "db_tally.c", "SQL_TALLY")
    bare = c_string(HERE / "bare.c", "SQL_TALLY")
    if server != bare:
        raise SystemExit("tests/bench/bare.c's SQL_TALLY differs from server/db/db_tally.c's")
    return server


# What the tallies stand for, counted from the tables instead: the same
# numbers, by a statement that reads every change, conflict and delivery.
TALLY_COUNTED = """
WITH w AS (SELECT ((now() AT TIME ZONE 'UTC')::date - 29)::timestamp AT TIME ZONE 'UTC' AS since)
SELECT json_build_object(
 'states', (SELECT COALESCE(json_agg(t ORDER BY t.kind, t.state), '[]') FROM (
     SELECT 'change' AS kind, state, count(*)::bigint AS n FROM changes GROUP BY 2
     UNION ALL SELECT 'conflict', state, count(*) FROM conflicts WHERE state <> 'resolved'
               GROUP BY 2
     UNION ALL SELECT 'delivery', state, count(*) FROM deliveries GROUP BY 2) t),
 'created_30d', (SELECT count(*) FROM changes, w WHERE created_at >= w.since),
 'emergency_30d', (SELECT count(*) FROM changes c JOIN models m ON m.name = c.model, w
                   WHERE m.kind = 'emergency' AND c.created_at >= w.since))
FROM w
"""

TALLY_TIMING = """
CREATE TEMP TABLE bench_tally (what text, ms float8);
DO $$
DECLARE t0 timestamptz;
BEGIN
    FOR i IN 1..@NT@ LOOP
        t0 := clock_timestamp();
        PERFORM (@TALLY@);
        INSERT INTO bench_tally
            VALUES ('tally', extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
    FOR i IN 1..@NC@ LOOP
        t0 := clock_timestamp();
        PERFORM (@COUNTED@);
        INSERT INTO bench_tally
            VALUES ('counted', extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END $$;
SELECT what, count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY ms),
       percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) FROM bench_tally GROUP BY 1 ORDER BY 1;
"""


def tally_numbers(doc):
    """The numbers of a tally document, rows of 0 left out (a tally row
    stays when its last change leaves its state)."""
    states = {(r["kind"], r["state"]): r["n"] for r in doc["states"] if r["n"]}
    return states, doc["created_30d"], doc["emergency_30d"]


def measure_tallies(srv, py, pyb):
    """A /metrics scrape against bare's /tallies (the same statement, its
    JSON and nothing else), and that statement against counting the tables,
    both timed in SQL; the tallies must equal the counts."""
    R = {}
    sql = tally_sql()
    tallied, counted = srv.psql_json(sql), srv.psql_json(TALLY_COUNTED, timeout=3600)
    if tally_numbers(tallied) != tally_numbers(counted):
        raise SystemExit(f"the tallies differ from the tables' counts:\n{tallied}\n{counted}")
    R["tally_rows"] = int(srv.psql("SELECT (SELECT count(*) FROM tallies)"
                                   " + (SELECT count(*) FROM tallies_created"
                                   "    WHERE day > (now() AT TIME ZONE 'UTC')::date - 30)"))
    lat, sizes = series(py, ["/metrics"], count=200)
    R["metrics"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                    "bytes": int(sum(sizes) / len(sizes))}
    lat, sizes = series(pyb, ["/tallies"], count=200)
    R["bare_tallies"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                         "bytes": int(sum(sizes) / len(sizes))}
    out = srv.psql(TALLY_TIMING.replace("@NT@", "200").replace("@NC@", "10")
                   .replace("@TALLY@", sql).replace("@COUNTED@", TALLY_COUNTED.strip()),
                   timeout=3600)
    for line in out.splitlines():
        f = line.split("|")
        if len(f) == 4 and f[0] in ("tally", "counted"):
            R[f"sql_{f[0]}"] = {"n": int(f[1]), "p50": float(f[2]), "p99": float(f[3])}
    if "sql_tally" not in R or "sql_counted" not in R:
        raise SystemExit(f"timing the tally statement failed:\n{out}")
    return R


# --- the measurements -------------------------------------------------------------


WARM = """
SELECT sum(length(t::text)) FROM (
    SELECT c::text AS t FROM changes c UNION ALL SELECT s::text FROM change_services s
    UNION ALL SELECT a::text FROM assessments a UNION ALL SELECT a::text FROM approvals a
    UNION ALL SELECT k::text FROM conflicts k) x
"""


def measure(srv, bare_port, bare_pid, token, cab_token, cluster):
    R = {}
    cab_pid = srv.proc.pid
    lo, hi = (int(x) for x in srv.psql("SELECT min(id) || ' ' || max(id) FROM changes").split())
    both = (cab_pid, bare_pid)

    # Random ids over the whole history: read every table a GET reads once,
    # so that both servers meet the same warm operating-system cache.
    t0 = time.monotonic()
    srv.psql(WARM, timeout=3600)
    log(f"warm-up: the tables a GET reads, read once ({time.monotonic() - t0:.0f} s)")
    log("rates (build/bench/load, keep-alive loopback connections)")
    for clients in (1, 8):
        R[f"get_cab_{clients}"] = run_load(srv.port, clients, token, "get", "/api/v1/changes/",
                                           lo, hi, server_pids=(cab_pid,))
        R[f"get_bare_{clients}"] = run_load(bare_port, clients, token, "get", "/changes/", lo, hi,
                                            server_pids=(bare_pid,))
        log(f"  GET  {clients} client(s): cabinet {R[f'get_cab_{clients}']['rate']:8.1f}/s"
            f"  bare {R[f'get_bare_{clients}']['rate']:8.1f}/s")
    for clients in (1, 8):
        R[f"create_cab_{clients}"] = run_load(srv.port, clients, token, "post", "/api/v1/changes",
                                              server_pids=(cab_pid,))
        R[f"create_bare_{clients}"] = run_load(bare_port, clients, token, "post", "/changes",
                                               server_pids=(bare_pid,))
        log(f"  POST {clients} client(s): cabinet {R[f'create_cab_{clients}']['rate']:8.1f}/s"
            f"  bare {R[f'create_bare_{clients}']['rate']:8.1f}/s")
    del both

    log("submits (drafts made first, then the submits timed)")
    bench_start = srv.psql("SELECT now()")
    R["submit_1"] = run_load(srv.port, 1, token, "submit", "/api/v1", 0, max_req=SUBMITS,
                             seconds=60, server_pids=(cab_pid,))
    R["submit_8"] = run_load(srv.port, 8, token, "submit", "/api/v1", 0,
                             max_req=max(10, SUBMITS // 8), seconds=60, server_pids=(cab_pid,))
    R["weeks_1"] = run_load(srv.port, 1, token, "submit", "/api/v1", 8, max_req=SUBMITS,
                            seconds=60, server_pids=(cab_pid,))
    R["weeks_8"] = run_load(srv.port, 8, token, "submit", "/api/v1", 8,
                            max_req=max(10, SUBMITS // 8), seconds=60, server_pids=(cab_pid,))
    for k in ("submit_1", "submit_8", "weeks_1", "weeks_8"):
        log(f"  {k:<9} n={int(R[k]['n'])} p50 {R[k]['p50']:.2f} ms  p99 {R[k]['p99']:.2f} ms"
            f"  {R[k]['rate']:.1f}/s")

    log("conflict query alone (conflicts_refresh of submitted changes, timed in SQL)")
    out = srv.psql(CONFLICT_TIMING.replace("@START@", bench_start), timeout=600)
    n, p50, p99, mx = out.splitlines()[-1].split("|")
    R["conflict"] = {"n": int(n), "p50": float(p50), "p99": float(p99), "max": float(mx)}
    log(f"  n={n} p50 {float(p50):.3f} ms  p99 {float(p99):.3f} ms")

    py = Http(srv.port, token)
    pyb = Http(bare_port, token)
    rng = random.Random(7)
    # the Python client's own cost: bare GETs from Python vs from load.c
    ids = [rng.randint(lo, hi) for _ in range(200)]
    lat, _ = series(pyb, [f"/changes/{i}" for i in ids], count=200)
    R["py_bare_get"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat)}

    log("/metrics scrape (Python http.client) against bare reading the same tallies")
    R.update(measure_tallies(srv, py, pyb))
    log(f"  /metrics    n={R['metrics']['n']} p50 {R['metrics']['p50']:.2f} ms"
        f" p99 {R['metrics']['p99']:.2f} ms ({R['metrics']['bytes']} bytes)")
    log(f"  bare tally  n={R['bare_tallies']['n']} p50 {R['bare_tallies']['p50']:.2f} ms"
        f" p99 {R['bare_tallies']['p99']:.2f} ms; bare GET p99 {R['py_bare_get']['p99']:.2f} ms")
    log(f"  in SQL: the tally statement p50 {R['sql_tally']['p50']:.3f} ms"
        f" ({R['tally_rows']} rows), counting the tables p50 {R['sql_counted']['p50']:.1f} ms")

    log("reads (Python http.client, one keep-alive connection)")
    words = ["certificate", "schema migration", "Payments", "failover", "s4-117", "firmware",
             "blue-green", "Decommission", "zzq-nothing", "rolling restart"]
    qs = [f"/api/v1/changes?q={urllib.parse.quote(w)}" for w in words]
    qs += [f"/api/v1/changes?q=CHG-{rng.randint(lo, hi)}" for _ in range(5)]
    rng.shuffle(qs)
    lat, sizes = series(py, qs)
    R["search"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                   "bytes": int(sum(sizes) / len(sizes))}
    log(f"  search      n={len(lat)} p50 {R['search']['p50']:.1f} ms p99 {R['search']['p99']:.1f} ms")

    now = datetime.now(timezone.utc).replace(microsecond=0)
    month = f"from={ts(now)}&to={ts(now + timedelta(days=30))}"
    lat, sizes = series(py, [f"/api/v1/schedule?{month}"])
    status, raw, _ = py.request("GET", f"/api/v1/schedule?{month}")
    body = json.loads(raw)
    R["schedule"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                     "bytes": int(sum(sizes) / len(sizes)),
                     "rows": len(body.get("changes", [])),
                     "paged": body.get("next_cursor") is not None or "next_cursor" in body}
    log(f"  schedule    n={len(lat)} p50 {R['schedule']['p50']:.1f} ms"
        f" p99 {R['schedule']['p99']:.1f} ms ({R['schedule']['rows']} changes,"
        f" {R['schedule']['bytes']} bytes)")
    status, raw, _ = py.request("GET", f"/api/v1/schedule?{month}&group=day")
    if status == 400:
        R["group_day"] = {"skipped": f"the server answers 400 for group=day: "
                                     f"{json.loads(raw).get('detail', '')}"}
        log(f"  group=day   skipped: {R['group_day']['skipped']}")
    else:
        lat, sizes = series(py, [f"/api/v1/schedule?{month}&group=day"])
        R["group_day"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                          "bytes": int(sum(sizes) / len(sizes))}
        log(f"  group=day   n={len(lat)} p50 {R['group_day']['p50']:.1f} ms"
            f" p99 {R['group_day']['p99']:.1f} ms")

    week = f"from={ts(now)}&to={ts(now + timedelta(days=7))}"
    lat, sizes = series(py, [f"/api/v1/cab/agenda?{week}"])
    status, raw, _ = py.request("GET", f"/api/v1/cab/agenda?{week}")
    R["agenda"] = {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat),
                   "bytes": int(sum(sizes) / len(sizes)),
                   "rows": len(json.loads(raw).get("items", []))}
    log(f"  agenda      n={len(lat)} p50 {R['agenda']['p50']:.1f} ms"
        f" p99 {R['agenda']['p99']:.1f} ms ({R['agenda']['rows']} changes)")

    log("signed approvals (Ed25519, statement as tests/api/test_approvals.py signs it)")
    R["approval"] = approvals(srv, py, cab_token, rng)
    log(f"  approval    n={R['approval']['n']} p50 {R['approval']['p50']:.1f} ms"
        f" p99 {R['approval']['p99']:.1f} ms")
    py.close()
    pyb.close()
    return R


CONFLICT_TIMING = """
CREATE TEMP TABLE bench_t (ms float8);
DO $$
DECLARE r bigint; t0 timestamptz;
BEGIN
    FOR r IN SELECT id FROM changes WHERE submitted_at >= '@START@'::timestamptz
             AND change_is_active(state) ORDER BY random() LIMIT 200 LOOP
        t0 := clock_timestamp();
        PERFORM conflicts_lock();
        PERFORM count(*) FROM conflicts_refresh(r);
        INSERT INTO bench_t VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END $$;
SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY ms),
       percentile_disc(0.99) WITHIN GROUP (ORDER BY ms), max(ms) FROM bench_t;
"""


def approvals(srv, py, cab_token, rng):
    """Signed approvals by cab1 of fresh changes requested by alice; the
    approval POST alone is timed."""
    sys.path.insert(0, str(REPO / "tests" / "api"))
    from test_approvals import sign, statement, now_ts  # noqa: E402

    sk = SigningKey.generate()
    key = c.ok(srv.as_("cab1").post("/me/keys", json={
        "public_key": base64.b64encode(sk.verify_key.encode()).decode(),
        "label": "bench"}), 201)
    cab = Http(srv.port, cab_token)
    lat = []
    t_end = time.monotonic() + BUDGET * 2
    for _ in range(SAMPLES * 2):
        status, raw, _ = py.request("POST", "/api/v1/changes", draft_body(rng))
        assert status == 201, raw[:300]
        cid = json.loads(raw)["id"]
        status, raw, _ = py.request("POST", f"/api/v1/changes/{cid}/submit", {})
        assert status == 200, raw[:300]
        ch = json.loads(raw)
        if ch["state"] != "awaiting_approval":
            continue
        at = now_ts()
        st = statement(ch["ref"], ch["version"], ch["content_hash"], "approve", at)
        body = {"decision": "approve", "comment": "bench", "key_id": key["id"],
                "signed_at": at, "signature": sign(sk, st)}
        status, raw, ms = cab.request("POST", f"/api/v1/changes/{cid}/approvals", body)
        assert status == 201, raw[:300]
        lat.append(ms)
        if time.monotonic() > t_end and len(lat) >= 5:
            break
    cab.close()
    return {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat)}


TOP_STATEMENTS = """
SELECT calls, round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3),
       regexp_replace(left(query, 110), '\\s+', ' ', 'g')
FROM pg_stat_statements
WHERE query NOT LIKE '%pg_stat_statements%'
ORDER BY total_exec_time DESC LIMIT 12
"""


# --- the report -------------------------------------------------------------------


def machine():
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    gcc = c.run(["cc", "--version"], check=False).stdout.splitlines()[0]
    civet = c.run(["dpkg-query", "-W", "-f", "${Version}", "libcivetweb-dev"],
                  check=False).stdout.strip() or "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(), "gcc": gcc, "civetweb": civet}


def ratio(a, b):
    return a / b if b else float("nan")


def figures(R, rss):
    """(name, value, unit, baseline, ratio, target key) rows."""
    rows = []
    for clients in (1, 8):
        cab, bare = R[f"create_cab_{clients}"], R[f"create_bare_{clients}"]
        rows.append((f"create rate, {clients} client(s)", cab["rate"], "/s",
                     f"bare {bare['rate']:.1f}/s", ratio(cab["rate"], bare["rate"]),
                     "create_ratio"))
    for clients in (1, 8):
        cab, bare = R[f"get_cab_{clients}"], R[f"get_bare_{clients}"]
        rows.append((f"GET rate, {clients} client(s)", cab["rate"], "/s",
                     f"bare {bare['rate']:.1f}/s", ratio(cab["rate"], bare["rate"]),
                     "get_ratio"))
    for clients in (1, 8):
        cab, bare = R[f"create_cab_{clients}"], R[f"create_bare_{clients}"]
        rows.append((f"create p99, {clients} client(s)", cab["p99"], "ms",
                     f"bare {bare['p99']:.2f} ms", ratio(cab["p99"], bare["p99"]), None))
        cab, bare = R[f"get_cab_{clients}"], R[f"get_bare_{clients}"]
        rows.append((f"GET p99, {clients} client(s)", cab["p99"], "ms",
                     f"bare {bare['p99']:.2f} ms", ratio(cab["p99"], bare["p99"]), None))
    s1, s8 = R["submit_1"], R["submit_8"]
    rows.append(("submit p50, 1 client", s1["p50"], "ms", "-", None, None))
    rows.append(("submit p99, 1 client", s1["p99"], "ms", "target 10 ms", s1["p99"] / 10.0,
                 "submit_p99_1"))
    rows.append(("submit p50, 8 clients", s8["p50"], "ms", f"1 client {s1['p50']:.2f} ms",
                 ratio(s8["p50"], s1["p50"]), None))
    rows.append(("submit p99, 8 clients", s8["p99"], "ms", f"1 client {s1['p99']:.2f} ms",
                 ratio(s8["p99"], s1["p99"]), None))
    w1, w8 = R["weeks_1"], R["weeks_8"]
    rows.append(("submit rate, 8 clients in 8 different weeks", w8["rate"], "/s",
                 f"1 client {w1['rate']:.1f}/s", ratio(w8["rate"], w1["rate"]), "weeks_ratio"))
    k = R["conflict"]
    rows.append(("conflict query p50 (conflicts_refresh)", k["p50"], "ms", "-", None, None))
    rows.append(("conflict query p99 (conflicts_refresh)", k["p99"], "ms", "target 2 ms",
                 k["p99"] / 2.0, "conflict_p99"))
    rows.append(("text search ?q= p99", R["search"]["p99"], "ms",
                 f"p50 {R['search']['p50']:.1f} ms", None, None))
    rows.append(("month schedule first page p99", R["schedule"]["p99"], "ms", "target 20 ms",
                 R["schedule"]["p99"] / 20.0, "schedule_p99"))
    if "p99" in R["group_day"]:
        rows.append(("month schedule group=day p99", R["group_day"]["p99"], "ms", "target 20 ms",
                     R["group_day"]["p99"] / 20.0, "group_day_p99"))
    rows.append(("CAB agenda (next 7 days) p99", R["agenda"]["p99"], "ms", "target 20 ms",
                 R["agenda"]["p99"] / 20.0, "agenda_p99"))
    m, b = R["metrics"], R["bare_tallies"]
    rows.append(("/metrics scrape p50", m["p50"], "ms", f"bare tally read p50 {b['p50']:.2f} ms",
                 ratio(m["p50"], b["p50"]), None))
    rows.append(("/metrics scrape p99", m["p99"], "ms",
                 f"bare tally read p99 {b['p99']:.2f} ms "
                 f"(bare GET p99 {R['py_bare_get']['p99']:.2f} ms)",
                 ratio(m["p99"], b["p99"]), None))
    t, k = R["sql_tally"], R["sql_counted"]
    rows.append(("tally statement of a scrape p50, in SQL", t["p50"], "ms",
                 f"counting the tables {k['p50']:.1f} ms", ratio(t["p50"], k["p50"]), None))
    rows.append(("signed approval p50", R["approval"]["p50"], "ms", "-", None, None))
    rows.append(("signed approval p99", R["approval"]["p99"], "ms", "-", None, None))
    rows.append(("server peak RSS (VmHWM)", rss["cabinet"] / 1024, "MiB",
                 f"bare {rss['bare'] / 1024:.1f} MiB", ratio(rss["cabinet"], rss["bare"]),
                 "rss_mib"))
    return rows


def verdicts(R, rss):
    v = {
        "create_ratio": min(ratio(R[f"create_cab_{n}"]["rate"], R[f"create_bare_{n}"]["rate"])
                            for n in (1, 8)),
        "get_ratio": min(ratio(R[f"get_cab_{n}"]["rate"], R[f"get_bare_{n}"]["rate"])
                         for n in (1, 8)),
        "submit_p99_1": R["submit_1"]["p99"],
        "weeks_ratio": ratio(R["weeks_8"]["rate"], R["weeks_1"]["rate"]),
        "conflict_p99": R["conflict"]["p99"],
        "schedule_p99": R["schedule"]["p99"],
        "agenda_p99": R["agenda"]["p99"],
        "rss_mib": rss["cabinet"] / 1024,
    }
    if "p99" in R["group_day"]:
        v["group_day_p99"] = R["group_day"]["p99"]
    out = []
    for key, (desc, test) in TARGETS.items():
        if key not in v:
            out.append((desc, None, "not measured (" + R["group_day"].get("skipped", "") + ")"))
        else:
            out.append((desc, v[key], "met" if test(v[key]) else "missed"))
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if 0 < abs(v) < 0.001:
            return f"{v:.2g}"  # a ratio far below one, say the scrape's statement to a count
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def report(info):
    M, S, R, rss = info["machine"], info["settings"], info["results"], info["rss"]
    rows = figures(R, rss)
    lines = ["# Benchmark results", "",
             "Written by `tests/bench/scale.py` (`make bench`) from its last run; "
             "every figure comes with its baseline, measured in the same run.", "",
             f"Run {info['when']}, BENCH_SCALE={SCALE}, BENCH_SECONDS={SECONDS:g}, "
             f"BENCH_SUBMITS={SUBMITS}, BENCH_SAMPLES={SAMPLES}.", "",
             "## Machine", "",
             f"- CPU: {M['cpu']}, {M['cores']} cores; RAM {M['ram_gib']} GiB; "
             f"Linux {M['kernel']}",
             f"- load average during the measurements: min {info['load'][0]:.2f}, "
             f"max {info['load'][1]:.2f}; the machine's CPU was "
             f"{info['busy'] * 100:.0f} % busy over the measurements, "
             f"{info['ours'] * 100:.0f} % of it by this benchmark's processes "
             "(the cores are shared with other work)",
             f"- PostgreSQL: {S['version']}",
             f"- CivetWeb package: libcivetweb-dev {M['civetweb']}; compiler: {M['gcc']}",
             "", "## PostgreSQL settings", "",
             ", ".join(f"{k}={S[k]}" for k in SHOWN if k != "server_version"), "",
             "## Data set", ""]
    d = info["dataset"]
    lines += [f"- {d['changes']} changes by state: "
              + ", ".join(f"{k} {v}" for k, v in d["by_state"].items()),
              f"- active in the coming two weeks: {d['active_next_2_weeks']}",
              f"- {d['services']} services, {d['service_deps']} dependencies; impact sets of "
              f"one service: min {d['impact_min']}, mean {d['impact_avg']}, max {d['impact_max']}",
              "- rows: " + ", ".join(f"{k} {d[k]}" for k in (
                  "change_services", "change_versions", "assessments", "approvals", "comments",
                  "audit_log", "outbox", "conflicts", "open_conflicts", "change_impact_sets")),
              f"- database size after the run: {info['db_size_end']}",
              f"- impact sets: {info['impact_how']}; conflicts: {info['conflicts_how']}",
              f"- load time {info['load_total']:.0f} s: "
              + ", ".join(f"{n} {t:.1f} s" for n, t in info["load_steps"]),
              "", "## Figures", "",
              "| figure | value | baseline | ratio |", "|---|---|---|---|"]
    for name, val, unit, base, rat, _ in rows:
        lines.append(f"| {name} | {fmt(val)} {unit} | {base} | {fmt(rat)} |")
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for desc, val, verdict in verdicts(R, rss):
        lines.append(f"| {desc} | {fmt(val)} | {verdict} |")
    lines += ["", "## How it was measured", "",
              "- Rates and submits: `build/bench/load` (tests/bench/load.c), C threads with "
              "one keep-alive loopback connection each, requests back to back for "
              f"{SECONDS:g} s. Its own cost: "
              + ", ".join(f"{k} {R[k]['client_cpu_us']:.0f} µs CPU per request "
                          f"(the server {R[k]['server_cpu_us']:.0f} µs)"
                          for k in ("get_bare_1", "get_cab_1", "create_cab_1")) + ".",
              "- Cabinet runs with CABINET_THREADS=%d and CABINET_DB_POOL=%d; bare with %d "
              "CivetWeb threads, one libpq connection each (thread-local, made on first use), "
              "statements prepared, the token checked against api_tokens by SHA-256 as "
              "Cabinet does." % (THREADS, POOL, BARE_THREADS),
              "- Creates: a draft on one service drawn uniformly from the 2,000, a 1-4 h "
              "window in the next 14 days. GETs: uniformly random existing changes.",
              "- Submits: each client makes its drafts first (untimed), then submits them "
              "back to back; only POST /changes/{id}/submit is timed. The week test: 8 clients "
              "each in a week of its own (weeks 1-8 from now) against 1 client cycling through "
              "the same 8 weeks.",
              "- Conflict query: conflicts_lock() + conflicts_refresh(id) of the changes "
              "submitted during the run, timed inside PostgreSQL (clock_timestamp(), one "
              "transaction, no round trip).",
              "- Search, schedule, agenda, approvals: Python http.client on one keep-alive "
              "connection, one client. Its overhead: a bare GET takes "
              f"{R['py_bare_get']['p50']:.2f} ms p50 from Python against "
              f"{R['get_bare_1']['p50']:.2f} ms from load.c. The schedule is one month from "
              f"now ({R['schedule']['rows']} changes, {R['schedule']['bytes']} bytes a reply); "
              f"the agenda is the next 7 days ({R['agenda']['rows']} changes awaiting "
              "approval). The approval is a new change of alice's, submitted, then approved "
              "by cab1 with an Ed25519 key registered through POST /me/keys; only the "
              "approval POST is timed.",
              "- /metrics: GET /metrics from Python http.client on one keep-alive connection, "
              f"{R['metrics']['n']} scrapes ({R['metrics']['bytes']} bytes each, the "
              "request counters of the whole run included), against GET /tallies of "
              "build/bench/bare, which runs the scrape's tally statement "
              "(server/db/db_tally.c, word for word: the run checks) and replies its JSON "
              f"({R['bare_tallies']['bytes']} bytes); the statement sums "
              f"{R['tally_rows']} tally rows, kept by the triggers of "
              "sql/0026_observability.sql. Timed in SQL (clock_timestamp(), 200 runs) it "
              f"takes {R['sql_tally']['p50']:.3f} ms p50, against "
              f"{R['sql_counted']['p50']:.1f} ms p50 ({R['sql_counted']['n']} runs) for the "
              "same numbers counted from changes, conflicts and deliveries; the run checks "
              "that both give the same numbers.",
              f"- Peak RSS: VmHWM of the process at the end (the 1 s VmRSS sampler saw "
              f"{info['rss_sampled']['cabinet'] / 1024:.1f} MiB for Cabinet).",
              "", "## Top statements (pg_stat_statements, by total time)", "",
              "| calls | total ms | mean ms | query |", "|---|---|---|---|"]
    for row in info["top"]:
        calls, total, mean, q = row.split("|", 3)
        lines.append(f"| {calls} | {total} | {mean} | `{q.replace('|', '/')}` |")
    lines.append("")
    # what was found when a target was missed: written by hand, kept across
    # runs (tests/bench/CAUSES.md), and carried into every RESULTS.md
    causes = HERE / "CAUSES.md"
    if causes.exists():
        lines += [causes.read_text()]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print()
    print(f"{'figure':<48} {'value':>12}  {'baseline':<24} {'ratio':>7}")
    for name, val, unit, base, rat, _ in rows:
        print(f"{name:<48} {fmt(val):>9} {unit:<3} {base:<24} {fmt(rat):>7}")
    print()
    for desc, val, verdict in verdicts(R, rss):
        print(f"  {verdict:<7} {desc} ({fmt(val)})")
    print(f"\nwrote {HERE / 'RESULTS.md'}")


# --- main -------------------------------------------------------------------------


def main():
    if not Path(os.environ["CABINET_BIN"]).exists():
        raise SystemExit(f"{os.environ['CABINET_BIN']} is missing: make build/cabinet")
    build_tools()
    log(f"bench scale: {SCALE} changes ({HISTORY} history, {ACTIVE} active, {DRAFTS} drafts, "
        f"{FUTURE_CANCELLED} cancelled ahead)")
    reuse = os.environ.get("BENCH_REUSE", "").split()
    cluster = DurableCluster.reuse(*reuse) if reuse else DurableCluster()
    srv = bare = sampler = None
    try:
        if reuse:
            url = cluster.url("cabinet_bench")
        else:
            cluster.configure()
            url = cluster.createdb("cabinet_bench")
        settings = show_settings(url)
        log(f"  {settings['version']}")
        log("  " + ", ".join(f"{k}={settings[k]}" for k in SHOWN if k != "server_version"))
        cp = cluster.migrate("cabinet_bench")
        if cp.returncode != 0:
            raise SystemExit(cp.stderr)
        c.psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        srv = c.Server(cluster, "cabinet_bench",
                       extra_env={"CABINET_DB_POOL": str(POOL), "CABINET_THREADS": str(THREADS)})
        if reuse:
            # the data set of the run that kept the cluster, migrated by this
            # build (the migrations it lacked), its people as they were
            srv.key_path = next(cluster.files.glob("*.server.key"), srv.key_path)
            for name, roles in c.STANDARD_USERS.items():
                uid = int(c.psql(url, f"SELECT id FROM users WHERE email = '{name}@{c.DOMAIN}'"))
                srv.users[name] = {"id": uid, "email": f"{name}@{c.DOMAIN}", "roles": roles}
            kept = json.loads((cluster.files / "load.json").read_text())
            steps, total = kept["steps"], kept["total"]
            impact_how = kept["impact_how"] + " (the data set of an earlier run, reused)"
            conflicts_how, impact = kept["conflicts_how"], kept["impact"]
        else:
            for name, roles in c.STANDARD_USERS.items():
                srv.add_user(name, roles)
            steps, total, impact_how, conflicts_how, impact = load_dataset(cluster, url)
            (cluster.files / "load.json").write_text(json.dumps({
                "steps": steps, "total": total, "impact_how": impact_how,
                "conflicts_how": conflicts_how, "impact": impact}))
        dataset = c.psql_json(url, DATASET_STATS, timeout=3600)
        dataset.update(impact)
        log(f"  {json.dumps(dataset)}")

        srv.start()
        token = srv.token_client("alice").token
        cab_token = srv.token_client("cab1").token
        bare_port = c.free_port()
        bare_err = open(cluster.files / "bare.stderr", "ab")
        bare = subprocess.Popen([str(BUILD / "bare"), str(bare_port), url, str(BARE_THREADS)],
                                stdin=subprocess.DEVNULL, stdout=bare_err, stderr=bare_err)
        wait_port(bare_port, bare)
        c.psql(url, "SELECT pg_stat_statements_reset()")
        sampler = Sampler({"cabinet": srv.proc.pid, "bare": bare.pid})
        sampler.start()
        busy0, total0 = cpu_busy()
        ours0 = postgres_cpu(cluster.dir) + proc_cpu(srv.proc.pid) + proc_cpu(bare.pid)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        R = measure(srv, bare_port, bare.pid, token, cab_token, cluster)
        busy1, total1 = cpu_busy()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours1 = postgres_cpu(cluster.dir) + proc_cpu(srv.proc.pid) + proc_cpu(bare.pid)
        tck = os.sysconf("SC_CLK_TCK")
        ours = (ours1 - ours0) + (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime)
        ours += sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # an upper bound
        rss = {"cabinet": proc_status(srv.proc.pid, "VmHWM"),
               "bare": proc_status(bare.pid, "VmHWM")}
        sampler.stop_ev.set()
        info = {
            "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "settings": settings, "results": R, "rss": rss,
            "rss_sampled": sampler.rss, "dataset": dataset, "load_steps": steps,
            "load_total": total, "impact_how": impact_how, "conflicts_how": conflicts_how,
            "load": (min(sampler.load or [0]), max(sampler.load or [0])),
            "busy": (busy1 - busy0) / max(1, total1 - total0),
            "ours": min(1.0, ours * tck / max(1, busy1 - busy0)),
            "db_size_end": c.psql(url, "SELECT pg_size_pretty(pg_database_size(current_database()))"),
            "top": c.psql(url, TOP_STATEMENTS).splitlines(),
        }
        report(info)
    finally:
        if sampler is not None:
            sampler.stop_ev.set()
        if bare is not None and bare.poll() is None:
            bare.terminate()
            try:
                bare.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bare.kill()
                bare.wait(timeout=30)
        if srv is not None:
            problems = srv.stop()
            if problems:
                print("server: " + "; ".join(problems), file=sys.stderr)
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"cluster kept: {cluster.url('cabinet_bench')}, the servers' logs in"
                  f" {cluster.files} (stop: server/scripts/pg.sh stop {cluster.dir})")
        else:
            cluster.destroy()


if __name__ == "__main__":
    main()
