"""docker/Dockerfile and docker/compose.yml, checked without a docker engine.

What can be known without building the image is checked against the
repository and this machine: every file they COPY exists, every variable
they set is one Cabinet reads, the commands they run exist in the Makefile
or the binary, the health check asks a route the server has, and the
runtime stage installs a Debian package for each library the release binary
needs (and the TLS names CivetWeb opens at run time).
"""

import json
import re
import shlex
import subprocess

import pytest
import yaml

from conftest import BIN, REPO

DOCKERFILE = REPO / "docker" / "Dockerfile"
COMPOSE = REPO / "docker" / "compose.yml"


def instructions():
    """(stage index, INSTRUCTION, argument text) of each Dockerfile line,
    continuations joined, comments dropped."""
    out, stage, pending = [], -1, ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, rest.strip()))
    return out


def config_variables():
    """The CABINET_* names server/config.c reads."""
    text = (REPO / "server" / "config.c").read_text()
    names = set(re.findall(r'\{"(CABINET_[A-Z0-9_]+)"', text))
    assert len(names) > 20, "the settings table of server/config.c was not found"
    return names


def env_pairs(arg):
    """NAME=value pairs of an ENV instruction."""
    return dict(w.split("=", 1) for w in shlex.split(arg))


def cabinet_commands():
    """The commands `cabinet --help` lists (the first word of each line)."""
    r = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    names = set(re.findall(r"^  ([a-z]+) ", r.stdout, re.M))
    assert "serve" in names and "migrate" in names, r.stdout
    return names


def route_table():
    text = (REPO / "server" / "api" / "routes.c").read_text()
    return set(re.findall(r'\{\{"([A-Z]+)", ([^}]*)\}', text))


def test_every_copied_file_exists_in_the_build_context():
    copies = [(s, a) for s, w, a in instructions() if w == "COPY"]
    assert copies
    for _, arg in copies:
        words = arg.split()
        if words[0].startswith("--from="):
            continue
        for src in words[:-1]:
            assert (REPO / src).exists(), f"COPY {src}: no such file in the repository"


def test_the_binary_copied_from_the_build_stage_is_what_its_make_builds():
    ins = instructions()
    made = [a.split()[1] for s, w, a in ins if s == 0 and w == "RUN" and a.startswith("make ")]
    assert made == ["build/cabinet"]
    r = subprocess.run(["make", "-n", made[0]], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    copied = [a for s, w, a in ins if w == "COPY" and a.startswith("--from=build")]
    assert copied and copied[0].split()[1] == "/src/" + made[0]


def test_every_variable_set_is_one_cabinet_reads():
    known = config_variables()
    env = {}
    for _, w, a in instructions():
        if w == "ENV":
            env.update(env_pairs(a))
    assert env
    for name in env:
        assert name in known, f"the Dockerfile sets {name}, which Cabinet does not read"
    compose = yaml.safe_load(COMPOSE.read_text())
    for svc, spec in compose["services"].items():
        if "image" in spec and spec["image"].startswith("postgres"):
            continue
        for name in spec.get("environment", {}):
            assert name in known, f"compose service {svc} sets {name}, which Cabinet does not read"


def test_the_commands_run_exist():
    commands = cabinet_commands()
    ins = instructions()
    ep = [a for _, w, a in ins if w == "ENTRYPOINT"]
    cmd = [a for _, w, a in ins if w == "CMD"]
    assert ep and json.loads(ep[-1]) == ["/usr/local/bin/cabinet"]
    assert json.loads(cmd[-1])[0] in commands
    compose = yaml.safe_load(COMPOSE.read_text())
    for svc, spec in compose["services"].items():
        if spec.get("image", "").startswith("postgres"):
            continue
        if "command" in spec:
            assert spec["command"][0] in commands, f"compose service {svc} runs an unknown command"


def test_the_health_check_asks_the_readiness_route():
    checks = [a for _, w, a in instructions() if w == "HEALTHCHECK"]
    assert len(checks) == 1
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*)", checks[0])
    assert url, checks[0]
    assert url.group(2) == "/readyz"
    assert ("GET", '"/readyz"') in route_table()
    env = {}
    for _, w, a in instructions():
        if w == "ENV":
            env.update(env_pairs(a))
    assert env["CABINET_LISTEN"].endswith(":" + url.group(1))
    exposed = [a for _, w, a in instructions() if w == "EXPOSE"]
    assert exposed == [url.group(1)]


