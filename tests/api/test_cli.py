"""The `cabinet` command line as an operator meets it: each command's own
--help, one-line misuse, --version, the settings' flags, sign's postable
body, and the account commands (user list/passwd/disable/enable/unlock,
token add)."""

import json
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import (BIN, PASSWORD, SQL_DIR, free_port, ok, problem, sanitizer_env,
                      sanitizer_findings, unique)

COMMANDS = ["serve", "migrate", "seed", "user add", "user list", "user passwd", "user disable",
            "user enable", "user unlock", "token add", "keygen", "sign", "verify", "mail test",
            "version"]
NOWHERE = "postgresql://127.0.0.1:1/none?connect_timeout=2"


def cli(*args, env=None, cwd=None, db=NOWHERE, password=None):
    full = {k: v for k, v in os.environ.items()
            if not k.startswith("CABINET_")}
    full.update(sanitizer_env())
    full["CABINET_DATABASE_URL"] = db
    full["CABINET_SQL_DIR"] = str(SQL_DIR)
    if password is not None:
        full["CABINET_PASSWORD"] = password
    full.update(env or {})
    try:
        cp = subprocess.run([str(BIN), *[str(a) for a in args]], env=full, cwd=cwd,
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"cabinet {args} did not finish in 60 s") from e
    assert not sanitizer_findings(cp.stderr), cp.stderr
    return cp


def done(cp):
    assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
    return cp.stdout


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_each_command_has_its_own_help(name, flag, tmp_path):
    cp = cli(*name.split(), flag, cwd=tmp_path)
    assert cp.returncode == 0, (cp.returncode, cp.stderr)
    assert cp.stdout.startswith(f"usage: cabinet {name}"), cp.stdout
    assert "--help" in cp.stdout
    assert cp.stderr == ""
    # nothing else done: no key written, no database asked (NOWHERE would fail)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["keygen", "user add", "sign"])
def test_help_wins_over_the_other_words(name, tmp_path):
    cp = cli(*name.split(), "--bogus", "x", "--help", cwd=tmp_path)
    assert cp.returncode == 0 and cp.stdout.startswith(f"usage: cabinet {name}"), cp
    assert list(tmp_path.iterdir()) == []


def test_help_and_h_agree():
    a, b, c = cli("--help"), cli("-h"), cli("help")
    assert a.returncode == b.returncode == c.returncode == 0
    assert a.stdout == b.stdout == c.stdout
    for name in COMMANDS:
        assert f"  {name} " in a.stdout, name
    assert "CABINET_DATABASE_URL" in a.stdout


def test_help_names_a_command():
    assert cli("help", "user", "add").stdout == cli("user", "add", "--help").stdout
    assert cli("help", "keygen").stdout == cli("keygen", "-h").stdout
    group = cli("user", "--help")
    assert group.returncode == 0
    for sub in ("add", "list", "passwd", "disable", "enable", "unlock"):
        assert f"cabinet user {sub}" in group.stdout
    assert cli("help", "nothing").returncode == 2


def test_serve_help_lists_the_settings():
    out = done(cli("serve", "--help"))
    for flag in ("--database-url", "--listen", "--cookie-secure", "--trusted-proxies"):
        assert flag in out, flag


# --- misuse -------------------------------------------------------------------------------


