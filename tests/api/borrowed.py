"""The API suite's machinery for the suites that run on it (tests/security,
tests/faults): tests/api/conftest.py loaded once, under a name of its own,
so that each suite's conftest.py can offer its fixtures, hooks and helpers
without one `conftest` module shadowing another."""

import importlib.util
import sys
from pathlib import Path

API_DIR = Path(__file__).resolve().parent

api = sys.modules.get("cabinet_api_conftest")
if api is None:
    _spec = importlib.util.spec_from_file_location("cabinet_api_conftest", API_DIR / "conftest.py")
    api = importlib.util.module_from_spec(_spec)
    sys.modules["cabinet_api_conftest"] = api
    _spec.loader.exec_module(api)


def offer(namespace):
    """Puts into a conftest's namespace what tests/api/conftest.py offers:
    its fixtures (with the autouse one), its hooks and every public helper,
    as `from conftest import ...` finds them in tests/api. BIN is left to the
    conftest's __getattr__ (see below): it is the session's copy of the
    binary, known only once the session has started."""
    for name, value in vars(api).items():
        if name == "BIN" or (name.startswith("_") and name != "_server_still_running"):
            continue
        namespace.setdefault(name, value)

    def binary():
        """The server binary this session runs (the copy taken at its start)."""
        return api.BIN

    def getattr_(name):
        if name == "BIN":
            return api.BIN
        raise AttributeError(name)

    namespace["binary"] = binary
    namespace["__getattr__"] = getattr_
