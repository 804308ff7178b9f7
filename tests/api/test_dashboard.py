"""The example Grafana dashboard (docker/grafana/cabinet.json, README
"Monitoring"): a dashboard Grafana can import, whose every PromQL expression
names only metrics and labels that a real server's /metrics emits.

The server is the module's own (conftest's `server` fixture); a few requests
are made first so that the per-route series exist. Every metric name is taken
from the expressions themselves (functions, grouping clauses, label matchers,
strings and range selectors stripped), so a panel that names a metric or a
label the server does not emit fails here."""

import copy
import json
import re

import pytest
import requests

from conftest import REPO, ok

DASHBOARD = REPO / "docker" / "grafana" / "cabinet.json"
DS_UID = "${DS_PROMETHEUS}"

# Labels Prometheus itself adds to every series it scrapes.
SCRAPE_LABELS = {"instance", "job"}
GROUPING = ("by", "without", "on", "ignoring", "group_left", "group_right")
KEYWORDS = set(GROUPING) | {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"}
# PromQL's functions and aggregation operators, so that a misspelt one fails
# too (it would otherwise be read as neither a function nor a metric).
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta",
    "deriv", "exp", "floor", "group", "histogram_quantile", "idelta", "increase", "irate",
    "label_join", "label_replace", "last_over_time", "ln", "log2", "log10", "max",
    "max_over_time", "min", "min_over_time", "predict_linear", "quantile", "quantile_over_time",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev",
    "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk", "vector",
}

IDENT = r"[A-Za-z_:][A-Za-z0-9_:]*"


def parse_promql(expr):
    """What an expression names: {"selectors": [(metric, {labels matched})],
    "grouped": [labels of by/without/on/ignoring], "joined": [labels of
    group_left/right], "functions": [names called]}."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\[[^\]]*\]", " ", s)           # range selectors and subqueries
    s = re.sub(r"\$\{?\w+\}?", " ", s)           # Grafana variables outside strings
    grouped, joined = [], []
    for m in re.finditer(r"\b(%s)\s*\(([^)]*)\)" % "|".join(GROUPING), s):
        names = [n.strip() for n in m.group(2).split(",") if n.strip()]
        (joined if m.group(1).startswith("group_") else grouped).extend(names)
    s = re.sub(r"\b(%s)\s*\([^)]*\)" % "|".join(GROUPING), " ", s)
    functions = re.findall(r"(?<![\w.])(%s)\s*\(" % IDENT, s)
    s = re.sub(r"(?<![\w.])(%s)\s*\(" % IDENT, " ( ", s)
    selectors = []
    for m in re.finditer(r"(?<![\w.])(%s)?\s*(\{[^}]*\})?" % IDENT, s):
        name, matchers = m.group(1), m.group(2)
        if name is None and matchers is None:
            continue
        if name in KEYWORDS:
            continue
        assert name is not None, f"a selector without a metric name in {expr!r}"
        labels = set(re.findall(r"(%s)\s*(?:=~|!~|!=|=)" % IDENT, matchers or ""))
        selectors.append((name, labels))
    return {"selectors": selectors, "grouped": grouped, "joined": joined,
            "functions": functions}


def parse_exposition(text):
    """{sample name: set of label names} and {metric family: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            m = re.match(r"(%s)(\{(.*)\})?\s+\S+$" % IDENT, line)
            assert m, f"not a sample line: {line!r}"
            labels = set(re.findall(r'(%s)="' % IDENT, m.group(3) or ""))
            samples.setdefault(m.group(1), set()).update(labels)
    return samples, types


def family(name, types):
    """The metric family a sample name belongs to: itself, or a histogram's
    or summary's for the _bucket/_sum/_count series."""
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            if suffix == "_bucket" and types[base] != "histogram":
                return None
            return base
    return None


def exprs(dash):
    """(where, expr, legend) of every target of every panel, rows' panels too."""
    for p in all_panels(dash):
        for t in p.get("targets", []):
            yield f"panel {p.get('id')} {p.get('title')!r} {t.get('refId')}", t.get("expr"), \
                t.get("legendFormat", "")


def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def problems(dash, samples, types):
    """Everything the dashboard names that the exposition does not have."""
    out = []
    queries = list(exprs(dash))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\(\s*(%s)\s*(\{[^}]*\})?\s*,\s*(%s)\s*\)\s*"
                             % (IDENT, IDENT), q or "")
            if not m:
                out.append(f"variable {v.get('name')}: query {q!r} is not label_values(m, l)")
                continue
            queries.append((f"variable {v['name']}", f"{m.group(1)}{m.group(2) or ''}",
                            "{{%s}}" % m.group(3)))
    for where, expr, legend in queries:
        if not isinstance(expr, str) or not expr.strip():
            out.append(f"{where}: no expr")
            continue
        q = parse_promql(expr)
        if not q["selectors"]:
            out.append(f"{where}: no metric in {expr!r}")
        for f in q["functions"]:
            if f not in FUNCTIONS:
                out.append(f"{where}: {f}() is not a PromQL function")
        carried = []
        for name, labels in q["selectors"]:
            if name not in samples or family(name, types) is None:
                out.append(f"{where}: metric {name} is not in /metrics")
                continue
            have = samples[name] | SCRAPE_LABELS
            carried.append(have)
            for label in labels - have:
                out.append(f"{where}: {name} has no label {label}")
        for label in q["grouped"]:
            if carried and not all(label in have for have in carried):
                out.append(f"{where}: grouping by {label}, which not every metric carries")
        for label in q["joined"]:
            if carried and not any(label in have for have in carried):
                out.append(f"{where}: joining on {label}, which no metric carries")
        if "histogram_quantile" in q["functions"]:
            if not any(n.endswith("_bucket") for n, _ in q["selectors"]) or "le" not in q["grouped"]:
                out.append(f"{where}: histogram_quantile without _bucket series kept by le")
        # the legend's {{label}}: kept by the grouping if there is one
        kept = set(q["grouped"]) | set(q["joined"]) if q["grouped"] else \
            set().union(*carried) if carried else set()
        for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend or ""):
            if label not in kept:
                out.append(f"{where}: the legend names {label}, which the result lacks")
    return out


