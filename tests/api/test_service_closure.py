"""The stored impact sets of services (service_closure, 0018) against the
walk that defines them (impact_set(), 0006) on random maps with cycles and
every kind of edit; the cost of an edit on a map of 2,000 services."""

import random
import time

import pytest

from conftest import psql


def mismatches(url, prefix):
    """The services of the prefix whose stored impact set differs from the
    walk's, as names (empty when they all agree)."""
    return psql(url, "SELECT coalesce(string_agg(s.name, ',' ORDER BY s.name), '') FROM services s"
                     f" WHERE s.name LIKE '{prefix}%' AND impact_sids(ARRAY[s.name::text])"
                     "  IS DISTINCT FROM (SELECT coalesce(array_agg(x.sid ORDER BY x.sid), '{}')"
                     "   FROM impact_set(ARRAY[s.name::text]) i JOIN services x ON x.name = i.name)")


def union_mismatch(url, names):
    roots = ",".join(f"'{n}'" for n in names)
    return psql(url, f"SELECT impact_sids(ARRAY[{roots}]) IS DISTINCT FROM"
                     " (SELECT coalesce(array_agg(x.sid ORDER BY x.sid), '{}')"
                     f"  FROM impact_set(ARRAY[{roots}, 'no-such-service']) i"
                     "  JOIN services x ON x.name = i.name)")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_stored_sets_are_the_walks_through_every_kind_of_edit(server, seed):
    rnd = random.Random(seed)
    url = server.db_url
    p = f"cl{seed}-"
    n = 30
    names = [f"{p}{i}" for i in range(n)]
    psql(url, "INSERT INTO services (name, title, tier) VALUES "
              + ",".join(f"('{s}', 'S', 3)" for s in names))
    edges = set()
    while len(edges) < 45:  # random, so with cycles
        a, b = rnd.sample(names, 2)
        edges.add((a, b))
    psql(url, "INSERT INTO service_deps VALUES " + ",".join(f"('{a}', '{b}')" for a, b in edges))
    assert psql(url, "SELECT count(*) FROM service_closure c JOIN services s USING (sid)"
                     f" WHERE s.name LIKE '{p}%'") == str(n)
    assert mismatches(url, p) == ""
    cyclic = psql(url, f"SELECT count(*) FROM services s WHERE s.name LIKE '{p}%'"
                       " AND EXISTS (SELECT 1 FROM service_deps d, impact_set(ARRAY[s.name::text]) i"
                       "             WHERE d.service = s.name AND d.depends_on = i.name)")
    assert int(cyclic) > 0, "the map has a cycle"

    for step in range(24):
        kind = step % 6
        if kind == 0:  # one edge in
            a, b = rnd.sample(names, 2)
            psql(url, f"INSERT INTO service_deps VALUES ('{a}', '{b}') ON CONFLICT DO NOTHING")
        elif kind == 1 and edges:  # a few edges out in one statement
            gone = rnd.sample(sorted(edges), min(3, len(edges)))
            psql(url, "DELETE FROM service_deps WHERE (service, depends_on) IN ("
                      + ",".join(f"('{a}', '{b}')" for a, b in gone) + ")")
        elif kind == 2:  # an edge moved to another target
            row = psql(url, "SELECT service || ' ' || depends_on FROM service_deps"
                            f" WHERE service LIKE '{p}%' ORDER BY random() LIMIT 1")
            if row:
                a, b = row.split()
                c = rnd.choice([x for x in names if x not in (a, b)])
                psql(url, f"UPDATE service_deps SET depends_on = '{c}' WHERE service = '{a}'"
                          f" AND depends_on = '{b}' AND NOT EXISTS (SELECT 1 FROM service_deps"
                          f"  WHERE service = '{a}' AND depends_on = '{c}')")
        elif kind == 3:  # a service's list replaced in one statement, as the API does
            a = rnd.choice(names)
            new = rnd.sample([x for x in names if x != a], 3)
            keep = ",".join(f"'{b}'" for b in new)
            psql(url, f"WITH gone AS (DELETE FROM service_deps WHERE service = '{a}'"
                      f"  AND depends_on NOT IN ({keep})),"
                      " added AS (INSERT INTO service_deps (service, depends_on) VALUES "
                      + ",".join(f"('{a}', '{b}')" for b in new) + " ON CONFLICT DO NOTHING)"
                      " SELECT 1")
        elif kind == 4:  # a new service with its list in one statement
            s = f"{p}n{step}"
            deps = rnd.sample(names, 2)
            psql(url, f"WITH s AS (INSERT INTO services (name, title, tier) VALUES ('{s}', 'N', 2)"
                      " RETURNING name) INSERT INTO service_deps (service, depends_on)"
                      " SELECT s.name, d FROM s, unnest(ARRAY["
                      + ",".join(f"'{d}'" for d in deps) + "]) d")
            # and something to depend on it, closing a cycle through it
            psql(url, f"INSERT INTO service_deps VALUES ('{deps[0]}', '{s}')")
            names.append(s)
        else:  # a service nothing depends on deleted (its own edges go with it)
            row = psql(url, f"SELECT s.name FROM services s WHERE s.name LIKE '{p}%'"
                            " AND NOT EXISTS (SELECT 1 FROM service_deps d"
                            "                 WHERE d.depends_on = s.name) LIMIT 1")
            if row:
                psql(url, f"DELETE FROM services WHERE name = '{row}'")
                names.remove(row)
        edges = {tuple(r.split("|")) for r in psql(
            url, f"SELECT service || '|' || depends_on FROM service_deps"
                 f" WHERE service LIKE '{p}%'").split("\n") if r}
        assert mismatches(url, p) == "", (step, kind)
        assert union_mismatch(url, rnd.sample(names, 3)) == "f", (step, kind)
    assert psql(url, "SELECT count(*) FROM service_closure c"
                     " WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.sid = c.sid)") == "0"


