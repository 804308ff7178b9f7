"""README's walkthrough, run as it is written.

The shell block after `<!-- walkthrough -->` in README.md goes to bash in an
empty directory, against a server on a new database with no accounts, with
the `cabinet` under test first on PATH; what it prints must be the block
after "It prints:" line for line. Nothing here restates the commands: a
README that drifts from the server fails this test.
"""

import os
import re
import subprocess

import pytest

from conftest import BIN, REPO, SQL_DIR, finish_server, psql, sanitizer_env, sanitizer_findings
from conftest import start_server

README = REPO / "README.md"


def blocks():
    """The walkthrough's script and the output it promises."""
    text = README.read_text()
    m = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)\n```\n\nIt prints:\n\n```\n(.*?)\n```",
                  text, re.S)
    assert m, "README has no walkthrough block followed by what it prints"
    return m.group(1), m.group(2).splitlines()


@pytest.fixture(scope="module")
def empty_server(cluster):
    srv = start_server(cluster, "m_walkthrough", users={})
    yield srv
    finish_server(srv)


def test_the_readme_walkthrough_runs_as_written(empty_server, tmp_path):
    script, expected = blocks()
    assert "cabinet sign" in script and "/approvals" in script
    env = dict(os.environ)
    env.update(sanitizer_env())
    env.update({
        "PATH": f"{BIN.parent}:{env['PATH']}",
        "BASE": empty_server.base,
        "CABINET_DATABASE_URL": empty_server.db_url,
        "CABINET_SQL_DIR": str(SQL_DIR),
    })
    assert BIN.name == "cabinet", "the walkthrough calls the binary by its name"
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    assert not sanitizer_findings(r.stderr), r.stderr
    assert r.stdout.splitlines() == expected, f"--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    # the approval is a real one: stored with its signature, the change approved
    row = psql(empty_server.db_url,
               "SELECT c.state || ' ' || count(a.*) FROM changes c "
               "JOIN approvals a ON a.change_id = c.id GROUP BY c.state")
    assert row.strip() == "approved 1"
    assert (tmp_path / "carl.key").stat().st_mode & 0o077 == 0
