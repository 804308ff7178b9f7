"""README "Use from CI": the GitHub Actions and GitLab CI jobs, their shell
commands taken from README.md as written, run with the shells the runners
use against a server through a generic link. The change they raise is
approved by the test while the gate step waits, and the gate step then
passes; left unapproved, the gate step fails."""

import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest
import yaml

from conftest import REPO, ok
from hooklinks import make_integration, service
from test_workflow import Signer

SHORT_WAIT = 60  # seconds the gate step may wait in the test (README: 600)


def snippets():
    text = (REPO / "README.md").read_text()
    section = text.split("### Use from CI", 1)[1].split("\n### ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    github = next(b for b in blocks if "jobs" in b)
    gitlab = next(b for b in blocks if "jobs" not in b)
    return github, gitlab


def github_steps():
    """The run: commands of the job's Cabinet steps, in order."""
    github, _ = snippets()
    steps = github["jobs"]["deploy"]["steps"]
    return [s["run"] for s in steps if "Cabinet" in s.get("name", "")]


def gitlab_script():
    _, gitlab = snippets()
    return "\n".join(line for line in gitlab["deploy"]["script"] if "deploy.sh" not in line)


def shorten(cmd, wait):
    assert "wait=600" in cmd or "?wait=" not in cmd, cmd
    return cmd.replace("wait=600", f"wait={wait}")


@pytest.fixture(scope="module")
def link(server):
    return make_integration(server, services=[service(server)])


def approve_when_raised(server, ref, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        cid = server.psql(f"SELECT id FROM changes WHERE external_ref = '{ref}'")
        if cid:
            break
        assert time.monotonic() < deadline, f"no change with external_ref {ref}"
        time.sleep(0.2)
    signer = Signer(server)
    for who in ("cab1", "cab2", "cab3", "cab4"):
        if ok(server.as_("admin").get(f"/changes/{cid}"))["state"] == "approved":
            break
        assert signer.decide(who, int(cid)).status_code == 201
    assert ok(server.as_("admin").get(f"/changes/{cid}"))["state"] == "approved"
    return int(cid)


def run_github(server, link, env_extra, wait):
    """Runs the Cabinet steps as GitHub's runner would: bash -e, each step
    a shell of its own, $GITHUB_ENV carrying variables to the next."""
    with tempfile.NamedTemporaryFile("r", suffix=".env", delete=False) as f:
        github_env = f.name
    env = dict(os.environ, CABINET_HOOK_URL=link["url"], CABINET_HOOK_SECRET=link["secret"],
               GITHUB_ENV=github_env, **env_extra)
    procs = []
    for cmd in github_steps():
        p = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                              shorten(cmd, wait)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        procs.append(p)
        yield p
        with open(github_env) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                env[k] = v
    os.unlink(github_env)


def test_the_github_actions_job(server, link):
    repo = f"octo/{uuid.uuid4().hex[:8]}"
    sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    extra = {"GITHUB_REPOSITORY": repo, "GITHUB_SHA": sha, "GITHUB_RUN_ID": str(time.time_ns()),
             "GITHUB_RUN_ATTEMPT": "1"}
    steps = run_github(server, link, extra, SHORT_WAIT)
    raise_step = next(steps)
    out, err = raise_step.communicate(timeout=60)
    assert raise_step.returncode == 0, err
    gate_step = next(steps)
    cid = approve_when_raised(server, f"github:{repo}:production:{sha}")
    out, err = gate_step.communicate(timeout=SHORT_WAIT + 30)
    assert gate_step.returncode == 0, (out, err)
    assert '"allowed":true' in out.replace(" ", ""), out
    with pytest.raises(StopIteration):
        next(steps)
    ch = ok(server.as_("admin").get(f"/changes/{cid}"))
    assert ch["source"] == "hook" and ch["title"] == f"Deploy {repo} {sha[:12]}"


def test_the_gate_step_fails_while_the_change_is_not_approved(server, link):
    extra = {"GITHUB_REPOSITORY": f"octo/{uuid.uuid4().hex[:8]}",
             "GITHUB_SHA": uuid.uuid4().hex + uuid.uuid4().hex[:8],
             "GITHUB_RUN_ID": str(time.time_ns()), "GITHUB_RUN_ATTEMPT": "1"}
    steps = run_github(server, link, extra, 1)
    raise_step = next(steps)
    assert raise_step.wait(timeout=60) == 0, raise_step.stderr.read()
    gate_step = next(steps)
    gate_step.communicate(timeout=60)
    assert gate_step.returncode == 22  # curl -f on the 409


def test_the_gitlab_ci_job(server, link):
    project = f"grp/{uuid.uuid4().hex[:8]}"
    sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    env = dict(os.environ, CABINET_HOOK_URL=link["url"], CABINET_HOOK_SECRET=link["secret"],
               CI_PROJECT_PATH=project, CI_COMMIT_SHA=sha, CI_ENVIRONMENT_NAME="production",
               CI_JOB_ID=str(time.time_ns()))
    # GitLab's alpine image runs the script with a POSIX sh: dash here
    p = subprocess.Popen(["sh", "-e", "-c", shorten(gitlab_script(), SHORT_WAIT)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cid = approve_when_raised(server, f"gitlab:{project}:production:{sha}")
    out, err = p.communicate(timeout=SHORT_WAIT + 60)
    assert p.returncode == 0, (out, err)
    assert '"allowed":true' in out.replace(" ", ""), out
    assert ok(server.as_("admin").get(f"/changes/{cid}"))["external_ref"] == \
        f"gitlab:{project}:production:{sha}"