@pytest.fixture(scope="module")
def dash():
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def exposition(server):
    """/metrics after requests of several routes and statuses."""
    alice = server.as_("alice")
    for _ in range(3):
        ok(alice.get("/me"))
    ok(alice.get("/changes"))
    assert server.anon().get("/me").status_code == 401
    assert requests.get(server.url("/no/such/path"), timeout=10,
                        headers={"Connection": "close"}).status_code == 404
    r = requests.get(server.url("/metrics"), timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    samples, types = parse_exposition(r.text)
    # the per-route series the requests made, and the data's gauges
    assert "cabinet_http_request_duration_seconds_bucket" in samples
    assert "cabinet_changes" in samples, r.text
    return samples, types


def test_the_dashboard_has_the_shape_grafana_imports(dash):
    assert isinstance(dash.get("title"), str) and dash["title"]
    assert isinstance(dash.get("uid"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dash["uid"])
    assert isinstance(dash.get("schemaVersion"), int) and 36 <= dash["schemaVersion"] <= 41
    assert isinstance(dash.get("panels"), list) and dash["panels"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables.get("DS_PROMETHEUS")
    assert ds and ds["type"] == "datasource" and ds["query"] == "prometheus", variables
    ids, cells = set(), set()
    for p in all_panels(dash):
        where = f"panel {p.get('id')} {p.get('title')!r}"
        assert isinstance(p.get("id"), int) and p["id"] not in ids, where
        ids.add(p["id"])
        assert isinstance(p.get("type"), str) and p["type"], where
        assert isinstance(p.get("title"), str) and p["title"], where
        g = p.get("gridPos")
        assert isinstance(g, dict) and all(isinstance(g.get(k), int) for k in "hwxy"), where
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0, where
        assert g["x"] + g["w"] <= 24, where
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, f"{where} overlaps another panel"
        cells |= mine
        if p["type"] == "row":
            continue
        assert p.get("datasource", {}).get("uid") == DS_UID, where
        targets = p.get("targets")
        assert isinstance(targets, list) and targets, where
        refs = [t.get("refId") for t in targets]
        assert len(set(refs)) == len(refs) and all(refs), where
        for t in targets:
            assert isinstance(t.get("expr"), str) and t["expr"].strip(), where
            assert t.get("datasource", {}).get("uid") == DS_UID, where


def test_every_metric_and_label_of_the_dashboard_is_in_metrics(dash, exposition):
    samples, types = exposition
    named = {n for _, e, _ in exprs(dash) for n, _ in parse_promql(e)["selectors"]}
    # the dashboard shows each part of /metrics the README names
    for name in ("cabinet_http_requests_total", "cabinet_http_request_duration_seconds_bucket",
                 "cabinet_db_pool_in_use", "cabinet_db_pool_size", "cabinet_db_pool_waits_total",
                 "cabinet_db_connect_failures_total", "cabinet_db_errors_total",
                 "cabinet_webhook_deliveries", "cabinet_webhook_delivery_seconds_bucket",
                 "cabinet_webhook_attempts_total", "cabinet_hook_accepted_total",
                 "cabinet_hook_refusals_total", "cabinet_changes", "cabinet_conflicts_open",
                 "cabinet_changes_emergency_share_30d", "cabinet_changes_created_30d"):
        assert name in named, name
    found = problems(dash, samples, types)
    assert not found, "\n".join(found)


def test_a_metric_or_label_the_server_lacks_is_caught(dash, exposition):
    """The check above fails for a wrong name: a metric, a histogram's
    series under a counter's name, a label, a grouping, a legend."""
    samples, types = exposition
    found = problems(dash, samples, types)
    assert not found, "\n".join(found)
    cases = [
        ("cabinet_http_requests_total", "cabinet_http_request_total"),
        ("cabinet_http_request_duration_seconds_bucket", "cabinet_http_request_duration_bucket"),
        ("cabinet_db_pool_in_use", "cabinet_db_pool_in_use_bucket"),
        ("by (route, status)", "by (path, status)"),
        ('status=~"5.."', 'code=~"5.."'),
        ("histogram_quantile", "histogram_quantil"),
    ]
    for old, new in cases:
        bad = copy.deepcopy(dash)
        hits = 0
        for p in all_panels(bad):
            for t in p.get("targets", []):
                if old in t["expr"]:
                    t["expr"] = t["expr"].replace(old, new)
                    hits += 1
        assert hits, old
        assert problems(bad, samples, types), f"{old} -> {new} was not caught"
    bad = copy.deepcopy(dash)
    target = next(t for p in all_panels(bad) for t in p.get("targets", [])
                  if "{{route}}" in t.get("legendFormat", ""))
    target["legendFormat"] = "{{path}}"
    assert problems(bad, samples, types)
