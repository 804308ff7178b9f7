"""The conflict rules at the SQL level: conflicts_refresh() over hand-made
change_impact rows and freezes, without HTTP. Windows are half-open; a
freeze without services covers every service."""

import pytest

from conftest import start_server, finish_server


@pytest.fixture(scope="module")
def db(cluster):
    srv = start_server(cluster, "m_conflicts_sql", users={"admin": "admin"})
    uid = srv.users["admin"]["id"]
    srv.psql("INSERT INTO services (name, title, tier) VALUES"
             " ('s-a', 'A', 3), ('s-b', 'B', 3), ('s-c', 'C', 3), ('s-x', 'X', 3)")
    yield srv, uid
    finish_server(srv)


def change(srv, uid, start, end, services):
    """An awaiting change with the given impact rows (hours from a base)."""
    cid = int(srv.psql(
        "INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,"
        " gate_token) VALUES ('t', 'normal', 'awaiting_approval',"
        f" tstzrange('2030-01-01'::timestamptz + interval '{start} hours',"
        f"           '2030-01-01'::timestamptz + interval '{end} hours'),"
        f" {uid}, 'api', repeat('0', 64), md5(random()::text)) RETURNING id").split("\n")[0])
    for s in services:
        srv.psql(f"INSERT INTO change_impact (change_id, service, win)"
                 f" SELECT id, '{s}', win FROM changes WHERE id = {cid}")
    return cid


def refresh(srv, cid):
    return srv.psql(f"SELECT count(*) FROM conflicts_refresh({cid})")


def open_pairs(srv, cid):
    return srv.psql("SELECT string_agg(kind || ':' || coalesce(change_b::text, freeze_id::text)"
                    " || ':' || state, ',' ORDER BY id) FROM conflicts"
                    f" WHERE (change_a = {cid} OR change_b = {cid}) AND state <> 'resolved'")


@pytest.mark.parametrize("a,b,expect", [
    ((0, 2), (2, 4), False),    # touching: [0,2) and [2,4) do not overlap
    ((0, 2), (3, 4), False),    # apart
    ((0, 2), (1, 3), True),     # overlapping
    ((0, 10), (2, 3), True),    # one inside the other
    ((0, 2), (0, 2), True),     # the same window
])
def test_windows(db, a, b, expect):
    srv, uid = db
    first = change(srv, uid, *a, ["s-a"])
    second = change(srv, uid, *b, ["s-a"])
    refresh(srv, second)
    got = srv.psql(f"SELECT count(*) FROM conflicts WHERE change_a = {first}"
                   f" AND change_b = {second} AND state = 'open'")
    assert got == ("1" if expect else "0"), (a, b)


def test_disjoint_impact_sets_do_not_conflict(db):
    srv, uid = db
    first = change(srv, uid, 100, 102, ["s-a", "s-b"])
    second = change(srv, uid, 100, 102, ["s-c"])
    refresh(srv, second)
    assert open_pairs(srv, second) == ""
    third = change(srv, uid, 101, 103, ["s-b", "s-x"])
    refresh(srv, third)
    assert open_pairs(srv, third) == f"change:{third}:open"
    assert srv.psql(f"SELECT services FROM conflicts WHERE change_a = {first}"
                    f" AND change_b = {third}") == "{s-b}"


def test_stored_once_and_resolved_when_no_longer_true(db):
    srv, uid = db
    first = change(srv, uid, 200, 202, ["s-a"])
    second = change(srv, uid, 201, 203, ["s-a"])
    refresh(srv, second)
    refresh(srv, first)  # from the other side: still one record
    assert srv.psql(f"SELECT count(*) FROM conflicts WHERE kind = 'change'"
                    f" AND {first} IN (change_a, change_b) AND {second} IN (change_a, change_b)") == "1"
    srv.psql(f"DELETE FROM change_impact WHERE change_id = {second}")
    refresh(srv, second)
    assert srv.psql(f"SELECT state FROM conflicts WHERE change_a = {first}"
                    f" AND change_b = {second}") == "resolved"
    # true again: the same record reopens
    srv.psql(f"INSERT INTO change_impact (change_id, service, win)"
             f" SELECT id, 's-a', win FROM changes WHERE id = {second}")
    refresh(srv, second)
    assert srv.psql(f"SELECT count(*) || state FROM conflicts WHERE change_a = {first}"
                    f" AND change_b = {second} GROUP BY state") == "1open"


def test_freezes_global_and_per_service(db):
    srv, uid = db
    cid = change(srv, uid, 300, 302, ["s-b"])
    win = ("tstzrange('2030-01-01'::timestamptz + interval '301 hours',"
           " '2030-01-01'::timestamptz + interval '310 hours')")
    glob = srv.psql(f"INSERT INTO freezes (name, win, created_by) VALUES ('all', {win}, {uid})"
                    " RETURNING id").split("\n")[0]
    other = srv.psql(f"INSERT INTO freezes (name, win, created_by) VALUES ('x only', {win}, {uid})"
                     " RETURNING id").split("\n")[0]
    srv.psql(f"INSERT INTO freeze_services VALUES ({other}, 's-x')")
    mine = srv.psql(f"INSERT INTO freezes (name, win, hard, created_by)"
                    f" VALUES ('b only', {win}, false, {uid}) RETURNING id").split("\n")[0]
    srv.psql(f"INSERT INTO freeze_services VALUES ({mine}, 's-b')")
    later = srv.psql("INSERT INTO freezes (name, win, created_by) VALUES ('later',"
                     " tstzrange('2030-01-01'::timestamptz + interval '302 hours',"
                     " '2030-01-01'::timestamptz + interval '305 hours'), "
                     f"{uid}) RETURNING id").split("\n")[0]
    refresh(srv, cid)
    got = open_pairs(srv, cid)
    assert f"freeze:{glob}:open" in got
    assert f"freeze:{mine}:open" in got
    assert f"freeze:{other}:" not in got      # covers another service only
    assert f"freeze:{later}:" not in got      # starts when the window ends


