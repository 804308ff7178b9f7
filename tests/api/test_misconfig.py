"""`cabinet serve` (and `cabinet verify`) with a wrong setting: one log line
that says what is wrong and what to do (a JSON object with
CABINET_LOG_FORMAT=json), exit status 1, and nothing written: above all, no
server key file made in place of one that could not be read."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (BIN, SQL_DIR, WEB_ROOT, finish_server, free_port, psql, run,
                      sanitizer_env, sanitizer_findings, start_server, unique)


@pytest.fixture(scope="module")
def good_db(cluster):
    """A migrated database that nothing has served yet."""
    db = unique("miscfg").replace("-", "_")
    cluster.createdb(db, "cabinet_template")
    return cluster.url(db)


@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="cabinet-misconfig."))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def serve_env(workdir, db_url, **changes):
    env = {
        "CABINET_LISTEN": f"127.0.0.1:{free_port()}",
        "CABINET_DATABASE_URL": db_url,
        "CABINET_WEB_ROOT": str(WEB_ROOT),
        "CABINET_SQL_DIR": str(SQL_DIR),
        "CABINET_SERVER_KEY_FILE": str(workdir / "keys" / "server.key"),
        "CABINET_THREADS": "8",
        "CABINET_DB_WAIT": "0",
        **sanitizer_env(),
    }
    (workdir / "keys").mkdir(exist_ok=True)
    env.update(changes)
    return env


def files_under(d):
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*"))


def refused(workdir, env, expect, fmt="text", cmd=("serve",), timeout=60, user=None,
            binary=None):
    """Runs the command; checks exit 1, one line holding every phrase of
    expect (in the log format asked for), and that workdir did not change.
    Returns the message and how long the command took."""
    before = files_under(workdir)
    env = dict(env, CABINET_LOG_FORMAT=fmt)
    argv = [str(binary or BIN), *cmd]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *argv]
    t0 = time.monotonic()
    cp = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                        timeout=timeout, cwd=str(workdir), stdin=subprocess.DEVNULL)
    took = time.monotonic() - t0
    out = cp.stderr + cp.stdout
    assert not sanitizer_findings(out), out
    assert cp.returncode == 1, f"exit {cp.returncode}:\n{out}"
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{out}"
    line = lines[0]
    if fmt == "json":
        entry = json.loads(line)
        assert entry["level"] == "error", entry
        message = entry["msg"]
    else:
        assert " error " in line, line
        message = line
    for phrase in expect:
        assert phrase in message, f"{phrase!r} not in {message!r}"
    assert files_under(workdir) == before, "something was written"
    return message, took


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_missing_web_root(workdir, good_db, fmt):
    env = serve_env(workdir, good_db, CABINET_WEB_ROOT=str(workdir / "no-such-web"))
    refused(workdir, env, ["CABINET_WEB_ROOT", "not a directory", str(workdir / "no-such-web")],
            fmt)
    assert not (workdir / "keys" / "server.key").exists()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_empty_web_root(workdir, good_db, fmt):
    (workdir / "web").mkdir()
    env = serve_env(workdir, good_db, CABINET_WEB_ROOT=str(workdir / "web"))
    refused(workdir, env, ["CABINET_WEB_ROOT", "no index.html"], fmt)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_key_file_that_is_a_directory(workdir, good_db, fmt):
    (workdir / "keys" / "server.key").mkdir(parents=True)
    env = serve_env(workdir, good_db)
    refused(workdir, env, ["CABINET_SERVER_KEY_FILE", "is a directory"], fmt)
    assert (workdir / "keys" / "server.key").is_dir()
    assert list((workdir / "keys" / "server.key").iterdir()) == []


def test_a_key_file_whose_folder_is_missing(workdir, good_db):
    key = workdir / "gone" / "server.key"
    env = serve_env(workdir, good_db, CABINET_SERVER_KEY_FILE=str(key))
    refused(workdir, env, ["CABINET_SERVER_KEY_FILE", "folder", "does not exist"])
    assert not key.parent.exists()


def test_a_key_file_that_cannot_be_read(workdir, good_db):
    """As an unprivileged user (root reads anything): the file is the
    installation's key, so it is neither replaced nor touched."""
    binary = workdir / "cabinet"
    shutil.copy(BIN, binary)
    os.chmod(binary, 0o755)
    key = workdir / "keys" / "server.key"
    env = serve_env(workdir, good_db)
    key.write_text("c2VjcmV0LXNlZWQtdGhhdC1ub2JvZHktbWF5LXJlYWQhIQ==\n")
    os.chmod(key, 0o600)
    before = key.read_bytes()
    env.pop("LSAN_OPTIONS", None)  # the suppressions file may be out of the user's reach
    refused(workdir, env, ["CABINET_SERVER_KEY_FILE", "cannot be read", "Permission denied",
                           "no new key"], user="nobody", binary=binary)
    assert key.read_bytes() == before


