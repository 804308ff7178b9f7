"""The faults suite runs on the API suite's machinery: the throwaway
cluster, `cabinet serve` with the standard users, the clients and the
problem/ok checks, all from tests/api/conftest.py (loaded here under a
name of its own, as tests/security does, so that either suite runs alone
or with the others)."""

import importlib.util
import sys
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[1] / "api"
if str(API_DIR) not in sys.path:
    # hooks, hooklinks and the test modules whose helpers are reused live there
    sys.path.insert(1, str(API_DIR))

_spec = importlib.util.spec_from_file_location("cabinet_api_conftest", API_DIR / "conftest.py")
_api = sys.modules.get("cabinet_api_conftest")
if _api is None:
    _api = importlib.util.module_from_spec(_spec)
    sys.modules["cabinet_api_conftest"] = _api
    _spec.loader.exec_module(_api)

# fixtures and hooks, registered for this directory
cluster = _api.cluster
server = _api.server
_server_still_running = _api._server_still_running
pytest_runtest_makereport = _api.pytest_runtest_makereport
pytest_sessionstart = _api.pytest_sessionstart
pytest_sessionfinish = _api.pytest_sessionfinish

# what the tests import (`from conftest import ...`, as in tests/api)
API = _api.API
DOMAIN = _api.DOMAIN
REPO = _api.REPO
WEB_ROOT = _api.WEB_ROOT
FIXTURES = _api.FIXTURES
PASSWORD = _api.PASSWORD
SQL_DIR = _api.SQL_DIR
STANDARD_USERS = _api.STANDARD_USERS
Client = _api.Client
Cluster = _api.Cluster
Server = _api.Server
finish_server = _api.finish_server
start_server = _api.start_server
ok = _api.ok
problem = _api.problem
page_items = _api.page_items
walk = _api.walk
unique = _api.unique
run = _api.run
free_port = _api.free_port
sanitizer_env = _api.sanitizer_env
sanitizer_findings = _api.sanitizer_findings
tail = _api.tail


def binary():
    """The server binary this session runs (the copy taken at its start)."""
    return _api.BIN


def __getattr__(name):
    # BIN is the session's copy, known only once the session has started
    if name == "BIN":
        return _api.BIN
    raise AttributeError(name)