def test_a_change_never_conflicts_with_itself(db):
    srv, uid = db
    cid = change(srv, uid, 400, 402, ["s-a", "s-b", "s-c"])
    refresh(srv, cid)
    assert srv.psql(f"SELECT count(*) FROM conflicts WHERE kind = 'change'"
                    f" AND (change_a = {cid} OR change_b = {cid})") == "0"


def test_impact_sets_follow_chains_and_cycles(db):
    srv, _ = db
    srv.psql("INSERT INTO services (name, title, tier) VALUES ('c1', 'c1', 4), ('c2', 'c2', 4),"
             " ('c3', 'c3', 4), ('c4', 'c4', 4)")
    # c2 depends on c1, c3 on c2, c1 on c3 (a cycle), c4 on c3
    srv.psql("INSERT INTO service_deps VALUES ('c2', 'c1'), ('c3', 'c2'), ('c1', 'c3'),"
             " ('c4', 'c3')")
    got = srv.psql("SELECT string_agg(name || '@' || depth, ',' ORDER BY name)"
                   " FROM impact_set(ARRAY['c1'])")
    assert got == "c1@0,c2@1,c3@2,c4@3"
    assert srv.psql("SELECT string_agg(name, ',' ORDER BY name) FROM impact_set(ARRAY['c4'])") \
        == "c4"


def test_walks_meet_each_service_once_at_its_shortest_depth(db):
    """A ladder of 60 services (each depends on the two below it) reaches
    most services by paths of many lengths; the walk meets every service
    once, at its shortest depth, in either direction, cycles included."""
    srv, _ = db
    srv.psql("INSERT INTO services (name, title, tier)"
             " SELECT 'l' || i, 'l', 4 FROM generate_series(0, 59) i")
    srv.psql("INSERT INTO service_deps SELECT 'l' || i, 'l' || (i - 1)"
             " FROM generate_series(1, 59) i")
    srv.psql("INSERT INTO service_deps SELECT 'l' || i, 'l' || (i - 2)"
             " FROM generate_series(2, 59) i")
    got = srv.psql("SELECT count(*), count(DISTINCT name),"
                   " bool_and(depth = (substr(name, 2)::int + 1) / 2)"
                   " FROM impact_set(ARRAY['l0'])")
    assert got == "60|60|t"
    got = srv.psql("SELECT count(*), bool_and(depth = (59 - substr(name, 2)::int + 1) / 2)"
                   " FROM service_walk(ARRAY['l59'], false)")
    assert got == "60|t"
    # a cycle from top to bottom: l59 reaches l0 at 1, then l58 at 1 + 29
    srv.psql("INSERT INTO service_deps VALUES ('l0', 'l59')")
    assert srv.psql("SELECT count(*), max(depth) FROM impact_set(ARRAY['l59'])") == "60|30"
    # several roots: each at depth 0, an unknown name ignored
    assert srv.psql("SELECT string_agg(name || '@' || depth, ',' ORDER BY name)"
                    " FROM service_walk(ARRAY['l58', 'l59', 'nope'], false)"
                    " WHERE depth = 0") == "l58@0,l59@0"


def test_the_lookups_use_the_gist_indexes(db):
    """With a realistic amount of data the planner answers the two lookups
    conflicts_refresh makes (same service, overlapping window; freezes
    overlapping a window) from the GiST indexes, not by reading every row."""
    srv, uid = db
    srv.psql("INSERT INTO services (name, title, tier)"
             " SELECT 'bulk-' || i, 'Bulk ' || i, 4 FROM generate_series(1, 200) i")
    srv.psql(
        "WITH c AS (INSERT INTO changes (title, model, state, win, requester_id, source,"
        "   content_hash, gate_token)"
        " SELECT 'bulk', 'normal', 'approved',"
        "   tstzrange('2040-01-01'::timestamptz + i * interval '3 hours',"
        "             '2040-01-01'::timestamptz + i * interval '3 hours' + interval '2 hours'),"
        f"  {uid}, 'api', repeat('0', 64), md5(i::text || random()::text)"
        " FROM generate_series(1, 4000) i RETURNING id, win)"
        " INSERT INTO change_impact (change_id, service, win)"
        " SELECT c.id, 'bulk-' || (1 + (c.id * 7 + k) % 200), c.win"
        " FROM c, generate_series(0, 4) k")
    srv.psql("INSERT INTO freezes (name, win, created_by)"
             " SELECT 'bulk ' || i, tstzrange('2041-01-01'::timestamptz + i * interval '2 days',"
             "   '2041-01-01'::timestamptz + i * interval '2 days' + interval '1 day'),"
             f" {uid} FROM generate_series(1, 2000) i")
    srv.psql("ANALYZE change_impact; ANALYZE freezes")
    plan = srv.psql(
        "EXPLAIN SELECT o.change_id FROM change_impact o WHERE o.service = 'bulk-17'"
        " AND o.win && tstzrange('2040-02-01', '2040-02-02')")
    assert "change_impact_service_win" in plan, plan
    assert "Seq Scan" not in plan, plan
    plan = srv.psql(
        "EXPLAIN SELECT f.id FROM freezes f WHERE f.win && tstzrange('2041-03-01', '2041-03-02')")
    assert "freezes_win" in plan, plan
    assert "Seq Scan" not in plan, plan
