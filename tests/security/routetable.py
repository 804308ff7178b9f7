"""The route table of server/api/routes.c, parsed: what the security tests
iterate over, so that a route added there is covered (or fails a test)
without anyone remembering to list it."""

import re
from pathlib import Path

ROUTES_C = Path(__file__).resolve().parents[2] / "server" / "api" / "routes.c"


def parse_routes():
    """(method, path, flags, roles) of every entry of api_routes[]."""
    text = ROUTES_C.read_text()
    table = text[text.index("api_routes[] = {"):]
    entry = re.compile(r'\{\{"([A-Z]+)",\s*(V1\s*)?"([^"]+)"\},\s*(\w+),\s*([^,]+?),\s*([^,]+?),'
                       r'\s*\w+\s*\}', re.S)
    routes = []
    for m in entry.finditer(table):
        method, v1, path, _handler, flags, roles = m.groups()
        routes.append((method, ("/api/v1" if v1 else "") + path, flags.strip(), roles.strip()))
    return routes


ROUTES = parse_routes()
