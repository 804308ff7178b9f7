"""Browser benchmark: how fast the web UI draws its main views over a big
database, in Debian's Chromium.

On a throwaway PostgreSQL cluster: tests/bench/dataset.sql (scale.py's data
set, made by SQL) with BENCH_UI_SCALE changes (default 10,000) over three
years, 1.4 % of them active in the coming two weeks, and 300 services in 10
levels of 30 instead of 2,000; the release server (build/cabinet) on it;
then tests/bench/ui.mjs loads each view BENCH_UI_LOADS times (default 20)
as a fresh document with the browser cache off, and as many with the cache
a first visit left, and takes the time from navigation start to the
shell's `cabinet:rendered` performance mark (web/app.js sets it once the
page is drawn with its data). Prints the median and p95 of each view
against the 200 ms target, the time to DOMContentLoaded, and each view's
page weight.
Nothing here is asserted: numbers depend on the machine. BENCH_UI_WEB_ROOT
serves another web root than web/.

Run with `make bench` (release build; npm ci for playwright-core).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("CABINET_BIN", str(REPO / "build" / "cabinet"))
SCALE = int(os.environ.get("BENCH_UI_SCALE", "10000"))
LOADS = int(os.environ.get("BENCH_UI_LOADS", "20"))
# scale.py sizes its data set by BENCH_SCALE when imported
os.environ["BENCH_SCALE"] = str(SCALE)
os.environ.setdefault("BENCH_CONFLICTS", "refresh")
sys.path.insert(0, str(REPO / "tests" / "api"))
sys.path.insert(0, str(REPO / "tests" / "bench"))

import conftest as c  # noqa: E402
import scale  # noqa: E402

TARGET_MS = 200
PER_LEVEL = 30  # services per level (dataset.sql has 200)

# dataset.sql's service map, 10 levels of 200, made 10 levels of PER_LEVEL:
# each text must be found exactly where said, or the run stops.
SERVICE_EDITS = [
    ("services", "generate_series(0, 9) l, generate_series(0, 199) i;",
     f"generate_series(0, 9) l, generate_series(0, {PER_LEVEL - 1}) i;"),
    ("services", "lpad(floor(random() * 200)::int::text, 3, '0')",
     f"lpad(floor(random() * {PER_LEVEL})::int::text, 3, '0')"),
    ("services", "FROM generate_series(1, 9) l, generate_series(0, 199) i, generate_series(1, 5) k",
     f"FROM generate_series(1, 9) l, generate_series(0, {PER_LEVEL - 1}) i, generate_series(1, 5) k"),
    ("plan", "'s' || (k / 200) || '-' || lpad((k % 200)::text, 3, '0')",
     f"'s' || (k / {PER_LEVEL}) || '-' || lpad((k % {PER_LEVEL})::text, 3, '0')"),
    ("plan", "floor(random() * 2000)::int", f"floor(random() * {PER_LEVEL * 10})::int"),
]


def smaller_map_steps(steps=scale.dataset_steps):
    out = []
    for name, sql in steps():
        for step, old, new in SERVICE_EDITS:
            if step == name:
                if sql.count(old) != 1:
                    raise SystemExit(f"dataset.sql's step {name} no longer has {old!r} once")
                sql = sql.replace(old, new)
        out.append((name, sql))
    return out


def log(msg):
    print(msg, flush=True)


def main():
    if not Path(os.environ["CABINET_BIN"]).exists():
        raise SystemExit(f"{os.environ['CABINET_BIN']} is missing: make build/cabinet")
    if not (REPO / "node_modules" / "playwright-core").is_dir():
        raise SystemExit("node_modules is missing: npm ci (make bench does)")
    log(f"ui bench: {SCALE} changes, {PER_LEVEL * 10} services, {LOADS} loads per view")
    scale.dataset_steps = smaller_map_steps
    cluster = c.Cluster()
    srv = None
    try:
        cluster.createdb("cabinet_ui")
        cp = cluster.migrate("cabinet_ui")
        if cp.returncode != 0:
            raise SystemExit(cp.stderr)
        url = cluster.url("cabinet_ui")
        srv = c.Server(cluster, "cabinet_ui", web_root=os.environ.get("BENCH_UI_WEB_ROOT") or c.WEB_ROOT,
                       extra_env={"CABINET_THREADS": "16", "CABINET_DB_POOL": "4"})
        for name, roles in c.STANDARD_USERS.items():
            srv.add_user(name, roles)
        t0 = time.monotonic()
        scale.load_dataset(cluster, url)
        stats = c.psql_json(url, "SELECT json_build_object('changes', (SELECT count(*) FROM changes),"
                                 " 'services', (SELECT count(*) FROM services),"
                                 " 'awaiting', (SELECT count(*) FROM changes WHERE state = 'awaiting_approval'),"
                                 " 'conflicts', (SELECT count(*) FROM conflicts))")
        log(f"  loaded in {time.monotonic() - t0:.0f} s: {json.dumps(stats)}")
        srv.start()
        env = dict(os.environ)
        env.update({
            "CABINET_URL": srv.base,
            "CABINET_USERS": json.dumps({n: f"{n}@{c.DOMAIN}" for n in c.STANDARD_USERS}),
            "CABINET_PASSWORD": c.PASSWORD,
            "CABINET_OUT": str(REPO / "build" / "bench-output"),
            "BENCH_UI_LOADS": str(LOADS),
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        })
        cp = subprocess.run(["node", str(REPO / "tests" / "bench" / "ui.mjs")], cwd=str(REPO), env=env,
                            capture_output=True, text=True, timeout=900)
        lines = cp.stdout.strip().splitlines()
        if cp.returncode != 0 or not lines:
            raise SystemExit(f"ui.mjs exited {cp.returncode}:\n{cp.stdout}\n{cp.stderr}")
        log("\n".join("  " + line for line in lines[:-1]))
        result = json.loads(lines[-1])
        report(result)
    finally:
        if srv is not None:
            problems = srv.stop()
            if problems:
                print("server: " + "; ".join(problems), file=sys.stderr)
        cluster.destroy()


def report(result):
    log("")
    log(f"first render of each view: navigation start to the 'cabinet:rendered' mark, "
        f"{result['chromium']}, {SCALE} changes, {LOADS} loads each; cold = browser cache off, "
        f"warm = as a first visit left it; 'shell' = to DOMContentLoaded (cold), the rest is the "
        f"view's module and data")
    log(f"  {'view':<8} {'path':<20} {'cold med':>9} {'p95':>7} {'warm med':>9} {'p95':>7} "
        f"{'shell':>7} {'target':>7} {'':>4} {'weight':>9} {'resp':>5}")
    for v in result["views"]:
        cold, warm = v["cold"]["ms"], v["warm"]["ms"]
        p95 = scale.pct(cold, 0.95)
        mark = "ok" if p95 <= TARGET_MS else "SLOW"
        log(f"  {v['name']:<8} {v['path']:<20} {scale.pct(cold, 0.5):>6.0f} ms {p95:>4.0f} ms "
            f"{scale.pct(warm, 0.5):>6.0f} ms {scale.pct(warm, 0.95):>4.0f} ms "
            f"{scale.pct(v['cold']['dcl'], 0.5):>4.0f} ms {TARGET_MS:>4} ms {mark:>4} "
            f"{v['bytes'] / 1024:>6.1f} KB {v['responses']:>5}")
    log(f"  (target: p95 of the cold loads within {TARGET_MS} ms; "
        f"load average {Path('/proc/loadavg').read_text().split()[0]} at the end)")


if __name__ == "__main__":
    main()
