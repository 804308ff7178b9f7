"""The conflict rules at the SQL level: conflicts_refresh() over hand-made
impact sets (change_impact_sets) and freezes, without HTTP. Windows are half-open; a
freeze without services covers every service. A pair's overlap is direct
when either change lists a service the two share, else shared; the
migration that brought it (0011) filled it in on the records already
there."""

import shutil
import subprocess

import pytest

from conftest import (BIN, SQL_DIR, finish_server, psql, run, sanitizer_env, sanitizer_findings,
                      start_server)


@pytest.fixture(scope="module")
def db(cluster):
    srv = start_server(cluster, "m_conflicts_sql", users={"admin": "admin"})
    uid = srv.users["admin"]["id"]
    srv.psql("INSERT INTO services (name, title, tier) VALUES"
             " ('s-a', 'A', 3), ('s-b', 'B', 3), ('s-c', 'C', 3), ('s-x', 'X', 3)")
    yield srv, uid
    finish_server(srv)


def change(srv, uid, start, end, services, listed=()):
    """An awaiting change with the given impact rows (hours from a base)
    that lists the services `listed`."""
    cid = int(srv.psql(
        "INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,"
        " gate_token) VALUES ('t', 'normal', 'awaiting_approval',"
        f" tstzrange('2030-01-01'::timestamptz + interval '{start} hours',"
        f"           '2030-01-01'::timestamptz + interval '{end} hours'),"
        f" {uid}, 'api', repeat('0', 64), md5(random()::text)) RETURNING id").split("\n")[0])
    impact(srv, cid, services)
    for s in listed:
        srv.psql(f"INSERT INTO change_services (change_id, service) VALUES ({cid}, '{s}')")
    return cid


def impact(srv, cid, services):
    """Stores the impact set `services` of the change with its window, as
    the assessment does (none when empty)."""
    if services:
        names = ",".join(f"'{s}'" for s in services)
        srv.psql("INSERT INTO change_impact_sets (change_id, win, sids, listed)"
                 f" SELECT id, win, impact_ids(ARRAY[{names}]), impact_listed(id)"
                 f" FROM changes WHERE id = {cid}")


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
    srv.psql(f"DELETE FROM change_impact_sets WHERE change_id = {second}")
    refresh(srv, second)
    assert srv.psql(f"SELECT state FROM conflicts WHERE change_a = {first}"
                    f" AND change_b = {second}") == "resolved"
    # true again: the same record reopens
    impact(srv, second, ["s-a"])
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
    conflicts_refresh makes (active changes whose window overlaps; freezes
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
        " INSERT INTO change_impact_sets (change_id, win, sids)"
        " SELECT c.id, c.win, impact_ids(ARRAY(SELECT 'bulk-' || (1 + (c.id * 7 + k) % 200)"
        "                                      FROM generate_series(0, 4) k))"
        " FROM c")
    srv.psql("INSERT INTO freezes (name, win, created_by)"
             " SELECT 'bulk ' || i, tstzrange('2041-01-01'::timestamptz + i * interval '2 days',"
             "   '2041-01-01'::timestamptz + i * interval '2 days' + interval '1 day'),"
             f" {uid} FROM generate_series(1, 2000) i")
    srv.psql("ANALYZE change_impact_sets; ANALYZE freezes")
    plan = srv.psql(
        "EXPLAIN SELECT o.change_id FROM change_impact_sets o"
        " WHERE o.win && tstzrange('2040-02-01', '2040-02-02')"
        " AND o.sids && impact_ids(ARRAY['bulk-17'])")
    assert "change_impact_sets_win" in plan, plan
    assert "Seq Scan" not in plan, plan
    plan = srv.psql(
        "EXPLAIN SELECT f.id FROM freezes f WHERE f.win && tstzrange('2041-03-01', '2041-03-02')")
    assert "freezes_win" in plan, plan
    assert "Seq Scan" not in plan, plan


# --- overlap ---------------------------------------------------------------------------------


def pair(srv, a, b):
    """overlap|services of the record of a and b."""
    return srv.psql(f"SELECT overlap || '|' || array_to_string(services, ',') FROM conflicts"
                    f" WHERE change_a = {min(a, b)} AND change_b = {max(a, b)}")


def rev(srv, cid):
    return int(srv.psql(f"SELECT rev FROM changes WHERE id = {cid}"))


