"""The audit trail from outside (README "Audit"): the server key, /audit,
signed checkpoints, a change's timeline and comments, evidence bundles
verified independently and by `cabinet verify --bundle`, and `cabinet
verify` against a database that has been tampered with."""

import base64
import copy
import hashlib
import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from canonjson import audit_hash, canon, change_content, content_hash
from conftest import (BIN, finish_server, ok, page_items, problem, run, sanitizer_env,
                      sanitizer_findings, start_server, unique, walk)

ZERO = "0" * 64
ENTRY_KEYS = {"id", "seq", "at", "actor", "action", "entity", "entity_id", "data",
              "prev_hash", "hash"}


# --- helpers ---------------------------------------------------------------------------


def ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(raw):
    return base64.b64encode(raw).decode()


def approval_statement(ref, version, chash, decision, signed_at):
    return f"cabinet-approval-v1\n{ref}\n{version}\n{chash}\n{decision}\n{signed_at}"


def checkpoint_statement(seq, chash, signed_at):
    return f"cabinet-checkpoint-v1\n{seq}\n{chash}\n{signed_at}"


def verify_sig(public_b64, message, sig_b64):
    VerifyKey(base64.b64decode(public_b64, validate=True)).verify(
        message.encode(), base64.b64decode(sig_b64, validate=True))


def wait_chained(srv, timeout=20):
    """Wait (bounded) until every audit entry has its seq."""
    deadline = time.monotonic() + timeout
    while True:
        pending = int(srv.psql("SELECT count(*) FROM audit_log WHERE seq IS NULL"))
        if pending == 0:
            return int(srv.psql("SELECT coalesce(max(seq), 0) FROM audit_log"))
        assert time.monotonic() < deadline, f"{pending} audit entries still unchained"
        time.sleep(0.2)


def cli_verify(*args, db_url=None, timeout=120):
    env = dict(sanitizer_env())
    if db_url:
        env["CABINET_DATABASE_URL"] = db_url
    cp = run([BIN, "verify", *args], env=env, timeout=timeout, check=False)
    assert not sanitizer_findings(cp.stderr), cp.stderr
    return cp


def fail_lines(cp):
    return [ln for ln in (cp.stdout + cp.stderr).splitlines() if ln.startswith("FAIL")]


class Signer:
    def __init__(self, srv):
        self.srv = srv
        self.keys = {}

    def decide(self, name, cid, decision="approve"):
        if name not in self.keys:
            sk = SigningKey.generate()
            k = ok(self.srv.as_(name).post("/me/keys", json={
                "public_key": b64(sk.verify_key.encode()), "label": "audit"}), 201)
            self.keys[name] = (sk, k["id"])
        sk, kid = self.keys[name]
        ch = ok(self.srv.as_(name).get(f"/changes/{cid}"))
        at = ts(datetime.now(timezone.utc))
        st = approval_statement(ch["ref"], ch["version"], ch["content_hash"], decision, at)
        return ok(self.srv.as_(name).post(f"/changes/{cid}/approvals", json={
            "decision": decision, "key_id": kid, "signed_at": at,
            "signature": b64(sk.sign(st.encode()).signature)}), 201)


def make_history(srv, signer=None):
    """A change with two versions, an assessment, two approvals (when a signer
    is given), a comment and a state change: admin and alice do the writing."""
    admin, alice = srv.as_("admin"), srv.as_("alice")
    svc = unique("av")
    ok(admin.post("/services", json={"name": svc, "title": "Audited", "tier": 2}), 201)
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=12)
    ch = ok(alice.post("/changes", json={
        "title": unique("evidence"), "services": [svc],
        "window": {"start": ts(start), "end": ts(start + timedelta(hours=1))},
        "description": 'quotes " and \\ and é and \t tab and \n newline',
        "test_plan": "smoke", "backout_plan": "restore"}), 201)
    ch = ok(alice.patch(f"/changes/{ch['id']}", json={"implementation_plan": "1. do\n2. check"}))
    ch = ok(alice.post(f"/changes/{ch['id']}/submit"))
    assert ch["assessment"]["level"] == "medium", ch["assessment"]
    ok(alice.post(f"/changes/{ch['id']}/comments", json={"body": "looks fine to me"}), 201)
    if signer is not None:
        signer.decide("cab1", ch["id"])
        signer.decide("cab2", ch["id"])
        assert ok(alice.get(f"/changes/{ch['id']}"))["state"] == "approved"
    return ok(alice.get(f"/changes/{ch['id']}"))


