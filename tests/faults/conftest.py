"""The faults suite runs on the API suite's machinery: the throwaway
cluster, `cabinet serve` with the standard users, the clients and the
problem/ok checks, all from tests/api/conftest.py (tests/api/borrowed.py
loads it under a name of its own, so that either suite runs alone)."""

import sys
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[1] / "api"
if str(API_DIR) not in sys.path:
    # hooks, hooklinks, borrowed and the test modules whose helpers are reused
    sys.path.insert(1, str(API_DIR))

import borrowed  # noqa: E402

borrowed.offer(globals())
