"""Upgrades (README "Running in production" > "Upgrades"): migrations are
additive, so `cabinet migrate` runs while the previous release serves.

The static test holds every migration after 0024 to the policy; the live
one runs `cabinet migrate` under a small load while a server serves,
again with nothing to do and then with a next release's additive
migration, and counts every request."""

import re
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone

from conftest import BIN, SQL_DIR, Server, finish_server, ok, run, sanitizer_env, unique

# what an older release still running may read: never dropped, renamed or retyped
FORBIDDEN = [
    (r"\bDROP\s+TABLE\b", "DROP TABLE"),
    (r"\bDROP\s+COLUMN\b", "DROP COLUMN"),
    (r"\bALTER\s+TABLE\b[^;]*\bDROP\b(?!\s+(CONSTRAINT|DEFAULT|NOT\s+NULL))", "ALTER TABLE ... DROP"),
    (r"\bRENAME\b", "RENAME"),
    (r"\bALTER\s+(TABLE\b[^;]*\bALTER\s+)?(COLUMN\s+)?\w+\s+(SET\s+DATA\s+)?TYPE\b",
     "ALTER ... TYPE"),
]
POLICY_FROM = 25  # the migrations before it were written before the policy


def without_comments(sql):
    return re.sub(r"--[^\n]*", "", re.sub(r"/\*.*?\*/", "", sql, flags=re.S))


def breaches(sql):
    text = without_comments(sql)
    return [name for pattern, name in FORBIDDEN if re.search(pattern, text, re.I)]


def test_the_checker_catches_what_the_policy_forbids():
    assert breaches("ALTER TABLE changes DROP COLUMN title;") == ["DROP COLUMN",
                                                                   "ALTER TABLE ... DROP"]
    assert breaches("DROP TABLE x;") == ["DROP TABLE"]
    assert breaches("ALTER TABLE x RENAME TO y;") == ["RENAME"]
    assert breaches("ALTER TABLE x ALTER COLUMN y TYPE bigint;") == ["ALTER ... TYPE"]
    assert breaches("ALTER TABLE x ALTER y SET DATA TYPE text;") == ["ALTER ... TYPE"]
    assert breaches("ALTER TABLE x ADD COLUMN y int NOT NULL DEFAULT 0;\n"
                    "CREATE INDEX x_y ON x (y);\n"
                    "ALTER TABLE x DROP CONSTRAINT x_check;\n"
                    "-- DROP TABLE x; in a comment\n") == []


def test_new_migrations_are_additive():
    checked = 0
    for path in sorted(SQL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if int(path.name[:4]) < POLICY_FROM:
            continue
        found = breaches(path.read_text())
        assert not found, f"{path.name}: {', '.join(found)} breaks README \"Upgrades\""
        checked += 1
    print(f"{checked} migrations from {POLICY_FROM:04d} checked")


def load(srv, stop, results):
    """Reads and writes against srv until stop is set; each outcome kept
    (an exception as status 0)."""
    try:
        run_load(srv, stop, results)
    except Exception as e:  # noqa: BLE001 - reported by the test
        results.append(("load", 0, time.monotonic(), repr(e)))


def run_load(srv, stop, results):
    alice = srv.login("alice")
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=40)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    while not stop.is_set():
        for r in (alice.post("/changes", json={
                      "title": unique("upgrade"),
                      "window": {"start": start.strftime(fmt),
                                 "end": (start + timedelta(hours=1)).strftime(fmt)}}),
                  alice.get("/changes?limit=5")):
            results.append((r.request.method, r.status_code, time.monotonic()))
        time.sleep(0.02)


# What a next release's migration may do under the policy, to the busiest
# tables: a column with a default, an index, a table.
NEXT_RELEASE = """
ALTER TABLE changes ADD COLUMN upgrade_probe text NOT NULL DEFAULT '';
CREATE INDEX changes_upgrade_probe ON changes (upgrade_probe);
ALTER TABLE audit_log ADD COLUMN upgrade_probe integer;
CREATE TABLE upgrade_probe (id bigserial PRIMARY KEY, note text NOT NULL);
"""


def test_migrate_while_the_previous_release_serves(cluster, tmp_path):
    """The server serves with this release's migrations; `cabinet migrate`
    runs again (nothing to do), then with a next release's additive one,
    both under load: every request succeeds, and what the server serves
    does not change."""
    newer = tmp_path / "sql-next"
    shutil.copytree(SQL_DIR, newer)
    (newer / "9999_upgrade_probe.sql").write_text(NEXT_RELEASE)
    db = unique("upg").replace("-", "_")
    cluster.createdb(db, "cabinet_template")
    srv = Server(cluster, db)
    srv.add_user("alice")
    srv.start()
    env = {"CABINET_DATABASE_URL": srv.db_url, **sanitizer_env()}
    stop, results = threading.Event(), []
    worker = threading.Thread(target=load, args=(srv, stop, results), daemon=True)
    spans = []
    try:
        worker.start()
        time.sleep(1)
        for sql_dir, applied in ((SQL_DIR, 0), (newer, 1)):
            t0 = time.monotonic()
            cp = run([BIN, "migrate"], env={**env, "CABINET_SQL_DIR": str(sql_dir)})
            spans.append((t0, time.monotonic()))
            assert f"{applied} migration" in cp.stdout, cp.stdout + cp.stderr
            time.sleep(1)
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    during = [r for r in results if any(t0 <= r[2] <= t1 for t0, t1 in spans)]
    failed = [r for r in results if r[1] not in (200, 201)]
    print(f"{len(results)} requests, {len(during)} while migrate ran "
          f"({', '.join(f'{t1 - t0:.2f} s' for t0, t1 in spans)})")
    assert not failed, failed[:5]
    assert len(results) >= 20, results
    assert srv.psql("SELECT count(*) FROM changes WHERE upgrade_probe = ''") != "0"
    finish_server(srv)
