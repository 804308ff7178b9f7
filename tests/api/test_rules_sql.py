"""The rules of the schedule as SQL functions (sql/0007_rules.sql), without
HTTP: freeze_covers(), change_is_active() and change_is_open() over tables
of cases, the partial unique index on external_ref built on
change_is_open(), and the conflict functions built on the other two."""

import pytest

from conftest import PsqlError, finish_server, start_server

STATES = ["draft", "awaiting_approval", "approved", "rejected", "in_progress", "review",
          "closed", "cancelled"]
ACTIVE = {"awaiting_approval", "approved", "in_progress"}
CLOSED = {"closed", "cancelled", "rejected"}


@pytest.fixture(scope="module")
def db(cluster):
    srv = start_server(cluster, "m_rules_sql", users={"admin": "admin"})
    uid = srv.users["admin"]["id"]
    srv.psql("INSERT INTO services (name, title, tier) VALUES"
             " ('r-a', 'A', 3), ('r-b', 'B', 3), ('r-c', 'C', 3), ('r-x', 'X', 3)")
    yield srv, uid
    finish_server(srv)


def one(srv, sql):
    return srv.psql(sql).split("\n")[0]


def hours(start, end):
    return (f"tstzrange('2031-01-01'::timestamptz + interval '{start} hours',"
            f" '2031-01-01'::timestamptz + interval '{end} hours')")


def change(srv, uid, start, end, services, state="awaiting_approval", ref=None):
    """A change in state with impact rows for services (hours from a base),
    as the workflow would leave an active one."""
    ref_sql = "NULL" if ref is None else f"'{ref}'"
    cid = int(one(srv,
        "INSERT INTO changes (title, model, state, win, requester_id, source, content_hash,"
        f" gate_token, external_ref) VALUES ('t', 'normal', '{state}', {hours(start, end)},"
        f" {uid}, 'api', repeat('0', 64), md5(random()::text), {ref_sql}) RETURNING id"))
    if services:
        names = ",".join(f"'{s}'" for s in services)
        srv.psql("INSERT INTO change_impact_sets (change_id, win, sids)"
                 f" SELECT id, win, impact_ids(ARRAY[{names}]) FROM changes WHERE id = {cid}")
    return cid


def freeze(srv, uid, start, end, services=()):
    fid = int(one(srv, f"INSERT INTO freezes (name, win, created_by)"
                       f" VALUES ('f', {hours(start, end)}, {uid}) RETURNING id"))
    for s in services:
        srv.psql(f"INSERT INTO freeze_services VALUES ({fid}, '{s}')")
    return fid


def records(srv, cid):
    """The change's conflict records that are not resolved, as kind:other:services."""
    return srv.psql(
        "SELECT string_agg(kind || ':' || coalesce(nullif(change_a + coalesce(change_b, 0)"
        f" - {cid}, 0)::text, freeze_id::text) || ':' || array_to_string(services, '+'),"
        " ',' ORDER BY id) FROM conflicts"
        f" WHERE {cid} IN (change_a, change_b) AND state <> 'resolved'")


def rev(srv, cid):
    return int(srv.psql(f"SELECT rev FROM changes WHERE id = {cid}"))


# --- the three functions -------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_change_is_active(db, state):
    srv, _ = db
    got = srv.psql(f"SELECT change_is_active('{state}')")
    assert got == ("t" if state in ACTIVE else "f"), state


@pytest.mark.parametrize("state", STATES)
def test_change_is_open(db, state):
    srv, _ = db
    got = srv.psql(f"SELECT change_is_open('{state}')")
    assert got == ("f" if state in CLOSED else "t"), state


