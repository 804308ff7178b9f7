"""POST /changes is one statement: the change, its services, its first
version, its audit entry and its change.created event are written together
by one INSERT, outside any explicit transaction, and the event carries the
document the reply was rendered from.

The statement count is read from the cluster's own log: the database of
this module logs every statement (log_statement = all), each line naming
the backend's process id, so the statements of the connection that created
the change can be told from those of the delivery workers.
"""

import re

import pytest

from conftest import finish_server, ok, problem, psql, start_server, unique

DB = "d_create_once"


@pytest.fixture(scope="module")
def srv(cluster):
    cluster.createdb(DB, "cabinet_template")
    cluster_psql(cluster, f"ALTER DATABASE {DB} SET log_statement = 'all'")
    s = start_server(cluster, DB, template=None, name="create-once")
    yield s
    finish_server(s)


def cluster_psql(cluster, sql):
    return psql(cluster.url(DB), sql)


def body(**extra):
    b = {"title": unique("one statement"), "model": "normal", "services": ["web", "db"],
         "window": {"start": "2031-03-01T10:00:00Z", "end": "2031-03-01T11:00:00Z"},
         "business_impact": "low", "implementation_plan": "deploy", "backout_plan": "revert",
         "test_plan": "smoke"}
    b.update(extra)
    return b


def services(srv):
    client = srv.as_("admin")
    for name in ("db", "web"):
        r = client.post("/services", json={"name": name, "title": name, "tier": 2})
        assert r.status_code in (201, 409), r.text


LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (?:\S+ )?LOG:  (?:statement|execute [^:]*): (.*)$")


def statements_since(cluster, offset):
    text = (cluster.dir / "server.log").read_text(errors="replace")[offset:]
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def log_size(cluster):
    return len((cluster.dir / "server.log").read_text(errors="replace"))


def test_a_create_is_one_statement_without_begin_or_commit(srv, cluster):
    services(srv)
    client = srv.as_("alice")
    offset = log_size(cluster)
    change = ok(client.post("/changes", json=body()), 201)
    logged = statements_since(cluster, offset)
    creates = [(pid, sql) for pid, sql in logged if "INSERT INTO changes" in sql]
    assert len(creates) == 1, logged
    pid, sql = creates[0]
    for part in ("INSERT INTO change_services", "INSERT INTO change_versions",
                 "INSERT INTO audit_log", "outbox_emit('change.created'"):
        assert part in sql, part
    # a connection the pool opened for this request first runs its own
    # set-up (SET jit = off, once per connection): not the request's work
    mine = [s for p, s in logged if p == pid and s.strip() != "SET jit = off"]
    assert not [s for s in mine if s.strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK")], mine
    # besides the create, only the session look-up ran on that connection
    assert len(mine) <= 2, "\n".join(s[:150] for s in mine)
    assert change["state"] == "draft"


def test_the_event_carries_the_document_of_the_reply(srv):
    services(srv)
    change = ok(srv.as_("alice").post("/changes", json=body(services=["db", "web"])), 201)
    rows = srv.psql_json(
        "SELECT COALESCE(json_agg(payload), '[]') FROM outbox WHERE type = 'change.created'"
        f" AND (payload->'change'->>'id')::bigint = {change['id']}")
    assert len(rows) == 1
    doc = rows[0]["change"]
    expected = {k: v for k, v in change.items() if k not in ("gate_url", "actions")}
    assert doc == expected
    assert doc["services"] == ["db", "web"]
    assert doc["conflicts"] == [] and doc["conflict_summary"]["total"] == 0
    assert doc["approvals"] == [] and doc["assessment"] is None
    # and GET renders the same document from the stored rows
    got = ok(srv.as_("alice").get(f"/changes/{change['id']}"))
    assert got == change


def test_a_refused_create_leaves_nothing_behind(srv):
    services(srv)
    ref = unique("ext")
    ok(srv.as_("alice").post("/changes", json=body(external_ref=ref)), 201)
    count = ("SELECT json_build_object('changes', (SELECT count(*) FROM changes),"
             " 'outbox', (SELECT count(*) FROM outbox),"
             " 'audit', (SELECT count(*) FROM audit_log),"
             " 'versions', (SELECT count(*) FROM change_versions),"
             " 'services', (SELECT count(*) FROM change_services))")
    before = srv.psql_json(count)
    problem(srv.as_("alice").post("/changes", json=body(external_ref=ref)), 409, "external_ref")
    # the model and services are left to the statement's foreign keys; a
    # refusal still names each one at fault
    problem(srv.as_("alice").post("/changes", json=body(services=["web", "nope"])), 422,
            "services[1]")
    problem(srv.as_("alice").post("/changes", json=body(model="no-such-model")), 422, "model")
    r = srv.as_("alice").post("/changes", json=body(model="no-such-model", services=["x", "db"]))
    problem(r, 422, fields={"model", "services[0]"})
    assert srv.psql_json(count) == before


def test_with_an_idempotency_key_the_reply_is_stored_in_the_same_transaction(srv):
    services(srv)
    key, b = unique("key"), body()
    first = srv.as_("alice").post("/changes", json=b, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = srv.as_("alice").post("/changes", json=b, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    stored = srv.psql_json(
        "SELECT json_build_object('changes', (SELECT count(*) FROM changes"
        f"  WHERE title = '{b['title']}'), 'keys', (SELECT count(*) FROM idempotency_keys"
        f"  WHERE key = '{key}'), 'events', (SELECT count(*) FROM outbox"
        f"  WHERE type = 'change.created' AND payload->'change'->>'title' = '{b['title']}'))")
    assert stored == {"changes": 1, "keys": 1, "events": 1}