@pytest.fixture(scope="module")
def signer(server):
    return Signer(server)


@pytest.fixture(scope="module")
def history(server, signer):
    return make_history(server, signer)


# --- the server key ------------------------------------------------------------------------


def test_server_key(server):
    k = ok(server.as_("alice").get("/server-key"))
    assert k["algorithm"] == "Ed25519", k
    raw = base64.b64decode(k["public_key"], validate=True)
    assert len(raw) == 32 and b64(raw) == k["public_key"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", k["created_at"]), k
    # it is the public half of the seed in the server's key file
    seed = base64.b64decode(server.key_path.read_text().strip(), validate=True)
    assert len(seed) == 32
    assert SigningKey(seed).verify_key.encode() == raw
    assert ok(server.as_("cab1").get("/server-key")) == k


def test_server_key_needs_login(server):
    problem(server.anon().get("/server-key"), 401)


# --- /audit ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "cab1", "ecab"])
def test_audit_is_for_managers_and_admins(server, who):
    problem(server.as_(who).get("/audit"), 403)
    problem(server.as_(who).get("/audit/checkpoint"), 403)
    problem(server.as_(who).post("/audit/checkpoint"), 403)


def test_audit_needs_login(server):
    problem(server.anon().get("/audit"), 401)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_audit_returns_the_chain_by_seq(server, history, who):
    last = wait_chained(server)
    items, pages = walk(server.as_(who), "/audit", limit=7)
    assert pages >= 2
    seqs = [e["seq"] for e in items]
    assert seqs == list(range(1, len(items) + 1)), seqs
    assert seqs[-1] >= last
    prev = ZERO
    for e in items:
        assert set(e) >= ENTRY_KEYS, e
        assert e["prev_hash"] == prev, e
        assert e["hash"] == audit_hash(prev, e), e
        prev = e["hash"]
    # the change's entries are in it
    mine = [e for e in items if e["entity"] == "change" and e["entity_id"] == str(history["id"])]
    assert {"change.created", "change.updated", "change.assessed", "change.submit",
            "change.commented", "change.decided"} <= {e["action"] for e in mine}, mine


def test_audit_after(server, history):
    wait_chained(server)
    body = ok(server.as_("manager").get("/audit", params={"after": 3, "limit": 5}))
    items = page_items(body)
    assert [e["seq"] for e in items] == [4, 5, 6, 7, 8]
    full = {e["seq"]: e for e in walk(server.as_("manager"), "/audit")[0]}
    assert items == [full[s] for s in range(4, 9)]
    problem(server.as_("manager").get("/audit", params={"after": "x"}), 400)


# --- checkpoints ---------------------------------------------------------------------------------


def check_checkpoint(server, cp):
    assert set(cp) >= {"seq", "hash", "signed_at", "signature", "statement", "public_key"}, cp
    key = ok(server.as_("alice").get("/server-key"))["public_key"]
    assert cp["public_key"] == key
    st = checkpoint_statement(cp["seq"], cp["hash"], cp["signed_at"])
    assert cp["statement"] == st, (cp["statement"], st)
    verify_sig(key, st, cp["signature"])
    with pytest.raises(BadSignatureError):
        verify_sig(key, checkpoint_statement(cp["seq"] + 1, cp["hash"], cp["signed_at"]),
                   cp["signature"])
    # it signs the chain as /audit shows it at that seq
    e = page_items(ok(server.as_("manager").get("/audit", params={"after": cp["seq"] - 1,
                                                                  "limit": 1})))[0]
    assert e["seq"] == cp["seq"] and e["hash"] == cp["hash"], (e, cp)


def test_checkpoint_on_demand(server, history):
    mgr = server.as_("manager")
    ok(server.as_("alice").post(f"/changes/{history['id']}/comments",
                                json={"body": "something new to sign"}), 201)
    last = wait_chained(server)
    r = mgr.post("/audit/checkpoint")
    # 201, or 200 when the chainer's own 60-second checkpoint got there first
    cp = ok(r, r.status_code if r.status_code in (200, 201) else 201)
    assert cp["seq"] == last, (cp, last)
    check_checkpoint(server, cp)
    assert ok(mgr.get("/audit/checkpoint")) == cp
    assert ok(server.as_("admin").get("/audit/checkpoint")) == cp
    # nothing new: 200 with the same checkpoint
    again = ok(mgr.post("/audit/checkpoint"), 200)
    assert again == cp
    # something new: a newer checkpoint
    ok(server.as_("alice").post(f"/changes/{history['id']}/comments",
                                json={"body": "and more"}), 201)
    last2 = wait_chained(server)
    cp2 = ok(server.as_("admin").post("/audit/checkpoint"), 201)
    assert cp2["seq"] == last2 > cp["seq"]
    check_checkpoint(server, cp2)
    assert ok(mgr.get("/audit/checkpoint"))["seq"] == cp2["seq"]


# --- timeline and comments --------------------------------------------------------------------------


def test_timeline_lists_the_changes_entries_in_order(server, signer):
    alice = server.as_("alice")
    ch = make_history(server, signer)
    ok(alice.post(f"/changes/{ch['id']}/start", json={}))
    ok(alice.post(f"/changes/{ch['id']}/complete", json={"outcome": "failed"}))
    ok(alice.post(f"/changes/{ch['id']}/close", json={"review": "lessons"}))
    wait_chained(server)
    items = page_items(ok(server.as_("bob").get(f"/changes/{ch['id']}/timeline")))
    assert all(e["entity"] == "change" and e["entity_id"] == str(ch["id"]) for e in items), items
    actions = [e["action"] for e in items]
    assert actions == ["change.created", "change.updated", "change.assessed", "change.submit",
                       "change.commented", "change.decided", "change.decided",
                       "change.decide", "change.start", "change.complete",
                       "change.close"], actions
    ids = [e["id"] for e in items]
    seqs = [e["seq"] for e in items]
    assert ids == sorted(ids) and seqs == sorted(seqs), items
    assert items[0]["actor"] == f"user:{server.users['alice']['id']}"
    decided = [e for e in items if e["action"] == "change.decided"]
    assert {e["actor"] for e in decided} == {f"user:{server.users['cab1']['id']}",
                                             f"user:{server.users['cab2']['id']}"}
    # each names its actor for the page; otherwise the same entries as in the chain
    names = {f"user:{u['id']}": n.capitalize() for n, u in server.users.items()}
    for e in items:
        want = "Cabinet" if e["actor"] == "system" else names[e["actor"]]
        assert e.pop("actor_name") == want, e
    assert any(e["actor"] == "system" for e in items), "the assessment is the system's"
    full = {e["seq"]: e for e in walk(server.as_("admin"), "/audit")[0]}
    for e in items:
        assert full[e["seq"]] == e
    # by ref too
    by_ref = page_items(ok(server.as_("bob").get(f"/changes/{ch['ref']}/timeline")))
    assert [{k: v for k, v in e.items() if k != "actor_name"} for e in by_ref] == items


def test_timeline_of_an_unknown_change_is_404(server):
    problem(server.as_("alice").get("/changes/987654321/timeline"), 404)


def test_comments(server):
    alice, bob = server.as_("alice"), server.as_("bob")
    ch = ok(alice.post("/changes", json={"title": unique("commented")}), 201)
    c1 = ok(bob.post(f"/changes/{ch['id']}/comments", json={"body": "why now?"}), 201)
    assert c1["body"] == "why now?" and c1["author"]["id"] == server.users["bob"]["id"], c1
    c2 = ok(alice.post(f"/changes/{ch['ref']}/comments", json={"body": "a customer asked"}), 201)
    items = page_items(ok(server.as_("cab1").get(f"/changes/{ch['id']}/comments")))
    assert [(c["id"], c["body"]) for c in items] == [(c1["id"], "why now?"),
                                                     (c2["id"], "a customer asked")]
    tl = page_items(ok(alice.get(f"/changes/{ch['id']}/timeline")))
    commented = [e for e in tl if e["action"] == "change.commented"]
    assert [e["data"]["body"] for e in commented] == ["why now?", "a customer asked"]


@pytest.mark.parametrize("body,field", [({"body": ""}, "body"), ({}, "body"),
                                        ({"body": None}, "body"), ({"body": 5}, "body"),
                                        ({"body": "x", "extra": 1}, "extra")])
def test_bad_comments_are_422(server, body, field):
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("c")}), 201)
    problem(server.as_("bob").post(f"/changes/{ch['id']}/comments", json=body), 422,
            field=field)
    assert page_items(ok(server.as_("bob").get(f"/changes/{ch['id']}/comments"))) == []


