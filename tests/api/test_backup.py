"""Backup and restore (README "Running in production" > "Backup and
restore"): real data (changes, signed approvals, audit entries, a signed
checkpoint) dumped with pg_dump -Fc, restored with pg_restore into a fresh
database of the same cluster, verified there with `cabinet verify`, and
served from there, with the same server key file, as the same documents."""


import pytest

from conftest import Server, finish_server, ok, run, start_server, unique
from test_audit_verify import Signer, cli_verify, make_history, wait_chained


def entries_line(cp):
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("ok: ")]
    assert len(lines) == 1, cp.stdout + cp.stderr
    return lines[0]


@pytest.fixture(scope="module")
def original(cluster):
    srv = start_server(cluster, unique("bk").replace("-", "_"))
    yield srv
    finish_server(srv)


def test_dump_restore_verify_and_serve(cluster, original, tmp_path):
    signer = Signer(original)
    changes = [make_history(original, signer) for _ in range(2)]
    ok(original.as_("alice").post(f"/changes/{changes[0]['id']}/comments",
                                  json={"body": "before the backup"}), 201)
    last = wait_chained(original)
    r = original.as_("manager").post("/audit/checkpoint")
    assert r.status_code in (200, 201), r.text
    assert r.json()["seq"] == last
    docs = {c["id"]: ok(original.as_("alice").get(f"/changes/{c['id']}")) for c in changes}
    chained = wait_chained(original)  # what the checkpoint itself wrote, chained too
    before = cli_verify(db_url=original.db_url)
    assert before.returncode == 0, before.stdout + before.stderr

    dump = tmp_path / "cabinet.dump"
    run(["pg_dump", "-Fc", "-f", dump, "-d", original.db_url], timeout=120)
    db = unique("restored").replace("-", "_")
    restored_url = cluster.createdb(db)
    run(["pg_restore", "--no-owner", "--exit-on-error", "-d", restored_url, dump], timeout=180)

    after = cli_verify(db_url=restored_url)
    assert after.returncode == 0, after.stdout + after.stderr
    assert entries_line(after) == entries_line(before)
    assert f"{chained} audit entries chained" in entries_line(after), after.stdout

    # served under the same address as before, so that links match too
    copy = Server(cluster, db, name=f"{db}-srv", extra_env={"CABINET_BASE_URL": original.base})
    copy.key_path = original.key_path  # the key file is part of the backup
    copy.users = dict(original.users)
    copy.start()
    try:
        for cid, doc in docs.items():
            got = ok(copy.login("alice").get(f"/changes/{cid}"))
            assert got == doc
        # and it goes on signing with the installation's key
        assert ok(copy.as_("manager").get("/audit/checkpoint"))["seq"] == last
    finally:
        finish_server(copy)


def test_a_restore_served_with_another_key_is_refused(cluster, original, tmp_path):
    """Without the backed-up key file, serve would make a new key: it refuses
    instead, since the restored database names the old one."""
    dump = tmp_path / "cabinet.dump"
    run(["pg_dump", "-Fc", "-f", dump, "-d", original.db_url], timeout=120)
    db = unique("nokey").replace("-", "_")
    url = cluster.createdb(db)
    run(["pg_restore", "--no-owner", "--exit-on-error", "-d", url, dump], timeout=180)
    copy = Server(cluster, db, name=f"{db}-srv")
    with pytest.raises(AssertionError, match="exited 1 at start"):
        copy.start()
    assert "does not hold this installation's server key" in copy.stderr_text()
    copy._stderr.close()
    copy.proc = None