@pytest.mark.parametrize("listed,asked,covers", [
    ([], ["r-a"], True),                  # no services: covers every service
    ([], ["r-a", "r-b"], True),
    ([], [], True),
    ([], None, True),
    (["r-a"], ["r-a"], True),             # lists one of them
    (["r-a", "r-b"], ["r-x", "r-b"], True),
    (["r-a", "r-b"], ["r-b", "r-a"], True),
    (["r-a"], ["r-x"], False),            # lists none of them
    (["r-a", "r-b"], ["r-c", "r-x"], False),
    (["r-a"], [], False),
    (["r-a"], None, False),
])
def test_freeze_covers(db, listed, asked, covers):
    srv, uid = db
    fid = freeze(srv, uid, 0, 1, listed)
    arg = "NULL::text[]" if asked is None else \
        "ARRAY[" + ",".join(f"'{s}'" for s in asked) + "]::text[]"
    assert srv.psql(f"SELECT freeze_covers({fid}, {arg})") == ("t" if covers else "f")


def test_volatility_fits_their_uses(db):
    """change_is_open() sits in an index predicate, which takes only
    IMMUTABLE functions; freeze_covers() reads a table, so STABLE."""
    srv, _ = db
    got = srv.psql("SELECT string_agg(proname || '=' || provolatile::text"
                   " || proparallel::text, ',' ORDER BY proname) FROM pg_proc"
                   " WHERE proname IN ('freeze_covers', 'change_is_active', 'change_is_open')")
    assert got == "change_is_active=is,change_is_open=is,freeze_covers=ss"


def test_each_rule_is_written_once(db):
    """No other SQL function spells out the active states, the states that
    take decisions (change_takes_decisions, for e-mail) or the freeze test;
    freeze_doc() reads freeze_services only to list them."""
    srv, _ = db
    by_states = srv.psql("SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc p"
                         " JOIN pg_namespace n ON n.oid = p.pronamespace"
                         " WHERE n.nspname = 'public' AND prosrc LIKE '%in_progress%'")
    assert by_states == "change_is_active,change_takes_decisions"
    for fn in ("mail_from_outbox", "mail_recipients"):
        src = srv.psql(f"SELECT prosrc FROM pg_proc WHERE proname = '{fn}'")
        assert "change_takes_decisions(" in src, fn
    by_freeze = srv.psql("SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc p"
                         " JOIN pg_namespace n ON n.oid = p.pronamespace"
                         " WHERE n.nspname = 'public' AND prosrc LIKE '%freeze_services%'")
    assert by_freeze == "freeze_covered_ids,freeze_covers,freeze_doc"
    for fn in ("conflicts_refresh_part", "freeze_conflicts_refresh"):
        src = srv.psql(f"SELECT prosrc FROM pg_proc WHERE proname = '{fn}'")
        assert "change_is_active(" in src, fn
        assert "freeze_covered_ids(" in src, fn
    assert "freeze_covers(" in srv.psql(
        "SELECT prosrc FROM pg_proc WHERE proname = 'freeze_covered_ids'")
    assert "conflicts_refresh_part(" in srv.psql(
        "SELECT prosrc FROM pg_proc WHERE proname = 'conflicts_refresh'")


# --- external_ref: one open change per reference -------------------------------------


def test_the_external_ref_index_is_built_on_change_is_open(db):
    srv, _ = db
    got = srv.psql("SELECT indexdef FROM pg_indexes"
                   " WHERE indexname = 'changes_external_ref_active'")
    assert "UNIQUE" in got and "change_is_open(state)" in got, got
    assert "awaiting_approval" not in got


@pytest.mark.parametrize("state", STATES)
def test_an_open_change_holds_its_external_ref(db, state):
    srv, uid = db
    ref = f"rules-{state}"
    first = change(srv, uid, 0, 1, [], state=state, ref=ref)
    if state in CLOSED:
        second = change(srv, uid, 0, 1, [], state="draft", ref=ref)
        assert second != first
        return
    with pytest.raises(PsqlError) as e:
        change(srv, uid, 0, 1, [], state="draft", ref=ref)
    assert "changes_external_ref_active" in e.value.stderr
    # once the first is closed, the reference is free again
    srv.psql(f"UPDATE changes SET state = 'closed' WHERE id = {first}")
    change(srv, uid, 0, 1, [], state="draft", ref=ref)


