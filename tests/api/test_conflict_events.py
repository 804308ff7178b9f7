"""The conflict events written per statement (0020): a submit that opens 50
conflicts writes 50 change.conflict_detected events, in the order of the
records, each with the payload conflict_event() gives the record, and one
delivery per subscription that wants it, in that order; the submit's own
events come after them, on one document of the change; a cancel resolves
the 50 likewise."""

from datetime import datetime, timedelta, timezone

from conftest import ok, psql, unique


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_submit_opening_50_conflicts_writes_50_events_in_order(server):
    scenario(server, datetime(2091, 3, 1, tzinfo=timezone.utc))


def scenario(server, base):
    url = server.db_url
    admin = server.as_("admin")
    name = unique("ev")
    ok(admin.post("/services", json={"name": name, "title": "E", "tier": 3}), 201)
    hooks = [ok(admin.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ev}), 201)
             for ev in (["*"], ["change.conflict_detected", "change.conflict_resolved"],
                        ["change.approved"])]
    uid = server.users["alice"]["id"]
    others = psql(url, "WITH c AS (INSERT INTO changes (title, model, state, win, requester_id,"
                       " source, content_hash, gate_token)"
                       " SELECT 'o ' || g, 'normal', 'approved',"
                       f" tstzrange('{ts(base)}', '{ts(base + timedelta(hours=3))}'),"
                       f" {uid}, 'api', repeat('0', 64), md5(random()::text)"
                       " FROM generate_series(1, 50) g RETURNING id),"
                       f" s AS (INSERT INTO change_services SELECT c.id, '{name}' FROM c)"
                       " SELECT string_agg(id::text, ',') FROM c")
    psql(url, f"SELECT impact_store(id) FROM changes WHERE id IN ({others})")
    first = int(psql(url, "SELECT coalesce(max(id), 0) FROM outbox"))
    c = server.as_("alice")
    body = {"title": "t", "services": [name], "test_plan": "p", "backout_plan": "b",
            "business_impact": "low",
            "window": {"start": ts(base + timedelta(hours=1)),
                       "end": ts(base + timedelta(hours=2))}}
    ch = ok(c.post("/changes", json=body), 201)
    ok(c.post(f"/changes/{ch['id']}/submit"))

    def events(after):
        rows = psql(url, "SELECT o.id || '|' || o.type || '|' || coalesce(k.id::text, '') || '|'"
                         " || coalesce((o.payload = conflict_event(k))::text, '')"
                         " FROM outbox o LEFT JOIN conflicts k"
                         "  ON k.id = (o.payload -> 'conflict' ->> 'id')::bigint"
                         f" WHERE o.id > {after} ORDER BY o.id").split("\n")
        return [r.split("|") for r in rows if r]

    evs = events(first)
    detected = [e for e in evs if e[1] == "change.conflict_detected"]
    assert len(detected) == 50
    assert [int(e[2]) for e in detected] == sorted(int(e[2]) for e in detected)
    assert all(e[3] == "true" for e in detected), "the payload is conflict_event() of the record"
    evs = [e for e in evs if e[1] != "change.created"]
    assert {e[1] for e in evs} == {"change.conflict_detected", "change.submitted",
                                   "change.state_changed"}
    # the conflicts first, then the submit's own two
    assert [e[1] for e in evs] == ["change.conflict_detected"] * 50 + [
        "change.submitted", "change.state_changed"]
    # the submit's own events: one document of the change, as it is now
    docs = psql(url, "SELECT count(DISTINCT o.payload - 'action' - 'from' - 'to'),"
                     " bool_and(o.payload -> 'change' = change_doc(c)::jsonb)"
                     f" FROM outbox o JOIN changes c ON c.id = {ch['id']}"
                     f" WHERE o.id > {first} AND o.type LIKE 'change.s%'")
    assert docs == "1|t"
    ids = [int(e[0]) for e in detected]
    for hook, want in zip(hooks, (50, 50, 0)):
        got = psql(url, "SELECT coalesce(string_agg(outbox_id::text, ',' ORDER BY id), '')"
                        f" FROM deliveries WHERE webhook_id = {hook['id']}"
                        f" AND outbox_id = ANY (ARRAY[{','.join(map(str, ids))}]::bigint[])")
        got = [int(x) for x in got.split(",") if x]
        assert got == ids[:want], hook["events"]  # one each, in the order of the events

    # cancelling resolves the 50: 50 events, in order, one delivery each
    mid = int(psql(url, "SELECT max(id) FROM outbox"))
    ok(c.post(f"/changes/{ch['id']}/cancel", json={"reason": "no"}))
    resolved = [e for e in events(mid) if e[1] == "change.conflict_resolved"]
    assert len(resolved) == 50
    assert [int(e[2]) for e in resolved] == [int(e[2]) for e in detected]
    assert all(e[3] == "true" for e in resolved)
    wants = int(psql(url, "SELECT count(*) FROM webhooks WHERE deleted_at IS NULL AND"
                          " ('*' = ANY (events) OR 'change.conflict_resolved' = ANY (events))"))
    assert wants >= 2
    assert psql(url, "SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
                     f" WHERE o.id > {mid} AND o.type = 'change.conflict_resolved'") == str(50 * wants)

    # a freeze over the window: one freeze record per active change, each
    # event with conflict_event()'s payload, freeze included
    mid = int(psql(url, "SELECT max(id) FROM outbox"))
    f = ok(server.as_("manager").post("/freezes", json={
        "name": unique("ev freeze"), "services": [name], "hard": True, "reason": "x",
        "window": {"start": ts(base), "end": ts(base + timedelta(hours=4))}}), 201)
    frozen = [e for e in events(mid) if e[1] == "change.conflict_detected"]
    assert len(frozen) == 50
    assert all(e[3] == "true" for e in frozen)
    assert psql(url, "SELECT count(*) FROM outbox o"
                     f" WHERE o.id > {mid} AND o.type = 'change.conflict_detected'"
                     f" AND (o.payload -> 'freeze' ->> 'id')::bigint = {f['id']}"
                     " AND (o.payload -> 'freeze' ->> 'hard')::boolean") == "50"


def test_the_payloads_of_a_statement_are_conflict_event(server):
    """conflict_events() of every record there is, pairs and freezes, open
    and resolved: conflict_event() of each, in the order given."""
    scenario(server, datetime(2092, 3, 1, tzinfo=timezone.utc))
    got = psql(server.db_url,
               "SELECT count(*) || '|' || count(*) FILTER (WHERE e.payload = conflict_event(x.k))"
               " || '|' || count(DISTINCT (x.k).kind) || '|' || count(DISTINCT (x.k).state)"
               " || '|' || bool_and(e.ord = x.n)"
               " FROM (SELECT array_agg(k ORDER BY k.id DESC) a FROM conflicts k) q,"
               " conflict_events(q.a) e, LATERAL (SELECT q.a[e.ord] AS k, e.ord AS n) x")
    n = psql(server.db_url, "SELECT count(*) FROM conflicts")
    assert got == f"{n}|{n}|2|2|true", got