def test_every_fault_of_a_comment_is_named_at_once(server):
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("c")}), 201)
    problem(server.as_("bob").post(f"/changes/{ch['id']}/comments",
                                   json={"body": "", "extra": 1}), 422, fields=["body", "extra"])
    assert page_items(ok(server.as_("bob").get(f"/changes/{ch['id']}/comments"))) == []


def test_comment_on_an_unknown_change_is_404(server):
    problem(server.as_("bob").post("/changes/987654321/comments", json={"body": "hello"}), 404)
    problem(server.as_("bob").get("/changes/987654321/comments"), 404)


# --- evidence bundles ---------------------------------------------------------------------------------


def verify_bundle_py(b, server_key=None):
    """Check a bundle independently; raise AssertionError on the first problem."""
    assert b["format"] == "cabinet-evidence-v1", b.get("format")
    if server_key is not None:
        assert b["server_public_key"] == server_key
    ch = b["change"]
    versions = b["versions"]
    assert [v["version"] for v in versions] == list(range(1, ch["version"] + 1))
    for v in versions:
        text = canon(v["content"])
        assert v["canonical"] == text, f"version {v['version']}: canonical text differs"
        assert hashlib.sha256(text.encode()).hexdigest() == v["content_hash"], \
            f"version {v['version']}: content does not hash to content_hash"
    assert versions[-1]["content_hash"] == ch["content_hash"]
    assert versions[-1]["content"] == change_content(ch)
    hashes = {v["version"]: v["content_hash"] for v in versions}
    for a in b["approvals"]:
        assert hashes.get(a["version"]) == a["content_hash"], f"approval {a['id']}: no version"
        st = approval_statement(ch["ref"], a["version"], a["content_hash"], a["decision"],
                                a["signed_at"])
        assert a["statement"] == st, f"approval {a['id']}: statement"
        try:
            verify_sig(a["public_key"], st, a["signature"])
        except (BadSignatureError, ValueError) as e:
            raise AssertionError(f"approval {a['id']}: signature") from e
    entries = b["audit"]["entries"]
    assert entries, "no audit entries"
    prev = entries[0]["prev_hash"]
    seq = entries[0]["seq"] - 1
    for e in entries:
        assert e["seq"] == seq + 1, f"seq {e['seq']} follows {seq}"
        assert e["prev_hash"] == prev, f"seq {e['seq']}: prev_hash"
        assert audit_hash(prev, e) == e["hash"], f"seq {e['seq']}: hash"
        prev, seq = e["hash"], e["seq"]
    cp = b["audit"]["checkpoint"]
    assert cp["seq"] == seq and cp["hash"] == prev, "the checkpoint does not sign the end"
    try:
        verify_sig(b["server_public_key"], checkpoint_statement(cp["seq"], cp["hash"],
                                                                cp["signed_at"]),
                   cp["signature"])
    except (BadSignatureError, ValueError) as e:
        raise AssertionError("checkpoint signature") from e