# --- the conflict functions on the rules ---------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_only_active_changes_meet(db, state):
    """Impact rows left for a change that is not active meet nothing, from
    either side; an active one meets as before."""
    srv, uid = db
    base = 100 + 10 * STATES.index(state)
    mine = change(srv, uid, base, base + 2, ["r-c"])
    other = change(srv, uid, base + 1, base + 3, ["r-c"], state=state)
    srv.psql(f"SELECT count(*) FROM conflicts_refresh({mine})")
    active = state in ACTIVE
    assert records(srv, mine) == (f"change:{other}:r-c" if active else ""), state
    srv.psql(f"SELECT count(*) FROM conflicts_refresh({other})")
    assert records(srv, other) == (f"change:{mine}:r-c" if active else ""), state


def test_a_change_that_stops_being_active_has_its_records_resolved(db):
    srv, uid = db
    a = change(srv, uid, 200, 202, ["r-a"])
    b = change(srv, uid, 201, 203, ["r-a"])
    fid = freeze(srv, uid, 200, 201, ["r-a"])
    srv.psql(f"SELECT count(*) FROM conflicts_refresh({b})")
    srv.psql(f"SELECT count(*) FROM conflicts_refresh({a})")
    assert records(srv, a) == f"change:{b}:r-a,freeze:{fid}:r-a"
    before = rev(srv, b)
    srv.psql(f"UPDATE changes SET state = 'closed' WHERE id = {a}")
    assert srv.psql(f"SELECT string_agg(state, ',' ORDER BY conflict_id)"
                    f" FROM conflicts_refresh({a})") == "resolved,resolved"
    assert records(srv, a) == "" and records(srv, b) == ""
    assert rev(srv, b) == before + 1  # the other change's ETag moves


def test_freeze_conflicts_follow_what_the_freeze_covers(db):
    """freeze_conflicts_refresh opens records on the active changes it
    covers (only on the covered services), leaves the others alone,
    resolves what it no longer covers and counts the changes it bumped."""
    srv, uid = db
    both = change(srv, uid, 300, 302, ["r-a", "r-b"])
    only_x = change(srv, uid, 300, 302, ["r-x"])
    closed = change(srv, uid, 300, 302, ["r-b"], state="closed")
    later = change(srv, uid, 310, 312, ["r-b"])
    fid = freeze(srv, uid, 301, 305, ["r-b"])
    revs = {c: rev(srv, c) for c in (both, only_x, closed, later)}

    assert srv.psql(f"SELECT freeze_conflicts_refresh({fid})") == "1"
    assert records(srv, both) == f"freeze:{fid}:r-b"
    assert records(srv, only_x) == records(srv, closed) == records(srv, later) == ""
    assert rev(srv, both) == revs[both] + 1
    assert all(rev(srv, c) == revs[c] for c in (only_x, closed, later))

    # nothing new: nothing bumped
    assert srv.psql(f"SELECT freeze_conflicts_refresh({fid})") == "0"

    # now it covers r-x only: the record on `both` resolves, one opens on only_x
    srv.psql(f"DELETE FROM freeze_services WHERE freeze_id = {fid};"
             f" INSERT INTO freeze_services VALUES ({fid}, 'r-x')")
    assert srv.psql(f"SELECT freeze_conflicts_refresh({fid})") == "2"
    assert records(srv, both) == ""
    assert records(srv, only_x) == f"freeze:{fid}:r-x"

    # no services at all: every active change in its window, on all its services
    srv.psql(f"DELETE FROM freeze_services WHERE freeze_id = {fid}")
    assert srv.psql(f"SELECT freeze_conflicts_refresh({fid})") == "1"
    assert records(srv, both) == f"freeze:{fid}:r-a+r-b"
    assert records(srv, only_x) == f"freeze:{fid}:r-x"
    assert records(srv, closed) == records(srv, later) == ""
