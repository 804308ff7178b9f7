"""The C database tests (tests/db, build/db-tests): the db/ layer and the
conflict rules behind it, driven from C on a fresh migrated database of
their own. They print a line per failing check and end with
"N passed, M failed"."""

import os
import re
from pathlib import Path

from conftest import REPO, run, sanitizer_env, sanitizer_findings, tail

DB_TESTS = Path(os.environ.get("CABINET_DB_TESTS", REPO / "build" / "db-tests"))


def test_the_c_database_tests_pass(cluster):
    assert DB_TESTS.exists(), f"{DB_TESTS} is missing: make build/db-tests"
    url = cluster.createdb("m_db_layer", template="cabinet_template")
    cp = run([str(DB_TESTS)], env={"CABINET_DATABASE_URL": url, **sanitizer_env()},
             timeout=300, check=False)
    out = cp.stdout + cp.stderr
    lines = cp.stdout.strip().splitlines()
    m = re.fullmatch(r"(\d+) passed, (\d+) failed", lines[-1] if lines else "")
    assert m, tail(out)
    assert int(m.group(2)) == 0, tail(out)
    assert int(m.group(1)) >= 100, tail(out)
    assert cp.returncode == 0, tail(out)
    assert not sanitizer_findings(cp.stderr), tail(cp.stderr)