@pytest.mark.parametrize("args, line", [
    (["foo"], "cabinet: unknown command foo (see cabinet --help)"),
    (["serve", "--bogus"], "cabinet: unknown flag --bogus for serve (see cabinet serve --help)"),
    (["serve", "--bogus=1"], "cabinet: unknown flag --bogus for serve (see cabinet serve --help)"),
    (["user", "add", "x@y.z"],
     "cabinet: user add needs --name NAME (see cabinet user add --help)"),
    (["user", "add", "--name", "X"], "cabinet: user add needs EMAIL (see cabinet user add --help)"),
    (["user", "add", "x@y.z", "--name"],
     "cabinet: --name needs a value (NAME) (see cabinet user add --help)"),
    (["user", "add", "x@y.z", "--name", "X", "--roles", "root"],
     "cabinet: unknown role \"root\" in --roles (cab, ecab, manager, admin) "
     "(see cabinet user add --help)"),
    (["user", "add", "nobody", "--name", "X"],
     "cabinet: \"nobody\" is not an e-mail address (see cabinet user add --help)"),
    (["user"], "cabinet: user needs a command: add, list, passwd, disable, enable, unlock "
               "(see cabinet user --help)"),
    (["user", "frob"], "cabinet: unknown command user frob (see cabinet user --help)"),
    (["token"], "cabinet: token needs a command: add (see cabinet token --help)"),
    (["token", "add", "a@b.c", "--name", "ci", "--scope", "all"],
     "cabinet: --scope is full or feed, not \"all\" (see cabinet token add --help)"),
    (["keygen", "--bogus"], "cabinet: unknown flag --bogus for keygen (see cabinet keygen --help)"),
    (["keygen", "extra"],
     "cabinet: unexpected argument \"extra\" for keygen (see cabinet keygen --help)"),
    (["keygen", "--key"], "cabinet: --key needs a value (FILE) (see cabinet keygen --help)"),
    (["seed"], "cabinet: seed needs FILE (see cabinet seed --help)"),
    (["migrate", "now"],
     "cabinet: unexpected argument \"now\" for migrate (see cabinet migrate --help)"),
    (["verify", "--bundle"], "cabinet: --bundle needs a value (FILE) (see cabinet verify --help)"),
    (["user", "list", "--json=yes"], "cabinet: --json takes no value (see cabinet user list --help)"),
    (["user", "unlock", "a@b.c", "--name", "x"],
     "cabinet: unknown flag --name for user unlock (see cabinet user unlock --help)"),
    (["mail"], "cabinet: mail needs a command: test (see cabinet mail --help)"),
    (["mail", "test"], "cabinet: mail test needs ADDRESS (see cabinet mail test --help)"),
    (["mail", "test", "no body@x"], "cabinet: \"no body@x\" is not an address a message can be "
                                    "sent to (see cabinet mail test --help)"),
    (["version", "x"], "cabinet: unexpected argument \"x\" for version (see cabinet version --help)"),
    (["--bogus"], "cabinet: unknown flag --bogus (see cabinet --help)"),
    ([], "cabinet: no command given (see cabinet --help)"),
    (["--threads", "x", "version"],
     "cabinet: --threads must be a whole number from 2 to 4096, not \"x\""),
    (["version", "--listen"], "cabinet: --listen needs a value"),
])
def test_a_misuse_names_the_word_in_one_line(args, line, tmp_path):
    cp = cli(*args, cwd=tmp_path)
    assert cp.returncode == 2, (cp.returncode, cp.stdout, cp.stderr)
    assert cp.stdout == ""
    assert cp.stderr == line + "\n"
    assert list(tmp_path.iterdir()) == []


# --- version, settings ------------------------------------------------------------------------


def test_version_matches_the_server(server):
    a, b = done(cli("--version")), done(cli("version"))
    assert a == b
    version = ok(server.anon().get("/config"))["version"]
    assert a == f"cabinet {version}\n"


@pytest.mark.parametrize("args", [
    ["--cookie-secure", "false"], ["--cookie-secure=false"], ["--cookie-secure"],
    ["--cookie-secure", "true"], ["--threads", "8"], ["--threads=8"],
    ["--webhook-allow-loopback", "no"], ["--listen", "127.0.0.1:9"], ["--listen=127.0.0.1:9"],
])
def test_settings_take_a_space_or_an_equals_sign(args):
    assert done(cli(*args, "version")).startswith("cabinet ")
    assert done(cli("version", *args)).startswith("cabinet ")