@pytest.fixture(scope="module")
def bundle(server, history):
    wait_chained(server)
    b = ok(server.as_("bob").get(f"/changes/{history['id']}/evidence"))
    return b


def test_evidence_bundle_verifies_in_python(server, history, bundle):
    b = bundle
    key = ok(server.as_("alice").get("/server-key"))["public_key"]
    verify_bundle_py(b, key)
    assert b["change"]["id"] == history["id"] and b["change"]["state"] == "approved"
    assert len(b["versions"]) == 2 and b["change"]["version"] == 2
    assert b["change"]["content_hash"] == content_hash(b["change"])
    assert len(b["approvals"]) == 2 and all(a["valid"] for a in b["approvals"])
    assert [a["version"] for a in b["assessments"]] == [2]
    # every entry of the change's timeline is inside the bundle's chain segment
    tl = page_items(ok(server.as_("alice").get(f"/changes/{history['id']}/timeline")))
    in_bundle = {e["seq"]: e for e in b["audit"]["entries"]}
    for e in tl:
        assert e.pop("actor_name"), e
        assert in_bundle.get(e["seq"]) == e, e
    assert b["audit"]["entries"][0]["seq"] == tl[0]["seq"]


def test_evidence_bundle_verifies_with_the_cli(bundle, tmp_path):
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps(bundle))
    cp = cli_verify("--bundle", f)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert cp.stdout.startswith("ok:"), cp.stdout
    assert not fail_lines(cp)