@pytest.mark.parametrize("first,second,expect", [
    # lists a, impact a+b (b depends on a) / lists b: b is listed by the second
    ((["s-a"], ["s-a", "s-b"]), (["s-b"], ["s-b"]), "direct|s-b"),
    # the same service listed by both
    ((["s-a"], ["s-a"]), (["s-a"], ["s-a"]), "direct|s-a"),
    # lists a, impact a+c / lists x, impact x+c: they meet on c, listed by neither
    ((["s-a"], ["s-a", "s-c"]), (["s-x"], ["s-x", "s-c"]), "shared|s-c"),
    # one listed service among the shared ones is enough
    ((["s-a"], ["s-a", "s-b", "s-c"]), (["s-x", "s-c"], ["s-x", "s-b", "s-c"]),
     "direct|s-b,s-c"),
], ids=["dependent", "same-service", "downstream-only", "one-of-several"])
def test_overlap_direct_or_shared(db, first, second, expect):
    srv, uid = db
    base = 500 + 10 * int(srv.psql("SELECT count(*) FROM changes"))
    a = change(srv, uid, base, base + 2, first[1], listed=first[0])
    b = change(srv, uid, base + 1, base + 3, second[1], listed=second[0])
    refresh(srv, b)
    assert pair(srv, a, b) == expect
    # conflict_doc shows it, and the change documents' entries
    doc = srv.psql_json(f"SELECT conflict_doc(k, NULL) FROM conflicts k"
                        f" WHERE change_a = {a} AND change_b = {b}")
    assert doc["overlap"] == expect.split("|")[0]
    entries = srv.psql_json(f"SELECT change_conflicts({a})")
    assert [(e["other"]["id"], e["overlap"]) for e in entries] == [(b, expect.split("|")[0])]


def test_overlap_follows_an_update_and_moves_the_other_changes_rev(db):
    srv, uid = db
    a = change(srv, uid, 700, 702, ["s-a", "s-c"], listed=["s-a"])
    b = change(srv, uid, 701, 703, ["s-x", "s-c"], listed=["s-x"])
    refresh(srv, b)
    assert pair(srv, a, b) == "shared|s-c"
    kid = srv.psql(f"SELECT id FROM conflicts WHERE change_a = {a} AND change_b = {b}")
    before = rev(srv, a)
    refresh(srv, b)  # nothing moved: the other change keeps its rev
    assert rev(srv, a) == before
    # b now lists c as well: direct, on the same open record, which a shows
    srv.psql(f"INSERT INTO change_services VALUES ({b}, 's-c')")
    assert refresh(srv, b) == "0", "no record changed state"
    assert pair(srv, a, b) == "direct|s-c"
    assert srv.psql(f"SELECT id || state FROM conflicts WHERE change_a = {a}"
                    f" AND change_b = {b}") == f"{kid}open"
    assert rev(srv, a) == before + 1
    # reopened after being resolved, it is computed again
    srv.psql(f"DELETE FROM change_services WHERE change_id = {b} AND service = 's-c';"
             f" DELETE FROM change_impact_sets WHERE change_id = {b}")
    refresh(srv, b)
    impact(srv, b, ["s-x", "s-c"])
    refresh(srv, b)
    assert pair(srv, a, b) == "shared|s-c"


def test_freezes_have_no_overlap_and_pairs_always_have_one(db):
    srv, uid = db
    cid = change(srv, uid, 800, 802, ["s-b"], listed=["s-b"])
    srv.psql("INSERT INTO freezes (name, win, created_by) VALUES ('everything',"
             " tstzrange('2030-01-01'::timestamptz + interval '800 hours',"
             f" '2030-01-01'::timestamptz + interval '801 hours'), {uid})")
    refresh(srv, cid)
    assert srv.psql(f"SELECT count(*) FILTER (WHERE overlap IS NULL) || '/' || count(*)"
                    f" FROM conflicts WHERE kind = 'freeze' AND change_a = {cid}") == "1/1"
    assert srv.psql("SELECT count(*) FROM conflicts WHERE (kind = 'change') <> (overlap IS NOT"
                    " NULL)") == "0"
    with pytest.raises(AssertionError, match="conflicts_overlap_of_changes"):
        srv.psql(f"UPDATE conflicts SET overlap = 'direct' WHERE kind = 'freeze'"
                 f" AND change_a = {cid}")


