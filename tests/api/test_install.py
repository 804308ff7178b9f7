"""`make install` and README's systemd unit, against the code: the tree it
writes, the unit's variables and paths, and an installed binary that
migrates a new database and serves the installed web UI."""

import os
import re
import subprocess
import time

import pytest
import requests

from conftest import REPO, free_port, run

README = REPO / "README.md"
PREFIX = "/usr/local"


def readme_block(marker, lang):
    m = re.search(rf"<!-- {marker} -->\n```{lang}\n(.*?)\n```", README.read_text(), re.S)
    assert m, f"README has no {marker} block"
    return m.group(1)


def unit():
    """The README unit's [Service] settings: name -> list of values."""
    out = {}
    for line in readme_block("systemd unit", "ini").splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def env_file():
    text = README.read_text()
    m = re.search(r"with `/etc/cabinet/cabinet.env`[^`]*?```sh\n(.*?)\n```", text, re.S)
    assert m, "README shows no cabinet.env"
    # as systemd reads an EnvironmentFile: comment lines (#) are skipped
    return dict(line.split("=", 1) for line in m.group(1).splitlines()
                if line.strip() and not line.lstrip().startswith("#"))


def known_variables():
    text = (REPO / "server" / "config.c").read_text()
    return set(re.findall(r'\{"(CABINET_[A-Z0-9_]+)", "--', text))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    cp = subprocess.run(["make", "--no-print-directory", "install", f"DESTDIR={dest}",
                         f"PREFIX={PREFIX}"], cwd=REPO, capture_output=True, text=True,
                        timeout=900)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return dest


def test_make_install_writes_the_binary_the_migrations_and_the_web_ui(installed):
    root = installed / PREFIX.lstrip("/")
    binary = root / "bin" / "cabinet"
    assert binary.stat().st_mode & 0o111
    sql = sorted(p.name for p in (root / "share/cabinet/sql").glob("*.sql"))
    assert sql == sorted(p.name for p in (REPO / "sql").glob("*.sql"))
    assert (root / "share/cabinet/web/index.html").is_file()
    assert (root / "share/cabinet/web/app.js").is_file()
    r = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and re.match(r"cabinet \d+\.\d+\.\d+", r.stdout), r


def test_the_readme_unit_sets_only_what_cabinet_reads_at_the_installed_paths():
    u = unit()
    env = dict(v.split("=", 1) for v in u["Environment"])
    known = known_variables()
    assert set(env) <= known, set(env) - known
    assert set(env_file()) <= known, set(env_file()) - known
    assert env["CABINET_SQL_DIR"] == f"{PREFIX}/share/cabinet/sql"
    assert env["CABINET_WEB_ROOT"] == f"{PREFIX}/share/cabinet/web"
    assert u["ExecStart"] == [f"{PREFIX}/bin/cabinet serve"]
    assert u["ExecStartPre"] == [f"{PREFIX}/bin/cabinet migrate"]
    assert u["KillSignal"] == ["SIGTERM"]  # what serve stops on
    assert env["CABINET_SERVER_KEY_FILE"].startswith("/var/lib/cabinet/")
    assert u["StateDirectory"] == ["cabinet"] and u["WorkingDirectory"] == ["/var/lib/cabinet"]


def test_the_installed_binary_migrates_and_serves_the_installed_ui(installed, cluster, tmp_path):
    root = installed / PREFIX.lstrip("/")
    binary = str(root / "bin" / "cabinet")
    db = cluster.createdb("m_install")
    env = {
        "CABINET_DATABASE_URL": db,
        "CABINET_SQL_DIR": str(root / "share/cabinet/sql"),
        "CABINET_WEB_ROOT": str(root / "share/cabinet/web"),
        "CABINET_SERVER_KEY_FILE": str(tmp_path / "server.key"),
    }
    cp = run([binary, "migrate"], env=env, timeout=180)
    assert re.match(r"\d+ migrations? applied", cp.stdout), cp.stdout
    port = free_port()
    env["CABINET_LISTEN"] = f"127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([binary, "serve"], env={**os.environ, **env}, stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the installed server did not get ready"
            time.sleep(0.2)
        page = requests.get(base + "/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert requests.get(base + "/app.js", timeout=5).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        log.close()