def test_an_edit_of_a_large_map_takes_well_under_a_second(cluster):
    """2,000 services in 10 levels of 200, each on 5 of the levels below:
    the map loads in one statement, and each edge edit, near the bottom
    (the largest rows) or the top, takes well under a second."""
    cluster.createdb("m_closure_scale")
    cp = cluster.migrate("m_closure_scale")
    assert cp.returncode == 0, cp.stderr
    url = cluster.url("m_closure_scale")
    psql(url, "INSERT INTO services (name, title, tier) SELECT 's' || l || '-' || i, 'S',"
              " 1 + (i % 4) FROM generate_series(0, 9) l, generate_series(0, 199) i")
    psql(url, "INSERT INTO service_deps (service, depends_on)"
              " SELECT DISTINCT 's' || l || '-' || i,"
              "  's' || lo || '-' || ((i * 7919 + k * 104729 + l * 31) % 200)"
              " FROM generate_series(1, 9) l, generate_series(0, 199) i, generate_series(0, 4) k,"
              "  LATERAL (SELECT ((i * 13 + k * 17 + l) % l) AS lo) x", timeout=120)
    assert int(psql(url, "SELECT max(cardinality(impact)) FROM service_closure")) > 500
    edits = ["INSERT INTO service_deps VALUES ('s1-3', 's0-0')",
             "DELETE FROM service_deps WHERE service = 's1-3' AND depends_on = 's0-0'",
             "INSERT INTO service_deps VALUES ('s9-3', 's8-1') ON CONFLICT DO NOTHING",
             "INSERT INTO service_deps VALUES ('s0-7', 's9-3')",  # a cycle through all levels
             "DELETE FROM service_deps WHERE service = 's0-7' AND depends_on = 's9-3'",
             "DELETE FROM service_deps WHERE ctid = (SELECT min(ctid) FROM service_deps"
             " WHERE depends_on LIKE 's0-%')"]
    for sql in edits:
        t0 = time.monotonic()
        psql(url, sql)
        took = time.monotonic() - t0
        assert took < 0.9, (sql, took)
    assert mismatches(url, "s") == ""