def test_the_summary_counts_every_unresolved_conflict(db):
    srv, uid = db
    subject = change(srv, uid, 900, 960, ["s-a", "s-c"], listed=["s-a"])
    others = [change(srv, uid, 901 + 2 * i, 902 + 2 * i, ["s-a"] if i % 3 else ["s-x", "s-c"],
                     listed=["s-a"] if i % 3 else ["s-x"]) for i in range(24)]
    for o in others:
        refresh(srv, o)
    srv.psql(f"UPDATE conflicts SET state = 'acknowledged', note = 'ok' WHERE change_a = {subject}"
             f" AND change_b = {others[1]}")
    srv.psql(f"DELETE FROM change_impact_sets WHERE change_id = {others[2]}")
    refresh(srv, others[2])
    got = srv.psql_json(f"SELECT change_conflict_summary({subject})")
    assert got == {"total": 23, "open": 22, "acknowledged": 1, "direct": 15}, got
    entries = srv.psql_json(f"SELECT change_conflicts({subject})")
    assert len(entries) == 20
    assert [e["overlap"] for e in entries] == ["direct"] * 15 + ["shared"] * 5
    assert others[2] not in [e["other"]["id"] for e in entries]
    starts = [others.index(e["other"]["id"]) for e in entries]
    assert starts[:15] == sorted(starts[:15]) and starts[15:] == sorted(starts[15:])


def test_a_changes_records_are_read_through_indexes(db):
    """change_conflict_records(), which change_conflicts(), the summary and
    the paged list read, finds a change's records through the pair, freeze
    and change_b indexes, not by reading the table."""
    srv, uid = db
    srv.psql("INSERT INTO conflicts (kind, change_a, change_b, services, overlap, state)"
             " SELECT 'change', a, a + d, '{s-a}', 'shared', 'resolved'"
             " FROM (SELECT min(id) AS lo, max(id) AS hi FROM changes) r,"
             " generate_series(r.lo, r.hi - 5) a, generate_series(1, 4) d"
             " ON CONFLICT DO NOTHING")
    srv.psql("ANALYZE conflicts")
    assert int(srv.psql("SELECT count(*) FROM conflicts")) > 1000
    plan = srv.psql("EXPLAIN SELECT * FROM change_conflict_records(42) k ORDER BY k.id")
    for index in ("conflicts_change_pair", "conflicts_change_freeze", "conflicts_change_b"):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan


# --- the backfill of 0011 --------------------------------------------------------------------


