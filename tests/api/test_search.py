"""Text search of changes (GET /changes?q=): what it finds, and that it is
served by indexes (pg_trgm on title and description, the primary key for a
ref, a btree for an external_ref) rather than by reading every change."""

import pytest

from conftest import finish_server, ok, start_server, unique


@pytest.fixture(scope="module")
def srv(cluster):
    s = start_server(cluster, "m_search")
    yield s
    finish_server(s)


def found(srv, q):
    return [c["id"] for c in ok(srv.as_("alice").get("/changes", params={"q": q}))["items"]]


def test_q_finds_title_description_ref_and_external_ref(srv):
    alice = srv.as_("alice")
    word = unique("needle")
    a = ok(alice.post("/changes", json={"title": f"Rotate the {word.upper()} keys"}), 201)
    b = ok(alice.post("/changes", json={"title": unique("other"),
                                        "description": f"about {word} and more"}), 201)
    c = ok(alice.post("/changes", json={"title": unique("third"),
                                        "external_ref": f"ci:{word}:1"}), 201)
    assert set(found(srv, word)) == {a["id"], b["id"]}, "title and description, any case"
    assert found(srv, a["ref"].lower()) == [a["id"]]
    assert found(srv, f"ci:{word}:1") == [c["id"]]
    assert found(srv, "100%_" + word) == [], "wildcards are taken literally"


def test_each_arm_of_the_search_can_use_an_index(srv):
    """With sequential scans forbidden the plan must still answer: every arm
    of the test has an index (on a table this small the planner would
    rather read it; at scale it reads the indexes)."""
    uid = srv.psql("SELECT id FROM users WHERE email LIKE 'alice%' LIMIT 1")
    srv.psql("INSERT INTO changes (title, description, model, requester_id, source,"
             " content_hash, gate_token)"
             " SELECT 'bulk change ' || i, 'text ' || md5(i::text), 'normal', " + uid +
             ", 'api', repeat('0', 64), 'gt-search-' || i FROM generate_series(1, 5000) i")
    srv.psql("ANALYZE changes")
    # a ref: its id through the primary key (the ref is folded to a constant)
    plan = srv.psql(
        "SET enable_seqscan = off; EXPLAIN SELECT c.id FROM changes c"
        " WHERE change_search_match(c.id, c.title, c.description, c.external_ref, 'chg-77')")
    for index in ("changes_title_trgm", "changes_description_trgm", "changes_pkey",
                  "changes_external_ref"):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan
