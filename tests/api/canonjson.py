"""Canonical JSON and the hashes built on it (README "Audit", "Signed
decisions"), written independently of the server so that the tests can
recompute its hashes.

Canonical JSON: object keys sorted by their UTF-8 bytes at every depth, no
insignificant whitespace, integers in plain decimal, no floats, strings
escaped minimally: `"` and `\\` escaped, control characters as \\b \\f \\n
\\r \\t or lowercase \\u00xx, everything else (non-ASCII included) written
as UTF-8.
"""

import hashlib
from datetime import datetime, timezone

_SHORT = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
          '"': '\\"', "\\": "\\\\"}


def canon_string(s):
    out = ['"']
    for ch in s:
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canon(v):
    """The canonical JSON text of v (a str; encode it as UTF-8 to hash)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        raise ValueError("canonical JSON has no floating-point numbers")
    if isinstance(v, str):
        return canon_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-8"))
        return "{" + ",".join(canon_string(k) + ":" + canon(v[k]) for k in keys) + "}"
    raise TypeError(f"cannot canonicalise {type(v)}")


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def change_content(change):
    """The object content_hash is taken over, from a change as returned."""
    def text(k):
        v = change.get(k)
        return "" if v is None else v

    win = change.get("window") or {}
    return {
        "backout_plan": text("backout_plan"),
        "business_impact": text("business_impact"),
        "description": text("description"),
        "implementation_plan": text("implementation_plan"),
        "model": text("model"),
        "services": sorted(change.get("services") or [], key=lambda s: s.encode("utf-8")),
        "test_plan": text("test_plan"),
        "title": text("title"),
        "window": {"end": win.get("end") or "", "start": win.get("start") or ""},
    }


def content_hash(change):
    return sha256_hex(canon(change_content(change)))


def utc_seconds(epoch):
    """YYYY-MM-DDTHH:MM:SSZ for a Unix time (fractions truncated)."""
    whole = int(epoch // 1)
    return datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_hash(prev_hash, row):
    """SHA-256(prev_hash_hex || "\\n" || canonical JSON of the entry)."""
    entry = {k: row[k] for k in ("action", "actor", "at", "data", "entity", "entity_id", "seq")}
    return sha256_hex(prev_hash + "\n" + canon(entry))