def _tamper_version(b):
    b["versions"][0]["content"]["title"] += " (altered)"


def _tamper_version_both(b):
    # content and canonical text altered together: the hash gives it away
    v = b["versions"][-1]
    v["content"]["backout_plan"] = "none"
    v["canonical"] = canon(v["content"])


def _tamper_approval(b):
    sig = bytearray(base64.b64decode(b["approvals"][0]["signature"]))
    sig[10] ^= 0x01
    b["approvals"][0]["signature"] = b64(bytes(sig))


def _tamper_approval_decision(b):
    b["approvals"][1]["decision"] = "reject"
    b["approvals"][1]["statement"] = b["approvals"][1]["statement"].replace("approve", "reject")


def _tamper_entry(b):
    e = b["audit"]["entries"][len(b["audit"]["entries"]) // 2]
    e["data"] = dict(e["data"], forged=True)
    return e["seq"]


def _tamper_drop_entry(b):
    del b["audit"]["entries"][1]


def _tamper_checkpoint(b):
    b["audit"]["checkpoint"]["signed_at"] = "2001-01-01T00:00:00Z"


TAMPERS = {
    "version_content": _tamper_version,
    "version_content_and_canonical": _tamper_version_both,
    "approval_signature": _tamper_approval,
    "approval_decision": _tamper_approval_decision,
    "entry_data": _tamper_entry,
    "entry_dropped": _tamper_drop_entry,
    "checkpoint": _tamper_checkpoint,
}


@pytest.mark.parametrize("how", list(TAMPERS))
def test_a_tampered_bundle_fails(bundle, tmp_path, how):
    b = copy.deepcopy(bundle)
    seq = TAMPERS[how](b)
    with pytest.raises(AssertionError):
        verify_bundle_py(b)
    f = tmp_path / "tampered.json"
    f.write_text(json.dumps(b))
    cp = cli_verify("--bundle", f)
    assert cp.returncode == 1, (how, cp.returncode, cp.stdout, cp.stderr)
    fails = fail_lines(cp)
    assert fails, cp.stdout
    if seq is not None:
        assert re.search(rf"\bseq {seq}\b", fails[0]), fails


def test_a_bundle_that_is_not_json_fails(tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{not json")
    cp = cli_verify("--bundle", f)
    assert cp.returncode == 1 and fail_lines(cp), cp.stdout


def test_evidence_of_an_unknown_change_is_404(server):
    problem(server.as_("alice").get("/changes/987654321/evidence"), 404)


def test_evidence_of_a_fresh_change_signs_a_checkpoint(server):
    ch = ok(server.as_("alice").post("/changes", json={"title": unique("fresh")}), 201)
    last = wait_chained(server)
    b = ok(server.as_("alice").get(f"/changes/{ch['id']}/evidence"))
    verify_bundle_py(b)
    assert b["audit"]["checkpoint"]["seq"] >= last
    assert [e["action"] for e in b["audit"]["entries"] if e["entity_id"] == str(ch["id"])
            and e["entity"] == "change"] == ["change.created"]


# --- cabinet verify against a database -----------------------------------------------------------------


def test_cabinet_verify_accepts_the_modules_database(server, history):
    wait_chained(server)
    cp = cli_verify(db_url=server.db_url)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert cp.stdout.startswith("ok:") and not fail_lines(cp), cp.stdout


@pytest.fixture
def fresh(cluster):
    """A server on a database of its own, with a history; stopped before the
    test tampers with it."""
    db = f"m_av_{uuid.uuid4().hex[:12]}"
    srv = start_server(cluster, db, users={"admin": "admin", "alice": "", "cab1": "cab",
                                           "cab2": "cab", "manager": "manager"})
    try:
        make_history(srv, Signer(srv))
        make_history(srv)
        mgr = srv.as_("manager")  # logged in (an audited write) before the wait
        last = wait_chained(srv)
        assert last >= 12, last
        r = mgr.post("/audit/checkpoint")  # 200 if the chainer has just signed one
        assert ok(r, r.status_code if r.status_code in (200, 201) else 201)["seq"] == last
        cp = cli_verify(db_url=srv.db_url)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
    finally:
        finish_server(srv)
    srv.psql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard")
    yield srv


def pick(srv):
    """A seq in the middle of the chain."""
    return int(srv.psql("SELECT max(seq) FROM audit_log")) // 2


def assert_fails_at(srv, seq):
    cp = cli_verify(db_url=srv.db_url)
    assert cp.returncode == 1, (cp.returncode, cp.stdout, cp.stderr)
    fails = fail_lines(cp)
    assert fails, cp.stdout
    assert re.search(rf"\bseq {seq}\b", fails[0]), (seq, fails)
    assert not cp.stdout.startswith("ok:")
    return fails


def test_verify_finds_an_edited_row(fresh):
    k = pick(fresh)
    fresh.psql("UPDATE audit_log SET data = data || '{\"forged\": true}' WHERE seq = %d" % k)
    assert_fails_at(fresh, k)


def test_verify_finds_an_edited_actor(fresh):
    k = pick(fresh) + 1
    fresh.psql("UPDATE audit_log SET actor = 'system' WHERE seq = %d" % k)
    assert_fails_at(fresh, k)


def test_verify_finds_a_deleted_row(fresh):
    k = pick(fresh)
    fresh.psql("DELETE FROM audit_log WHERE seq = %d" % k)
    fails = assert_fails_at(fresh, k)
    assert "missing" in fails[0] or "deleted" in fails[0], fails


def test_verify_finds_two_swapped_rows(fresh):
    k = pick(fresh)
    fresh.psql("BEGIN;"
               f"UPDATE audit_log SET seq = 999999 WHERE seq = {k};"
               f"UPDATE audit_log SET seq = {k} WHERE seq = {k + 1};"
               f"UPDATE audit_log SET seq = {k + 1} WHERE seq = 999999;"
               "COMMIT")
    assert_fails_at(fresh, k)


def test_verify_finds_a_rehashed_row(fresh):
    # an editor who recomputes the row's own hash still breaks the next link
    k = pick(fresh)
    row = fresh.psql_json(
        "SELECT json_build_object('action', action, 'actor', actor, 'at', cab_ts(at),"
        " 'data', data, 'entity', entity, 'entity_id', entity_id, 'seq', seq,"
        f" 'prev_hash', prev_hash) FROM audit_log WHERE seq = {k}")
    row["data"] = dict(row["data"], forged=True)
    h = audit_hash(row["prev_hash"], row)
    data = json.dumps(row["data"]).replace("'", "''")
    fresh.psql(f"UPDATE audit_log SET data = '{data}'::jsonb, hash = '{h}' WHERE seq = {k}")
    assert_fails_at(fresh, k + 1)


def test_verify_finds_a_forged_approval_signature(fresh):
    aid = int(fresh.psql("SELECT min(id) FROM approvals"))
    sig = fresh.psql(f"SELECT signature FROM approvals WHERE id = {aid}")
    raw = bytearray(base64.b64decode(sig))
    raw[0] ^= 0x01
    fresh.psql(f"UPDATE approvals SET signature = '{b64(bytes(raw))}' WHERE id = {aid}")
    cp = cli_verify(db_url=fresh.db_url)
    assert cp.returncode == 1, cp.stdout
    assert any(re.search(rf"approval {aid}\b", ln) for ln in fail_lines(cp)), cp.stdout


def test_verify_finds_a_forged_checkpoint(fresh):
    seq = fresh.psql("SELECT max(seq) FROM checkpoints")
    if not seq:
        pytest.fail("no checkpoint was signed: the evidence bundles should have signed one")
    fresh.psql(f"UPDATE checkpoints SET signed_at = '2001-01-01T00:00:00Z' WHERE seq = {seq}")
    cp = cli_verify(db_url=fresh.db_url)
    assert cp.returncode == 1, cp.stdout
    assert any(re.search(rf"checkpoint at seq {seq}\b", ln) for ln in fail_lines(cp)), cp.stdout


def test_verify_reports_entries_left_unchained(fresh):
    # the server is stopped: an entry written two minutes ago stays unchained
    eid = int(fresh.psql(
        "WITH i AS (INSERT INTO audit_log (actor, action, entity, entity_id, data, at)"
        " VALUES ('system', 'test.unchained', 'test', '1', '{}',"
        " date_trunc('second', now()) - interval '2 minutes') RETURNING id) SELECT id FROM i"))
    cp = cli_verify(db_url=fresh.db_url)
    assert cp.returncode == 1, cp.stdout
    assert any("unchained" in ln and re.search(rf"\bid {eid}\b", ln)
               for ln in fail_lines(cp)), cp.stdout