def test_the_migration_fills_in_the_overlap_of_existing_records(cluster, tmp_path):
    """Records made before 0011 get their overlap from the services their
    changes list; freeze records get none."""
    before = tmp_path / "sql"
    before.mkdir()
    for f in sorted(SQL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if f.name < "0011":
            shutil.copy(f, before / f.name)
    cluster.createdb("m_overlap_backfill")
    url = cluster.url("m_overlap_backfill")

    def migrate():
        cp = run([BIN, "migrate"], env={"CABINET_DATABASE_URL": url,
                                         "CABINET_SQL_DIR": str(before), **sanitizer_env()},
                 check=False, timeout=180)
        assert cp.returncode == 0, cp.stderr
        assert not sanitizer_findings(cp.stderr), cp.stderr

    migrate()
    assert psql(url, "SELECT count(*) FROM information_schema.columns"
                     " WHERE table_name = 'conflicts' AND column_name = 'overlap'") == "0"
    uid = psql(url, "INSERT INTO users (email, name, password_hash)"
                    " VALUES ('b@x.test', 'B', 'x') RETURNING id").split("\n")[0]
    psql(url, "INSERT INTO services (name, title, tier) VALUES ('p', 'P', 3), ('q', 'Q', 3),"
              " ('r', 'R', 3), ('d', 'D', 3)")

    def mk(listed, impact, hours):
        cid = psql(url, "INSERT INTO changes (title, model, state, win, requester_id, source,"
                        " content_hash, gate_token) VALUES ('t', 'normal', 'awaiting_approval',"
                        f" tstzrange('2031-01-01'::timestamptz + interval '{hours[0]} hours',"
                        f" '2031-01-01'::timestamptz + interval '{hours[1]} hours'), {uid},"
                        " 'api', repeat('0', 64), md5(random()::text)) RETURNING id"
                   ).split("\n")[0]
        for s in listed:
            psql(url, f"INSERT INTO change_services VALUES ({cid}, '{s}')")
        for s in impact:
            psql(url, f"INSERT INTO change_impact SELECT id, '{s}', win FROM changes"
                      f" WHERE id = {cid}")
        psql(url, f"SELECT count(*) FROM conflicts_refresh({cid})")
        return cid

    p1 = mk(["p"], ["p", "d"], (0, 2))
    q1 = mk(["q"], ["q", "d"], (1, 3))       # meets p1 on d only: shared
    p2 = mk(["p"], ["p", "d"], (1, 2))       # lists p, as p1 does: direct with p1; q1 on d
    psql(url, "INSERT INTO freezes (name, win, created_by) VALUES ('all',"
              f" tstzrange('2031-01-01', '2031-01-02'), {uid})")
    for cid in (p1, q1, p2):
        psql(url, f"SELECT count(*) FROM conflicts_refresh({cid})")
    assert psql(url, "SELECT count(*) FROM conflicts") == "6"

    shutil.copy(SQL_DIR / "0011_lean_documents.sql", before)
    migrate()
    got = psql(url, "SELECT string_agg(change_a || '-' || change_b || ':' || overlap, ','"
                    " ORDER BY change_a, change_b) FROM conflicts WHERE kind = 'change'")
    assert got == f"{p1}-{q1}:shared,{p1}-{p2}:direct,{q1}-{p2}:shared", got
    assert psql(url, "SELECT count(*) FROM conflicts WHERE kind = 'freeze'"
                     " AND overlap IS NULL") == "3"


# --- sql/0012: impact_store(), the locks, the backfill ---------------------------------------


def test_impact_store_stores_the_walked_impact_set_once(db):
    """impact_store() computes the impact set from the services the change
    lists and the service map, with the change's window; again it stores
    the same row; a change that is not active has none."""
    srv, uid = db
    srv.psql("INSERT INTO services (name, title, tier) VALUES ('st-low', 'L', 3),"
             " ('st-up', 'U', 3), ('st-off', 'O', 3)")
    srv.psql("INSERT INTO service_deps VALUES ('st-up', 'st-low')")
    cid = change(srv, uid, 1000, 1002, [], listed=["st-low"])
    row = ("SELECT array_to_string(impact_names(ai.sids), ',') || '|'"
           " || array_to_string(impact_names(ai.listed), ',') || '|' || (ai.win = c.win)"
           f" FROM change_impact_sets ai JOIN changes c ON c.id = ai.change_id WHERE c.id = {cid}")
    stamp = f"SELECT stamp FROM change_impact_sets WHERE change_id = {cid}"
    assert srv.psql(f"SELECT impact_store({cid})") == "2"
    assert srv.psql(row) == "st-low,st-up|st-low|true"
    first = srv.psql(stamp)
    assert srv.psql(f"SELECT impact_store({cid})") == "2"
    assert srv.psql(row) == "st-low,st-up|st-low|true"
    assert srv.psql(stamp) == first, "nothing moved: nothing written"
    assert srv.psql(f"SELECT count(*) FROM change_impact_sets WHERE change_id = {cid}") == "1"
    # the window moved: stored again with the new one
    srv.psql(f"UPDATE changes SET win = tstzrange(lower(win), upper(win) + interval '1 hour')"
             f" WHERE id = {cid}")
    assert srv.psql(row) == "st-low,st-up|st-low|false"
    srv.psql(f"SELECT impact_store({cid})")
    assert srv.psql(row) == "st-low,st-up|st-low|true"
    assert srv.psql(stamp) != first
    # what it stores meets other changes as the workflow's rows do
    other = change(srv, uid, 1001, 1003, ["st-up"], listed=["st-up"])
    refresh(srv, other)
    assert pair(srv, cid, other) == "direct|st-up"
    # no longer active: the row goes, and with it the conflict
    srv.psql(f"UPDATE changes SET state = 'cancelled' WHERE id = {cid}")
    assert srv.psql(f"SELECT impact_store({cid})") == "0"
    assert srv.psql(row) == ""
    refresh(srv, other)
    assert srv.psql(f"SELECT state FROM conflicts WHERE change_a = {min(cid, other)}"
                    f" AND change_b = {max(cid, other)}") == "resolved"
    assert srv.psql("SELECT impact_store(-1)") == "0"


def test_listed_services_follow_change_services(db):
    srv, uid = db
    cid = change(srv, uid, 1100, 1101, ["s-a", "s-b"], listed=["s-a"])
    listed = f"SELECT array_to_string(impact_names(listed), ',') FROM change_impact_sets" \
             f" WHERE change_id = {cid}"
    assert srv.psql(listed) == "s-a"
    srv.psql(f"INSERT INTO change_services VALUES ({cid}, 's-b')")
    assert srv.psql(listed) == "s-a,s-b"
    srv.psql(f"DELETE FROM change_services WHERE change_id = {cid} AND service = 's-a'")
    assert srv.psql(listed) == "s-b"


@pytest.mark.parametrize("window,days", [
    ("[2030-01-01 00:00Z, 2030-01-02 00:00Z)", 1),    # a whole day, up to midnight
    ("[2030-01-01 23:00Z, 2030-01-02 01:00Z)", 2),    # across midnight
    ("[2030-01-01 10:00Z, 2030-01-02 00:00Z]", 2),    # midnight itself included
    ("[2030-01-01 10:00Z, 2030-01-01 11:00Z)", 1),
    ("[2030-01-01 00:00Z, 2030-03-03 00:00Z)", 61),
])
def test_conflict_days(db, window, days):
    """The UTC days a window covers, numbered from 1970-01-01: every day
    it has an instant of, no other."""
    srv, _ = db
    got = srv.psql("SELECT count(*) || '|' || (min(d) = 21915) || '|' || (max(d) = 21915 + count(*) - 1)"
                   f" FROM conflicts_days('{window}'::tstzrange) d")
    assert got == f"{days}|true|true"


def held_locks(srv, wins):
    """The advisory locks a transaction holds after conflicts_lock_windows(wins),
    as 'global:<mode>' and a count of day locks."""
    out = srv.psql(
        f"BEGIN; SELECT conflicts_lock_windows(ARRAY[{wins}]::tstzrange[]);"
        " SELECT coalesce(string_agg(mode, ',' ORDER BY mode) FILTER (WHERE objid = 1667326566"
        "  AND objsubid = 1), '-') || '|' || count(*) FILTER (WHERE classid = 1667326564"
        "  AND objsubid = 2) FROM pg_locks WHERE locktype = 'advisory'"
        "  AND pid = pg_backend_pid(); COMMIT;")
    return [line for line in out.split("\n") if "|" in line][-1]


def test_narrow_windows_take_days_and_long_ones_the_global_lock(db):
    srv, _ = db
    # two windows, 3 days in all, one of them shared: each day once
    assert held_locks(srv, "'[2030-01-01 10:00Z, 2030-01-02 10:00Z)',"
                           " '[2030-01-02 11:00Z, 2030-01-03 01:00Z)'") == "ShareLock|3"
    assert held_locks(srv, "'[2030-01-01, 2030-03-03)'") == "ShareLock|61"
    # longer than 62 days: the global key exclusively, no day locks
    assert held_locks(srv, "'[2030-01-01, 2030-03-05)'") == "ExclusiveLock|0"
    assert held_locks(srv, "'[2030-01-01 10:00Z, 2030-01-01 11:00Z)',"
                           " '[2030-01-01, 2030-06-01)'") == "ExclusiveLock|0"
    assert held_locks(srv, "NULL") == "ShareLock|0"


def test_a_long_freeze_finds_its_conflicts(db):
    """A freeze over months (the global lock's path) opens records on the
    changes it covers and resolves them when it no longer does."""
    srv, uid = db
    a = change(srv, uid, 1200, 1202, ["s-c"])
    b = change(srv, uid, 1200 + 24 * 80, 1202 + 24 * 80, ["s-c"])
    fid = srv.psql("INSERT INTO freezes (name, win, created_by) VALUES ('months',"
                   " tstzrange('2030-01-01'::timestamptz + interval '1100 hours',"
                   f" '2030-01-01'::timestamptz + interval '{1100 + 24 * 100} hours'), {uid})"
                   " RETURNING id").split("\n")[0]
    srv.psql(f"INSERT INTO freeze_services VALUES ({fid}, 's-c')")
    got = srv.psql(f"BEGIN; SELECT conflicts_lock_freeze({fid}, NULL);"
                   f" SELECT freeze_conflicts_refresh({fid}); COMMIT;")
    assert "2" in got.split("\n"), got
    for cid in (a, b):
        assert open_pairs(srv, cid) == f"freeze:{fid}:open"
    srv.psql(f"UPDATE freezes SET win = tstzrange(lower(win), lower(win) + interval '5 days')"
             f" WHERE id = {fid}")
    srv.psql(f"SELECT freeze_conflicts_refresh({fid})")
    assert open_pairs(srv, a) == f"freeze:{fid}:open"
    assert open_pairs(srv, b) == ""


def test_a_refresh_writes_only_what_moved(db):
    """A second refresh with nothing new rewrites no record (the record's
    row version stays) and bumps no other change."""
    srv, uid = db
    a = change(srv, uid, 1300, 1302, ["s-a", "s-b"], listed=["s-a"])
    b = change(srv, uid, 1301, 1303, ["s-b"], listed=["s-b"])
    refresh(srv, b)
    row = f"SELECT xmin::text FROM conflicts WHERE change_a = {a} AND change_b = {b}"
    before, rev_a = srv.psql(row), rev(srv, a)
    assert refresh(srv, b) == "0" and refresh(srv, a) == "0"
    assert srv.psql(row) == before and rev(srv, a) == rev_a
    # the shared services move: the record is written, its state stays
    srv.psql(f"UPDATE change_impact_sets SET sids = impact_ids(ARRAY['s-a', 's-b'])"
             f" WHERE change_id = {b}")
    assert refresh(srv, b) == "0"
    assert srv.psql(row) != before
    assert pair(srv, a, b) == "direct|s-a,s-b"


def test_the_migration_moves_the_impact_rows(cluster, tmp_path):
    """change_impact rows made before 0012 become one row per change with
    the same impact set and window; the records get their service ids, so
    that a refresh afterwards finds nothing to change."""
    before = tmp_path / "sql"
    before.mkdir()
    for f in sorted(SQL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if f.name < "0012":
            shutil.copy(f, before / f.name)
    cluster.createdb("m_impact_backfill")
    url = cluster.url("m_impact_backfill")

    def migrate():
        cp = run([BIN, "migrate"], env={"CABINET_DATABASE_URL": url,
                                         "CABINET_SQL_DIR": str(before), **sanitizer_env()},
                 check=False, timeout=180)
        assert cp.returncode == 0, cp.stderr
        assert not sanitizer_findings(cp.stderr), cp.stderr

    migrate()
    uid = psql(url, "INSERT INTO users (email, name, password_hash)"
                    " VALUES ('m@x.test', 'M', 'x') RETURNING id").split("\n")[0]
    psql(url, "INSERT INTO services (name, title, tier) VALUES ('p', 'P', 3), ('q', 'Q', 3),"
              " ('d', 'D', 3)")
    ids = []
    for listed, impact, hours in ((["p"], ["p", "d"], (0, 2)), (["q"], ["q", "d"], (1, 3))):
        cid = psql(url, "INSERT INTO changes (title, model, state, win, requester_id, source,"
                        " content_hash, gate_token) VALUES ('t', 'normal', 'approved',"
                        f" tstzrange('2031-01-01'::timestamptz + interval '{hours[0]} hours',"
                        f" '2031-01-01'::timestamptz + interval '{hours[1]} hours'), {uid},"
                        " 'api', repeat('0', 64), md5(random()::text)) RETURNING id"
                   ).split("\n")[0]
        for s in listed:
            psql(url, f"INSERT INTO change_services VALUES ({cid}, '{s}')")
        for s in impact:
            psql(url, f"INSERT INTO change_impact SELECT id, '{s}', win FROM changes"
                      f" WHERE id = {cid}")
        psql(url, f"SELECT count(*) FROM conflicts_refresh({cid})")
        ids.append(cid)
    psql(url, "INSERT INTO freezes (name, win, created_by) VALUES ('all',"
              f" tstzrange('2031-01-01', '2031-01-02'), {uid})")
    for cid in ids:
        psql(url, f"SELECT count(*) FROM conflicts_refresh({cid})")
    revs = psql(url, "SELECT string_agg(rev::text, ',' ORDER BY id) FROM changes")

    shutil.copy(SQL_DIR / "0012_conflict_buckets.sql", before)
    migrate()
    assert psql(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'change_impact'") == "0"
    got = psql(url, "SELECT string_agg(change_id || ':' || array_to_string(impact_names(sids), '+')"
                    " || ':' || array_to_string(impact_names(listed), '+') || ':'"
                    " || (win = (SELECT c.win FROM changes c WHERE c.id = change_id)),"
                    " ',' ORDER BY change_id) FROM change_impact_sets")
    assert got == f"{ids[0]}:d+p:p:true,{ids[1]}:d+q:q:true", got
    assert psql(url, "SELECT count(*) FROM conflicts WHERE service_ids IS NULL"
                     " OR impact_names(service_ids) <> services") == "0"
    assert psql(url, "SELECT count(*) FROM conflicts WHERE state = 'open'") == "3"
    for cid in ids:
        assert psql(url, f"SELECT count(*) FROM conflicts_refresh({cid})") == "0"
    assert psql(url, "SELECT string_agg(rev::text, ',' ORDER BY id) FROM changes") == revs