def test_a_boolean_setting_before_a_command_is_not_its_value():
    # "serve" is not true or false: the switch alone is true, serve the command
    cp = cli("--cookie-secure", "version")
    assert cp.returncode == 0, cp.stderr


# --- keygen, sign ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def change(server):
    admin = server.as_("admin")
    name = unique("cli")
    ok(admin.post("/services", json={"name": name, "title": name, "tier": 3}), 201)
    c = server.as_("alice")
    from datetime import datetime, timedelta, timezone
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=10)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    ch = ok(c.post("/changes", json={
        "title": unique("cli change"), "services": [name],
        "window": {"start": start.strftime(fmt), "end": (start + timedelta(hours=2)).strftime(fmt)},
        "test_plan": "smoke tests", "backout_plan": "roll back", "business_impact": "low"}), 201)
    return ok(c.post(f"/changes/{ch['id']}/submit"))


def test_keygen_writes_a_key_only_when_understood(tmp_path):
    done(cli("keygen", cwd=tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["cabinet-approver.key"]
    done(cli("keygen", "--key=other.key", cwd=tmp_path))
    assert (tmp_path / "other.key").is_file()


def test_sign_with_key_id_prints_a_body_to_post_as_it_is(server, change, tmp_path):
    key = tmp_path / "approver.key"
    pub = done(cli("keygen", "--key", key)).strip()
    k = ok(server.as_("cab4").post("/me/keys", json={"public_key": pub, "label": "cli"}), 201)
    out = done(cli("sign", "--key", key, "--key-id", k["id"], "--ref", change["ref"],
                   "--version", change["version"], "--hash", change["content_hash"],
                   "--decision", "approve", "--comment", "from the command line"))
    body = json.loads(out)
    assert set(body) == {"decision", "comment", "key_id", "signed_at", "signature"}, body
    assert body["key_id"] == k["id"] and body["decision"] == "approve"
    r = server.as_("cab4").post(f"/changes/{change['id']}/approvals", data=out,
                                headers={"Content-Type": "application/json"})
    a = ok(r, 201)
    assert a["valid"] is True and a["comment"] == "from the command line", a
    assert ok(server.as_("alice").get(f"/changes/{change['id']}"))["state"] == "approved"


def test_sign_flags_take_equals_and_comment_is_optional(tmp_path):
    key = tmp_path / "k"
    done(cli("keygen", "--key", key))
    body = json.loads(done(cli("sign", f"--key={key}", "--key-id=7", "--ref=CHG-1",
                               "--version=2", "--hash=" + "c" * 64, "--decision=reject",
                               "--signed-at=2031-01-02T03:04:05Z")))
    assert body == {"decision": "reject", "key_id": 7, "signed_at": "2031-01-02T03:04:05Z",
                    "signature": body["signature"]}


@pytest.mark.parametrize("args, word", [
    (["--key-id", "0"], "--key-id"), (["--key-id", "x"], "--key-id"),
    (["--comment", "hi"], "--comment"), (["--key-id", "3", "--comment", "a\x07b"], "--comment"),
    (["--key-id", "3", "--comment", "x" * 10001], "--comment"), (["--version", "0"], "--version"),
    (["--hash", "A" * 64], "--hash"), (["--decision", "maybe"], "--decision"),
    (["--signed-at", "now"], "--signed-at"),
])
def test_sign_refuses_a_bad_word_by_name(tmp_path, args, word):
    key = tmp_path / "k"
    done(cli("keygen", "--key", key))
    base = {"--key": str(key), "--ref": "CHG-1", "--version": "1", "--hash": "b" * 64,
            "--decision": "approve"}
    base.update(dict(zip(args[::2], args[1::2])))
    cp = cli("sign", *[x for kv in base.items() for x in kv])
    assert cp.returncode == 2 and cp.stdout == "", cp
    assert cp.stderr.count("\n") == 1 and word in cp.stderr, cp.stderr


# --- accounts -------------------------------------------------------------------------------


def audit(server, action, entity_id):
    return server.psql_json(
        "SELECT json_agg(json_build_object('actor', actor, 'data', data) ORDER BY id)"
        f" FROM audit_log WHERE action = '{action}' AND entity_id = '{entity_id}'") or []


def test_user_add_takes_equals_and_writes_nothing_on_misuse(server):
    email = f"{unique('eq')}@cabinet.test"
    doc = json.loads(done(cli("user", "add", email, "--name=Eq User", "--roles=cab",
                              db=server.db_url, password=PASSWORD)))
    assert doc["email"] == email and "cab" in doc["roles"]
    assert audit(server, "user.created", doc["id"])[0]["actor"] == "system"
    bad = f"{unique('bad')}@cabinet.test"
    assert cli("user", "add", bad, "--name", "B", "--roles", "x", db=server.db_url,
               password=PASSWORD).returncode == 2
    assert cli("user", "add", bad, "--name", "B", db=server.db_url,
               password="short").returncode == 1
    assert server.psql(f"SELECT count(*) FROM users WHERE email = '{bad}'") == "0"


def test_user_list_as_a_table_and_as_json_lines(server):
    u = server.add_user(unique("lst"), roles="cab,manager")
    lines = done(cli("user", "list", db=server.db_url)).splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "NAME", "ROLES", "DISABLED", "LOCKED"]
    row = next(line for line in lines if u["email"] in line).split()
    assert row[0] == str(u["id"]) and row[-2:] == ["no", "no"], row
    docs = [json.loads(line) for line in done(cli("user", "list", "--json",
                                                  db=server.db_url)).splitlines()]
    mine = next(d for d in docs if d["id"] == u["id"])
    assert set(mine) >= {"id", "email", "name", "roles", "disabled", "locked"}, mine
    assert mine["locked"] is False and sorted(mine["roles"]) == ["cab", "manager", "requester"]
    assert [d["id"] for d in docs] == sorted(d["id"] for d in docs)


def test_user_passwd_changes_it_and_ends_the_sessions(server):
    u = server.add_user(unique("pw"))
    c = server.login(u["email"])
    new = "a-brand-new-password"
    out = done(cli("user", "passwd", u["email"].upper(), db=server.db_url, password=new))
    assert u["email"].upper() in out
    problem(c.get("/me"), 401)
    problem(server.anon().post("/session", json={"email": u["email"], "password": PASSWORD}),
            401)
    server.login(u["email"], password=new)
    entries = audit(server, "user.updated", u["id"])
    assert entries[-1]["actor"] == "system" and entries[-1]["data"]["password_changed"] is True
    # the same rules as user add: nothing changes
    assert cli("user", "passwd", u["email"], db=server.db_url, password="short").returncode == 1
    server.login(u["email"], password=new)
    cp = cli("user", "passwd", "nobody@cabinet.test", db=server.db_url, password=new)
    assert cp.returncode == 1 and "no account" in cp.stderr


def test_user_passwd_without_a_password_or_terminal(server):
    u = server.add_user(unique("pw"))
    cp = cli("user", "passwd", u["email"], db=server.db_url)
    assert cp.returncode == 1 and "CABINET_PASSWORD" in cp.stderr
    server.login(u["email"])


def test_user_disable_and_enable(server):
    u = server.add_user(unique("dis"))
    c = server.login(u["email"])
    token = ok(c.post("/tokens", json={"name": "t"}), 201)["token"]
    done(cli("user", "disable", u["email"], db=server.db_url))
    problem(c.get("/me"), 401)
    problem(server.bearer(token).get("/me"), 401)
    problem(server.anon().post("/session", json={"email": u["email"], "password": PASSWORD}),
            401)
    docs = [json.loads(x)
            for x in done(cli("user", "list", "--json", db=server.db_url)).splitlines()]
    assert next(d for d in docs if d["id"] == u["id"])["disabled"] is True
    entry = audit(server, "user.updated", u["id"])[-1]
    assert entry["actor"] == "system" and entry["data"]["disabled"] is True, entry
    done(cli("user", "enable", u["email"], db=server.db_url))
    server.login(u["email"])
    assert ok(server.bearer(token).get("/me"))["user"]["id"] == u["id"]


def test_user_unlock_ends_the_wait(server):
    u = server.add_user(unique("unl"))
    server.psql("INSERT INTO login_failures (email, addr) "
                f"SELECT lower('{u['email']}'), '127.0.0.1' FROM generate_series(1, 14)")
    problem(server.anon().post("/session", json={"email": u["email"], "password": PASSWORD}),
            429)
    docs = [json.loads(x)
            for x in done(cli("user", "list", "--json", db=server.db_url)).splitlines()]
    mine = next(d for d in docs if d["id"] == u["id"])
    assert mine["locked"] is True and 400 < mine["locked_for"] <= 512, mine
    out = done(cli("user", "unlock", u["email"], db=server.db_url))
    assert "14 failed logins cleared" in out, out
    server.login(u["email"])
    assert audit(server, "user.unlocked", u["id"]) == [
        {"actor": "system", "data": {"failures_cleared": 14}}]
    assert cli("user", "unlock", "nobody@cabinet.test", db=server.db_url).returncode == 1


def test_token_add_prints_the_token_once(server):
    u = server.add_user(unique("tok"))
    doc = json.loads(done(cli("token", "add", u["email"], "--name", "ci deploy",
                              db=server.db_url)))
    assert doc["name"] == "ci deploy" and doc["scope"] == "full"
    assert ok(server.bearer(doc["token"]).get("/me"))["user"]["id"] == u["id"]
    listed = ok(server.bearer(doc["token"]).get("/tokens"))
    assert doc["token"] not in json.dumps(listed)
    assert audit(server, "token.created", doc["id"])[0]["actor"] == "system"
    feed = json.loads(done(cli("token", "add", u["email"], "--name=feed", "--scope=feed",
                               db=server.db_url)))
    assert feed["scope"] == "feed"
    problem(server.bearer(feed["token"]).post("/changes", json={"title": "x"}), 403)
    cp = cli("token", "add", "nobody@cabinet.test", "--name", "x", db=server.db_url)
    assert cp.returncode == 1 and cp.stdout == "" and "no account" in cp.stderr


# --- a setting's flag reaches the server --------------------------------------------------------


@pytest.mark.parametrize("flags, secure", [
    (["--cookie-secure", "false"], False), (["--cookie-secure", "true"], True),
    (["--cookie-secure=false"], False), (["--cookie-secure"], True),
])
def test_serve_takes_a_boolean_setting_either_way(server, flags, secure):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    env.update(sanitizer_env())
    env.update({"CABINET_DATABASE_URL": server.db_url, "CABINET_SQL_DIR": str(SQL_DIR),
                "CABINET_WEB_ROOT": str(server.web_root),
                "CABINET_SERVER_KEY_FILE": str(server.key_path),
                "CABINET_THREADS": "4", "CABINET_DB_POOL": "2"})
    log = server.cluster.files / f"cli-serve-{port}.stderr"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(BIN), "serve", "--listen", f"127.0.0.1:{port}", *flags],
                                env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if requests.get(base + "/healthz", timeout=2,
                                headers={"Connection": "close"}).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        r = requests.post(base + "/api/v1/session", headers={"Connection": "close"}, timeout=20,
                          json={"email": server.users["alice"]["email"], "password": PASSWORD})
        assert r.status_code == 200, r.text
        attrs = [a.strip().lower() for a in r.headers["Set-Cookie"].split(";")]
        assert ("secure" in attrs) is secure, r.headers["Set-Cookie"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert not sanitizer_findings(log.read_text(errors="replace"))
