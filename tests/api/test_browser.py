"""The web UI in a real browser: each test runs one scenario script of
tests/browser (Node.js, playwright-core driving Debian's Chromium headless)
against this module's server and database, and passes when the script
exits 0. The script's output is shown when it fails; screenshots go to
build/test-output/screenshots.

Needs `npm ci` (playwright-core and axe-core from package-lock.json) and
/usr/bin/chromium; `make test` installs both. BROWSER_WEB_ROOT serves
another web root than the worktree's web/.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (DOMAIN, PASSWORD, REPO, STANDARD_USERS, WEB_ROOT, db_name_for,
                      finish_server, start_server)

SCRIPTS = REPO / "tests" / "browser"
OUT = REPO / "build" / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
# Each script ends itself after its own limit; this one also stops a
# script (and the browser it started) that does not.
SCRIPT_TIMEOUT = 180


def _node_major():
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout
    try:
        return int(out.strip().lstrip("v").split(".")[0])
    except ValueError:
        return 0


def _node_problem():
    if not shutil.which("node"):
        return "node is not installed (make deps-test)"
    if not (REPO / "node_modules" / "playwright-core" / "package.json").is_file():
        return "node_modules is missing: run `npm ci` (make test does)"
    if not (REPO / "node_modules" / "axe-core" / "axe.min.js").is_file():
        return "axe-core is missing from node_modules: run `npm ci`"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (make deps-test installs Debian's chromium)"
    return None


@pytest.fixture(scope="module")
def server(request, cluster):
    web_root = Path(os.environ.get("BROWSER_WEB_ROOT") or WEB_ROOT)
    srv = start_server(cluster, db_name_for(request.module.__name__), web_root=web_root)
    shutil.rmtree(OUT / "screenshots", ignore_errors=True)
    (OUT / "screenshots").mkdir(parents=True, exist_ok=True)
    yield srv
    finish_server(srv)


def scenario(server, name):
    problem = _node_problem()
    assert problem is None, problem
    env = dict(os.environ)
    env.update({
        "CABINET_URL": server.base,
        "CABINET_USERS": json.dumps({n: f"{n}@{DOMAIN}" for n in STANDARD_USERS}),
        "CABINET_PASSWORD": PASSWORD,
        "CABINET_OUT": str(OUT),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    })
    t0 = time.monotonic()
    # its own process group, so that a script past its time is stopped with
    # the browser it launched, and nothing else
    proc = subprocess.Popen(["node", str(SCRIPTS / f"{name}.mjs")], cwd=str(REPO), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=SCRIPT_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"{name}.mjs did not finish within {SCRIPT_TIMEOUT} s:\n{out}", pytrace=False)
    took = time.monotonic() - t0
    if proc.returncode != 0:
        major = _node_major()
        if major < 20:
            out += f"\n(Node.js {major} runs this; playwright-core 1.65 is made for 20 or later)"
        pytest.fail(f"{name}.mjs exited {proc.returncode} after {took:.0f} s:\n{out}"
                    f"\n--- server stderr tail ---\n{server.stderr_tail(30)}", pytrace=False)
    print(out)


def test_journey(server):
    """alice raises a change in the form and submits it; cab1 and cab2 each
    make a key and sign an approval; two verified approvals; alice starts
    and completes it."""
    scenario(server, "journey")


def test_rejected(server):
    """cab1 rejects with a comment: the change is rejected."""
    scenario(server, "rejected")


def test_emergency(server):
    """An emergency change approved by ecab, started, completed, then closed
    with its review."""
    scenario(server, "emergency")


def test_bad_input(server):
    """An empty title and a window ending before it starts: the errors by
    their fields, live before submitting and from the server after."""
    scenario(server, "bad_input")


def test_live(server):
    """The change page follows cab1's approval by itself; the header badge
    counts cab1's awaiting decisions."""
    scenario(server, "live")


def test_no_webcrypto(server):
    """Over plain HTTP to a name that is not loopback, My keys and the
    decision dialog say HTTPS is needed."""
    scenario(server, "no_webcrypto")


def test_notifications(server):
    """bob switches the e-mails about decisions off on the Notifications
    page and on again; the server holds each choice."""
    scenario(server, "notifications")


def test_tour(server):
    """Every page: no console errors, axe-clean, screenshots at 1280 and 375
    px, page weight under 150 KB; the keyboard on a few."""
    scenario(server, "tour")
