"""`cabinet migrate`: each file once, in order, safe to run concurrently."""

import os
import re
import subprocess

from conftest import BIN, SQL_DIR, psql, sanitizer_env, sanitizer_findings, tail, unique

MIGRATIONS = sorted(p.name for p in SQL_DIR.iterdir() if re.fullmatch(r"\d{4}_.*\.sql", p.name))


def applied(cluster, db):
    return psql(cluster.url(db), "SELECT version || '|' || applied_at FROM schema_migrations "
                                 "ORDER BY version").splitlines()


def test_there_are_migrations():
    assert MIGRATIONS and MIGRATIONS[0].startswith("0001_")


def test_migrate_twice_applies_nothing_the_second_time(cluster):
    db = unique("mig").replace("-", "_")
    cluster.createdb(db)
    first = cluster.migrate(db)
    assert first.returncode == 0, first.stderr
    assert not sanitizer_findings(first.stderr), first.stderr
    rows = applied(cluster, db)
    assert len(rows) == len(MIGRATIONS), rows
    second = cluster.migrate(db)
    assert second.returncode == 0, second.stderr
    assert not sanitizer_findings(second.stderr), second.stderr
    assert applied(cluster, db) == rows
    # Nor does it claim to have applied anything.
    for name in MIGRATIONS:
        assert f"applied {name}" not in second.stderr + second.stdout, second.stderr


def test_concurrent_migrations_on_an_empty_database(cluster):
    for attempt in range(3):
        db = unique("race").replace("-", "_")
        cluster.createdb(db)
        env = dict(os.environ)
        env.update({"CABINET_DATABASE_URL": cluster.url(db), "CABINET_SQL_DIR": str(SQL_DIR)})
        env.update(sanitizer_env())
        procs = [subprocess.Popen([str(BIN), "migrate"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate(timeout=30)
                err += "\n(killed after 180 s)"
            outs.append((p.returncode, err))
        for rc, err in outs:
            assert rc == 0, f"attempt {attempt}: migrate exited {rc}:\n{tail(err)}"
            assert not sanitizer_findings(err), err
            url = cluster.url(db)
        versions = psql(url, "SELECT version FROM schema_migrations ORDER BY version").splitlines()
        assert len(versions) == len(MIGRATIONS) == len(set(versions)), versions
        # And the schema is whole.
        assert psql(url, "SELECT count(*) FROM models") == "3"
