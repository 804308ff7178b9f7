"""Two `cabinet serve` instances on one database: one server key per
installation, and one audit chain that stays gapless and verifiable while
both write at once (each instance runs a chainer; an advisory lock lets one
work at a time)."""

import concurrent.futures
import time

from conftest import BIN, SQL_DIR, Server, ok, run, sanitizer_env, unique


def test_a_foreign_server_key_is_refused(server):
    other = Server(server.cluster, server.db, name=server.name + "-foreign")
    proc_error = None
    try:
        other.start(timeout=20)
    except AssertionError as e:
        proc_error = str(e)
    finally:
        other.stop()
    assert proc_error is not None, "a second instance with another key must not start"
    assert "exited 1" in proc_error, proc_error
    assert "server key" in proc_error, proc_error


def test_two_instances_write_one_chain(server):
    second = Server(server.cluster, server.db, name=server.name + "-second",
                    extra_env={"CABINET_SERVER_KEY_FILE": str(server.key_path)})
    second.users = server.users
    second.start()
    try:
        ok(server.as_("admin").post("/services", json={
            "name": "shared-db", "title": "Shared", "tier": 2}), 201)
        clients = [server.login("alice"), second.login("bob"),
                   server.login("cab1"), second.login("cab2")]

        def write(i):
            c = clients[i % len(clients)]
            r = c.post("/changes", json={"title": unique("both"), "services": ["shared-db"]})
            return r.status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(write, range(80)))
        assert codes.count(201) == 80, codes

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if server.psql("SELECT count(*) FROM audit_log WHERE seq IS NULL") == "0":
                break
            time.sleep(0.2)
        rows = server.psql("SELECT count(*), min(seq), max(seq), count(DISTINCT seq) "
                           "FROM audit_log").split("|")
        count, lo, hi, distinct = (int(x) for x in rows)
        assert (lo, hi, distinct) == (1, count, count), rows

        cp = run([BIN, "verify"], env={"CABINET_DATABASE_URL": server.db_url,
                                       "CABINET_SQL_DIR": str(SQL_DIR), **sanitizer_env()},
                 timeout=120, check=False)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert cp.stdout.startswith("ok:"), cp.stdout
    finally:
        problems = second.stop()
    assert not problems, (problems, second.stderr_tail())