def test_the_final_stage_runs_as_a_user_it_creates():
    ins = instructions()
    last = max(s for s, _, _ in ins)
    users = [a for s, w, a in ins if s == last and w == "USER"]
    assert users and users[-1] not in ("root", "0")
    created = [a for s, w, a in ins if s == last and w == "RUN" and "useradd" in a]
    assert created and re.search(r"useradd\b.*\b" + re.escape(users[-1]) + r"\b", created[0])


def final_packages():
    ins = instructions()
    last = max(s for s, _, _ in ins)
    runs = " ".join(a for s, w, a in ins if s == last and w == "RUN")
    m = re.search(r"apt-get install -y --no-install-recommends ([^&]+)", runs)
    assert m, runs
    return set(m.group(1).split()), runs


def needed_libraries(binary):
    r = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)


def package_of(lib):
    """The Debian package that holds LIB on this machine."""
    r = subprocess.run(
        ["bash", "-c", f"dpkg -S '*/{lib}' | head -1"], capture_output=True, text=True, timeout=30
    )
    pkg = r.stdout.split(":")[0].strip()
    assert pkg, f"no installed package holds {lib}"
    return pkg


def test_the_runtime_stage_installs_what_the_binary_links():
    release = REPO / "build" / "cabinet"
    if not release.exists():
        subprocess.run(["make", "build/cabinet"], cwd=REPO, check=True, timeout=600)
    packages, _ = final_packages()
    assert not any(p.endswith("-dev") for p in packages), packages
    base = {"libc6", "libgcc-s1"}
    libs = needed_libraries(release)
    assert "libcivetweb.so.1" in libs
    for lib in libs:
        pkg = package_of(lib)
        assert pkg in packages | base, f"{lib} comes from {pkg}, which the image does not install"


def test_the_tls_names_civetweb_opens_are_linked():
    _, runs = final_packages()
    lib = subprocess.run(
        ["bash", "-c", "ls /usr/lib/*-linux-gnu/libcivetweb.so.1"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    if not lib:
        pytest.fail("libcivetweb.so.1 is not installed")
    names = set(
        re.findall(r"^(lib(?:ssl|crypto)\.so)$", subprocess.run(
            ["strings", lib], capture_output=True, text=True, timeout=60
        ).stdout, re.M)
    )
    assert names == {"libssl.so", "libcrypto.so"}, names
    loop = re.search(r"for lib in ([a-z ]+); do", runs)
    assert loop and set(loop.group(1).split()) == {"ssl", "crypto"}
    assert 'ln -s "$(basename "$so")" "${so%.3}"' in runs


def test_compose_waits_for_the_database_and_the_migrations():
    compose = yaml.safe_load(COMPOSE.read_text())
    svcs = compose["services"]
    db = [n for n, s in svcs.items() if s.get("image", "").startswith("postgres:15")]
    assert len(db) == 1 and "healthcheck" in svcs[db[0]]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in svcs[db[0]]["volumes"])
    migrate = [n for n, s in svcs.items() if s.get("command") == ["migrate"]]
    assert len(migrate) == 1
    assert svcs[migrate[0]]["depends_on"][db[0]]["condition"] == "service_healthy"
    serve = [n for n, s in svcs.items() if n not in db + migrate]
    assert len(serve) == 1
    spec = svcs[serve[0]]
    assert spec["depends_on"][migrate[0]]["condition"] == "service_completed_successfully"
    assert spec["ports"] and spec["environment"]["CABINET_DATABASE_URL"].startswith("postgresql://")
    for name, s in svcs.items():
        for vol in s.get("volumes", []):
            assert vol.split(":")[0] in compose["volumes"], f"{name}: undeclared volume {vol}"
        if "build" in s:
            assert (COMPOSE.parent / s["build"]["context"] / s["build"]["dockerfile"]).exists()
