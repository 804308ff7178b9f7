"""E-mail notifications (README "E-mail notifications"): who hears what,
the messages as a mail client reads them, switching them off, and delivery
from the outbox (retried, at least once, dead after a permanent refusal),
against a real SMTP receiver on 127.0.0.1 that this module runs."""

import email
import email.policy
import os
import re
import socket
import socketserver
import subprocess
import threading
import time

import pytest

from conftest import (BIN, finish_server, free_port, ok, problem, sanitizer_env,
                      sanitizer_findings, start_server, unique)
# the module's fixtures for signed decisions and fresh services, on this
# module's server
from test_workflow import reach, signer, submit, svc, window  # noqa: F401

DOMAIN_FROM = "cab@cabinet.test"
WAIT = 30  # seconds a mail may take to arrive (the workers poll every 0.5 s)


# --- the receiver ------------------------------------------------------------------


class Receiver:
    """A small ESMTP server: keeps every message it accepts; refuses RCPT
    for the addresses in `reject` with 550, and answers the next `tempfail`
    DATA with 451 (recording what it refused)."""

    def __init__(self, port):
        self.port = port
        self.messages = []  # (mail_from, [rcpt], raw bytes)
        self.refused = []   # raw bytes answered 451
        self.reject = set()
        self.refuse_sender = False     # 550 to MAIL FROM: the settings' fault
        self.refuse_message = set()    # 554 after DATA to mail for these recipients
        self.tempfail = 0
        self.lock = threading.Lock()
        self.conns = set()
        self.server = None
        self.thread = None

    def start(self):
        rx = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                with rx.lock:
                    rx.conns.add(self.connection)
                try:
                    self.converse()
                except OSError:
                    pass  # the receiver was stopped under this connection
                finally:
                    with rx.lock:
                        rx.conns.discard(self.connection)

            def converse(self):
                self.reply("220 receiver.test ESMTP")
                mail_from, rcpts = None, []
                while True:
                    line = self.rfile.readline(4096)
                    if not line:
                        return
                    cmd = line.decode("ascii", "replace").rstrip("\r\n")
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-receiver.test")
                        self.reply("250-8BITMIME")
                        self.reply("250 SIZE 10485760")
                    elif verb == "MAIL":
                        mail_from, rcpts = re.search(r"<([^>]*)>", cmd).group(1), []
                        self.reply("550 5.7.1 sender not allowed" if rx.refuse_sender
                                   else "250 OK")
                    elif verb == "RCPT":
                        addr = re.search(r"<([^>]*)>", cmd).group(1)
                        if addr in rx.reject:
                            self.reply("550 5.1.1 no such mailbox")
                        else:
                            rcpts.append(addr)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        lines = []
                        while True:
                            part = self.rfile.readline(100000)
                            if not part or part == b".\r\n":
                                break
                            # RFC 5321 4.5.2: the client doubled a leading dot
                            lines.append(part[1:] if part.startswith(b".") else part)
                        raw = b"".join(lines)
                        if set(rcpts) & rx.refuse_message:
                            self.reply("554 5.7.1 message refused")
                            continue
                        with rx.lock:
                            fail = rx.tempfail > 0
                            if fail:
                                rx.tempfail -= 1
                                rx.refused.append(raw)
                            else:
                                rx.messages.append((mail_from, rcpts, raw))
                        self.reply("451 4.3.0 try again later" if fail else "250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        mail_from, rcpts = None, []
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 5.5.1 command not recognized")

        class Srv(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Srv(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        """Down for real: no listener, and the open connections cut."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            conns, self.conns = list(self.conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def parsed(self):
        with self.lock:
            got = list(self.messages)
        return [(f, r, email.message_from_bytes(raw, policy=email.policy.default), raw)
                for f, r, raw in got]

    def wait(self, pred, count=1, timeout=WAIT):
        """The parsed messages pred accepts, once there are count of them."""
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.parsed() if pred(m[2])]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


def about(ref, words):
    return lambda msg: msg["X-Cabinet-Change"] == ref and words in msg["Subject"]


def to_addr(msg):
    return msg["To"].addresses[0].addr_spec


def text(msg):
    return msg.get_content()


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver():
    rx = Receiver(free_port())
    rx.start()
    yield rx
    rx.stop()


@pytest.fixture(scope="module")
def server(cluster, receiver):
    srv = start_server(cluster, "mail", extra_env={
        "CABINET_SMTP_URL": f"smtp://127.0.0.1:{receiver.port}",
        "CABINET_SMTP_FROM": f"Cabinet CAB <{DOMAIN_FROM}>",
        "CABINET_SMTP_TLS": "off",
        "CABINET_WEBHOOK_RETRY_BASE": "1",
        "CABINET_BASE_URL": "https://cab.example.test",
    })
    yield srv
    finish_server(srv)


def change(server, svc, who="alice", tier=3, **body):
    body.setdefault("title", unique("mail change"))
    body.setdefault("services", [svc(tier)])
    body.setdefault("window", window())
    body.setdefault("test_plan", "smoke tests")
    body.setdefault("backout_plan", "redeploy the previous release")
    body.setdefault("business_impact", "low")
    return ok(server.as_(who).post("/changes", json=body), 201)


def settle(server, timeout=WAIT):
    """Waits until no mail event or mail is left to send."""
    deadline = time.monotonic() + timeout
    while server.psql("SELECT (SELECT count(*) FROM mail_events)"
                      " + (SELECT count(*) FROM mails WHERE state = 'pending')") != "0":
        assert time.monotonic() < deadline, "mail still pending"
        time.sleep(0.2)


def emails(server, *names):
    return {server.users[n]["email"] for n in names}


# --- who hears what -----------------------------------------------------------------


def test_the_approvers_a_policy_counts_hear_when_a_change_awaits_them(server, svc, receiver):
    ch = change(server, svc)
    submit(server, ch["id"])
    cabs = emails(server, "cab1", "cab2", "cab3", "cab4")
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=len(cabs))
    assert {to_addr(m) for _, _, m, _ in got} == cabs
    # the envelope is the same as the headers
    assert {r for _, rs, _, _ in got for r in rs} == cabs
    assert all(f == DOMAIN_FROM for f, _, _, _ in got)
    time.sleep(1.5)  # nobody else: not the owner, nor a role the policy does not count
    again = receiver.wait(about(ch["ref"], "awaits your approval"), count=99, timeout=0)
    assert len(again) == len(cabs), [to_addr(m) for _, _, m, _ in again]

    _, _, msg, raw = got[0]
    assert msg["Subject"] == f"[Cabinet] {ch['ref']} awaits your approval: {ch['title']}"
    assert msg["From"].addresses[0].display_name == "Cabinet CAB"
    assert msg["From"].addresses[0].addr_spec == DOMAIN_FROM
    assert re.fullmatch(r"<cabinet-[0-9a-f]{32}@cabinet\.test>", msg["Message-ID"])
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"].datetime is not None
    assert msg.get_content_type() == "text/plain"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    body = text(msg)
    assert f"{ch['ref']} “{ch['title']}” awaits your approval." in body
    assert "Approvals: 0 of 1" in body
    assert "Raised by: Alice" in body
    assert f"https://cab.example.test/#/changes/{ch['ref']}" in body
    assert "https://cab.example.test/#/me/notifications" in body
    # each recipient has a message of their own
    assert len({m["Message-ID"] for _, _, m, _ in got}) == len(cabs)


def test_an_approver_who_raised_the_change_is_not_asked(server, svc, receiver):
    ch = submit(server, change(server, svc, who="cab1")["id"], who="cab1")
    want = emails(server, "cab2", "cab3", "cab4")
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=len(want))
    time.sleep(1.5)
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=99, timeout=0)
    assert {to_addr(m) for _, _, m, _ in got} == want
    assert "Raised by: Cab1" in text(got[0][2])


def test_a_critical_change_asks_the_managers_too(server, svc, receiver):
    ch = change(server, svc, tier=1, test_plan="", backout_plan="", business_impact="high")
    ch = submit(server, ch["id"])
    assert ch["assessment"]["level"] == "critical", ch["assessment"]
    want = emails(server, "cab1", "cab2", "cab3", "cab4", "manager")
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=len(want))
    assert {to_addr(m) for _, _, m, _ in got} == want
    assert "Approvals: 0 of 4" in text(got[0][2])


def test_an_emergency_asks_the_ecab_once_even_when_started_unapproved(server, svc, receiver):
    """Submitted, it asks the ECAB; started before approval it still takes
    that decision, so nobody is asked twice; its approval reaches the
    owner, in progress now."""
    ch = submit(server, change(server, svc, model="emergency",
                               window=window(start_h=-1, length_h=3))["id"])
    ecab = emails(server, "ecab")
    got = receiver.wait(about(ch["ref"], "awaits your approval"))
    assert {to_addr(m) for _, _, m, _ in got} == ecab
    ok(server.as_("manager").post(f"/changes/{ch['id']}/start",
                                  json={"retrospective": True, "reason": "payments are down"}))
    time.sleep(1.5)
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=99, timeout=0)
    assert len(got) == 1


def test_the_sql_twin_of_takes_decisions_agrees_with_the_server(server, svc, signer):
    """change_takes_decisions() (0027, who is asked by e-mail) against the
    server's own rule, as the change's actions show it to an approver the
    policy counts: approve offered in exactly the states it names."""
    seen = []
    for state in ("draft", "awaiting_approval", "approved", "in_progress", "review", "closed",
                  "cancelled", "rejected"):
        seen.append((reach(server, svc, signer, state), "cab2"))
    em = submit(server, change(server, svc, model="emergency",
                               window=window(start_h=-1, length_h=3))["id"])
    started = ok(server.as_("manager").post(f"/changes/{em['id']}/start", json={
        "retrospective": True, "reason": "down"}))
    seen.append((started, "ecab"))
    em2 = submit(server, change(server, svc, model="emergency",
                                window=window(start_h=-1, length_h=3))["id"])
    ok(server.as_("manager").post(f"/changes/{em2['id']}/start", json={
        "retrospective": True, "reason": "down"}))
    seen.append((ok(server.as_("alice").post(f"/changes/{em2['id']}/complete",
                                             json={"outcome": "successful"})), "ecab"))
    for ch, approver in seen:
        doc = ok(server.as_(approver).get(f"/changes/{ch['id']}"))
        sql = server.psql("SELECT change_takes_decisions(state, flags) FROM changes"
                          f" WHERE id = {ch['id']}")
        assert (sql == "t") == ("approve" in doc["actions"]), (doc["state"], doc["flags"], sql)
    assert sum(server.psql("SELECT change_takes_decisions(state, flags) FROM changes"
                           f" WHERE id = {c['id']}") == "t" for c, _ in seen) == 3


def test_the_owner_hears_each_decision(server, svc, signer, receiver):
    ch = submit(server, change(server, svc, tier=2)["id"])  # medium: two approvals
    alice = server.users["alice"]["email"]
    ok(signer.decide("cab1", ch["id"]), 201)
    got = receiver.wait(about(ch["ref"], "approved by Cab1"))
    assert [to_addr(m) for _, _, m, _ in got] == [alice]
    body = text(got[0][2])
    assert f"Cab1 approved version 1 of your change {ch['ref']}" in body
    assert "> cab1 says approve" in body
    assert "Approvals: 1 of 2; it awaits the others." in body
    ok(signer.decide("cab2", ch["id"]), 201)
    got = receiver.wait(about(ch["ref"], "approved by Cab2"))
    assert [to_addr(m) for _, _, m, _ in got] == [alice]
    assert "The change is now approved." in text(got[0][2])


def test_the_owner_hears_a_rejection(server, svc, signer, receiver):
    ch = submit(server, change(server, svc)["id"])
    ok(signer.decide("cab3", ch["id"], "reject"), 201)
    got = receiver.wait(about(ch["ref"], "rejected by Cab3"))
    assert [to_addr(m) for _, _, m, _ in got] == [server.users["alice"]["email"]]
    assert "The change is now rejected." in text(got[0][2])
    assert "> cab3 says reject" in text(got[0][2])


def test_an_edit_while_awaiting_approval_asks_again(server, svc, receiver):
    ch = submit(server, change(server, svc)["id"])
    first = receiver.wait(about(ch["ref"], "awaits your approval"), count=4)
    assert len(first) == 4
    ok(server.as_("alice").patch(f"/changes/{ch['id']}", json={"description": "edited"}))
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=8)
    assert len(got) == 8
    assert sorted(to_addr(m) for _, _, m, _ in got) == sorted(
        2 * list(emails(server, "cab1", "cab2", "cab3", "cab4")))


def test_the_owners_hear_of_a_conflict_and_of_a_freeze(server, svc, receiver):
    name = svc()
    w = window(start_h=24 * 20)
    a = submit(server, change(server, svc, services=[name], window=w)["id"])
    b = submit(server, change(server, svc, who="bob", services=[name], window=w)["id"], who="bob")
    got_a = receiver.wait(about(a["ref"], f"conflicts with {b['ref']}"))
    got_b = receiver.wait(about(b["ref"], f"conflicts with {a['ref']}"))
    assert [to_addr(m) for _, _, m, _ in got_a] == [server.users["alice"]["email"]]
    assert [to_addr(m) for _, _, m, _ in got_b] == [server.users["bob"]["email"]]
    assert f"overlaps {b['ref']} “{b['title']}”" in text(got_a[0][2])
    assert f"on {name}." in text(got_a[0][2])

    fname = unique("year end")
    ok(server.as_("manager").post("/freezes", json={
        "name": fname, "services": [name], "hard": True, "reason": "audit",
        "window": {"start": w["start"], "end": w["end"]}}), 201)
    got = receiver.wait(about(a["ref"], f"falls in the freeze “{fname}”"))
    assert [to_addr(m) for _, _, m, _ in got] == [server.users["alice"]["email"]]
    body = text(got[0][2])
    assert f"falls in the hard freeze “{fname}” on {name}." in body
    assert "A hard freeze stops its approval" in body
    assert receiver.wait(about(b["ref"], f"falls in the freeze “{fname}”"))


def test_names_and_titles_that_are_not_ascii_reach_the_headers_intact(server, svc, receiver):
    title = "Zoë’s “rollout” — 日本語, with a \"quote\" and a backslash \\ " + "é" * 40
    ch = submit(server, change(server, svc, title=title)["id"])
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=4)
    assert got and all(m["Subject"] == f"[Cabinet] {ch['ref']} awaits your approval: {title}"
                       for _, _, m, _ in got)
    # a header line is never longer than RFC 5322 allows
    raw = got[0][3]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert all(line.isascii() for line in head.split(b"\r\n"))


# --- switching off ----------------------------------------------------------------------


def test_preferences_read_and_merge(server):
    cab2 = server.login("cab2")
    got = ok(cab2.get("/me/notifications"))
    assert got == {"email": server.users["cab2"]["email"], "sending": True,
                   "kinds": {"awaiting_approval": True, "decision": True, "conflict": True}}
    got = ok(cab2.patch("/me/notifications", json={"kinds": {"conflict": False}}))
    assert got["kinds"] == {"awaiting_approval": True, "decision": True, "conflict": False}
    got = ok(cab2.patch("/me/notifications", json={"kinds": {"decision": False}}))
    assert got["kinds"] == {"awaiting_approval": True, "decision": False, "conflict": False}
    assert ok(cab2.get("/me/notifications"))["kinds"] == got["kinds"]
    got = ok(cab2.patch("/me/notifications",
                        json={"kinds": {"decision": True, "conflict": True}}))
    assert got["kinds"] == {"awaiting_approval": True, "decision": True, "conflict": True}
    # another user's choice is their own
    assert ok(server.as_("cab3").get("/me/notifications"))["kinds"]["conflict"] is True


@pytest.mark.parametrize("body, fields", [
    ({}, ["kinds"]),
    ({"kinds": None}, ["kinds"]),
    ({"kinds": []}, ["kinds"]),
    ({"kinds": {"decisions": False}}, ["kinds.decisions"]),
    ({"kinds": {"decision": "no"}}, ["kinds.decision"]),
    ({"kinds": {"decision": 0, "nope": True}}, ["kinds.decision", "kinds.nope"]),
    ({"kinds": {}, "email": "x@y.z"}, ["email"]),
])
def test_bad_preferences_are_refused_naming_the_field(server, body, fields):
    cab4 = server.as_("cab4")
    before = ok(cab4.get("/me/notifications"))
    problem(cab4.patch("/me/notifications", json=body), 422, fields=fields)
    assert ok(cab4.get("/me/notifications")) == before


def test_preferences_need_a_json_body_and_a_session_or_token(server):
    problem(server.as_("cab4").patch("/me/notifications", data="kinds=1",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}),
            415)
    problem(server.anon().get("/me/notifications"), 401)
    t = server.token_client("bob")
    assert ok(t.get("/me/notifications"))["email"] == server.users["bob"]["email"]


def test_a_user_who_switched_a_kind_off_does_not_hear_it(server, svc, receiver):
    cab2 = server.login("cab2")
    ok(cab2.patch("/me/notifications", json={"kinds": {"awaiting_approval": False}}))
    try:
        ch = submit(server, change(server, svc)["id"])
        got = receiver.wait(about(ch["ref"], "awaits your approval"), count=3)
        time.sleep(1.5)
        got = receiver.wait(about(ch["ref"], "awaits your approval"), count=99, timeout=0)
        assert {to_addr(m) for _, _, m, _ in got} == emails(server, "cab1", "cab3", "cab4")
    finally:
        ok(cab2.patch("/me/notifications", json={"kinds": {"awaiting_approval": True}}))


def test_a_mail_switched_off_before_it_is_sent_is_skipped(server, receiver):
    """A mail written while its kind was on, sent after it was switched off:
    skipped, not sent (the choice holds at send time too)."""
    receiver.stop()
    try:
        cab1 = server.login("cab1")
        uid = server.users["cab1"]["id"]
        cid = int(server.psql("SELECT max(id) FROM changes"))
        mid = int(server.psql(
            "INSERT INTO mails (event_id, user_id, kind, change_id, message_id)"
            f" VALUES (-1, {uid}, 'conflict', {cid}, 'cabinet-{unique('skip')}') RETURNING id"
        ).splitlines()[0])
        ok(cab1.patch("/me/notifications", json={"kinds": {"conflict": False}}))
    finally:
        receiver.start()
    try:
        deadline = time.monotonic() + WAIT
        while server.psql(f"SELECT state FROM mails WHERE id = {mid}") == "pending":
            assert time.monotonic() < deadline, "the mail was never looked at"
            time.sleep(0.2)
        assert server.psql(f"SELECT state FROM mails WHERE id = {mid}") == "skipped"
    finally:
        ok(cab1.patch("/me/notifications", json={"kinds": {"conflict": True}}))


# --- delivery ----------------------------------------------------------------------------


def test_a_temporary_refusal_is_retried_with_the_same_message_id(server, svc, receiver):
    settle(server)
    with receiver.lock:
        receiver.tempfail = 2
    ch = submit(server, change(server, svc)["id"])
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=4, timeout=60)
    assert len(got) == 4
    with receiver.lock:
        refused = [email.message_from_bytes(r, policy=email.policy.default)
                   for r in receiver.refused]
    ids = {m["Message-ID"] for _, _, m, _ in got}
    again = [m for m in refused if m["X-Cabinet-Change"] == ch["ref"]]
    assert len(again) == 2
    assert {m["Message-ID"] for m in again} <= ids
    attempts = server.psql(
        "SELECT string_agg(attempts::text, ',' ORDER BY attempts) FROM mails"
        f" WHERE change_id = {ch['id']} AND kind = 'awaiting_approval' AND state = 'sent'")
    assert sum(int(a) for a in attempts.split(",")) == 4 + 2


def test_a_permanent_refusal_is_dead_at_once(server, svc, receiver):
    gone = server.add_user(unique("gone"), "cab")
    receiver.reject.add(gone["email"])
    ch = submit(server, change(server, svc)["id"])
    receiver.wait(about(ch["ref"], "awaits your approval"), count=4)
    deadline = time.monotonic() + WAIT
    while True:
        row = server.psql(f"SELECT state || '|' || attempts || '|' || last_error FROM mails"
                          f" WHERE change_id = {ch['id']} AND user_id = {gone['id']}")
        if row.startswith("dead") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    state, attempts, error = row.split("|", 2)
    assert (state, attempts) == ("dead", "1"), row
    assert "550" in error
    metrics = server.anon().get("/metrics", api=False).text
    assert re.search(r'^cabinet_mail_attempts_total\{result="dead"\} [1-9]', metrics, re.M)
    assert re.search(r'^cabinet_mail_attempts_total\{result="sent"\} [1-9]', metrics, re.M)
    assert "is dead after 1 attempt" in server.stderr_text()
    server.psql(f"UPDATE users SET disabled = true WHERE id = {gone['id']}")


def wait_row(server, sql, pred, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        row = server.psql(sql)
        if pred(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


def test_a_refused_message_is_dead_at_once(server, svc, receiver):
    picky = server.add_user(unique("picky"), "cab")
    receiver.refuse_message.add(picky["email"])
    try:
        ch = submit(server, change(server, svc)["id"])
        row = wait_row(server, "SELECT state || '|' || attempts || '|' || last_error FROM mails"
                               f" WHERE change_id = {ch['id']} AND user_id = {picky['id']}",
                       lambda r: r.startswith("dead"))
        assert row.split("|", 2)[:2] == ["dead", "1"], row
        assert "554" in row
    finally:
        server.psql(f"UPDATE users SET disabled = true WHERE id = {picky['id']}")


def test_a_refused_sender_is_the_settings_fault_and_the_mail_waits(server, svc, receiver):
    """A 5xx to MAIL FROM (or to AUTH) says the settings are wrong, not the
    mail: nothing is given up, and once the server takes the sender again
    everything goes out."""
    settle(server)
    receiver.refuse_sender = True
    try:
        ch = submit(server, change(server, svc)["id"])
        row = wait_row(server, "SELECT count(*) FILTER (WHERE attempts > 0) || '|'"
                               " || count(*) FILTER (WHERE state <> 'pending') FROM mails"
                               f" WHERE change_id = {ch['id']}",
                       lambda r: r.split("|")[0] == "4")
        assert row == "4|0", row
        assert "MAIL failed: 550" in server.psql(
            f"SELECT max(last_error) FROM mails WHERE change_id = {ch['id']}")
    finally:
        receiver.refuse_sender = False
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=4, timeout=60)
    assert len(got) == 4


def test_mail_waits_while_the_receiver_is_down(server, svc, receiver):
    receiver.stop()
    try:
        ch = submit(server, change(server, svc)["id"])
        deadline = time.monotonic() + WAIT
        while server.psql("SELECT count(*) FROM mails WHERE attempts > 0 AND state = 'pending'"
                          f" AND change_id = {ch['id']}") == "0":
            assert time.monotonic() < deadline, "no attempt was made"
            time.sleep(0.2)
    finally:
        receiver.start()
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=4, timeout=60)
    assert len(got) == 4
    assert "not sent (attempt 1)" in server.stderr_text()


def test_a_disabled_account_hears_nothing(server, svc, receiver):
    extra = server.add_user(unique("cabx"), "cab")
    ok(server.as_("admin").patch(f"/users/{extra['id']}", json={"disabled": True}))
    ch = submit(server, change(server, svc)["id"])
    receiver.wait(about(ch["ref"], "awaits your approval"), count=4)
    time.sleep(1.5)
    got = receiver.wait(about(ch["ref"], "awaits your approval"), count=99, timeout=0)
    assert extra["email"] not in {to_addr(m) for _, _, m, _ in got}


# --- cabinet mail test -------------------------------------------------------------------


def mail_test(server, receiver, address, **env):
    full = {**os.environ, **sanitizer_env(), "CABINET_SMTP_URL": f"smtp://127.0.0.1:{receiver.port}",
            "CABINET_SMTP_FROM": f"Cabinet CAB <{DOMAIN_FROM}>", "CABINET_SMTP_TLS": "off",
            "CABINET_BASE_URL": "https://cab.example.test", **env}
    cp = subprocess.run([str(BIN), "mail", "test", address], env=full, capture_output=True,
                        text=True, timeout=90, stdin=subprocess.DEVNULL)
    assert not sanitizer_findings(cp.stderr), cp.stderr
    return cp


def test_mail_test_sends_one_message(server, receiver):
    address = f"{unique('ops')}@example.test"
    cp = mail_test(server, receiver, address)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == f"sent a test message to {address}\n"
    got = receiver.wait(lambda m: to_addr(m) == address)
    assert len(got) == 1
    _, rcpts, msg, _ = got[0]
    assert rcpts == [address]
    assert msg["Subject"] == "[Cabinet] Test message"
    assert "This is a test message from Cabinet at https://cab.example.test." in text(msg)


def test_mail_test_says_why_it_was_not_sent(server, receiver):
    address = f"{unique('nobody')}@example.test"
    receiver.reject.add(address)
    cp = mail_test(server, receiver, address)
    assert cp.returncode == 1
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and "the test message to" in lines[0] and "550" in lines[0], cp.stderr
    cp = mail_test(server, receiver, address, CABINET_SMTP_URL="")
    assert cp.returncode == 1
    assert "CABINET_SMTP_URL is not set" in cp.stderr


def test_smtp_without_starttls_is_refused_unless_tls_is_off(server, receiver):
    """The receiver offers no STARTTLS: with the default CABINET_SMTP_TLS
    (required) nothing is sent in the clear."""
    address = f"{unique('clear')}@example.test"
    cp = mail_test(server, receiver, address, CABINET_SMTP_TLS="required")
    assert cp.returncode == 1, cp.stdout
    assert "was not sent" in cp.stderr, cp.stderr
    time.sleep(0.5)
    assert not [m for m in receiver.parsed() if to_addr(m[2]) == address]


# --- an installation without mail ---------------------------------------------------------


def test_without_smtp_nothing_is_recorded_and_sending_is_false(cluster):
    srv = start_server(cluster, "mail_off", users={"alice": "", "admin": "admin"})
    try:
        admin = srv.as_("admin")
        name = unique("off")
        ok(admin.post("/services", json={"name": name, "title": name, "tier": 3}), 201)
        ch = ok(srv.as_("alice").post("/changes", json={
            "title": "quiet", "services": [name], "window": window(),
            "test_plan": "t", "backout_plan": "b", "business_impact": "low"}), 201)
        ok(srv.as_("alice").post(f"/changes/{ch['id']}/submit"))
        assert ok(srv.as_("alice").get("/me/notifications"))["sending"] is False
        assert srv.psql("SELECT (SELECT count(*) FROM mail_events) + (SELECT count(*) FROM mails)"
                        " + (SELECT count(*) FROM mail_relay)") == "0"
    finally:
        finish_server(srv)