def test_a_key_file_others_can_read_is_warned_about(cluster):
    srv = start_server(cluster, unique("keymode").replace("-", "_"), users={})
    finish_server(srv)
    os.chmod(srv.key_path, 0o644)
    srv.start()
    try:
        text = srv.stderr_text()
        warned = [ln for ln in text.splitlines() if " warn " in ln and "chmod 600" in ln]
        assert warned and str(srv.key_path) in warned[0], text
    finally:
        finish_server(srv)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_database_that_does_not_exist_fails_at_once(cluster, workdir, fmt):
    url = cluster.url("no_such_database_here")
    env = serve_env(workdir, url, CABINET_DB_WAIT="30")
    message, took = refused(workdir, env, ["CABINET_DATABASE_URL", "does not exist",
                                           "cabinet migrate"], fmt)
    assert took < 10, f"waited {took:.1f} s for a database that does not exist"
    assert not (workdir / "keys" / "server.key").exists()


def test_an_unmigrated_database(cluster, workdir):
    db = unique("bare").replace("-", "_")
    url = cluster.createdb(db)
    refused(workdir, serve_env(workdir, url), ["no Cabinet schema", "run cabinet migrate"])
    assert not (workdir / "keys" / "server.key").exists()
    # serve created nothing in it
    assert psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"


def test_a_database_with_pending_migrations(cluster, workdir):
    db = unique("old").replace("-", "_")
    url = cluster.createdb(db, "cabinet_template")
    last = psql(url, "SELECT max(version) FROM schema_migrations")
    psql(url, f"DELETE FROM schema_migrations WHERE version = '{last}'")
    refused(workdir, serve_env(workdir, url), ["lacks 1 migration", last, "run cabinet migrate"])
    assert psql(url, "SELECT count(*) FROM server_key") == "0"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_connection_failure_names_the_url_without_its_password(workdir, fmt):
    port = free_port()
    url = f"postgresql://cabinet:s3cret-pw@127.0.0.1:{port}/cabinet"
    message, _ = refused(workdir, serve_env(workdir, url),
                         ["CABINET_DATABASE_URL", f"127.0.0.1:{port}", "CABINET_DB_WAIT"], fmt)
    assert "s3cret-pw" not in message
    assert "cabinet:***@" in message


def test_a_key_value_connection_string_is_shown_without_its_password(workdir):
    port = free_port()
    url = f"host=127.0.0.1 port={port} user=cabinet password=s3cret-pw dbname=cabinet"
    message, _ = refused(workdir, serve_env(workdir, url), ["CABINET_DATABASE_URL"])
    assert "s3cret-pw" not in message
    assert f"port={port} user=cabinet password=*** dbname=cabinet" in message


def test_tls_needs_both_files(workdir, good_db):
    cert = workdir / "cert.pem"
    cert.write_text("not used\n")
    env = serve_env(workdir, good_db, CABINET_TLS_CERT=str(cert))
    refused(workdir, env, ["CABINET_TLS_CERT and CABINET_TLS_KEY go together"])


def test_tls_files_that_cannot_be_read(workdir, good_db):
    env = serve_env(workdir, good_db, CABINET_TLS_CERT=str(workdir / "none.pem"),
                    CABINET_TLS_KEY=str(workdir / "none.key"))
    refused(workdir, env, ["CABINET_TLS_CERT", "cannot be read", "No such file"])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_mail_url_that_is_not_smtp_is_refused_without_showing_it(workdir, good_db, fmt):
    env = serve_env(workdir, good_db, CABINET_SMTP_URL="https://ops:s3cret-pw@mail.example.org",
                    CABINET_SMTP_FROM="cab@example.org")
    message, _ = refused(workdir, env, ["CABINET_SMTP_URL must be an smtps:// or smtp:// URL"],
                         fmt=fmt)
    assert "s3cret-pw" not in message and "ops" not in message


@pytest.mark.parametrize("sender", ["", "Cabinet", "Cabinet <cab@example.org", "Caf\u00e9 <c@x.y>",
                                    "a b@c", "Cab\"inet <cab@example.org>"])
def test_mail_needs_a_sender_address(workdir, good_db, sender):
    env = serve_env(workdir, good_db, CABINET_SMTP_URL="smtp://127.0.0.1:1",
                    CABINET_SMTP_FROM=sender)
    refused(workdir, env, ["CABINET_SMTP_FROM must be the sender's address",
                           "when CABINET_SMTP_URL is set"])


def test_an_unknown_smtp_tls_word(workdir, good_db):
    env = serve_env(workdir, good_db, CABINET_SMTP_TLS="maybe")
    refused(workdir, env, ['CABINET_SMTP_TLS must be required or off, not "maybe"'])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_verify_on_a_database_never_served(workdir, good_db, fmt):
    """Not a crash, nor "cannot read the audit tables": it says why there is
    nothing to verify. (verify prints its findings, not log lines.)"""
    env = serve_env(workdir, good_db)
    cp = run([BIN, "verify"], env={**env, "CABINET_LOG_FORMAT": fmt}, check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    assert not sanitizer_findings(out), out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("FAIL: no server key is recorded"), out
    assert "never been served" in lines[0] and "CABINET_DATABASE_URL" in lines[0], out


def test_verify_on_an_unmigrated_database(cluster, workdir):
    url = cluster.createdb(unique("bare").replace("-", "_"))
    cp = run([BIN, "verify"], env=serve_env(workdir, url), check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    assert not sanitizer_findings(out), out
    assert "cabinet migrate" in out, out
