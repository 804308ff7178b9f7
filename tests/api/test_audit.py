"""The audit trail: every write leaves an entry; the chainer numbers and
hashes them; the table refuses edits."""

import threading
import time

import pytest

from canonjson import audit_hash, utc_seconds
from conftest import PsqlError, ok, unique

ZERO = "0" * 64

ROWS_SQL = """
SELECT coalesce(json_agg(json_build_object(
    'id', id, 'seq', seq, 'epoch', floor(extract(epoch FROM at))::bigint,
    'actor', actor, 'action', action, 'entity', entity, 'entity_id', entity_id,
    'data', data, 'prev_hash', prev_hash, 'hash', hash) ORDER BY id), '[]')
FROM audit_log
"""


def wait_chained(server, timeout=15):
    """Wait until every entry has been chained; return the rows by id."""
    deadline = time.monotonic() + timeout
    while True:
        pending = int(server.psql("SELECT count(*) FROM audit_log WHERE seq IS NULL"))
        if pending == 0:
            return server.psql_json(ROWS_SQL)
        assert time.monotonic() < deadline, f"{pending} audit entries still unchained"
        time.sleep(0.2)


def make_writes(server):
    admin, alice = server.as_("admin"), server.as_("alice")
    s = ok(admin.post("/services", json={"name": unique("au"), "title": "Audited",
                                         "tier": 2}), 201)
    # Text fields refuse control characters but tab and line breaks, which
    # canonical JSON escapes as \t and \n.
    ch = ok(alice.post("/changes", json={"title": unique("audited"), "services": [s["name"]],
                                         "description": 'quotes " and \\ and é,\ttab\nand LF'}),
            201)
    ok(alice.patch(f"/changes/{ch['id']}", json={"title": "audited, edited"}))
    t = ok(alice.post("/tokens", json={"name": "audit"}), 201)
    assert alice.delete(f"/tokens/{t['id']}").status_code == 204
    return s, ch


def test_writes_are_audited_in_their_own_transaction(server):
    s, ch = make_writes(server)
    alice_actor = f"user:{server.users['alice']['id']}"
    admin_actor = f"user:{server.users['admin']['id']}"
    # The entries exist as soon as the write has answered (chained or not).
    rows = server.psql_json(ROWS_SQL)
    mine = [r for r in rows if r["actor"] == alice_actor and r["entity_id"] == str(ch["id"])]
    assert len(mine) >= 2, rows[-10:]  # created, edited
    assert any(r["actor"] == admin_actor and r["entity_id"] == s["name"] for r in rows), rows[-10:]


def test_chain_is_gapless_and_hashes_verify(server):
    make_writes(server)
    rows = wait_chained(server)
    assert rows, "no audit entries at all"
    seqs = [r["seq"] for r in rows]
    # Numbered 1..N with no gap (in commit order, which is id order here
    # since these writes ran one after another).
    assert seqs == list(range(1, len(rows) + 1)), seqs
    prev = ZERO
    for r in rows:
        assert r["prev_hash"] == prev, r
        row = dict(r, at=utc_seconds(r["epoch"]))
        assert r["hash"] == audit_hash(prev, row), r
        prev = r["hash"]


def test_chain_keeps_up_with_concurrent_writes(server):
    token = server.token_client("bob").token
    errors = []

    def go(i):
        c = server.bearer(token)
        for j in range(4):
            r = c.post("/changes", json={"title": f"chain load {i}-{j}"})
            if r.status_code != 201:
                errors.append(r.text)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    # Concurrent transactions commit out of id order: follow seq.
    rows = sorted(wait_chained(server), key=lambda r: r["seq"])
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    prev = ZERO
    for r in rows:
        assert r["prev_hash"] == prev and r["hash"] == audit_hash(prev, dict(
            r, at=utc_seconds(r["epoch"]))), r
        prev = r["hash"]


def test_login_is_audited(server):
    u = server.add_user("auditlogin")
    before = int(server.psql(f"SELECT count(*) FROM audit_log WHERE actor = 'user:{u['id']}'"))
    server.login("auditlogin")
    after = int(server.psql(f"SELECT count(*) FROM audit_log WHERE actor = 'user:{u['id']}'"))
    assert after > before


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET action = 'forged' WHERE id = (SELECT min(id) FROM audit_log)",
    "UPDATE audit_log SET data = '{\"x\":1}' WHERE id = (SELECT max(id) FROM audit_log)",
    "UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 1",
    "UPDATE audit_log SET seq = seq + 1000000 WHERE seq = 1",
    "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
])
def test_audit_log_is_append_only(server, sql):
    make_writes(server)
    wait_chained(server)
    before = server.psql("SELECT count(*), md5(string_agg(hash || action || data::text, ',' "
                         "ORDER BY id)) FROM audit_log")
    # In a transaction rolled back at the end, so that a guard that fails to
    # refuse does not spoil the log for the other tests.
    with pytest.raises(PsqlError) as e:
        out = server.psql(f"BEGIN; {sql}; SELECT 'not refused'; ROLLBACK")
        pytest.fail(f"{sql!r} was not refused: {out}")
    assert "append-only" in e.value.stderr or "cannot be changed" in e.value.stderr, e.value.stderr
    after = server.psql("SELECT count(*), md5(string_agg(hash || action || data::text, ',' "
                        "ORDER BY id)) FROM audit_log")
    assert before == after


def test_accounts_made_on_the_command_line_are_audited_as_system(server):
    u = server.add_user("cliuser", roles="cab")
    rows = server.psql_json(ROWS_SQL)
    mine = [r for r in rows if r["entity_id"] == str(u["id"]) and r["actor"] == "system"]
    assert mine, rows[-5:]
